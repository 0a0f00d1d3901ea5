"""Jiamusi (佳木斯) and Heilongjiang's critical-illness insurance: 佳木斯市《关于做好2021年城乡居民基本
医疗保障工作的通知》 relaying 黑医保发〔2021〕41号 (seed 004), in force from 2021-01-01.

Every expected amount is computed by hand from the clause cited in the test's docstring.
r1 = inscp_scp_amt - hifp_pay, the person's calendar-year cumulative base (CONTRACT.md).
Jiamusi's assistance and tilted assistance are named but not quantified (二3, 三1): empty for
identity holders, 0 for persons without an identity.
"""
from __future__ import annotations

from engine.helpers import assert_warned, check, claim

POLICY = "jiamusi"
RESIDENT = [("P1", "390")]
POLICY_WORDS = ("jiamusi", "佳木斯", "heilongjiang", "黑龙江")


def test_jiamusi_critical_illness_2021_12000_60_percent(settle):
    """黑医保发〔2021〕41号 二1: 2021年大病保险起付标准为1.2万元,政策范围内支付比例为60%."""
    run = settle(POLICY, RESIDENT, [claim("J1", "2021-10-01", 30000, 10000)])
    # r1 = 30000-10000 = 20000; (20000-12000)*0.6 = 4800
    # fund = 10000+4800+0+0 = 14800; psn = 30000-14800 = 15200
    check(run, "J1", hifmi_pay=4800, maf_pay=0, tilt_pay=0, category="",
          fund_pay_sumamt=14800, psn_part_amt=15200)


def test_jiamusi_critical_illness_2021_cap_500000(settle):
    """黑医保发〔2021〕41号 二1: 2021年…最高支付限额50万元 (reached in the middle of a claim)."""
    run = settle(POLICY, RESIDENT, [
        claim("C1", "2021-03-01", 850000, 50000),   # r1 = 800000
        claim("C2", "2021-06-01", 120000, 20000),   # r1 = 100000, cumulative 900000
        claim("C3", "2021-09-01", 15000, 5000),     # r1 = 10000, cumulative 910000
    ])
    check(run, "C1", hifmi_pay=472800)   # (800000-12000)*0.6 = 472800
    check(run, "C2", hifmi_pay=27200)    # min((900000-12000)*0.6 = 532800, 500000) - 472800
    check(run, "C3", hifmi_pay=0)        # already at 500000


def test_jiamusi_critical_illness_2022_segments_no_cap(settle):
    """黑医保发〔2021〕41号 二1: 2022年1月1日起…2万元以下部分65%,2万元至5万元部分70%,5万元以上部分75%,
    取消年度最高支付限额."""
    run = settle(POLICY, RESIDENT, [claim("S1", "2022-03-01", 950000, 50000)])
    # r1 = 900000: (20000-12000)*0.65 + (50000-20000)*0.70 + (900000-50000)*0.75
    #            = 5200 + 21000 + 637500 = 663700 (above the old 500000 cap)
    check(run, "S1", hifmi_pay=663700)


def test_jiamusi_critical_illness_2022_threshold_12000_carried_forward(settle):
    """黑医保发〔2021〕41号 二1 + CONTRACT.md (values carry forward): the 2022 segments start at the 2021
    threshold of 12,000 (not at 0)."""
    run = settle(POLICY, RESIDENT, [
        claim("T1", "2022-03-01", 20000, 5000),   # r1 = 15000
        claim("T2", "2022-06-01", 14000, 4000),   # r1 = 10000, cumulative 25000
    ])
    check(run, "T1", hifmi_pay=1950)   # (15000-12000)*0.65 = 1950
    check(run, "T2", hifmi_pay=6750)   # 8000*0.65 + 5000*0.70 = 8700; 8700-1950 = 6750


def test_jiamusi_lifted_poverty_2021_6000_65_percent(settle):
    """黑医保发〔2021〕41号 二1: 脱贫人口大病保险起付线标准为6000元,支付比例为65%,不设年度最高支付限额; the
    entitlement is the larger of the general and the 脱贫人口 schedule."""
    run = settle(POLICY, RESIDENT, [
        claim("L1", "2021-03-01", 15000, 5000),   # r1 = 10000
        claim("L2", "2021-06-01", 15000, 5000),   # r1 = 10000, cumulative 20000
    ], identities=[("P1", "lifted_poverty", "", "")])
    # general 0 (10000 < 12000); 脱贫人口 (10000-6000)*0.65 = 2600
    check(run, "L1", hifmi_pay=2600, category="lifted_poverty")
    # general (20000-12000)*0.6 = 4800; 脱贫人口 (20000-6000)*0.65 = 9100 -> 9100-2600 = 6500
    check(run, "L2", hifmi_pay=6500)


def test_jiamusi_lifted_poverty_2022_larger_of_two_schedules(settle):
    """黑医保发〔2021〕41号 二1: 脱贫人口's 2021 schedule (6000 / 65%) carries into 2022, where the general
    segments overtake it above a yearly base of 74,000."""
    run = settle(POLICY, RESIDENT, [
        claim("L1", "2022-03-01", 70000, 10000),   # r1 = 60000
        claim("L2", "2022-06-01", 50000, 10000),   # r1 = 40000, cumulative 100000
    ], identities=[("P1", "lifted_poverty", "", "")])
    # general F(60000) = 5200 + 21000 + 10000*0.75 = 33700; 脱贫人口 (60000-6000)*0.65 = 35100
    check(run, "L1", hifmi_pay=35100, category="lifted_poverty")
    # general F(100000) = 5200 + 21000 + 50000*0.75 = 63700; 脱贫人口 94000*0.65 = 61100
    # -> 63700 - 35100 = 28600
    check(run, "L2", hifmi_pay=28600)


def test_jiamusi_year_boundary_2021_to_2022(settle):
    """黑医保发〔2021〕41号 二1: each year has its own cumulative base and its own schedule."""
    run = settle(POLICY, RESIDENT, [
        claim("Y1", "2021-12-31", 30000, 10000),   # r1 = 20000 in 2021
        claim("Y2", "2022-01-01", 30000, 10000),   # r1 = 20000 in 2022
    ])
    check(run, "Y1", hifmi_pay=4800)   # (20000-12000)*0.60 = 4800
    check(run, "Y2", hifmi_pay=5200)   # 2022, new base 20000: (20000-12000)*0.65 = 5200


def test_jiamusi_critical_illness_tilt_for_dibao_undefined(settle):
    """黑医保发〔2021〕41号 二1: 大病保险继续对特困人员、低保对象和返贫致贫人口实施倾斜性保障政策 — no numbers:
    hifmi empty for a 低保对象, with a warning."""
    run = settle(POLICY, RESIDENT, [claim("D1", "2022-05-01", 30000, 10000)],
                 identities=[("P1", "dibao", "", "")])
    check(run, "D1", hifmi_pay=None, maf_pay=None, fund_pay_sumamt=None, psn_part_amt=None)
    assert_warned(run, POLICY_WORDS, ("ci_tilt_poor", "倾斜性保障"), 1)


def test_jiamusi_assistance_undefined_for_identity_holders(settle):
    """二3 (完善统一医疗救助政策) and 三1 (倾斜救助) name assistance without numbers: maf and tilt empty for an
    identity holder; 0 for a person with no identity."""
    run = settle(POLICY, [("P1", "390"), ("P2", "390")], [
        claim("A1", "2022-05-01", 8000, 3000, psn="P1"),   # r1 = 5000 -> hifmi 0
        claim("B1", "2022-05-01", 8000, 3000, psn="P2"),
    ], identities=[("P1", "near_dibao", "", "")])
    check(run, "A1", hifmi_pay=0, maf_pay=None, tilt_pay=None, category="near_dibao",
          fund_pay_sumamt=None, psn_part_amt=None)
    check(run, "B1", hifmi_pay=0, maf_pay=0, tilt_pay=0, category="",
          fund_pay_sumamt=3000, psn_part_amt=5000)
    assert_warned(run, POLICY_WORDS, ("maf_all", "医疗救助对象"), 1)


def test_jiamusi_in_force_from_2021(settle, tmp_path):
    """jiamusi.yaml in_force (二1 2021年大病保险…): a 2020 claim has no policy in force."""
    bad = settle(POLICY, RESIDENT, [claim("F1", "2020-12-31", 1000, 500)])
    assert bad.exit_code != 0
    assert "claims.csv" in bad.stderr and "setl_date" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr
    assert not list(tmp_path.glob("run*/out.csv"))
    run = settle(POLICY, RESIDENT, [claim("F2", "2021-01-01", 1000, 500)])
    check(run, "F2", hifmi_pay=0, maf_pay=0, tilt_pay=0)
