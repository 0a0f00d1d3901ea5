"""Qinghai (青海): 青海省健全重特大疾病医疗保险和救助制度实施方案 (2022-06-17), read as in force from
2022-01-01 (qinghai.yaml). The scraped page reorders paragraphs; clauses are cited by section.

Every expected amount is computed by hand from the clause cited in the test's docstring.
r1 = inscp_scp_amt - hifp_pay; r2 = r1 - hifmi_pay; yearly cumulative bases (CONTRACT.md).
Qinghai's 倾斜救助 (四(三)) is named but not quantified: for identity holders' inpatient claims
tilt_pay is empty, and with it fund_pay_sumamt and psn_part_amt.
"""
from __future__ import annotations

from engine.helpers import assert_warned, check, claim

POLICY = "qinghai"
RESIDENT = [("P1", "390")]
POLICY_WORDS = ("qinghai", "青海")


# --- critical illness (三(二)2) -------------------------------------------------------------

def test_qinghai_critical_illness_resident_12000_80_percent(settle):
    """三(二)2: 城乡居民大病保险起付线统一为年度内累计达到12000元,政策范围内报销比例80%."""
    run = settle(POLICY, RESIDENT, [
        claim("Q1", "2023-03-01", 10000, 2000),   # r1 = 8000
        claim("Q2", "2023-07-01", 9000, 2000),    # r1 = 7000, cumulative 15000
    ])
    check(run, "Q1", hifmi_pay=0, maf_pay=0, tilt_pay=0, category="",
          fund_pay_sumamt=2000, psn_part_amt=8000)          # 8000 < 12000
    # (15000-12000)*0.8 = 2400; fund = 2000+2400 = 4400; psn = 9000-4400 = 4600
    check(run, "Q2", hifmi_pay=2400, maf_pay=0, tilt_pay=0, category="",
          fund_pay_sumamt=4400, psn_part_amt=4600)


def test_qinghai_critical_illness_no_cap(settle):
    """三(二)2: 不设封顶线."""
    run = settle(POLICY, RESIDENT, [claim("Q1", "2023-03-01", 1100000, 88000)])
    # r1 = 1100000-88000 = 1012000; (1012000-12000)*0.8 = 800000, no cap
    check(run, "Q1", hifmi_pay=800000)


def test_qinghai_critical_illness_tilt_for_extreme_poverty_dibao_returned_poverty(settle):
    """三(二)2: 对特困人员、低保对象、返贫致贫人口实施起付线降低50%,报销比例提高5%的倾斜保障政策:
    12000*50% = 6000, 80%+5 points = 85%; the entitlement is the larger of the two schedules."""
    cats = ("extreme_poverty", "dibao", "returned_poverty")
    persons = [(f"P{i}", "390") for i in range(3)]
    ids = [(f"P{i}", c, "", "") for i, c in enumerate(cats)]
    claims = []
    for i in range(3):
        claims += [claim(f"P{i}a", "2023-03-01", 7000, 2000, psn=f"P{i}"),   # r1 = 5000
                   claim(f"P{i}b", "2023-05-01", 7000, 2000, psn=f"P{i}")]   # r1 = 5000, cum 10000
    run = settle(POLICY, persons, claims, identities=ids)
    for i, cat in enumerate(cats):
        check(run, f"P{i}a", hifmi_pay=0)       # 5000 < 6000
        # general: 10000 < 12000 -> 0; tilt: (10000-6000)*0.85 = 3400 -> max 3400
        check(run, f"P{i}b", hifmi_pay=3400)


def test_qinghai_critical_illness_employee_undefined(settle):
    """三(二)2 quantifies only 城乡居民大病保险: an employee's (310) amount is empty, with a warning."""
    run = settle(POLICY, [("P1", "310")], [claim("E1", "2023-03-01", 30000, 10000)])
    check(run, "E1", hifmi_pay=None, maf_pay=0, tilt_pay=0, fund_pay_sumamt=None, psn_part_amt=None)
    assert_warned(run, POLICY_WORDS, ("ci_employee", "职工大额医疗费用补助"), 1)


# --- medical assistance (四(二)) -------------------------------------------------------------

def test_qinghai_assistance_low_income_near_dibao_monitored_2500_60_percent(settle):
    """四(二): 低保边缘家庭成员、农村易返贫致贫人口…年度内累计超过2500元以上…按60%救助; 二: 农村易返贫致贫人口
    按照低收入家庭成员医疗救助政策落实待遇 (the category shown is the person's own)."""
    cats = ("low_income", "near_dibao", "monitored_rural")
    persons = [(f"P{i}", "390") for i in range(3)]
    ids = [(f"P{i}", c, "", "") for i, c in enumerate(cats)]
    claims = []
    for i in range(3):
        claims += [claim(f"P{i}a", "2023-03-01", 3000, 1000, 0, psn=f"P{i}"),   # r2 = 2000
                   claim(f"P{i}b", "2023-05-01", 4000, 1000, 0, psn=f"P{i}")]   # r2 = 3000, cum 5000
    run = settle(POLICY, persons, claims, identities=ids)
    for i, cat in enumerate(cats):
        check(run, f"P{i}a", maf_pay=0, category=cat)         # 2000 < 2500
        check(run, f"P{i}b", maf_pay=1500, category=cat)      # (5000-2500)*0.6 = 1500


def test_qinghai_assistance_expenditure_poverty_6000_50_percent(settle):
    """四(二): 支出型贫困家庭成员…年度内累计超过6000元以上政策范围内的医疗费用按50%救助."""
    run = settle(POLICY, RESIDENT, [claim("X1", "2023-05-01", 12000, 2000, 0)],
                 identities=[("P1", "expenditure_poverty", "", "")])
    # r2 = 10000; (10000-6000)*0.5 = 2000
    check(run, "X1", maf_pay=2000, category="expenditure_poverty")


def test_qinghai_assistance_cap_20000(settle):
    """四(二): 每人每年最高救助限额为2万元 (reached in the middle of a claim)."""
    run = settle(POLICY, RESIDENT, [
        claim("C1", "2023-02-01", 35000, 5000, 0),   # r2 = 30000
        claim("C2", "2023-05-01", 12000, 2000, 0),   # r2 = 10000, cumulative 40000
        claim("C3", "2023-08-01", 6000, 1000, 0),    # r2 = 5000, cumulative 45000
    ], identities=[("P1", "near_dibao", "", "")])
    check(run, "C1", maf_pay=16500)   # (30000-2500)*0.6 = 16500
    check(run, "C2", maf_pay=3500)    # min((40000-2500)*0.6 = 22500, 20000) - 16500 = 3500
    check(run, "C3", maf_pay=0)       # already at 20000


def test_qinghai_monitored_rural_through_all_tiers(settle):
    """三(二)2 (12000 / 80%) then 四(二) (农村易返贫致贫人口 as 低收入家庭成员: 2500 / 60%); 四(三) 倾斜救助
    not quantified -> tilt empty."""
    run = settle(POLICY, RESIDENT, [claim("M1", "2023-05-01", 30000, 12000)],
                 identities=[("P1", "monitored_rural", "", "")])
    # r1 = 30000-12000 = 18000; hifmi = (18000-12000)*0.8 = 4800
    # r2 = 13200; maf = (13200-2500)*0.6 = 6420
    check(run, "M1", hifmi_pay=4800, maf_pay=6420, tilt_pay=None, category="monitored_rural",
          fund_pay_sumamt=None, psn_part_amt=None)


def test_qinghai_assistance_chronic_undefined_outpatient_not_covered(settle):
    """四(一)/四(二): 门诊救助 is named but only 住院救助 is quantified -> a chronic claim's maf is empty;
    普通门诊 is not covered -> 0."""
    run = settle(POLICY, RESIDENT, [
        claim("I1", "2023-02-01", 4000, 1000, 0),                          # inpatient r2 = 3000
        claim("K1", "2023-03-01", 6000, 1000, 0, med_type="chronic"),      # r2 = 5000
        claim("O1", "2023-04-01", 6000, 1000, 0, med_type="outpatient"),   # r2 = 5000
    ], identities=[("P1", "near_dibao", "", "")])
    check(run, "I1", maf_pay=300)   # (3000-2500)*0.6 = 300
    check(run, "K1", maf_pay=None)  # covered, not quantified
    check(run, "O1", maf_pay=0)     # not covered: 0, even after an undefined chronic claim
    assert_warned(run, POLICY_WORDS, ("maf_low_income", "低保边缘家庭成员、农村易返贫致贫人口"), 1)


def test_qinghai_tilt_covers_inpatient_only(settle):
    """四(三): 救助对象在定点医疗机构住院发生的医疗费用…给予倾斜救助 — 住院 only (qinghai.yaml: tilt
    undefined_med_types [inpatient]); CONTRACT.md: a med_type the rule leaves out is not covered: 0,
    whatever the base (even when the chronic claim's maf, hence r3, is unknown)."""
    run = settle(POLICY, RESIDENT, [
        claim("I1", "2023-02-01", 4000, 1000, 0),                          # inpatient r2 = 3000
        claim("K1", "2023-03-01", 6000, 1000, 0, med_type="chronic"),      # r2 = 5000
        claim("O1", "2023-04-01", 6000, 1000, 0, med_type="outpatient"),   # r2 = 5000
    ], identities=[("P1", "near_dibao", "", "")])
    check(run, "I1", tilt_pay=None)   # covered, not quantified
    check(run, "K1", tilt_pay=0)      # not covered, even after an undefined inpatient claim
    check(run, "O1", tilt_pay=0)


def test_qinghai_children_follow_orphan_policy(settle):
    """二: 事实无人抚养儿童、艾滋病病毒感染儿童按照孤儿医疗救助政策落实待遇; 孤儿's assistance is not
    quantified (四(二)) -> maf empty; the category shown is the child's own."""
    cats = ("orphan", "unsupported_child", "hiv_child")
    persons = [(f"P{i}", "390") for i in range(3)]
    ids = [(f"P{i}", c, "", "") for i, c in enumerate(cats)]
    claims = [claim(f"P{i}a", "2023-05-01", 20000, 5000, psn=f"P{i}") for i in range(3)]
    run = settle(POLICY, persons, claims, identities=ids)
    for i, cat in enumerate(cats):
        # r1 = 15000; general 大病保险: (15000-12000)*0.8 = 2400
        check(run, f"P{i}a", hifmi_pay=2400, maf_pay=None, category=cat)


def test_qinghai_expenditure_poverty_lookback_180_days(settle):
    """五: 支出型贫困家庭成员自认定之日起向前追溯180日内发生的住院医疗费用,按规定报销.
    Recognised 2023-09-01: 2023-05-01 is 123 days before (counted), 2023-02-01 is 212 (not)."""
    run = settle(POLICY, RESIDENT, [
        claim("A", "2023-02-01", 12000, 2000, 0),   # r2 = 10000, outside the window
        claim("B", "2023-05-01", 6000, 1000, 0),    # r2 = 5000, inside
        claim("C", "2023-10-01", 6000, 1000, 0),    # r2 = 5000, identity valid
    ], identities=[("P1", "expenditure_poverty", "2023-09-01", "")])
    check(run, "A", maf_pay=0, tilt_pay=0, category="")
    check(run, "B", maf_pay=0, category="expenditure_poverty")      # base 5000 < 6000
    check(run, "C", maf_pay=2000, category="expenditure_poverty")   # base 10000: (10000-6000)*0.5


def test_qinghai_tilt_undefined_for_identity_holders(settle):
    """四(三): 个人负担费用仍然较大的,按规定给予倾斜救助 (重特大疾病医疗救助) — no numbers: tilt empty on
    identity holders' inpatient claims, with a warning; 0 for a person with no identity."""
    run = settle(POLICY, [("P1", "390"), ("P2", "390")], [
        claim("T1", "2023-05-01", 6000, 1000, 0, psn="P1"),
        claim("T2", "2023-05-01", 6000, 1000, 0, psn="P2"),
    ], identities=[("P1", "near_dibao", "", "")])
    check(run, "T1", maf_pay=1500, tilt_pay=None, fund_pay_sumamt=None)   # (5000-2500)*0.6
    check(run, "T2", maf_pay=0, tilt_pay=0, fund_pay_sumamt=1000, psn_part_amt=5000)
    assert_warned(run, POLICY_WORDS, ("tilt", "倾斜"), 1)


def test_qinghai_several_identities_one_undefined_leaves_maf_empty(settle):
    """三(二)3: 具有多重救助身份的人员,按就高不就低的原则享受待遇: with 低保 (assistance not quantified) among
    the identities the largest cannot be known -> maf empty; hifmi takes the 倾斜 schedule."""
    run = settle(POLICY, RESIDENT, [claim("S1", "2023-05-01", 12000, 2000)],
                 identities=[("P1", "near_dibao", "", ""), ("P1", "dibao", "", "")])
    # r1 = 10000: general 0; 倾斜 (10000-6000)*0.85 = 3400
    check(run, "S1", hifmi_pay=3400, maf_pay=None)
    assert "dibao" in run.stderr or "低保对象" in run.stderr, run.stderr


def test_qinghai_several_identities_each_on_its_own_base(settle):
    """三(二)3 就高不就低, 不得重复救助; 五 (支出型贫困 look-back 180 days): 支出型贫困 from 2023-09-01 reaches
    back to 2023-03-05; 低保边缘 from 2023-06-01. Each identity's schedule on its own yearly base."""
    run = settle(POLICY, RESIDENT, [
        claim("A", "2023-05-01", 12000, 2000, 0),   # r2 = 10000: expenditure (look-back) only
        claim("B", "2023-07-01", 6000, 1000, 0),    # r2 = 5000: both
        claim("C", "2023-10-01", 6000, 1000, 0),    # r2 = 5000: both
    ], identities=[("P1", "near_dibao", "2023-06-01", ""),
                   ("P1", "expenditure_poverty", "2023-09-01", "")])
    # A: expenditure base 10000 -> (10000-6000)*0.5 = 2000
    check(run, "A", maf_pay=2000, category="expenditure_poverty")
    # B: near_dibao base 5000 -> (5000-2500)*0.6 = 1500; expenditure 15000 -> 4500; 4500-2000 = 2500
    check(run, "B", maf_pay=2500, category="expenditure_poverty")
    # C: near_dibao base 10000 -> 4500; expenditure 20000 -> 7000; 7000-4500 = 2500
    check(run, "C", maf_pay=2500, category="expenditure_poverty")


def test_qinghai_in_force_from_2022(settle, tmp_path):
    """qinghai.yaml in_force (一(三) 2022年…): claims from 2022-01-01; 2021 has no policy in force."""
    run = settle(POLICY, RESIDENT, [claim("F1", "2022-01-01", 1000, 500)])
    check(run, "F1", hifmi_pay=0, maf_pay=0, tilt_pay=0)
    bad = settle(POLICY, RESIDENT, [claim("F2", "2021-12-31", 1000, 500)])
    assert bad.exit_code != 0
    assert "claims.csv" in bad.stderr and "setl_date" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr
    assert [p.parent.name for p in tmp_path.glob("run*/out.csv")] == ["run1"]
