"""Reversal (冲正): the reversed claim is clawed back, the year's other claims re-settled as if it
had never been, and their payments adjusted."""
from __future__ import annotations


def claim(setl_id, day, medfee, hifp):
    return dict(setl_id=setl_id, psn_no="R1", setl_date=day, med_type="inpatient",
                medfee_sumamt=medfee, hifp_pay=hifp, hifmi_pay="0")


def test_reversing_the_first_claim_claws_back_from_the_second(service):
    """低保边缘家庭成员: threshold 3500, 80% (哈政办规〔2022〕16号 三(二)1).
    r1: 3000 → 0; r2: 2500, yearly 5500 → (5500 − 3500) × 0.8 = 1600.
    Without r1 the year is 2500 alone, under the threshold: r2's 1600 is clawed back."""
    service.put_person("R1")
    service.add_identity("R1", "near_dibao")
    service.settle(**claim("r1", "2023-03-01", "8000", "5000"))
    assert service.settle(**claim("r2", "2023-04-01", "6500", "4000")).json()["maf_pay"] == "1600.00"

    r = service.client.post("/v1/settlements/r1/reversal", json={"reason": "退费"}, headers=service.h("hospital"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reversed"]["maf_pay"] == "0.00"
    assert body["adjustments"] == [{"setl_id": "r2", "setl_date": "2023-04-01", "cause": "reversal", "hifmi_pay": "0.00",
                                    "maf_pay": "-1600.00", "tilt_pay": "0.00", "oth_pay": "0.00", "fund_pay_sumamt": "-1600.00"}]
    assert body["year_totals"]["maf_pay"] == "0.00" and body["year_totals"]["claims"] == 1

    got = service.client.get("/v1/settlements/r2", headers=service.h("insurance_office")).json()
    assert got["maf_pay"] == "1600.00"  # paid at the window
    assert got["net"]["maf_pay"] == "0.00"  # after the clawback
    assert got["adjustments"][0]["reversal_of"] == "r1" and got["adjustments"][0]["maf_pay"] == "-1600.00"
    assert service.client.get("/v1/settlements/r1", headers=service.h("hospital")).json()["status"] == "reversed"


def test_reversing_the_later_claim_returns_its_payment_and_leaves_the_first(service):
    service.put_person("R1")
    service.add_identity("R1", "near_dibao")
    service.settle(**claim("r1", "2023-03-01", "8000", "5000"))
    service.settle(**claim("r2", "2023-04-01", "6500", "4000"))
    body = service.client.post("/v1/settlements/r2/reversal", headers=service.h("insurance_office")).json()
    assert body["reversed"]["maf_pay"] == "-1600.00" and body["adjustments"] == []
    assert service.year("R1", 2023)["totals"]["maf_pay"] == "0.00"


def test_a_repeated_reversal_returns_the_same_result_and_adjusts_nothing_more(service):
    service.put_person("R1")
    service.add_identity("R1", "near_dibao")
    service.settle(**claim("r1", "2023-03-01", "8000", "5000"))
    service.settle(**claim("r2", "2023-04-01", "6500", "4000"))
    first = service.client.post("/v1/settlements/r1/reversal", headers=service.h("hospital")).json()
    again = service.client.post("/v1/settlements/r1/reversal", headers=service.h("hospital"))
    assert again.status_code == 200 and again.json() == first
    assert service.year("R1", 2023)["totals"]["maf_pay"] == "0.00"


def test_after_a_reversal_a_new_claim_settles_on_the_remaining_year(service):
    """r2 alone (2500) and r3 (r2 = 3000): yearly 5500 → 1600 again, paid on r3."""
    service.put_person("R1")
    service.add_identity("R1", "near_dibao")
    service.settle(**claim("r1", "2023-03-01", "8000", "5000"))
    service.settle(**claim("r2", "2023-04-01", "6500", "4000"))
    service.client.post("/v1/settlements/r1/reversal", headers=service.h("hospital"))
    r3 = service.settle(**claim("r3", "2023-05-01", "8000", "5000")).json()
    assert r3["maf_pay"] == "1600.00"
    assert service.year("R1", 2023)["totals"]["maf_pay"] == "1600.00"


def test_reversal_of_an_unknown_settlement_is_404(service):
    r = service.client.post("/v1/settlements/none/reversal", headers=service.h("hospital"))
    assert r.status_code == 404
