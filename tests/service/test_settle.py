"""Settling over HTTP (CONTRACT.md, Service): the split of the bill, exactly once per setl_id."""
from __future__ import annotations

CLAIM = dict(setl_id="e1", psn_no="E1", setl_date="2023-05-01", med_type="inpatient",
             medfee_sumamt="15000", hifp_pay="9000", hifmi_pay="0")


def registered(service):
    service.put_person("E1", insutype="390", psn_name="张桂兰")
    service.add_identity("E1", "低保对象")


def test_settle_pays_dibao_ninety_percent_without_threshold(service):
    """哈政办规〔2022〕16号 三(二)1: 低保对象 no threshold, 90%: (15000 − 9000 − 0) × 0.9 = 5400."""
    registered(service)
    r = service.settle(**CLAIM)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["category"] == "dibao"
    assert (body["maf_pay"], body["tilt_pay"], body["fund_pay_sumamt"], body["psn_part_amt"]) == \
        ("5400.00", "0.00", "14400.00", "600.00")
    assert "哈政办规〔2022〕16号 三(二)1" in body["explanation"]
    assert body["fixmedins_code"] == "H0001"  # a hospital key's claims are its own


def test_same_setl_id_and_body_returns_the_stored_result_and_pays_nothing_more(service):
    registered(service)
    first = service.settle(**CLAIM).json()
    again = service.settle(**{**CLAIM, "medfee_sumamt": "15000.00"})  # the same amount, written otherwise
    assert again.status_code == 200
    assert again.json() == first
    year = service.year("E1", 2023)
    assert year["totals"]["claims"] == 1 and year["totals"]["maf_pay"] == "5400.00"


def test_same_setl_id_with_another_body_is_refused(service):
    registered(service)
    service.settle(**CLAIM)
    r = service.settle(**{**CLAIM, "medfee_sumamt": "16000"})
    assert r.status_code == 409
    assert "setl_id" in r.json()["message"]


def test_dry_run_computes_and_stores_nothing(service):
    """预结算: the same split as the settlement, and nothing stored."""
    registered(service)
    pre = service.settle(dry_run=True, **CLAIM)
    assert pre.status_code == 200 and pre.json()["maf_pay"] == "5400.00"
    assert service.client.get("/v1/settlements/e1", headers=service.h("hospital")).status_code == 404
    assert service.year("E1", 2023)["totals"]["claims"] == 0
    done = service.settle(**CLAIM)
    assert done.status_code == 201 and done.json()["maf_pay"] == pre.json()["maf_pay"]


def test_second_claim_pays_the_yearly_amount_less_what_was_paid(service):
    """低保边缘家庭成员: threshold 3500, 80% on the yearly base (年度累计).
    Claim 1: r2 = 3000 → 0. Claim 2: r2 = 2500, yearly 5500 → (5500 − 3500) × 0.8 = 1600 − 0 = 1600."""
    service.put_person("E2")
    service.add_identity("E2", "near_dibao")
    a = service.settle(setl_id="a1", psn_no="E2", setl_date="2023-03-01", med_type="inpatient",
                       medfee_sumamt="8000", hifp_pay="5000", hifmi_pay="0").json()
    b = service.settle(setl_id="a2", psn_no="E2", setl_date="2023-04-01", med_type="21",
                       medfee_sumamt="6500", hifp_pay="4000", hifmi_pay="0").json()
    assert (a["maf_pay"], b["maf_pay"]) == ("0.00", "1600.00")
    assert "年度应付 1600.00 − 本年已付 0.00 = 1600.00" in b["explanation"]
    year = service.year("E2", 2023)
    assert year["accumulators"]["assistance"] == {"paid": "1600.00", "base": "5500.00"}


def test_claim_dated_before_earlier_arrivals_is_paid_its_own_amount_and_tops_up_the_later(service):
    """A late-arriving, earlier-dated claim is paid the engine's amount for it; the year is
    re-settled by date and the later claim gets the difference as an adjustment (补付).
    By date: b0 r2 = 2500 → 0 (under the 3500 threshold); b1 yearly 5500 → (5500 − 3500) × 0.8 = 1600,
    of which b1 was paid 0 at its window: top-up 1600."""
    service.put_person("E3")
    service.add_identity("E3", "near_dibao")
    service.settle(setl_id="b1", psn_no="E3", setl_date="2023-06-01", med_type="inpatient",
                   medfee_sumamt="8000", hifp_pay="5000", hifmi_pay="0")
    late = service.settle(setl_id="b0", psn_no="E3", setl_date="2023-02-01", med_type="inpatient",
                          medfee_sumamt="6500", hifp_pay="4000", hifmi_pay="0").json()
    assert late["maf_pay"] == "0.00"
    assert late["adjustments"] == [{"setl_id": "b1", "setl_date": "2023-06-01", "cause": "settlement", "hifmi_pay": "0.00",
                                    "maf_pay": "1600.00", "tilt_pay": "0.00", "oth_pay": "0.00", "fund_pay_sumamt": "1600.00"}]
    assert list(late).index("adjustments") == list(late).index("explanation") + 1
    assert "b1 (2023-06-01): maf_pay 1600.00" in late["explanation"]
    b1 = service.client.get("/v1/settlements/b1", headers=service.h("insurance_office")).json()
    assert (b1["maf_pay"], b1["net"]["maf_pay"]) == ("0.00", "1600.00")
    assert b1["adjustments"][0]["cause"] == "settlement" and b1["adjustments"][0]["setl_id"] == "b0"
    assert service.year("E3", 2023)["totals"]["maf_pay"] == "1600.00"
    again = service.settle(setl_id="b0", psn_no="E3", setl_date="2023-02-01", med_type="inpatient",
                           medfee_sumamt="6500", hifp_pay="4000", hifmi_pay="0")
    assert again.status_code == 200 and again.json()["adjustments"] == late["adjustments"]


def test_person_without_identity_gets_no_assistance(service):
    """CONTRACT.md: no identity valid for the claim → maf_pay and tilt_pay are 0, not empty."""
    service.put_person("E4")
    r = service.settle(setl_id="c1", psn_no="E4", setl_date="2023-05-01", med_type="inpatient",
                       medfee_sumamt="15000", hifp_pay="9000").json()
    assert (r["maf_pay"], r["tilt_pay"], r["category"]) == ("0.00", "0.00", None)


def test_undefined_amount_is_null(service):
    """Heilongjiang's critical-illness tilt for 低保对象 is named, not quantified: hifmi_pay is null."""
    registered(service)
    r = service.settle(**{**CLAIM, "hifmi_pay": None}).json()
    assert r["hifmi_pay"] is None and r["fund_pay_sumamt"] is None and r["psn_part_amt"] is None


def test_bad_input_is_422_naming_the_field(service):
    registered(service)
    cases = {
        "medfee_sumamt": {**CLAIM, "medfee_sumamt": "12.345"},
        "hifp_pay": {**CLAIM, "hifp_pay": "-1"},
        "setl_date": {**CLAIM, "setl_date": "2020-05-01"},  # Harbin's notice is in force from 2023
        "med_type": {**CLAIM, "med_type": "dental"},
        "psn_no": {**CLAIM, "psn_no": "NOBODY"},
        "inscp_scp_amt": {**CLAIM, "inscp_scp_amt": "100"},
        "referred": {**CLAIM, "referred": "perhaps"},
        "hifmi_pays": {**CLAIM, "hifmi_pays": "0"},
    }
    for field, body in cases.items():
        r = service.settle(**body)
        assert r.status_code == 422, (field, r.text)
        assert field in {d["field"] for d in r.json()["detail"]}, (field, r.text)
        assert field in r.json()["message"]
    missing = {k: v for k, v in CLAIM.items() if k != "hifp_pay"}
    assert service.settle(**missing).json()["detail"][0]["field"] == "hifp_pay"


def test_get_settlement_returns_the_stored_row_and_explanation(service):
    registered(service)
    settled = service.settle(**CLAIM).json()
    got = service.client.get("/v1/settlements/e1", headers=service.h("insurance_office")).json()
    for k in ("setl_id", "maf_pay", "fund_pay_sumamt", "psn_part_amt", "explanation"):
        assert got[k] == settled[k]
    assert got["net"]["maf_pay"] == "5400.00" and got["adjustments"] == []
