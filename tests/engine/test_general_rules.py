"""Rules that hold whatever the jurisdiction (CONTRACT.md): output shape, bases and defaults,
identities (dates, several at once: 就高不就低), order of claims, year boundaries, undefined rules
and --strict, and refusals of bad input.

Settlement examples use Harbin (哈政办规〔2022〕16号) with last year's per-capita disposable income
given (2022: 30,000 -> tilt trigger 15,000 for 2023 claims). Every expected amount is computed by
hand; r1 = inscp_scp_amt - hifp_pay, r2 = r1 - hifmi_pay, r3 = r2 - maf_pay, yearly cumulative.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.helpers import check, claim

POLICY = "harbin"
RESIDENT = [("P1", "390")]
INCOME = [
    ("per_capita_disposable_income", 2022, "30000"),
    ("per_capita_disposable_income", 2023, "32000"),
    ("per_capita_disposable_income", 2024, "34000"),
]
OUT_COLUMNS = ["setl_id", "psn_no", "setl_date", "category", "medfee_sumamt", "inscp_scp_amt",
               "hifp_pay", "hifmi_pay", "maf_pay", "tilt_pay", "oth_pay", "fund_pay_sumamt", "psn_part_amt"]


def assert_refused(run, tmp_path, *words):
    """CONTRACT.md: non-zero exit, a reason on stderr naming the file and column, no traceback,
    nothing written to --out."""
    assert run.exit_code != 0, "the run should have been refused"
    assert run.stderr.strip(), "a refusal gives its reason on stderr"
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run.stderr
    for w in words:
        assert w in run.stderr, f"{w!r} not named in: {run.stderr}"
    assert not list(tmp_path.glob("run*/out.csv")), "nothing is written when the run fails"


# --- output shape -------------------------------------------------------------------------

def test_output_columns_and_claims_file_order(settle):
    """CONTRACT.md settlements file: exactly these columns, one row per claim in claims-file order
    (even when the claims are settled in date order)."""
    run = settle(POLICY, RESIDENT, [
        claim("B", "2023-06-01", 1000, 500),
        claim("A", "2023-02-01", 1000, 500),
        claim("C", "2023-04-01", 1000, 500),
    ])
    assert run.exit_code == 0, run.stderr
    assert list(run.rows[0].keys()) == OUT_COLUMNS
    assert [r["setl_id"] for r in run.rows] == ["B", "A", "C"]
    assert [r["setl_date"] for r in run.rows] == ["2023-06-01", "2023-02-01", "2023-04-01"]
    assert {r["psn_no"] for r in run.rows} == {"P1"}


def test_no_identity_gets_zero_assistance_and_empty_category(settle):
    """CONTRACT.md (Who gets assistance): with no identity valid for the claim, maf_pay and tilt_pay
    are 0, not empty, and category is empty — also when an identity has ended, and with no
    income statistic given (tilt needs none for non-holders)."""
    run = settle(POLICY, [("P1", "390"), ("P2", "390")], [
        claim("N1", "2023-03-01", 8000, 3000, psn="P1"),
        claim("N2", "2023-03-01", 8000, 3000, psn="P2"),
    ], identities=[("P2", "near_dibao", "2022-01-01", "2023-01-31")])
    # r1 = 5000 < 12000 -> hifmi 0; fund = 3000; psn = 8000-3000 = 5000
    for sid in ("N1", "N2"):
        check(run, sid, hifmi_pay=0, maf_pay=0, tilt_pay=0, category="",
              fund_pay_sumamt=3000, psn_part_amt=5000)


def test_inscp_defaults_to_medfee_less_self_paid_parts(settle):
    """CONTRACT.md claims file: inscp_scp_amt defaults to medfee_sumamt - fulamt_ownpay_amt -
    overlmt_selfpay - preselfpay_amt; fund = hifp+hifmi+maf+tilt; psn_part = medfee - fund."""
    run = settle(POLICY, RESIDENT, [
        claim("I1", "2023-03-01", 10500, 4000, fulamt_ownpay_amt=300, overlmt_selfpay=200,
              preselfpay_amt=500),
    ])
    # inscp = 10500-300-200-500 = 9500; r1 = 5500 -> hifmi 0; fund 4000; psn 10500-4000 = 6500
    check(run, "I1", medfee_sumamt=10500, inscp_scp_amt=9500, hifp_pay=4000, hifmi_pay=0,
          maf_pay=0, tilt_pay=0, fund_pay_sumamt=4000, psn_part_amt=6500)


def test_consistent_inscp_given_is_accepted(settle):
    """CONTRACT.md claims file: an inscp_scp_amt equal to its required value is accepted and used."""
    run = settle(POLICY, RESIDENT, [
        claim("I1", "2023-03-01", "30500.50", 4000, fulamt_ownpay_amt="300.50", overlmt_selfpay=200,
              preselfpay_amt=0, inscp_scp_amt=30000),
    ])
    # 30500.50-300.50-200-0 = 30000; r1 = 26000 -> hifmi 8000*0.65 + 6000*0.70 = 5200+4200 = 9400
    # fund = 4000+9400 = 13400; psn = 30500.50-13400 = 17100.50
    check(run, "I1", inscp_scp_amt=30000, hifmi_pay=9400, fund_pay_sumamt=13400,
          psn_part_amt="17100.50")


def test_fund_and_person_part_empty_when_a_part_is_empty(settle):
    """CONTRACT.md: fund_pay_sumamt and psn_part_amt are both empty when one of the amounts they add
    up is empty (here tilt_pay, for want of last year's income figure)."""
    run = settle(POLICY, RESIDENT, [claim("E1", "2023-03-01", 6000, 1000, 0)],
                 identities=[("P1", "near_dibao", "", "")])
    # r2 = 5000 -> maf (5000-3500)*0.8 = 1200; tilt unknown
    check(run, "E1", hifmi_pay=0, maf_pay=1200, tilt_pay=None,
          fund_pay_sumamt=None, psn_part_amt=None)


def test_given_hifmi_pay_is_used_as_settled_upstream(settle):
    """CONTRACT.md claims file: hifmi_pay given is the critical-illness payment settled upstream;
    only an empty or absent one is computed (哈政办规〔2022〕16号 三(二)1 on r2 = r1 - hifmi_pay)."""
    run = settle(POLICY, RESIDENT, [claim("G1", "2023-03-01", 20000, 5000, 1000)],
                 identities=[("P1", "near_dibao", "", "")], stats=INCOME)
    # r1 = 15000 (the policy would give 1950); r2 = 15000-1000 = 14000
    # maf = (14000-3500)*0.8 = 8400; r3 = 5600 < 15000 -> tilt 0
    check(run, "G1", hifmi_pay=1000, maf_pay=8400, tilt_pay=0,
          fund_pay_sumamt=14400, psn_part_amt=5600)   # 5000+1000+8400; 20000-14400


def test_hifmi_pay_column_may_be_absent(settle):
    """CONTRACT.md claims file: hifmi_pay is optional; absent, it is computed (黑医保发〔2021〕41号 二1)."""
    row = claim("G1", "2023-03-01", 20000, 5000)
    del row["hifmi_pay"]
    run = settle(POLICY, RESIDENT, [row], stats=INCOME)
    # r1 = 15000: (15000-12000)*0.65 = 1950
    check(run, "G1", hifmi_pay=1950, maf_pay=0, tilt_pay=0)


# --- order of claims and years ------------------------------------------------------------

def test_claims_settled_in_date_order_then_file_order(settle):
    """CONTRACT.md: claims of one person are taken in setl_date order, then in file order
    (哈政办规〔2022〕16号 三(二)1: 低保边缘 3500 / 80%)."""
    run = settle(POLICY, [("P1", "390"), ("P2", "390")], [
        claim("X", "2023-05-01", 4000, 1000, 0, psn="P1"),    # r2 = 3000, later date
        claim("Y", "2023-02-01", 4000, 1000, 0, psn="P1"),    # r2 = 3000, earlier date
        claim("W1", "2023-06-01", 5000, 1000, 0, psn="P2"),   # r2 = 4000, same date, first in file
        claim("W2", "2023-06-01", 2000, 1000, 0, psn="P2"),   # r2 = 1000
    ], identities=[("P1", "near_dibao", "", ""), ("P2", "near_dibao", "", "")], stats=INCOME)
    check(run, "Y", maf_pay=0)       # base 3000 < 3500
    check(run, "X", maf_pay=2000)    # base 6000: (6000-3500)*0.8 = 2000
    check(run, "W1", maf_pay=400)    # base 4000: (4000-3500)*0.8 = 400
    check(run, "W2", maf_pay=800)    # base 5000: 1200 - 400 = 800


def test_year_boundary_resets_cumulative_bases(settle):
    """CONTRACT.md: each tier works on the calendar-year cumulative base (年度累计): 31 Dec and 1 Jan
    are in different years (黑医保发〔2021〕41号 二1 threshold 12000; 哈政办规〔2022〕16号 三(二)1 3500)."""
    run = settle(POLICY, [("P1", "390"), ("P2", "390")], [
        claim("A1", "2023-12-31", 12000, 2000, psn="P1"),      # r1 = 10000
        claim("A2", "2024-01-01", 12000, 2000, psn="P1"),      # r1 = 10000, new year
        claim("B1", "2023-12-31", 4000, 1000, 0, psn="P2"),    # r2 = 3000
        claim("B2", "2024-01-01", 4000, 1000, 0, psn="P2"),    # r2 = 3000, new year
    ], identities=[("P2", "near_dibao", "", "")], stats=INCOME)
    check(run, "A1", hifmi_pay=0)   # 10000 < 12000
    check(run, "A2", hifmi_pay=0)   # 10000 < 12000 (not 20000 -> 5200)
    check(run, "B1", maf_pay=0)     # 3000 < 3500
    check(run, "B2", maf_pay=0)     # 3000 < 3500 (not 6000 -> 2000)


def test_persons_are_settled_independently(settle):
    """CONTRACT.md: the yearly base is a person's own (哈政办规〔2022〕16号 三(二)1 低保边缘 3500 / 80%)."""
    run = settle(POLICY, [("P1", "390"), ("P2", "390")], [
        claim("A1", "2023-03-01", 4000, 1000, 0, psn="P1"),   # r2 = 3000
        claim("B1", "2023-03-02", 4000, 1000, 0, psn="P2"),   # r2 = 3000
        claim("A2", "2023-03-03", 3000, 1000, 0, psn="P1"),   # r2 = 2000
    ], identities=[("P1", "near_dibao", "", ""), ("P2", "near_dibao", "", "")], stats=INCOME)
    check(run, "A1", maf_pay=0)      # P1 base 3000
    check(run, "B1", maf_pay=0)      # P2 base 3000 (not 6000)
    check(run, "A2", maf_pay=1200)   # P1 base 5000: (5000-3500)*0.8 = 1200


# --- identities ---------------------------------------------------------------------------

def test_identity_dates_are_inclusive(settle):
    """CONTRACT.md identities file: begndate is the first day, enddate the last day the identity
    holds; claims outside do not count in the base (哈政办规〔2022〕16号 三(二)1 低保边缘 3500 / 80%)."""
    run = settle(POLICY, RESIDENT, [
        claim("a", "2023-02-28", 3000, 1000, 0),   # r2 = 2000 each
        claim("b", "2023-03-01", 3000, 1000, 0),
        claim("c", "2023-03-31", 3000, 1000, 0),
        claim("d", "2023-04-01", 3000, 1000, 0),
    ], identities=[("P1", "near_dibao", "2023-03-01", "2023-03-31")], stats=INCOME)
    check(run, "a", maf_pay=0, tilt_pay=0, category="")
    check(run, "b", maf_pay=0, category="near_dibao")      # base 2000 (a excluded)
    check(run, "c", maf_pay=400, category="near_dibao")    # base 4000: (4000-3500)*0.8 = 400
    check(run, "d", maf_pay=0, tilt_pay=0, category="")


def test_empty_identity_dates_are_open(settle):
    """CONTRACT.md identities file: empty begndate = from the beginning, empty enddate = open."""
    run = settle(POLICY, RESIDENT, [
        claim("a", "2023-01-01", 6000, 1000, 0),   # r2 = 5000
        claim("b", "2027-12-31", 6000, 1000, 0),   # r2 = 5000
    ], identities=[("P1", "near_dibao", "", "")], stats=INCOME)
    check(run, "a", maf_pay=1200, category="near_dibao")   # (5000-3500)*0.8 = 1200
    check(run, "b", maf_pay=1200, category="near_dibao")


def test_chinese_category_names_accepted(settle):
    """CONTRACT.md identities file: each Chinese name is accepted as the category; the output gives
    the slug (哈政办规〔2022〕16号 三(二)1)."""
    run = settle(POLICY, [("P1", "390"), ("P2", "390")], [
        claim("A1", "2023-03-01", 6000, 1000, 0, psn="P1"),   # r2 = 5000
        claim("B1", "2023-03-01", 6000, 1000, 0, psn="P2"),   # r2 = 5000
    ], identities=[("P1", "低保边缘家庭成员", "", ""), ("P2", "特困供养人员", "", "")], stats=INCOME)
    check(run, "A1", maf_pay=1200, category="near_dibao")        # (5000-3500)*0.8
    check(run, "B1", maf_pay=5000, category="extreme_poverty")   # 5000*1.0


def test_several_identities_pay_the_highest_schedule(settle):
    """CONTRACT.md Several identities (就高不就低): the largest entitlement over the valid identities,
    category = the identity that gave it (哈政办规〔2022〕16号 三(二)1)."""
    run = settle(POLICY, RESIDENT, [claim("S1", "2023-03-01", 12000, 2000, 0)],
                 identities=[("P1", "near_dibao", "", ""), ("P1", "dibao", "", "")], stats=INCOME)
    # r2 = 10000: 低保边缘 (10000-3500)*0.8 = 5200; 低保 10000*0.9 = 9000 -> 9000
    # r3 = 1000 < 15000 -> tilt 0; fund = 2000+0+9000+0 = 11000; psn = 1000
    check(run, "S1", maf_pay=9000, tilt_pay=0, category="dibao",
          fund_pay_sumamt=11000, psn_part_amt=1000)


def test_several_identities_each_on_its_own_base_never_paid_twice(settle):
    """CONTRACT.md Several identities: each identity's schedule on its own yearly eligible base;
    the claim pays max(0, entitlement - already paid) — never both (哈政办规〔2022〕16号 三(二)1)."""
    run = settle(POLICY, RESIDENT, [
        claim("S1", "2023-03-01", 12000, 2000, 0),   # r2 = 10000: 低保边缘 only
        claim("S2", "2023-08-01", 70000, 10000, 0),  # r2 = 60000: both
        claim("S3", "2023-09-01", 1500, 500, 0),     # r2 = 1000: both
    ], identities=[("P1", "near_dibao", "", ""), ("P1", "dibao", "2023-07-01", "")])
    # S1: 低保边缘 base 10000 -> (10000-3500)*0.8 = 5200
    check(run, "S1", maf_pay=5200, category="near_dibao")
    # S2: 低保边缘 base 70000 -> 66500*0.8 = 53200; 低保 base 60000 -> 54000; 54000-5200 = 48800
    check(run, "S2", maf_pay=48800, category="dibao")
    # S3: 低保边缘 71000 -> 67500*0.8 = 54000; 低保 61000 -> 54900; 54900-54000 = 900
    check(run, "S3", maf_pay=900, category="dibao")


def test_several_identities_one_undefined_leaves_amount_empty(settle):
    """CONTRACT.md Several identities: if one valid identity's rule is undefined for the claim, the
    largest cannot be known: empty, and the warning names the identity (哈政办规〔2022〕16号 二(一)7:
    低收入家庭成员 as 其他特殊困难人员, not quantified)."""
    run = settle(POLICY, RESIDENT, [claim("S1", "2023-03-01", 6000, 1000, 0)],
                 identities=[("P1", "near_dibao", "", ""), ("P1", "low_income", "", "")],
                 stats=INCOME)
    check(run, "S1", maf_pay=None, fund_pay_sumamt=None, psn_part_amt=None)
    assert "low_income" in run.stderr or "低收入家庭成员" in run.stderr, run.stderr


# --- accepted spellings -------------------------------------------------------------------

def test_med_type_national_codes_accepted(settle):
    """CONTRACT.md claims file: national med_type codes (21-24 inpatient, 14 chronic, 11-13
    outpatient) are accepted (哈政办规〔2022〕16号 三(二)1: 普通门诊 not covered)."""
    run = settle(POLICY, RESIDENT, [
        claim("K1", "2023-03-01", 6000, 1000, 0, med_type="21"),   # inpatient r2 = 5000
        claim("K2", "2023-04-01", 6000, 1000, 0, med_type="11"),   # outpatient r2 = 5000
        claim("K3", "2023-05-01", 1500, 500, 0, med_type="14"),    # chronic r2 = 1000
    ], identities=[("P1", "near_dibao", "", "")], stats=INCOME)
    check(run, "K1", maf_pay=1200)   # (5000-3500)*0.8 = 1200
    check(run, "K2", maf_pay=0)      # outpatient: not covered, not in the base
    check(run, "K3", maf_pay=800)    # base 6000: 2000-1200 = 800


def test_boolean_spellings_accepted(settle):
    """CONTRACT.md: booleans are true/false, 1/0, 是/否 (哈政办规〔2022〕16号 三(六)3: 异地就医未按规定转诊
    -> not in 医疗救助)."""
    run = settle(POLICY, RESIDENT, [
        claim("B1", "2023-03-01", 3000, 1000, 0, out_of_area="是", referred="否", in_province="是"),
        claim("B2", "2023-04-01", 3000, 1000, 0, out_of_area="1", referred="0", in_province="1"),
        claim("B3", "2023-05-01", 3000, 1000, 0, out_of_area="否", referred="是", in_province="是"),
        claim("B4", "2023-06-01", 3000, 1000, 0, out_of_area="0", referred="1", in_province="1"),
    ], identities=[("P1", "dibao", "", "")], stats=INCOME)
    check(run, "B1", maf_pay=0, tilt_pay=0)
    check(run, "B2", maf_pay=0, tilt_pay=0)
    check(run, "B3", maf_pay=1800)   # r2 = 2000 * 0.9
    check(run, "B4", maf_pay=1800)


# --- undefined rules and --strict ---------------------------------------------------------

def test_undefined_rule_warns_and_exits_zero(settle):
    """CONTRACT.md: a rule the seeds name but do not quantify leaves the amount empty, the run exits
    0 and warns naming the policy, the rule and how many claims (青海 四(二): 低保对象 not quantified)."""
    run = settle("qinghai", RESIDENT, [
        claim("U1", "2023-03-01", 6000, 1000, 0),
        claim("U2", "2023-04-01", 6000, 1000, 0),
    ], identities=[("P1", "dibao", "", "")])
    assert run.exit_code == 0, run.stderr
    assert [r["setl_id"] for r in run.rows] == ["U1", "U2"]
    check(run, "U1", maf_pay=None)
    check(run, "U2", maf_pay=None)
    assert "qinghai" in run.stderr or "青海" in run.stderr, run.stderr
    assert "maf_other" in run.stderr or "低保对象" in run.stderr, run.stderr
    assert re.search(r"(?<![\d.])2(?![\d.])", run.stderr), run.stderr


def test_strict_refuses_undefined_rule(settle, tmp_path):
    """CONTRACT.md: --strict turns the undefined-rule warning into an error; nothing is written."""
    run = settle("qinghai", RESIDENT, [claim("U1", "2023-03-01", 6000, 1000, 0)],
                 identities=[("P1", "dibao", "", "")], strict=True)
    assert run.exit_code != 0
    assert "Traceback" not in run.stderr
    assert "maf_other" in run.stderr or "低保对象" in run.stderr, run.stderr
    assert not list(tmp_path.glob("run*/out.csv"))


def test_strict_accepts_fully_defined_run(settle):
    """CONTRACT.md: --strict changes nothing when every rule is defined (黑医保发〔2021〕41号 二1)."""
    run = settle(POLICY, RESIDENT, [claim("D1", "2023-03-01", 20000, 5000)],
                 stats=INCOME, strict=True)
    # r1 = 15000: (15000-12000)*0.65 = 1950
    check(run, "D1", hifmi_pay=1950, maf_pay=0, tilt_pay=0, fund_pay_sumamt=6950,
          psn_part_amt=13050)


# --- refusals of bad input (CONTRACT.md: non-zero, file and column named, nothing written) --

def test_refuses_unknown_policy(settle, tmp_path):
    """CONTRACT.md: unknown policy."""
    run = settle("atlantis", RESIDENT, [claim("A", "2023-03-01", 1000, 500)])
    assert_refused(run, tmp_path, "atlantis")


def test_refuses_missing_required_claims_column(settle, tmp_path):
    """CONTRACT.md claims file: hifp_pay is required."""
    row = claim("A", "2023-03-01", 1000, 500)
    del row["hifp_pay"]
    run = settle(POLICY, RESIDENT, [row])
    assert_refused(run, tmp_path, "claims.csv", "hifp_pay")


def test_refuses_missing_psn_no_in_persons(settle, tmp_path):
    """CONTRACT.md persons file: psn_no is required."""
    run = settle(POLICY, [{"person": "P1", "insutype": "390"}], [claim("A", "2023-03-01", 1000, 500)])
    assert_refused(run, tmp_path, "persons.csv", "psn_no")


def test_refuses_malformed_amount(settle, tmp_path):
    """CONTRACT.md: amounts are yuan with at most two decimals."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", "12a0", 500)])
    assert_refused(run, tmp_path, "claims.csv", "medfee_sumamt")


def test_refuses_amount_with_three_decimals(settle, tmp_path):
    """CONTRACT.md: at most two decimals."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", "1000.125", 500)])
    assert_refused(run, tmp_path, "claims.csv", "medfee_sumamt")


def test_refuses_malformed_date(settle, tmp_path):
    """CONTRACT.md: dates are YYYY-MM-DD (also YYYY/M/D); 01.03.2023 is neither."""
    run = settle(POLICY, RESIDENT, [claim("A", "01.03.2023", 1000, 500)])
    assert_refused(run, tmp_path, "claims.csv", "setl_date")


def test_refuses_impossible_identity_date(settle, tmp_path):
    """CONTRACT.md: dates are YYYY-MM-DD (and real days)."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 1000, 500)],
                 identities=[("P1", "dibao", "2023-02-30", "")])
    assert_refused(run, tmp_path, "identities.csv", "begndate")


def test_refuses_negative_amount(settle, tmp_path):
    """CONTRACT.md: negative amount."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 1000, "-1")])
    assert_refused(run, tmp_path, "claims.csv", "hifp_pay")


def test_refuses_duplicate_setl_id(settle, tmp_path):
    """CONTRACT.md claims file: setl_id unique in the file."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 1000, 500),
                                    claim("A", "2023-04-01", 1000, 500)])
    assert_refused(run, tmp_path, "claims.csv", "setl_id")


def test_refuses_duplicate_person(settle, tmp_path):
    """CONTRACT.md persons file: psn_no unique."""
    run = settle(POLICY, [("P1", "390"), ("P1", "390")], [claim("A", "2023-03-01", 1000, 500)])
    assert_refused(run, tmp_path, "persons.csv", "psn_no")


def test_refuses_unknown_person(settle, tmp_path):
    """CONTRACT.md claims file: psn_no must be in the persons file."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 1000, 500, psn="P9")])
    assert_refused(run, tmp_path, "claims.csv", "psn_no")


def test_refuses_unknown_category(settle, tmp_path):
    """CONTRACT.md identities file: category is a slug or Chinese name from the table."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 1000, 500)],
                 identities=[("P1", "wizard", "", "")])
    assert_refused(run, tmp_path, "identities.csv", "category")


def test_refuses_unknown_med_type(settle, tmp_path):
    """CONTRACT.md claims file: med_type is inpatient/chronic/outpatient or a national code."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 1000, 500, med_type="dental")])
    assert_refused(run, tmp_path, "claims.csv", "med_type")


def test_refuses_malformed_boolean(settle, tmp_path):
    """CONTRACT.md: booleans are true/false, 1/0, 是/否."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 1000, 500, referred="maybe")])
    assert_refused(run, tmp_path, "claims.csv", "referred")


def test_refuses_unknown_insutype(settle, tmp_path):
    """CONTRACT.md persons file: insutype is 390 or 310."""
    run = settle(POLICY, [("P1", "999")], [claim("A", "2023-03-01", 1000, 500)])
    assert_refused(run, tmp_path, "persons.csv", "insutype")


def test_refuses_bad_certno_check_digit(settle, tmp_path):
    """CONTRACT.md persons file: certno checked (GB 11643 check digit) when present.
    11010519491231002 -> check digit X; ...0021 is wrong."""
    run = settle(POLICY, [{"psn_no": "P1", "insutype": "390", "certno": "110105194912310021"}],
                 [claim("A", "2023-03-01", 1000, 500)])
    assert_refused(run, tmp_path, "persons.csv", "certno")


def test_accepts_valid_certno(settle):
    """CONTRACT.md persons file: a certno with the right GB 11643 check digit (X) is accepted."""
    run = settle(POLICY, [{"psn_no": "P1", "insutype": "390", "certno": "11010519491231002X"}],
                 [claim("A", "2023-03-01", 1000, 500)])
    check(run, "A", hifmi_pay=0, maf_pay=0, tilt_pay=0)


def test_refuses_date_with_no_policy_in_force(settle, tmp_path):
    """CONTRACT.md: a claim dated when the policy is not in force is an error (哈政办规〔2022〕16号
    四(五): from 2023-01-01)."""
    run = settle(POLICY, RESIDENT, [claim("A", "2022-06-01", 1000, 500)])
    assert_refused(run, tmp_path, "claims.csv", "setl_date")


def test_refuses_inscp_not_matching_its_parts(settle, tmp_path):
    """CONTRACT.md: inscp_scp_amt's required value is medfee - fulamt - overlmt - preselfpay:
    1000 - 100 - 0 - 0 = 900, not 950."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 1000, 500, fulamt_ownpay_amt=100,
                                          inscp_scp_amt=950)])
    assert_refused(run, tmp_path, "claims.csv", "inscp_scp_amt")


def test_refuses_hifp_above_inscp(settle, tmp_path):
    """CONTRACT.md inconsistent amounts: the basic fund cannot pay more than the in-scope amount
    (1000 - 100 = 900 < hifp 950)."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 1000, 950, fulamt_ownpay_amt=100)])
    assert_refused(run, tmp_path, "claims.csv", "hifp_pay")


def test_refuses_self_paid_parts_above_medfee(settle, tmp_path):
    """CONTRACT.md inconsistent amounts: 1000 - 800 - 300 = -100 cannot be an in-scope amount."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 1000, 0, fulamt_ownpay_amt=800,
                                          overlmt_selfpay=300)])
    assert_refused(run, tmp_path, "claims.csv")
    assert any(c in run.stderr for c in ("inscp_scp_amt", "fulamt_ownpay_amt", "overlmt_selfpay",
                                         "medfee_sumamt")), run.stderr


def test_refuses_malformed_statistic(settle, tmp_path):
    """CONTRACT.md statistics file: name,year,value with value an amount."""
    run = settle(POLICY, RESIDENT, [claim("A", "2023-03-01", 1000, 500)],
                 stats=[("per_capita_disposable_income", 2022, "lots")])
    assert_refused(run, tmp_path, "stats.csv", "value")


def test_refusal_from_the_command_line_has_no_traceback(tmp_path):
    """CONTRACT.md: a one-line reason on stderr — also from the installed `tuodi` command."""
    exe = Path(sys.executable).parent / "tuodi"
    if not exe.exists():
        pytest.skip("no tuodi script in the virtual environment")
    (tmp_path / "persons.csv").write_text("psn_no,insutype\nP1,390\n", encoding="utf-8")
    (tmp_path / "claims.csv").write_text(
        "setl_id,psn_no,setl_date,med_type,medfee_sumamt,hifp_pay\nA,P1,2023-03-01,inpatient,-5,0\n",
        encoding="utf-8")
    out = tmp_path / "out.csv"
    p = subprocess.run([str(exe), "settle", "--policy", POLICY, "--persons", str(tmp_path / "persons.csv"),
                        "--claims", str(tmp_path / "claims.csv"), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    assert "claims.csv" in p.stderr and "medfee_sumamt" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not out.exists()
