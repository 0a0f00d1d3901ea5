"""Changzhi (长治: 长民发[2017]142号, from 2017) and Quzhou (衢州: 衢政办发〔2023〕1号, 2023-2025).

Both notices name rules without quantifying most of them: those amounts are empty (with a warning)
unless an overlay supplies the missing values (CONTRACT.md, --overlay). Every expected amount is
computed by hand from the clause cited in the test's docstring and the overlay's values.
r1 = inscp_scp_amt - hifp_pay, yearly cumulative (CONTRACT.md).
"""
from __future__ import annotations

from engine.helpers import assert_warned, check, claim

RESIDENT = [("P1", "390")]

# Changzhi names the ratio and cap of its 大病保险 nowhere; the test supplies them (50%, no cap).
CHANGZHI_OVERLAY = """\
critical_illness:
  rules:
    - id: ci_resident
      med_types: [inpatient, chronic, outpatient]
      undefined_med_types: []
      ratio: [{from: 2017-01-01, value: 0.5, ref: "test overlay"}]
      cap: [{from: 2017-01-01, value: null, ref: "test overlay"}]
    - id: ci_poor
      med_types: [inpatient, chronic, outpatient]
      undefined_med_types: []
      ratio: [{from: 2017-01-01, value: 0.5, ref: "test overlay"}]
      cap: [{from: 2017-01-01, value: null, ref: "test overlay"}]
"""

# Quzhou quantifies no 大病保险 rule; the test supplies one (10,000 / 60% / no cap).
QUZHOU_OVERLAY = """\
critical_illness:
  rules:
    - id: ci_resident
      med_types: [inpatient, chronic, outpatient]
      undefined_med_types: []
      threshold: [{from: 2023-01-01, value: 10000, ref: "test overlay"}]
      ratio: [{from: 2023-01-01, value: 0.6, ref: "test overlay"}]
      cap: [{from: 2023-01-01, value: null, ref: "test overlay"}]
"""


def assert_out_of_force(settle, tmp_path, policy, day):
    before = set(tmp_path.glob("run*/out.csv"))
    bad = settle(policy, RESIDENT, [claim("F", day, 1000, 500)])
    assert bad.exit_code != 0, day
    assert "claims.csv" in bad.stderr and "setl_date" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr
    assert set(tmp_path.glob("run*/out.csv")) == before


# --- Changzhi -----------------------------------------------------------------------------

def test_changzhi_critical_illness_ratio_undefined(settle):
    """长民发[2017]142号 三(四): the 大病保险 threshold (10000) is given, its ratio and cap are not:
    hifmi empty with a warning; no identity -> maf and tilt 0."""
    run = settle("changzhi", RESIDENT, [
        claim("C1", "2018-05-01", 20000, 4000),   # r1 = 16000
        claim("C2", "2018-06-01", 2000, 1000),    # r1 = 1000
    ])
    check(run, "C1", hifmi_pay=None, maf_pay=0, tilt_pay=0, category="",
          fund_pay_sumamt=None, psn_part_amt=None)
    check(run, "C2", hifmi_pay=None, maf_pay=0, tilt_pay=0)
    assert_warned(run, ("changzhi", "长治"), ("ci_resident", "城乡居民大病保险"), 2)


def test_changzhi_critical_illness_resident_threshold_10000(settle):
    """长民发[2017]142号 三(四) (大病保险起付线…10000元), ratio 50% and no cap from the test overlay."""
    run = settle("changzhi", RESIDENT, [claim("C1", "2018-05-01", 20000, 4000)],
                 overlay=CHANGZHI_OVERLAY)
    # r1 = 20000-4000 = 16000; (16000-10000)*0.5 = 3000
    # fund = 4000+3000+0+0 = 7000; psn = 20000-7000 = 13000
    check(run, "C1", hifmi_pay=3000, maf_pay=0, tilt_pay=0, category="",
          fund_pay_sumamt=7000, psn_part_amt=13000)


def test_changzhi_critical_illness_poor_threshold_5000(settle):
    """长民发[2017]142号 三(四): 对建档立卡贫困人口、特困人员和低保对象…大病保险起付线,由10000元降低到5000元
    (ratio 50%, no cap from the test overlay); the larger of the two schedules."""
    cats = ("registered_poor", "extreme_poverty", "dibao")
    persons = [(f"P{i}", "390") for i in range(3)]
    ids = [(f"P{i}", c, "", "") for i, c in enumerate(cats)]
    claims = []
    for i in range(3):
        claims += [claim(f"P{i}a", "2018-03-01", 8000, 2000, psn=f"P{i}"),     # r1 = 6000
                   claim(f"P{i}b", "2018-05-01", 14000, 4000, psn=f"P{i}")]    # r1 = 10000, cum 16000
    run = settle("changzhi", persons, claims, identities=ids, overlay=CHANGZHI_OVERLAY)
    for i in range(3):
        # general 0 (6000 < 10000); poor (6000-5000)*0.5 = 500
        check(run, f"P{i}a", hifmi_pay=500)
        # general (16000-10000)*0.5 = 3000; poor (16000-5000)*0.5 = 5500 -> 5500-500 = 5000
        check(run, f"P{i}b", hifmi_pay=5000)


def test_changzhi_assistance_undefined(settle):
    """长民发[2017]142号 三(六)3 (按照医疗救助起付线和年度最高救助限额,分类分档核算) gives no numbers: maf
    empty for an identity holder, with a warning."""
    run = settle("changzhi", RESIDENT, [claim("A1", "2018-05-01", 20000, 4000, 3000)],
                 identities=[("P1", "dibao", "", "")])
    check(run, "A1", hifmi_pay=3000, maf_pay=None, fund_pay_sumamt=None, psn_part_amt=None)
    assert_warned(run, ("changzhi", "长治"), ("maf_all", "医疗救助对象"), 1)


def test_changzhi_employee_critical_illness_undefined_even_with_overlay(settle):
    """长民发[2017]142号 is about 城乡居民大病保险 only: an employee's (310) amount stays empty."""
    run = settle("changzhi", [("P1", "310")], [claim("E1", "2018-05-01", 20000, 4000)],
                 overlay=CHANGZHI_OVERLAY)
    check(run, "E1", hifmi_pay=None, maf_pay=0, tilt_pay=0)


def test_changzhi_in_force_from_2017(settle, tmp_path):
    """changzhi.yaml in_force (长民发[2017]142号, no start date stated): from 2017-01-01."""
    assert_out_of_force(settle, tmp_path, "changzhi", "2016-12-31")
    run = settle("changzhi", RESIDENT, [claim("F1", "2017-01-01", 1000, 500, 0)])
    check(run, "F1", hifmi_pay=0, maf_pay=0, tilt_pay=0, fund_pay_sumamt=500, psn_part_amt=500)


# --- Quzhou -------------------------------------------------------------------------------

def test_quzhou_everything_undefined(settle):
    """衢政办发〔2023〕1号 三(三) names 大病保险 and 医疗救助 without numbers: hifmi empty for everyone,
    maf empty for an identity holder, 0 for a person with no identity."""
    run = settle("quzhou", [("P1", "390"), ("P2", "390")], [
        claim("Z1", "2024-05-01", 20000, 4000, psn="P1"),
        claim("Z2", "2024-05-01", 20000, 4000, 500, psn="P2"),
    ], identities=[("P2", "dibao", "", "")])
    check(run, "Z1", hifmi_pay=None, maf_pay=0, tilt_pay=0, category="",
          fund_pay_sumamt=None, psn_part_amt=None)
    check(run, "Z2", hifmi_pay=500, maf_pay=None, fund_pay_sumamt=None, psn_part_amt=None)
    assert_warned(run, ("quzhou", "衢州"), ("ci_resident", "大病保险"), 1)
    assert_warned(run, ("quzhou", "衢州"), ("maf_all", "医疗救助对象"), 1)


def test_quzhou_overlay_defines_critical_illness(settle):
    """CONTRACT.md (--overlay defines a rule the policy leaves undefined) on 衢政办发〔2023〕1号 三(三):
    10,000 / 60% / no cap from the test overlay."""
    run = settle("quzhou", RESIDENT, [
        claim("Z1", "2024-03-01", 10000, 2000),   # r1 = 8000
        claim("Z2", "2024-06-01", 9000, 2000),    # r1 = 7000, cumulative 15000
    ], overlay=QUZHOU_OVERLAY)
    check(run, "Z1", hifmi_pay=0, maf_pay=0, tilt_pay=0, fund_pay_sumamt=2000, psn_part_amt=8000)
    # (15000-10000)*0.6 = 3000; fund = 2000+3000 = 5000; psn = 9000-5000 = 4000
    check(run, "Z2", hifmi_pay=3000, maf_pay=0, tilt_pay=0, fund_pay_sumamt=5000, psn_part_amt=4000)
    assert "ci_resident" not in run.stderr


def test_quzhou_in_force_2023_to_2025(settle, tmp_path):
    """衢政办发〔2023〕1号 (实施办法2023—2025年): 2023-01-01..2025-12-31."""
    assert_out_of_force(settle, tmp_path, "quzhou", "2022-12-31")
    assert_out_of_force(settle, tmp_path, "quzhou", "2026-01-01")
    run = settle("quzhou", RESIDENT, [claim("F1", "2023-01-01", 1000, 500, 0),
                                      claim("F2", "2025-12-31", 1000, 500, 0)])
    check(run, "F1", hifmi_pay=0, maf_pay=0, tilt_pay=0)
    check(run, "F2", hifmi_pay=0, maf_pay=0, tilt_pay=0)
