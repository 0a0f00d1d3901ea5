"""Further payers after the three tiers (CONTRACT.md "Further payers after the three tiers (梯次减负)
and special funds"), added from an overlay in a temporary file — no code change — on Harbin
(哈政办规〔2022〕16号 三(二)1: 低保对象 no threshold, 90%; 低保边缘家庭成员 3,500, 80%; cap 100,000).

Every claim gives hifmi_pay 0 and the tilt line (50% of 40,000 = 20,000, 三(二)2) is never reached,
so r4 = r3 = r2 − maf_pay, and the arithmetic is the further payers'. Bases (CONTRACT.md):
`in_scope` max(0, r4 − P), `reasonable` r4 + reasonable_ownpay_amt − P, P the earlier further
payers' payments on the claim. A burden cap is ratio 1 above a threshold (预警值), up to the cap.
Both settlement paths give the same rows (the columnar path hands further payers to the engine).
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.helpers import assert_warned, check, claim

INCOME = [("per_capita_disposable_income", 2022, "40000")]


@pytest.fixture(params=["engine", "columnar"])
def path(request, monkeypatch):
    monkeypatch.setenv("TUODI_SETTLE", request.param)
    return request.param


FAMILY_CAP = """payers:
  - id: warm_heart
    name: 暖心无忧专项基金 (test)
    fund_code: "999901"
    base: in_scope
    unit: family
    rules:
      - id: warm_cap
        categories: [dibao, near_dibao]
        med_types: [inpatient, chronic]
        threshold: [{from: 2023-01-01, value: 1000, ref: "test 预警值"}]
        ratio: [{from: 2023-01-01, value: 1, ref: "test 封顶"}]
        cap: [{from: 2023-01-01, value: 5000, ref: "test 基金年度限额"}]
"""
FAMILY = [{"psn_no": "A", "hh_no": "F1"}, {"psn_no": "B", "hh_no": "F1"}, {"psn_no": "C", "hh_no": "F1"},
          {"psn_no": "D", "hh_no": ""}]
FAMILY_IDS = [("A", "dibao", "", ""), ("B", "near_dibao", "", ""), ("D", "dibao", "", "")]
FAMILY_CLAIMS = [
    claim("a1", "2023-02-01", 10000, 6000, 0, psn="A"),   # r2 4000, maf 3600, r4 400
    claim("c1", "2023-03-01", 5000, 3000, 0, psn="C"),    # no identity: maf 0, r4 2000, not eligible
    claim("b1", "2023-04-01", 10000, 5000, 0, psn="B"),   # r2 5000, maf (5000-3500)*0.8 = 1200, r4 3800
    claim("a2", "2023-05-01", 3000, 1800, 0, psn="A"),    # r2 1200, maf 1080, r4 120
    claim("b2", "2023-06-01", 10000, 5000, 0, psn="B"),   # cum r2 10000: maf 5200-1200 = 4000, r4 1000
    claim("b3", "2023-07-01", 10000, 5000, 0, psn="B"),   # cum r2 15000: maf 9200-5200 = 4000, r4 1000
    claim("d1", "2023-07-01", 3000, 1000, 0, psn="D"),    # no hh_no: a family alone; r2 2000, maf 1800, r4 200
]


def test_family_burden_cap_crossing_mid_year(settle, path):
    """CONTRACT.md Further payers, Family unit and burden cap (衢政办发〔2023〕1号 三(四) 探索家庭和个人医疗
    费用负担封顶): the family's yearly r4 of eligible claims above 1,000 is paid at ratio 1, up to 5,000.
    a1: family base 400 -> F 0.  c1: C holds no identity: not eligible, not counted (oth 0).
    b1: family base 400 + 3800 = 4200 -> F 3200, due 3200 (≤ its own 3800): the family's burden
        is now 400 + 600 = 1000, the warning line, crossed on b1.
    a2: 4320 -> F 3320, due 120 (all of a2's r4).  b2: 5320 -> F 4320, due 1000.
    b3: 6320 -> F min(5320, 5000) = 5000, due 5000 - 4320 = 680: the fund's cap is reached; b3
        keeps 1000 - 680 = 320.  d1: D has no hh_no, a family alone: base 200 < 1000 -> 0."""
    run = settle("harbin", FAMILY, FAMILY_CLAIMS, identities=FAMILY_IDS, stats=INCOME, overlay=FAMILY_CAP)
    check(run, "a1", maf_pay=3600, oth_pay=0, fund_pay_sumamt=9600, psn_part_amt=400)
    check(run, "c1", maf_pay=0, oth_pay=0, psn_part_amt=2000, category="")
    check(run, "b1", maf_pay=1200, oth_pay=3200, fund_pay_sumamt=9400, psn_part_amt=600)
    check(run, "a2", maf_pay=1080, oth_pay=120, psn_part_amt=0)
    check(run, "b2", maf_pay=4000, oth_pay=1000, psn_part_amt=0)
    check(run, "b3", maf_pay=4000, oth_pay=680, fund_pay_sumamt=9680, psn_part_amt=320)
    check(run, "d1", maf_pay=1800, oth_pay=0, psn_part_amt=200)
    # the fund's year for F1: 0 + 3200 + 120 + 1000 + 680 = 5000, its cap


def test_detail_rows_add_up_to_oth_pay_and_name_the_payers(settle, path, tmp_path):
    """CONTRACT.md detail file: one row per claim and payer, `fund_pay_type` the fund code (610100
    医疗救助基金; 999901 given by the overlay) else the id (hifmi, tilt); the further payers' rows
    add up to oth_pay."""
    detail = tmp_path / "detail.csv"
    run = settle("harbin", FAMILY, FAMILY_CLAIMS, identities=FAMILY_IDS, stats=INCOME, overlay=FAMILY_CAP,
                 extra_args=["--detail", str(detail)])
    assert run.exit_code == 0, run.stderr
    with open(detail, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["setl_id", "psn_no", "setl_date", "fund_pay_type", "fund_pay_type_name", "fund_payamt"]
    b1 = [(r["fund_pay_type"], r["fund_pay_type_name"], r["fund_payamt"]) for r in rows if r["setl_id"] == "b1"]
    assert b1 == [("hifmi", "大病保险", "0.00"), ("610100", "医疗救助", "1200.00"), ("tilt", "倾斜救助", "0.00"),
                  ("999901", "暖心无忧专项基金 (test)", "3200.00")]
    assert [r["setl_id"] for r in rows] == [sid for c in FAMILY_CLAIMS for sid in [c["setl_id"]] * 4]


def test_detail_file_without_further_payers(settle, path, tmp_path):
    """A policy with no further payers: three rows per claim, oth_pay 0 (CONTRACT.md)."""
    detail = tmp_path / "detail.csv"
    run = settle("harbin", [("E1", "390")], [claim("e1", "2023-05-01", 15000, 9000, 0, psn="E1")],
                 identities=[("E1", "dibao", "", "")], stats=INCOME, extra_args=["--detail", str(detail)])
    check(run, "e1", maf_pay=5400, oth_pay=0, fund_pay_sumamt=14400)
    with open(detail, encoding="utf-8") as f:
        assert [(r["fund_pay_type"], r["fund_payamt"]) for r in csv.DictReader(f)] == [
            ("hifmi", "0.00"), ("610100", "5400.00"), ("tilt", "0.00")]


CHAIN = """payers:
  - id: reasonable_fund
    name: 合理自负基金 (test)
    base: reasonable
    rules:
      - id: rf_general
        categories: general
        med_types: [inpatient]
        threshold: [{from: 2023-01-01, value: 0, ref: "test"}]
        ratio: [{from: 2023-01-01, value: 0.5, ref: "test"}]
        cap: [{from: 2023-01-01, value: null, ref: "test"}]
  - id: second_aid
    name: 第二救助 (test)
    rules:
      - id: second_general
        categories: general
        med_types: [inpatient, chronic]
        threshold: [{from: 2023-01-01, value: 0, ref: "test"}]
        ratio: [{from: 2023-01-01, value: 1, ref: "test"}]
        cap: [{from: 2023-01-01, value: 100, ref: "test"}]
"""


def test_reasonable_base_then_an_in_scope_payer(settle, path):
    """Bases (CONTRACT.md): medfee 12000, fulamt_ownpay_amt 2000 (1500 judged reasonable, 衢政办发
    〔2023〕1号 三(二) 合理自负), inscp 10000, hifp 6000, no identity: maf 0, r4 = 4000.
    reasonable_fund: base 4000 + 1500 - 0 = 5500, 50% -> 2750.
    second_aid (in_scope, after it): base max(0, 4000 - 2750) = 1250, ratio 1, cap 100 -> 100.
    oth_pay 2850; fund 6000 + 2850 = 8850; psn_part_amt 12000 - 8850 = 3150.
    An outpatient claim: reasonable_fund covers inpatient only (0, and nothing counted), charity
    covers inpatient and chronic only: 0 (the cap is used up anyway)."""
    run = settle("harbin", [("G1", "390")], [
        claim("g1", "2023-03-01", 12000, 6000, 0, psn="G1", fulamt_ownpay_amt=2000, reasonable_ownpay_amt=1500),
        claim("g2", "2023-04-01", 1000, 500, 0, psn="G1", med_type="outpatient"),
    ], stats=INCOME, overlay=CHAIN)
    check(run, "g1", maf_pay=0, oth_pay=2850, fund_pay_sumamt=8850, psn_part_amt=3150, category="")
    check(run, "g2", oth_pay=0, psn_part_amt=500)


def test_payer_covering_only_some_med_types(settle, path):
    """A rule's med_types (CONTRACT.md: a med_type the rule leaves out is not covered: 0): the fund
    covers chronic only here. h1 inpatient: 0 and not counted; h2 chronic: r4 = 2000 - 1000 = 1000
    -> 1000 * 0.5 = 500 (a yearly base of chronic claims alone)."""
    overlay = CHAIN.split("  - id: second_aid")[0].replace("reasonable_fund", "chronic_fund") \
        .replace("rf_general", "cf_general").replace("base: reasonable", "base: in_scope") \
        .replace("med_types: [inpatient]", "med_types: [chronic]")
    run = settle("harbin", [("H1", "390")], [
        claim("h1", "2023-03-01", 3000, 1000, 0, psn="H1"),
        claim("h2", "2023-04-01", 2000, 1000, 0, psn="H1", med_type="chronic"),
    ], stats=INCOME, overlay=overlay)
    check(run, "h1", oth_pay=0, psn_part_amt=2000)
    check(run, "h2", oth_pay=500, psn_part_amt=500)


def test_reasonable_ownpay_amt_above_the_out_of_scope_costs_is_refused(settle, path):
    """CONTRACT.md claims file: reasonable_ownpay_amt is at most fulamt_ownpay_amt + overlmt_selfpay +
    preselfpay_amt (here 300 + 200 = 500 < 600): refused naming the row and the column."""
    run = settle("harbin", [("G1", "390")], [
        claim("g1", "2023-03-01", 5000, 2000, 0, psn="G1", fulamt_ownpay_amt=300, overlmt_selfpay=200,
              reasonable_ownpay_amt=600)], stats=INCOME)
    assert run.exit_code != 0 and not run.rows
    assert "row 1" in run.stderr and "reasonable_ownpay_amt" in run.stderr and "500.00" in run.stderr


UNDEFINED_PAYER = """payers:
  - id: union_aid
    name: 工会 (test)
    rules:
      - id: union_dibao
        categories: [dibao]
        med_types: [inpatient]
        threshold: [{from: 2023-01-01, value: undefined, ref: "test (not quantified)"}]
        ratio: [{from: 2023-01-01, value: 0.5, ref: "test"}]
        cap: [{from: 2023-01-01, value: null, ref: "test"}]
"""


def test_an_undefined_payer_leaves_oth_pay_empty_with_a_warning(settle, path):
    """CONTRACT.md Policies: an undefined value leaves the amount empty (not 0) on each claim it
    would apply to, with a warning naming the policy, the rule and the count; fund_pay_sumamt and
    psn_part_amt are empty too; a claimant it does not cover gets 0; --strict refuses."""
    persons = [("U1", "390"), ("U2", "390")]
    claims = [claim("u1", "2023-03-01", 10000, 6000, 0, psn="U1"), claim("u2", "2023-03-02", 10000, 6000, 0, psn="U1"),
              claim("u3", "2023-03-01", 10000, 6000, 0, psn="U2")]
    run = settle("harbin", persons, claims, identities=[("U1", "dibao", "", "")], stats=INCOME,
                 overlay=UNDEFINED_PAYER)
    check(run, "u1", maf_pay=3600, oth_pay=None, fund_pay_sumamt=None, psn_part_amt=None)
    check(run, "u3", maf_pay=0, oth_pay=0, psn_part_amt=4000)
    assert_warned(run, ["harbin"], ["union_aid.union_dibao"], 2)
    assert "oth_pay left empty" in run.stderr
    strict = settle("harbin", persons, claims, identities=[("U1", "dibao", "", "")], stats=INCOME,
                    overlay=UNDEFINED_PAYER, strict=True)
    assert strict.exit_code != 0 and "union_dibao" in strict.stderr


def test_explain_shows_each_further_payer(tmp_path):
    """CONTRACT.md explain (issue 12): each further payer's base, line, ratio, cap, family total and
    clause. B's b1: family base 4,200 (A's 400 and B's 3,800), line 1,000, ratio 100%, cap 5,000."""
    from typer.testing import CliRunner

    from conftest import write_csv
    from tuodi.cli.main import app

    write_csv(tmp_path / "persons.csv", ["psn_no", "hh_no"], [(p["psn_no"], p["hh_no"]) for p in FAMILY])
    write_csv(tmp_path / "ids.csv", ["psn_no", "category", "begndate", "enddate"], FAMILY_IDS)
    header = list(FAMILY_CLAIMS[0])
    write_csv(tmp_path / "claims.csv", header, [[c[k] for k in header] for c in FAMILY_CLAIMS])
    write_csv(tmp_path / "stats.csv", ["name", "year", "value"], INCOME)
    (tmp_path / "overlay.yaml").write_text(FAMILY_CAP, encoding="utf-8")
    r = CliRunner().invoke(app, ["explain", "--policy", "harbin", "--persons", str(tmp_path / "persons.csv"),
                                 "--identities", str(tmp_path / "ids.csv"), "--claims", str(tmp_path / "claims.csv"),
                                 "--stats", str(tmp_path / "stats.csv"), "--overlay", str(tmp_path / "overlay.yaml"),
                                 "--psn", "B"])
    assert r.exit_code == 0, r.stderr
    text = r.stdout
    assert "结算 a1" not in text and "结算 b1" in text
    assert "暖心无忧专项基金 (test) (999901, 计入 oth_pay) = 3200.00" in text
    assert "本次 3800.00, 家庭年度累计 4200.00; 起付标准 1000.00; 比例 100%; 年度限额 5000.00" in text
    assert "家庭年度应付 3200.00 − 本年家庭已付 0.00 = 3200.00" in text
    assert "test 预警值" in text and "梯次减负合计 oth_pay = 3200.00" in text


def test_an_overlay_gives_a_seed_payer_its_rules_in_the_seeds_order(settle, path):
    """Payers merge on `id` (CONTRACT.md): Harbin declares 三(五)'s charity, mutual aid and commercial
    insurance without rules (they pay nothing, and have no detail row); an overlay that gives
    `charity` rules makes it pay in its declared place, before a payer the overlay adds. E1 dibao:
    r4 = 15000 - 9000 - 5400 = 600; charity 50% -> 300; then second_aid (ratio 1, cap 100) on
    600 - 300 = 300 -> 100: oth_pay 400, psn_part_amt 200."""
    overlay = CHAIN.replace("reasonable_fund", "charity").replace("base: reasonable", "base: in_scope") \
        .replace("categories: general\n        med_types: [inpatient]\n", "categories: [dibao]\n        med_types: [inpatient]\n")
    run = settle("harbin", [("E1", "390")], [claim("e1", "2023-05-01", 15000, 9000, 0, psn="E1")],
                 identities=[("E1", "dibao", "", "")], stats=INCOME, overlay=overlay)
    check(run, "e1", maf_pay=5400, oth_pay=400, fund_pay_sumamt=14800, psn_part_amt=200, category="dibao")


QUZHOU_OVERLAY = Path(__file__).resolve().parents[2] / "examples" / "overlay-quzhou-illustrative.yaml"


def test_quzhou_family_through_the_illustrative_overlay(settle, path):
    """衢政办发〔2023〕1号 三(三) 梯次化解 then 三(四) 暖心无忧 (reasonable base, family unit, ratio 1 above the
    line), with examples/overlay-quzhou-illustrative.yaml's made-up numbers: CI 10,000 / 60%; maf
    70%; 临时救助 (dibao) 5,000 / 50%; 残联 (disabled) 2,000 / 30%; 慈善 (dibao) 10,000 / 30%;
    warm_heart line 8,000, cap 100,000. M (dibao) and S (dibao, disabled) are household Q.
    m1: medfee 60000, fulamt 10000 (6000 reasonable): inscp 50000, hifp 25000, r1 25000,
        hifmi (25000-10000)*0.6 = 9000, maf 16000*0.7 = 11200, r4 4800: 临时救助 4800 < 5000 -> 0,
        慈善 < 10000 -> 0; warm_heart base 4800 + 6000 = 10800, family 10800 -> 2800.
        psn_part_amt 60000 - (25000+9000+11200+2800) = 12000.
    s1: medfee 20000, hifp 12000: r1 8000 < 10000 -> hifmi 0; maf 5600; r4 2400: 残联
        (2400-2000)*0.3 = 120; warm_heart base 2400 - 120 = 2280, family 13080 -> F 5080, due
        5080 - 2800 = 2280. oth_pay 2400, psn_part_amt 0: the family's reasonable burden is
        (10800 - 2800) + 0 = 8000, the line."""
    run = settle("quzhou", [{"psn_no": "M", "hh_no": "Q"}, {"psn_no": "S", "hh_no": "Q"}], [
        claim("m1", "2023-03-01", 60000, 25000, psn="M", fulamt_ownpay_amt=10000, reasonable_ownpay_amt=6000),
        claim("s1", "2023-06-01", 20000, 12000, psn="S"),
    ], identities=[("M", "dibao", "", ""), ("S", "disabled", "", ""), ("S", "dibao", "", "")],
        overlay=QUZHOU_OVERLAY.read_text(encoding="utf-8"))
    check(run, "m1", hifmi_pay=9000, maf_pay=11200, tilt_pay=0, oth_pay=2800, fund_pay_sumamt=48000,
          psn_part_amt=12000, category="dibao")
    check(run, "s1", hifmi_pay=0, maf_pay=5600, oth_pay=2400, fund_pay_sumamt=20000, psn_part_amt=0)
    assert "warning" not in run.stderr
