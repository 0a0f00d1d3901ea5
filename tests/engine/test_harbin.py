"""Harbin (哈尔滨): 哈政办规〔2022〕16号, in force 2023-01-01 to 2027-12-31, with Heilongjiang's
critical-illness insurance (黑医保发〔2021〕41号 二1).

Every expected amount is computed by hand from the clause cited in the test's docstring.
Bases (CONTRACT.md): r1 = inscp_scp_amt - hifp_pay; r2 = r1 - hifmi_pay; r3 = r2 - maf_pay,
each a person's calendar-year cumulative base. Where a test is about assistance it gives
hifmi_pay explicitly, so that the provincial 倾斜 for 特困/低保/返贫致贫 (undefined) does not
blank the claim, and it gives last year's per-capita disposable income (2022: 30,000, so the
tilt trigger for 2023 claims is 15,000; 2023: 32,000, trigger 16,000 for 2024 claims).
"""
from __future__ import annotations

from engine.helpers import assert_warned, check, claim

POLICY = "harbin"
RESIDENT = [("P1", "390")]
INCOME = [
    ("per_capita_disposable_income", 2022, "30000"),
    ("per_capita_disposable_income", 2023, "32000"),
    ("per_capita_disposable_income", 2024, "34000"),
]
POLICY_WORDS = ("harbin", "哈尔滨", "heilongjiang", "黑龙江")


# --- critical illness (Heilongjiang, 黑医保发〔2021〕41号 二1) -----------------------------------

def test_harbin_critical_illness_segments_from_2022(settle):
    """黑医保发〔2021〕41号 二1: from 2022 the part of the yearly base above 12,000 up to 20,000 at 65%,
    20,000-50,000 at 70%, above 50,000 at 75%, no cap (threshold 12,000 carried forward)."""
    run = settle(POLICY, RESIDENT, [
        claim("H1", "2023-02-01", 20000, 5000),   # r1 = 15000
        claim("H2", "2023-04-01", 14000, 4000),   # r1 = 10000, cumulative 25000
        claim("H3", "2023-06-01", 50000, 15000),  # r1 = 35000, cumulative 60000
    ])
    # F(15000) = (15000-12000)*0.65 = 1950
    check(run, "H1", hifmi_pay=1950, maf_pay=0, tilt_pay=0, category="",
          fund_pay_sumamt=6950, psn_part_amt=13050)            # 5000+1950; 20000-6950
    # F(25000) = 8000*0.65 + 5000*0.70 = 5200 + 3500 = 8700; 8700 - 1950 = 6750
    check(run, "H2", hifmi_pay=6750, maf_pay=0, tilt_pay=0,
          fund_pay_sumamt=10750, psn_part_amt=3250)            # 4000+6750; 14000-10750
    # F(60000) = 5200 + 30000*0.70 + 10000*0.75 = 5200 + 21000 + 7500 = 33700; 33700 - 8700 = 25000
    check(run, "H3", hifmi_pay=25000, maf_pay=0, tilt_pay=0,
          fund_pay_sumamt=40000, psn_part_amt=10000)           # 15000+25000; 50000-40000


def test_harbin_critical_illness_rounds_half_up_on_cumulative_amount(settle):
    """CONTRACT.md 年度累计: the annual amount is rounded to the fen half-up on the cumulative base;
    a claim pays the annual amount after it less what was already paid (黑医保发〔2021〕41号 二1, 65%)."""
    run = settle(POLICY, RESIDENT, [
        claim("R1", "2023-03-01", "12000.10", 0),    # r1 = 12000.10
        claim("R2", "2023-03-02", "100.10", 100),    # r1 = 0.10, cumulative 12000.20
    ])
    # (12000.10-12000)*0.65 = 0.065 -> 0.07 (half-up; half-even would give 0.06)
    check(run, "R1", hifmi_pay="0.07")
    # (12000.20-12000)*0.65 = 0.13; 0.13 - 0.07 = 0.06 (per-claim rounding would give 0.07)
    check(run, "R2", hifmi_pay="0.06")


def test_harbin_critical_illness_employee_undefined(settle):
    """黑医保发〔2021〕41号 二1 quantifies only residents' 大病保险: for an employee (310) the
    critical-illness amount is undefined -> empty, with a warning; maf/tilt 0 without identity."""
    run = settle(POLICY, [("P1", "310")], [claim("E1", "2023-05-01", 30000, 10000)])
    assert run.exit_code == 0, run.stderr
    # r1 = 30000-10000 = 20000, but no employee schedule: hifmi empty, so fund and psn_part empty
    check(run, "E1", hifmi_pay=None, maf_pay=0, tilt_pay=0, category="",
          fund_pay_sumamt=None, psn_part_amt=None)
    assert_warned(run, POLICY_WORDS, ("ci_employee", "职工大额医疗费用补助"), 1)


def test_harbin_critical_illness_tilt_for_dibao_undefined(settle):
    """黑医保发〔2021〕41号 二1 (大病保险继续对特困人员、低保对象和返贫致贫人口实施倾斜性保障政策) gives no
    numbers: for a 低保对象 without a given hifmi_pay the amount is empty, and so is everything
    computed on it (r2 = r1 - hifmi_pay is unknown)."""
    run = settle(POLICY, RESIDENT, [claim("D1", "2023-05-01", 8000, 3000)],
                 identities=[("P1", "dibao", "", "")], stats=INCOME)
    # r1 = 8000-3000 = 5000; hifmi unknown -> maf, tilt, fund, psn_part unknown
    check(run, "D1", hifmi_pay=None, maf_pay=None, tilt_pay=None,
          fund_pay_sumamt=None, psn_part_amt=None)
    assert_warned(run, POLICY_WORDS, ("ci_tilt_poor", "倾斜性保障"), 1)


def test_harbin_critical_illness_lifted_poverty_schedule(settle):
    """黑医保发〔2021〕41号 二1: 脱贫人口 6,000 / 65% / no cap, carried forward past 2021; the entitlement
    is the larger of the general and the 脱贫人口 schedule."""
    run = settle(POLICY, RESIDENT, [claim("L1", "2023-05-01", 40000, 10000)],
                 identities=[("P1", "lifted_poverty", "", "")], stats=INCOME)
    # r1 = 40000-10000 = 30000
    # general: (20000-12000)*0.65 + (30000-20000)*0.70 = 5200 + 7000 = 12200
    # 脱贫人口: (30000-6000)*0.65 = 15600 -> max = 15600
    check(run, "L1", hifmi_pay=15600, category="lifted_poverty")
    # Harbin's assistance for 脱贫人口 (二(一)7 其他特殊困难人员) is not quantified
    check(run, "L1", maf_pay=None)


# --- basic assistance (哈政办规〔2022〕16号 三(二)1) ------------------------------------------

def test_harbin_assistance_extreme_poverty_orphan_unsupported_child_full(settle):
    """哈政办规〔2022〕16号 三(二)1: 特困人员、孤儿、事实无人抚养儿童 不设起付标准, 给予100%救助."""
    persons = [("A", "390"), ("B", "390"), ("C", "390")]
    ids = [("A", "extreme_poverty", "", ""), ("B", "orphan", "", ""), ("C", "unsupported_child", "", "")]
    claims = [claim(f"{p}1", "2023-05-01", 3000, 1000, 0, psn=p) for p in "ABC"]
    run = settle(POLICY, persons, claims, identities=ids, stats=INCOME)
    # r2 = 3000-1000-0 = 2000; maf = 2000*1.00 = 2000; r3 = 0 -> tilt 0
    for p, cat in zip("ABC", ("extreme_poverty", "orphan", "unsupported_child")):
        check(run, f"{p}1", maf_pay=2000, tilt_pay=0, category=cat,
              fund_pay_sumamt=3000, psn_part_amt=0)       # 1000+0+2000+0; 3000-3000


def test_harbin_assistance_dibao_returned_poverty_90_percent(settle):
    """哈政办规〔2022〕16号 三(二)1: 低保对象、返贫致贫人口 不设起付标准, 给予90%救助."""
    persons = [("A", "390"), ("B", "390")]
    ids = [("A", "dibao", "", ""), ("B", "returned_poverty", "", "")]
    claims = [claim(f"{p}1", "2023-05-01", 3000, 1000, 0, psn=p) for p in "AB"]
    run = settle(POLICY, persons, claims, identities=ids, stats=INCOME)
    # r2 = 2000; maf = 2000*0.9 = 1800; r3 = 200 < 15000 -> tilt 0
    for p, cat in zip("AB", ("dibao", "returned_poverty")):
        check(run, f"{p}1", maf_pay=1800, tilt_pay=0, category=cat,
              fund_pay_sumamt=2800, psn_part_amt=200)     # 1000+0+1800+0; 3000-2800


def test_harbin_assistance_near_dibao_monitored_threshold_3500_80_percent(settle):
    """哈政办规〔2022〕16号 三(二)1: 低保边缘家庭成员、纳入监测范围的农村易返贫致贫人口 年度起付标准3500元,
    给予80%救助; the threshold applies to the yearly cumulative base."""
    persons = [("A", "390"), ("B", "390")]
    ids = [("A", "near_dibao", "", ""), ("B", "monitored_rural", "", "")]
    run = settle(POLICY, persons, [
        claim("A1", "2023-03-01", 4000, 1000, 0, psn="A"),   # r2 = 3000
        claim("A2", "2023-04-01", 2500, 500, 0, psn="A"),    # r2 = 2000, cumulative 5000
        claim("B1", "2023-04-01", 6000, 1000, 0, psn="B"),   # r2 = 5000
    ], identities=ids, stats=INCOME)
    check(run, "A1", maf_pay=0, category="near_dibao")          # 3000 < 3500
    check(run, "A2", maf_pay=1200, category="near_dibao")       # (5000-3500)*0.8 = 1200
    check(run, "B1", maf_pay=1200, category="monitored_rural")  # (5000-3500)*0.8 = 1200


def test_harbin_assistance_illness_poverty_threshold_8900_70_percent(settle):
    """哈政办规〔2022〕16号 三(二)1: 因病致贫重病患者 年度起付标准8900元, 给予70%救助."""
    run = settle(POLICY, RESIDENT, [claim("I1", "2023-05-01", 12000, 2000, 0)],
                 identities=[("P1", "illness_poverty", "", "")], stats=INCOME)
    # r2 = 12000-2000-0 = 10000; (10000-8900)*0.7 = 770; r3 = 9230 < 15000 -> tilt 0
    check(run, "I1", maf_pay=770, tilt_pay=0, category="illness_poverty",
          fund_pay_sumamt=2770, psn_part_amt=9230)   # 2000+0+770+0; 12000-2770


def test_harbin_assistance_rounds_half_up(settle):
    """CONTRACT.md: amounts rounded to the fen half-up (哈政办规〔2022〕16号 三(二)1, 因病致贫 70%)."""
    run = settle(POLICY, RESIDENT, [claim("I1", "2023-05-01", "8900.15", 0, 0)],
                 identities=[("P1", "illness_poverty", "", "")], stats=INCOME)
    # r2 = 8900.15; (8900.15-8900)*0.7 = 0.105 -> 0.11 (half-even would give 0.10)
    check(run, "I1", maf_pay="0.11", tilt_pay=0, fund_pay_sumamt="0.11", psn_part_amt="8900.04")


def test_harbin_assistance_cap_100000_per_person_year(settle):
    """哈政办规〔2022〕16号 三(二)1: 年度每人最高救助限额10万元 (reached in the middle of a claim; a new
    year starts a new limit)."""
    run = settle(POLICY, RESIDENT, [
        claim("C1", "2023-02-01", 70000, 10000, 0),   # r2 = 60000
        claim("C2", "2023-05-01", 60000, 10000, 0),   # r2 = 50000, cumulative 110000
        claim("C3", "2023-08-01", 15000, 5000, 0),    # r2 = 10000, cumulative 120000
        claim("C4", "2024-01-10", 8000, 3000, 0),     # r2 = 5000 in 2024
    ], identities=[("P1", "extreme_poverty", "", "")], stats=INCOME)
    check(run, "C1", maf_pay=60000)   # min(60000*1.0, 100000) = 60000
    check(run, "C2", maf_pay=40000)   # min(110000, 100000) - 60000 = 40000
    check(run, "C3", maf_pay=0)       # min(120000, 100000) - 100000 = 0
    check(run, "C4", maf_pay=5000)    # 2024: min(5000, 100000) = 5000


def test_harbin_assistance_outpatient_not_covered(settle):
    """哈政办规〔2022〕16号 二(二), 三(二)1: assistance covers 住院 and 门诊慢性病/特殊疾病; 普通门诊 gets 0
    and does not count in the yearly base."""
    run = settle(POLICY, RESIDENT, [
        claim("O1", "2023-03-01", 6000, 1000, 0, med_type="outpatient"),  # r2 = 5000, not covered
        claim("O2", "2023-04-01", 6000, 1000, 0),                         # inpatient r2 = 5000
        claim("O3", "2023-05-01", 1500, 500, 0, med_type="chronic"),      # chronic r2 = 1000
    ], identities=[("P1", "near_dibao", "", "")], stats=INCOME)
    check(run, "O1", maf_pay=0, tilt_pay=0)
    check(run, "O2", maf_pay=1200)    # base 5000 (outpatient excluded): (5000-3500)*0.8 = 1200
    check(run, "O3", maf_pay=800)     # base 6000: (6000-3500)*0.8 = 2000; 2000-1200 = 800


def test_harbin_outpatient_assistance_zero_even_when_hifmi_undefined(settle):
    """哈政办规〔2022〕16号 二(二), 三(二)1-2 cover 住院 and 门诊慢特病 only; CONTRACT.md: a med_type the rule
    leaves out is not covered: 0 — whatever the base, so also when the 低保 hifmi (黑医保发〔2021〕41号
    二1 倾斜性保障, not quantified) is empty."""
    run = settle(POLICY, RESIDENT, [
        claim("I1", "2023-02-01", 6000, 1000),                          # inpatient, r1 = 5000
        claim("O1", "2023-03-01", 6000, 1000, med_type="outpatient"),   # r1 = 5000
    ], identities=[("P1", "dibao", "", "")], stats=INCOME)
    check(run, "I1", hifmi_pay=None, maf_pay=None, tilt_pay=None)
    # not covered: 0, even after a claim whose maf and tilt are unknown
    check(run, "O1", hifmi_pay=None, maf_pay=0, tilt_pay=0, fund_pay_sumamt=None, psn_part_amt=None)


def test_harbin_assistance_excludes_unreferred_out_of_area(settle):
    """哈政办规〔2022〕16号 三(六)3: 在异地就医未按规定转诊的救助对象,所发生的医疗费用原则上不纳入医疗救助范围:
    maf and tilt 0, and the cost stays out of the yearly base; a referred out-of-area claim counts."""
    flags = dict(referred="true", in_province="true", out_of_area="false")
    run = settle(POLICY, RESIDENT, [
        claim("X1", "2023-03-01", 6000, 1000, 0, **{**flags, "out_of_area": "true", "referred": "false"}),
        claim("X2", "2023-04-01", 1500, 500, 0, **flags),                            # r2 = 1000
        claim("X3", "2023-05-01", 1500, 500, 0, **{**flags, "out_of_area": "true"}),  # referred
    ], identities=[("P1", "dibao", "", "")], stats=INCOME)
    check(run, "X1", maf_pay=0, tilt_pay=0)   # r2 = 5000 but excluded
    check(run, "X2", maf_pay=900)             # base 1000 (X1 excluded): 1000*0.9 = 900
    check(run, "X3", maf_pay=900)             # base 2000: 1800 - 900 = 900


def test_harbin_illness_poverty_lookback_12_months(settle):
    """哈政办规〔2022〕16号 三(三): 因病致贫…自申请之日前12个月内患者本人发生的个人负担的政策范围内医疗费用,
    按规定计入医疗救助范围: identity recognised 2024-03-01 reaches back to 2023-03-01."""
    run = settle(POLICY, RESIDENT, [
        claim("A", "2023-01-15", 22000, 2000, 0),   # r2 = 20000, more than 12 months before
        claim("B", "2023-06-10", 12000, 2000, 0),   # r2 = 10000, inside the window (2023 base)
        claim("C", "2024-02-01", 14000, 2000, 0),   # r2 = 12000, inside the window (2024 base)
        claim("D", "2024-05-01", 4000, 1000, 0),    # r2 = 3000, identity valid
    ], identities=[("P1", "illness_poverty", "2024-03-01", "")], stats=INCOME)
    check(run, "A", maf_pay=0, tilt_pay=0, category="")
    # 2023 base = 10000 (A excluded): (10000-8900)*0.7 = 770; r3 = 9230 < 15000 -> tilt 0
    check(run, "B", maf_pay=770, tilt_pay=0, category="illness_poverty")
    # 2024 base = 12000: (12000-8900)*0.7 = 2170
    check(run, "C", maf_pay=2170, tilt_pay=0, category="illness_poverty")
    # 2024 base = 15000: (15000-8900)*0.7 = 4270; 4270-2170 = 2100; r3 = 9830+900 < 16000
    check(run, "D", maf_pay=2100, tilt_pay=0, category="illness_poverty")


# --- tilted assistance (哈政办规〔2022〕16号 三(二)2) ----------------------------------------

def test_harbin_tilt_pays_half_of_whole_base_once_over_half_income(settle):
    """哈政办规〔2022〕16号 三(二)2: once the yearly r3 of referred in-province claims exceeds 50% of last
    year's per-capita disposable income, 按50%比例对三重制度综合保障后政策范围内个人自付费用 (the whole of it).
    CONTRACT.md, No claim is paid beyond its own cost: the crossing claim takes up to its own r3,
    the earlier claim the rest."""
    run = settle(POLICY, RESIDENT, [
        claim("T1", "2023-03-01", 63500, 10000, 0, fulamt_ownpay_amt=0),     # r2 = 53500
        claim("T2", "2023-06-01", 18000, 2000, 0, fulamt_ownpay_amt=6000),   # inscp 12000, r2 = 10000
    ], identities=[("P1", "near_dibao", "", "")], stats=INCOME)
    # T1: maf = (53500-3500)*0.8 = 40000; r3 = 13500 <= 30000*0.5 = 15000 -> nothing due on T1
    # T2: r2 cum 63500 -> maf (63500-3500)*0.8 = 48000, 48000-40000 = 8000; T2's r3 = 10000-8000 = 2000
    #     r3 cum = 13500+2000 = 15500 > 15000 -> yearly tilt 15500*0.5 = 7750, due 7750 on T2:
    #     T2 takes its own r3 2000, T1 the rest 5750 (room 13500)
    check(run, "T1", maf_pay=40000, tilt_pay=5750,
          fund_pay_sumamt=55750, psn_part_amt=7750)            # 10000+0+40000+5750; 63500-55750
    check(run, "T2", maf_pay=8000, tilt_pay=2000,
          fund_pay_sumamt=12000, psn_part_amt=6000)            # 2000+0+8000+2000; 18000-12000 (the 全自费 6000)


def test_harbin_tilt_requires_exceeding_half_income(settle):
    """哈政办规〔2022〕16号 三(二)2: 超过上年度…人均可支配收入50%: exactly 50% does not trigger it."""
    run = settle(POLICY, RESIDENT, [
        claim("T1", "2023-03-01", 71000, 10000, 0),   # r2 = 61000
        claim("T2", "2023-03-02", 5, 0, 0),           # r2 = 5
    ], identities=[("P1", "near_dibao", "", "")], stats=INCOME)
    # T1: maf = (61000-3500)*0.8 = 46000; r3 = 15000, not over 15000 -> nothing due on T1
    check(run, "T1", maf_pay=46000)
    # T2: maf cum (61005-3500)*0.8 = 46004 -> 4; T2's r3 = 5-4 = 1;
    #     r3 cum 15001 > 15000 -> 15001*0.5 = 7500.50 due: T2 takes its own 1, T1 the rest 7499.50
    #     (CONTRACT.md, No claim is paid beyond its own cost)
    check(run, "T2", maf_pay=4, tilt_pay=1, psn_part_amt=0)
    check(run, "T1", tilt_pay="7499.50", psn_part_amt="7500.50")   # 71000-10000-0-46000-7499.50


def test_harbin_tilt_cap_20000(settle):
    """哈政办规〔2022〕16号 三(二)2: 年度每人最高倾斜救助限额2万元 (and 三(二)1's 10万元 on maf)."""
    run = settle(POLICY, RESIDENT, [
        claim("T1", "2023-03-01", 110000, 10000, 0),   # r2 = 100000
        claim("T2", "2023-06-01", 73500, 10000, 0),    # r2 = 63500, cumulative 163500
    ], identities=[("P1", "near_dibao", "", "")], stats=INCOME)
    # T1: maf (100000-3500)*0.8 = 77200; r3 = 22800 > 15000 -> tilt 22800*0.5 = 11400
    check(run, "T1", maf_pay=77200, tilt_pay=11400)
    # T2: maf min((163500-3500)*0.8 = 128000, 100000) = 100000 -> 22800
    #     r3 cum = 163500-100000 = 63500 -> min(31750, 20000) = 20000 -> 20000-11400 = 8600
    check(run, "T2", maf_pay=22800, tilt_pay=8600)


def test_harbin_tilt_counts_only_referred_in_province_claims(settle):
    """哈政办规〔2022〕16号 三(二)2: 对规范转诊且在省内就医…: only claims with referred and in_province
    count towards (and are paid) tilted assistance; basic assistance still counts them."""
    ok = dict(referred="true", in_province="true", out_of_area="false")
    run = settle(POLICY, RESIDENT, [
        claim("A", "2023-02-01", 73500, 10000, 0, **{**ok, "referred": "false"}),   # r2 = 63500
        claim("B", "2023-03-01", 12000, 2000, 0,
              **{**ok, "in_province": "false", "out_of_area": "true"}),             # r2 = 10000
        claim("C", "2023-04-01", 25000, 5000, 0, **ok),                            # r2 = 20000
    ], identities=[("P1", "near_dibao", "", "")], stats=INCOME)
    # A: maf (63500-3500)*0.8 = 48000; r3 15500 but not referred -> tilt 0
    check(run, "A", maf_pay=48000, tilt_pay=0)
    # B: maf cum (73500-3500)*0.8 = 56000 -> 8000; r3 2000, not in province -> tilt 0
    check(run, "B", maf_pay=8000, tilt_pay=0)
    # C: maf cum (93500-3500)*0.8 = 72000 -> 16000; tilt base = C's r3 only = 4000 <= 15000 -> 0
    check(run, "C", maf_pay=16000, tilt_pay=0)


def test_harbin_tilt_uses_last_years_income(settle):
    """哈政办规〔2022〕16号 三(二)2 上年度…人均可支配收入; CONTRACT.md: a 2024 claim uses year 2023."""
    stats = [("per_capita_disposable_income", 2022, "30000"),
             ("per_capita_disposable_income", 2023, "40000")]
    run = settle(POLICY, RESIDENT, [
        claim("Y23", "2023-05-01", 73500, 10000, 0),   # r2 = 63500
        claim("Y24", "2024-05-01", 73500, 10000, 0),   # r2 = 63500
    ], identities=[("P1", "near_dibao", "", "")], stats=stats)
    # both: maf (63500-3500)*0.8 = 48000, r3 = 15500
    check(run, "Y23", maf_pay=48000, tilt_pay=7750)   # 15500 > 30000*0.5 = 15000 -> 15500*0.5
    check(run, "Y24", maf_pay=48000, tilt_pay=0)      # 15500 <= 40000*0.5 = 20000


def test_harbin_tilt_without_income_statistic_is_empty(settle):
    """哈政办规〔2022〕16号 三(二)2 needs 上年度人均可支配收入; CONTRACT.md: a rule whose figure is missing is
    undefined -> the tilt amount is empty, with a warning."""
    run = settle(POLICY, RESIDENT, [claim("N1", "2023-05-01", 6000, 1000, 0)],
                 identities=[("P1", "near_dibao", "", "")])
    # r2 = 5000: maf (5000-3500)*0.8 = 1200 still computed; tilt unknown
    check(run, "N1", maf_pay=1200, tilt_pay=None, fund_pay_sumamt=None, psn_part_amt=None)
    assert_warned(run, POLICY_WORDS, ("tilt", "倾斜"), 1)


# --- all tiers together, dates in force ---------------------------------------------------

def test_harbin_orphan_settled_through_all_tiers(settle):
    """哈政办规〔2022〕16号 三(二)1 (孤儿 100%) after 黑医保发〔2021〕41号 二1 (大病保险 2022+ segments):
    the three tiers in sequence on one claim."""
    run = settle(POLICY, RESIDENT, [
        claim("O1", "2023-05-01", 50000, 27000, fulamt_ownpay_amt=2000, preselfpay_amt=1000),
    ], identities=[("P1", "orphan", "", "")], stats=INCOME)
    # inscp = 50000-2000-0-1000 = 47000; r1 = 47000-27000 = 20000
    # hifmi = (20000-12000)*0.65 = 5200; r2 = 14800; maf = 14800*1.0; r3 = 0 -> tilt 0
    # fund = 27000+5200+14800+0 = 47000; psn = 50000-47000 = 3000
    check(run, "O1", inscp_scp_amt=47000, hifmi_pay=5200, maf_pay=14800, tilt_pay=0,
          category="orphan", fund_pay_sumamt=47000, psn_part_amt=3000)


def test_harbin_in_force_2023_to_2027(settle, tmp_path):
    """哈政办规〔2022〕16号 四(五): 本方案自2023年1月1日起施行,有效期5年: 2023-01-01..2027-12-31."""
    run = settle(POLICY, RESIDENT, [claim("F1", "2023-01-01", 1000, 500),
                                    claim("F2", "2027-12-31", 1000, 500)])
    check(run, "F1", hifmi_pay=0, maf_pay=0, tilt_pay=0)
    check(run, "F2", hifmi_pay=0, maf_pay=0, tilt_pay=0)
    for day in ("2022-12-31", "2028-01-01"):
        bad = settle(POLICY, RESIDENT, [claim("F3", day, 1000, 500)])
        assert bad.exit_code != 0
        assert "setl_date" in bad.stderr and "claims.csv" in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr
    # nothing written by the two refused runs: only the first run's out.csv exists
    assert [p.parent.name for p in tmp_path.glob("run*/out.csv")] == ["run1"]
