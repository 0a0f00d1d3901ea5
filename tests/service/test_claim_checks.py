"""The claim's cross-field rules (CONTRACT.md, claims file) are checked over HTTP by the same
function as in files, `tuodi.io.tables.check_claim_amounts`, with its words and its money format."""
from __future__ import annotations

import pytest

from tuodi.io.tables import InconsistentAmounts, check_claim_amounts
from tuodi.service import app as app_module

CLAIM = dict(setl_id="k1", psn_no="K1", setl_date="2023-05-01", med_type="inpatient",
             medfee_sumamt="15000", hifp_pay="9000", hifmi_pay="0")


def refusal(medfee, ownpay, overlmt, preself, inscp, hifp, hifmi) -> InconsistentAmounts:
    with pytest.raises(InconsistentAmounts) as e:
        check_claim_amounts(medfee, ownpay, overlmt, preself, inscp, hifp, hifmi)
    return e.value


@pytest.mark.parametrize("body, fen", [
    # 1000 + 200 + 300 > 1000
    (dict(medfee_sumamt="1000", fulamt_ownpay_amt="1000", overlmt_selfpay="200", preselfpay_amt="300"),
     (100000, 100000, 20000, 30000, None, 900000, 0)),
    # inscp_scp_amt must be 15000 − 0.07 − 0 − 0 = 14999.93
    (dict(fulamt_ownpay_amt="0.07", inscp_scp_amt="100"), (1500000, 7, 0, 0, 10000, 900000, 0)),
    (dict(hifp_pay="15000.01"), (1500000, 0, 0, 0, None, 1500001, 0)),
    # 15000 − 9000 = 6000 < 6000.01
    (dict(hifmi_pay="6000.01"), (1500000, 0, 0, 0, None, 900000, 600001)),
])
def test_service_refuses_with_the_files_words_and_column(service, body, fen):
    service.put_person("K1")
    expected = refusal(*fen)
    r = service.settle(**{**CLAIM, **body})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [{"field": expected.column, "msg": str(expected)}]
    assert "14999.93" in str(expected) or expected.column != "inscp_scp_amt"


def test_service_uses_the_shared_check(service, monkeypatch):
    """One place for the rule: a rule added to check_claim_amounts reaches the service."""
    def stricter(*args):
        raise InconsistentAmounts("a new rule", "preselfpay_amt")
    monkeypatch.setattr(app_module, "check_claim_amounts", stricter)
    service.put_person("K1")
    r = service.settle(**CLAIM)
    assert r.status_code == 422
    assert r.json()["detail"] == [{"field": "preselfpay_amt", "msg": "inconsistent amounts: a new rule"}]
