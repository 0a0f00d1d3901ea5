"""No claim is paid beyond its own cost (CONTRACT.md, Settlement rules), on Harbin (哈政办规〔2022〕16号,
with Heilongjiang's critical-illness insurance 黑医保发〔2021〕41号 二1), on both settlement paths.

On every claim and for every tier the payment is at most that claim's own base (r1 for hifmi_pay,
r2 for maf_pay, r3 for tilt_pay), so psn_part_amt is never negative. When the yearly entitlement
rises by more than the claim that raises it can take, the rest goes to the person's earlier
eligible claims of that year, from the most recent backwards, each up to its own remaining base; a
given hifmi_pay is final and takes nothing more. Every expected amount is computed by hand.

Harbin 因病致贫重病患者 (哈政办规〔2022〕16号 三(二)1): threshold 8,900, 70%, cap 100,000 a year.
倾斜救助 (三(二)2): once the yearly r3 of referred in-province claims exceeds 50% of last year's
per-capita disposable income, 50% of that whole yearly r3, capped at 20,000 a year.
"""
from __future__ import annotations

import pytest

from engine.helpers import check, claim

POLICY = "harbin"
RESIDENT = [("P1", "390")]
ILL = [("P1", "illness_poverty", "", "")]
INCOME_30000 = [("per_capita_disposable_income", 2022, "30000")]   # 2023 tilt line 15,000
INCOME_40000 = [("per_capita_disposable_income", 2022, "40000")]   # 2023 tilt line 20,000 (examples/)


@pytest.fixture(params=["engine", "columnar"])
def path(request, monkeypatch):
    """Both settlement paths (TUODI_SETTLE), which must give the same rows."""
    monkeypatch.setenv("TUODI_SETTLE", request.param)
    return request.param


# hifmi_pay given as 0, so that the arithmetic is about assistance and tilted assistance
REACH_BACK = [
    claim("C1", "2023-02-01", 12900, 4000, 0),   # r1 = r2 = 8900
    claim("C2", "2023-03-01", 3000, 1000, 0),    # r2 = 2000
    claim("C3", "2023-04-01", 14000, 4000, 0),   # r2 = 10000
    claim("C4", "2023-05-01", 14000, 4000, 0),   # r2 = 10000
]


def test_tilt_crossing_reaches_back_over_several_claims(settle, path):
    """哈政办规〔2022〕16号 三(二)2: the crossing claim C4 raises the yearly tilt from 0 to 7,750, more
    than its own r3 of 3,000: it takes 3,000 and the rest goes to C3, C2, C1 in that order, each up
    to its own r3 (CONTRACT.md, No claim is paid beyond its own cost)."""
    run = settle(POLICY, RESIDENT, REACH_BACK, identities=ILL, stats=INCOME_30000)
    # maf on the yearly r2 (三(二)1): F(b) = (b - 8900) * 0.7
    # C1: cum r2 8900  -> F 0;                      maf 0;    r3 8900; cum r3 8900
    # C2: cum r2 10900 -> F 2000*0.7 = 1400;        maf 1400; r3 600;  cum r3 9500
    # C3: cum r2 20900 -> F 12000*0.7 = 8400;       maf 7000; r3 3000; cum r3 12500
    # C4: cum r2 30900 -> F 22000*0.7 = 15400;      maf 7000; r3 3000; cum r3 15500
    # tilt: 15500 > 15000 on C4 -> 15500*0.5 = 7750 due; C4 takes its own 3000, rest 4750:
    #   C3 (room 3000) 3000, rest 1750; C2 (room 600) 600, rest 1150; C1 (room 8900) 1150
    check(run, "C4", maf_pay=7000, tilt_pay=3000, fund_pay_sumamt=14000, psn_part_amt=0)
    check(run, "C3", maf_pay=7000, tilt_pay=3000, fund_pay_sumamt=14000, psn_part_amt=0)
    check(run, "C2", maf_pay=1400, tilt_pay=600, fund_pay_sumamt=3000, psn_part_amt=0)
    check(run, "C1", maf_pay=0, tilt_pay=1150,
          fund_pay_sumamt=5150, psn_part_amt=7750)   # 4000+0+0+1150; 12900-5150
    # the year's tilt is unchanged: 1150 + 600 + 3000 + 3000 = 7750
    assert sum(run.amount(f"C{i}", "tilt_pay") for i in range(1, 5)) == 7750


def test_claims_after_the_crossing_take_their_own_share(settle, path):
    """哈政办规〔2022〕16号 三(二)2 after the crossing of the test above: a later claim is due the rise
    of 50% of the yearly r3, which its own r3 can take, and the earlier claims are not moved; the
    yearly cap of 20,000 then bounds the tilt (CONTRACT.md, No claim is paid beyond its own cost)."""
    run = settle(POLICY, RESIDENT, REACH_BACK + [
        claim("C5", "2023-06-01", 2000, 1000, 0),      # r2 = 1000
        claim("C6", "2023-07-01", 120000, 20000, 0),   # r2 = 100000
    ], identities=ILL, stats=INCOME_30000)
    check(run, "C1", tilt_pay=1150)
    check(run, "C2", tilt_pay=600)
    check(run, "C3", tilt_pay=3000)
    check(run, "C4", tilt_pay=3000)
    # C5: cum r2 31900 -> F 23000*0.7 = 16100; maf 700; r3 300; cum r3 15800 -> 7900;
    #     due 7900 - 7750 = 150 <= 300
    check(run, "C5", maf_pay=700, tilt_pay=150, fund_pay_sumamt=1850, psn_part_amt=150)
    # C6: cum r2 131900 -> F 123000*0.7 = 86100 (< 100,000 cap); maf 70000; r3 30000;
    #     cum r3 45800 -> 22900, capped 20000; due 20000 - 7900 = 12100 <= 30000
    check(run, "C6", maf_pay=70000, tilt_pay=12100,
          fund_pay_sumamt=102100, psn_part_amt=17900)   # 20000+0+70000+12100; 120000-102100


def test_issue_example_crossing_on_the_second_claim(settle, path):
    """The example of issue 21: an 因病致贫 resident, claims of 100,000 and 40,000 without basic
    insurance, income 40,000 (line 20,000). Before, the second claim got tilt 10,060 against its
    own r3 of 3,000 (psn_part_amt −7,060); now it takes 3,000 and the first claim 7,060."""
    run = settle(POLICY, RESIDENT, [
        claim("A", "2023-03-01", 100000, 0),   # r1 = 100000
        claim("B", "2023-06-01", 40000, 0),    # r1 = 40000
    ], identities=ILL, stats=INCOME_40000)
    # 大病保险 (黑医保发〔2021〕41号 二1): F(b) = 8000*0.65 + 30000*0.70 + (b - 50000)*0.75
    #   A: F(100000) = 5200 + 21000 + 37500 = 63700;        r2 = 36300
    #   B: F(140000) = 5200 + 21000 + 67500 = 93700 -> 30000; r2 = 10000
    # 医疗救助 (三(二)1): A (36300-8900)*0.7 = 19180, r3 17120; B cum 46300 -> 26180 -> 7000, r3 3000
    # 倾斜救助 (三(二)2): A cum r3 17120 <= 20000 -> 0 due; B cum 20120 > 20000 -> 10060 due:
    #   B takes its own 3000, A the rest 7060
    check(run, "A", hifmi_pay=63700, maf_pay=19180, tilt_pay=7060,
          fund_pay_sumamt=89940, psn_part_amt=10060)   # 0+63700+19180+7060; 100000-89940
    check(run, "B", hifmi_pay=30000, maf_pay=7000, tilt_pay=3000,
          fund_pay_sumamt=40000, psn_part_amt=0)       # 0+30000+7000+3000


def test_critical_illness_catch_up_never_lands_on_a_claim_without_cost(settle, path):
    """黑医保发〔2021〕41号 二1 (12,000, 65% up to 20,000, then 70%) for a resident without identity.
    G1 gave hifmi_pay 0 (final: it takes nothing more). Z has no in-scope cost: before, it was paid
    the catch-up F(20000) = 5,200 as hifmi_pay (psn_part_amt −4,200), an output Tuodi refuses as
    input. Now Z takes 0 and nothing else has room: the 5,200 stays unpaid, and the next claim W
    takes what its own r1 allows (CONTRACT.md, No claim is paid beyond its own cost)."""
    run = settle(POLICY, RESIDENT, [
        claim("G1", "2023-02-01", 30000, 10000, 0),                       # r1 = 20000, given 0
        claim("Z", "2023-03-01", 1000, 0, fulamt_ownpay_amt=1000),        # inscp 0, r1 = 0
        claim("W", "2023-04-01", 3000, 2000),                             # r1 = 1000
    ])
    check(run, "G1", hifmi_pay=0, psn_part_amt=20000)
    # Z: cum r1 20000 -> F (20000-12000)*0.65 = 5200, paid 0 -> 5200 due; Z's room 0, G1 given
    check(run, "Z", inscp_scp_amt=0, hifmi_pay=0, maf_pay=0, tilt_pay=0,
          fund_pay_sumamt=0, psn_part_amt=1000)
    # W: cum r1 21000 -> F 5200 + 1000*0.70 = 5900, paid 0 -> 5900 due; W's room 1000 -> 1000
    check(run, "W", hifmi_pay=1000, fund_pay_sumamt=3000, psn_part_amt=0)   # 2000+1000


def test_explanation_names_the_claims_topped_up(settle, tmp_path):
    """explain (CONTRACT.md): the crossing claim says what it passed on and to which claims, and the
    earlier claim says which later claim topped it up."""
    from typer.testing import CliRunner

    from tuodi.cli.main import app

    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 100000, 0), claim("B", "2023-06-01", 40000, 0)],
                 identities=ILL, stats=INCOME_40000)
    assert run.exit_code == 0
    d = sorted(tmp_path.glob("run*"))[-1]
    out = CliRunner().invoke(app, ["explain", "--policy", POLICY, "--persons", str(d / "persons.csv"),
                                   "--identities", str(d / "identities.csv"), "--claims", str(d / "claims.csv"),
                                   "--stats", str(d / "stats.csv"), "--psn", "P1"])
    assert out.exit_code == 0, out.output
    assert "年度应付 10060.00 − 本年已付 0.00 = 10060.00" in out.output
    assert "本次 3000.00, 余额 7060.00" in out.output
    assert "余额补付本年此前的结算 (由近及远, 各以其剩余基数为限): A 7060.00" in out.output
    assert "后续结算使年度应付增加, 补付本结算: B +7060.00; 本结算合计 7060.00" in out.output
