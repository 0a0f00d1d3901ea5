"""Who sees what (CONTRACT.md, "Who sees what"; issue 11 finding 2): a `hospital` key sees only
the claims of its own `fixmedins_code`. In every answer an adjustment or a year total that involves
another institution's claim shows no `setl_id`, date or amount of that claim — adjustments of other
institutions' claims are one net line `other institutions` — the explanation shows no other
institution's claim nor year-to-date figures that add them up, and another institution's settlement
answers 404 as one that does not exist.

The person holds 低保边缘家庭成员 (near_dibao): threshold 3500, 80% of the yearly base above it
(哈政办规〔2022〕16号 三(二)1). Claims (r2 = medfee − hifp):
- o1, hospital H0002, 2023-03-01, r2 3000: alone under the threshold → 0;
- h1, hospital H0001, 2023-04-01, r2 2500: yearly 5500 → (5500 − 3500) × 0.8 = 1600;
- h0, hospital H0001, 2023-02-01, r2 2000, arriving last but dated first: by date h0 2000 → 0,
  o1 5000 → 1200 (+1200 to o1), h1 7500 → 3200 − 1200 = 2000 (+400 to h1).
Then H0002 reverses o1: h0 2000 → 0, h1 4500 → 800 (−1200 to h1).
"""
from __future__ import annotations

import json
import re

OTHERS = "other institutions"  # CONTRACT.md: "one line `other institutions`"

OTHER = ("o1", "2023-03-01", "8000", "5000")
YEAR_TO_DATE = re.compile(r"(年度累计|年度应付|本年已付) -?[0-9]")
OTHER_TRACES = ("o1", "2023-03-01", "8000.00", "3000.00")  # its id, date, bill and r2


def claim(setl_id, day, medfee, hifp, **more):
    return dict(setl_id=setl_id, psn_no="S1", setl_date=day, med_type="inpatient", medfee_sumamt=medfee,
                hifp_pay=hifp, hifmi_pay="0", **more)


def no_trace_of_the_other(r) -> None:
    text = r.text
    for trace in OTHER_TRACES:
        assert trace not in text, (r.request.url.path, trace, text[:2000])
    assert not YEAR_TO_DATE.search(text)  # year-to-date sums with o1's 3000 in them
    assert '"_' not in text  # the ledger's private markers never leave the service


def setup(service):
    service.put_person("S1")
    service.add_identity("S1", "near_dibao", begndate="2023-01-01")
    o1 = service.settle(role="other_hospital", **claim(*OTHER))
    assert o1.status_code == 201 and o1.json()["maf_pay"] == "0.00", o1.text
    h1 = service.settle(**claim("h1", "2023-04-01", "6500", "4000"))
    assert h1.status_code == 201 and h1.json()["maf_pay"] == "1600.00", h1.text
    return h1


def test_a_settlement_shows_no_other_institutions_year_to_date_figures(service):
    h1 = setup(service)
    text = h1.json()["explanation"]
    assert not YEAR_TO_DATE.search(text)  # 年度累计 5500 = o1's 3000 + h1's 2500
    assert "本次 2500.00" in text and "起付标准 3500.00" in text and "maf_pay = 1600.00" in text
    assert "哈政办规〔2022〕16号 三(二)1" in text  # the clause stays
    assert "其他机构" in text  # says that figures were left out, not silently
    no_trace_of_the_other(h1)
    # the insurance office sees the whole year
    full = service.client.get("/v1/settlements/h1", headers=service.h("insurance_office")).json()
    assert "年度累计 5500.00" in full["explanation"]
    assert "年度应付 1600.00 − 本年已付 0.00" in full["explanation"]


def test_a_dry_run_and_a_late_settlement_list_other_institutions_as_one_net_line(service):
    setup(service)
    for dry_run in (True, False):
        r = service.settle(dry_run=dry_run, **claim("h0", "2023-02-01", "6000", "4000"))
        assert r.status_code == (200 if dry_run else 201), r.text
        body = r.json()
        assert body["adjustments"] == [
            {"setl_id": "h1", "setl_date": "2023-04-01", "cause": "settlement", "hifmi_pay": "0.00", "maf_pay": "400.00",
             "tilt_pay": "0.00", "oth_pay": "0.00", "fund_pay_sumamt": "400.00"},
            {"setl_id": None, "setl_date": None, "cause": OTHERS, "hifmi_pay": "0.00", "maf_pay": "1200.00",
             "tilt_pay": "0.00", "oth_pay": "0.00", "fund_pay_sumamt": "1200.00"}]
        assert "h1 (2023-04-01): maf_pay 400.00" in body["explanation"]
        assert "其他机构的结算 (合计): maf_pay 1200.00" in body["explanation"]
        assert not YEAR_TO_DATE.search(body["explanation"])
        no_trace_of_the_other(r)
    again = service.settle(**claim("h0", "2023-02-01", "6000", "4000"))  # the stored result, seen the same way
    assert again.status_code == 200 and again.json()["adjustments"] == body["adjustments"]
    assert again.json()["explanation"] == body["explanation"]
    no_trace_of_the_other(again)
    office = service.client.get("/v1/settlements/h0", headers=service.h("insurance_office")).json()
    assert "o1 (2023-03-01): maf_pay 1200.00" in office["explanation"]


def test_a_settlement_read_and_a_reversal_show_other_institutions_only_as_a_net_line(service):
    setup(service)
    service.settle(**claim("h0", "2023-02-01", "6000", "4000"))
    rev = service.client.post("/v1/settlements/o1/reversal", headers=service.h("other_hospital"))
    assert rev.status_code == 200, rev.text
    body = rev.json()
    # H0002 sees its own clawback, H0001's claims only as the net line, and its own year only
    assert body["reversed"]["maf_pay"] == "-1200.00"
    assert body["adjustments"] == [{"setl_id": None, "setl_date": None, "cause": OTHERS, "hifmi_pay": "0.00",
                                    "maf_pay": "-1200.00", "tilt_pay": "0.00", "oth_pay": "0.00", "fund_pay_sumamt": "-1200.00"}]
    assert body["year_totals"]["claims"] == 0 and body["year_totals"]["fixmedins_code"] == "H0002"
    assert body["year_totals"]["medfee_sumamt"] == "0.00"
    for trace in ("h0", "h1", "6500.00", "2023-04-01"):
        assert trace not in rev.text, trace
    again = service.client.post("/v1/settlements/o1/reversal", headers=service.h("insurance_office"))
    assert again.json()["adjustments"][0]["setl_id"] == "h1"  # the office sees the stored result whole
    assert again.json()["year_totals"]["claims"] == 2 and "fixmedins_code" not in again.json()["year_totals"]

    got = service.client.get("/v1/settlements/h1", headers=service.h("hospital"))
    assert got.status_code == 200
    adjustments = got.json()["adjustments"]
    assert [(a["cause"], a.get("setl_id"), a["maf_pay"]) for a in adjustments] == [
        ("settlement", "h0", "400.00"), (OTHERS, None, "-1200.00")]
    assert adjustments[1]["at"] is None
    assert got.json()["net"]["maf_pay"] == "800.00"
    no_trace_of_the_other(got)
    full = service.client.get("/v1/settlements/h1", headers=service.h("auditor")).json()
    assert [a.get("reversal_of") for a in full["adjustments"]] == [None, "o1"]


def test_another_institutions_settlement_answers_404_as_one_that_does_not_exist(service):
    setup(service)
    h = service.h("hospital")

    def same(a, b, real: str, fake: str) -> None:
        assert a.status_code == b.status_code == 404
        assert a.json() == json.loads(b.text.replace(fake, real))
        assert {k: v for k, v in a.headers.items() if k != "content-length"} == \
               {k: v for k, v in b.headers.items() if k != "content-length"}

    same(service.client.get("/v1/settlements/o1", headers=h), service.client.get("/v1/settlements/x9", headers=h),
         "o1", "x9")
    same(service.client.post("/v1/settlements/o1/reversal", headers=h),
         service.client.post("/v1/settlements/x9/reversal", headers=h), "o1", "x9")
    # the same setl_id sent again by another hospital: refused as a body that differs, nothing shown
    mine = service.settle(**claim("h1", "2023-04-01", "6500", "4001"))
    theirs = service.settle(**claim(*OTHER))
    assert mine.status_code == theirs.status_code == 409
    assert theirs.json() == json.loads(mine.text.replace("h1", "o1"))
    for dry in (True,):
        assert service.settle(dry_run=dry, **claim(*OTHER)).json() == theirs.json()


def test_endpoints_a_hospital_may_not_use_tell_it_nothing(service):
    """Persons, identities, years and the audit log answer a hospital key 403 with a message only."""
    setup(service)
    c, h = service.client, service.h("hospital")
    for r in (c.put("/v1/persons/S1", json={}, headers=h), c.get("/v1/persons/S1", headers=h),
              c.post("/v1/persons/S1/identities", json={"category": "dibao"}, headers=h),
              c.post("/v1/persons/S1/identities/1/end", json={"enddate": "2023-12-31"}, headers=h),
              c.get("/v1/persons/S1/years/2023", headers=h), c.get("/v1/audit", headers=h)):
        assert r.status_code == 403, r.text
        assert set(r.json()) == {"message"}
        no_trace_of_the_other(r)


def test_roles_that_see_every_claim_get_adjustments_whole_without_private_markers(service):
    setup(service)
    r = service.client.post("/v1/persons/S1/identities", json={"category": "dibao", "begndate": "2023-01-01"},
                            headers=service.h("civil_affairs"))
    assert r.status_code == 201, r.text
    assert {a["setl_id"] for a in r.json()["adjustments"]} == {"o1", "h1"}
    assert '"_' not in r.text
    year = service.year("S1", 2023)
    assert '"_' not in json.dumps(year)
