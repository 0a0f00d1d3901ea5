"""GET /v1/persons/{psn_no}/years/{year}: the accumulators report every known base; null is only
for an undefined amount (CONTRACT.md, Service)."""
from __future__ import annotations


def test_bases_are_reported_when_hifmi_is_given_and_when_no_rule_applies(service):
    """低保对象, hifmi_pay given as 0: r1 = 15000 − 9000 = 6000 (critical illness, given);
    r2 = 6000 − 0 = 6000 (assistance, 哈政办规〔2022〕16号 三(二)1); the tilt tier has no rule
    for 低保对象 on 2023-05-01, so no claim counts for it: base 0."""
    service.put_person("Y1")
    service.add_identity("Y1", "低保对象")
    r = service.settle(setl_id="y1", psn_no="Y1", setl_date="2023-05-01", med_type="inpatient",
                       medfee_sumamt="15000", hifp_pay="9000", hifmi_pay="0")
    assert r.status_code == 201, r.text
    acc = service.year("Y1", 2023)["accumulators"]
    assert acc["critical_illness"] == {"paid": "0.00", "base": "6000.00"}
    assert acc["assistance"] == {"paid": "5400.00", "base": "6000.00"}
    assert acc["tilt"]["base"] is not None


def test_base_of_an_insured_person_without_identity_is_zero_not_null(service):
    """No identity: assistance and tilt have no rule for the person: paid 0, base 0."""
    service.put_person("Y2")
    service.settle(setl_id="y2", psn_no="Y2", setl_date="2023-05-01", med_type="inpatient",
                   medfee_sumamt="15000", hifp_pay="9000", hifmi_pay="0")
    acc = service.year("Y2", 2023)["accumulators"]
    assert acc["assistance"] == {"paid": "0.00", "base": "0.00"}
    assert acc["tilt"] == {"paid": "0.00", "base": "0.00"}
    assert acc["critical_illness"]["base"] == "6000.00"
