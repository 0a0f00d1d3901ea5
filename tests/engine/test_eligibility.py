"""A claim a rule does not count (no referral, out of area) pays 0 even where the rule is undefined."""
from __future__ import annotations

from decimal import Decimal


def test_jiamusi_tilt_needs_referral_even_though_unquantified(settle):
    """佳木斯 三1: 对规范转诊且在省域内就医的救助对象…给予倾斜救助 (not quantified).

    A claim without a referral is outside the rule: tilt_pay 0, not empty; the referred one
    is inside and unquantified: empty. maf_pay is empty in both (二3 quantifies no assistance)."""
    run = settle("jiamusi", [("J1", "390")],
                 [dict(setl_id="j1", psn_no="J1", setl_date="2021-05-01", med_type="inpatient",
                       medfee_sumamt="10000", hifp_pay="6000", hifmi_pay="0", referred="false"),
                  dict(setl_id="j2", psn_no="J1", setl_date="2021-06-01", med_type="inpatient",
                       medfee_sumamt="10000", hifp_pay="6000", hifmi_pay="0", referred="true")],
                 identities=[("J1", "dibao", "", "")])
    assert run.exit_code == 0, run.stderr
    assert run.amount("j1", "tilt_pay") == Decimal("0")
    assert run.amount("j1", "maf_pay") is None
    assert run.amount("j2", "tilt_pay") is None


def test_harbin_unreferred_out_of_area_pays_nothing_after_an_unknown_amount(settle):
    """哈政办规〔2022〕16号 三(六)3: 异地就医未按规定转诊…不纳入医疗救助范围. After a claim whose
    critical-illness amount is unknown (低保: the provincial tilt is unquantified), an
    out-of-area claim without referral still gets maf_pay 0 and tilt_pay 0, not empty."""
    run = settle("harbin", [("H1", "390")],
                 [dict(setl_id="h1", psn_no="H1", setl_date="2023-03-01", med_type="inpatient",
                       medfee_sumamt="30000", hifp_pay="15000"),
                  dict(setl_id="h2", psn_no="H1", setl_date="2023-04-01", med_type="inpatient",
                       medfee_sumamt="8000", hifp_pay="5000", hifmi_pay="0", out_of_area="true",
                       referred="false")],
                 identities=[("H1", "dibao", "", "")],
                 stats=[("per_capita_disposable_income", 2022, 40000)])
    assert run.exit_code == 0, run.stderr
    assert run.amount("h1", "hifmi_pay") is None and run.amount("h1", "maf_pay") is None
    assert run.amount("h2", "maf_pay") == Decimal("0")
    assert run.amount("h2", "tilt_pay") == Decimal("0")
