"""Properties of yearly cumulative settlement (CONTRACT.md 年度累计), checked with hypothesis on
Harbin (哈政办规〔2022〕16号 + 黑医保发〔2021〕41号 二1) and Qinghai:

- the claims of one person-year add up to the same yearly totals whatever their order and however
  one claim is split into two;
- no claim is paid beyond its own cost (CONTRACT.md, Settlement rules): every payment is at most
  its claim's own base for the tier, hifmi <= r1, maf <= r2, tilt <= r3 — also when 倾斜救助 turns
  on for the whole yearly r3, and when a critical-illness amount catches up on given ones — so no
  psn_part_amt is below 0; on both settlement paths;
- fund_pay_sumamt + psn_part_amt = medfee_sumamt on every row (or both are empty).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

INCOME = [("per_capita_disposable_income", 2022, "30000")]
TIERS = ("hifmi_pay", "maf_pay", "tilt_pay")
# No shrinking: each example runs the CLI, and shrinking a failure can take minutes; the failing
# example is printed as drawn.
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

# Each claim in fen: (inscp_scp_amt, fulamt_ownpay_amt, hifp share in %, med_type)
claim_amounts = st.tuples(
    st.integers(min_value=0, max_value=15_000_000),    # up to 150,000 yuan in scope
    st.integers(min_value=0, max_value=500_000),
    st.integers(min_value=0, max_value=90),
    st.sampled_from(["inpatient", "inpatient", "chronic", "outpatient"]),
)
claim_lists = st.lists(claim_amounts, min_size=1, max_size=4)

# Order and split invariance hold when every claim is eligible for every tier. An outpatient claim
# counts for 大病保险 but not for assistance, so which claim a hifmi fen lands on moves the
# assistance base: e.g. Harbin 低保边缘, r1 = 0.12 (outpatient) and 11999.89 (inpatient): with the
# outpatient claim first, hifmi 0.01 falls on the inpatient claim (maf 6799.90); with it last,
# on the outpatient claim (maf 6799.91). Those properties therefore use inpatient/chronic claims.
covered_amounts = st.tuples(
    st.integers(min_value=0, max_value=15_000_000),
    st.integers(min_value=0, max_value=500_000),
    st.integers(min_value=0, max_value=90),
    st.sampled_from(["inpatient", "chronic"]),
)
covered_lists = st.lists(covered_amounts, min_size=1, max_size=4)


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def rows_for(amounts, day0=dt.date(2023, 1, 10), psn="P1", prefix="C"):
    """Claims rows from (inscp, fulamt, hifp fen or share) tuples, one date each, 9 days apart."""
    rows = []
    for i, (inscp, fulamt, hifp, med_type) in enumerate(amounts):
        rows.append({"setl_id": f"{prefix}{i}", "psn_no": psn,
                     "setl_date": (day0 + dt.timedelta(days=9 * i)).isoformat(),
                     "med_type": med_type, "medfee_sumamt": yuan(inscp + fulamt),
                     "fulamt_ownpay_amt": yuan(fulamt), "hifp_pay": yuan(hifp), "hifmi_pay": ""})
    return rows


def with_hifp(amounts):
    """(inscp, fulamt, share %, med) -> (inscp, fulamt, hifp fen, med)."""
    return [(a, f, a * s // 100, m) for a, f, s, m in amounts]


def totals(run):
    assert run.exit_code == 0, run.stderr
    out = {}
    for col in ("medfee_sumamt", "hifp_pay", *TIERS, "fund_pay_sumamt", "psn_part_amt"):
        vals = [run.amount(r["setl_id"], col) for r in run.rows]
        out[col] = None if any(v is None for v in vals) else sum(vals, D(0))
    return out


def assert_within_bases(run):
    """Every payment is at most its own claim's base: hifmi <= r1, maf <= r2, tilt <= r3; and no
    psn_part_amt is below 0 (CONTRACT.md, No claim is paid beyond its own cost)."""
    assert run.exit_code == 0, run.stderr
    for r in run.rows:
        sid = r["setl_id"]
        psn = run.amount(sid, "psn_part_amt")
        assert psn is None or psn >= 0, (sid, psn)
        r1 = run.amount(sid, "inscp_scp_amt") - run.amount(sid, "hifp_pay")
        hifmi, maf, tilt = (run.amount(sid, c) for c in TIERS)
        assert hifmi is None or D(0) <= hifmi <= r1, (sid, hifmi, r1)
        if hifmi is None:
            continue
        r2 = r1 - hifmi
        assert maf is None or D(0) <= maf <= r2, (sid, maf, r2)
        if maf is None:
            continue
        r3 = r2 - maf
        assert tilt is None or D(0) <= tilt <= r3, (sid, tilt, r3)


def assert_fund_adds_up(run):
    """fund = hifp + hifmi + maf + tilt and psn_part = medfee - fund, or both empty."""
    assert run.exit_code == 0, run.stderr
    for r in run.rows:
        sid = r["setl_id"]
        parts = [run.amount(sid, c) for c in ("hifp_pay", *TIERS)]
        fund, psn = run.amount(sid, "fund_pay_sumamt"), run.amount(sid, "psn_part_amt")
        if any(p is None for p in parts):
            assert fund is None and psn is None, sid
        else:
            assert fund == sum(parts, D(0)), sid
            assert fund + psn == run.amount(sid, "medfee_sumamt"), sid


def split(amounts, k, pct):
    """Split claim k into two claims of the same kind whose amounts add up to it."""
    inscp, fulamt, hifp, med = amounts[k]
    a1, f1, h1 = inscp * pct // 100, fulamt * pct // 100, hifp * pct // 100
    # h1 <= a1 and hifp - h1 <= inscp - a1 because hifp <= inscp
    return amounts[:k] + [(a1, f1, h1, med), (inscp - a1, fulamt - f1, hifp - h1, med)] + amounts[k + 1:]


# --- Harbin: a 低保边缘 resident (大病保险 computed, 3500 / 80% / 10万, 倾斜救助 with income given) --

HARBIN = dict(policy="harbin", persons=[("P1", "390")],
              identities=[("P1", "near_dibao", "", "")], stats=INCOME)


@SETTINGS
@given(amounts=covered_lists, data=st.data())
def test_harbin_yearly_totals_do_not_depend_on_claim_order(settle, amounts, data):
    """CONTRACT.md 年度累计: a person's claims add up to the annual amount whatever their order."""
    amounts = with_hifp(amounts)
    shuffled = data.draw(st.permutations(amounts))
    first = settle(claims=rows_for(amounts), **HARBIN)
    second = settle(claims=rows_for(shuffled), **HARBIN)
    assert totals(first) == totals(second)


@SETTINGS
@given(amounts=covered_lists, data=st.data())
def test_harbin_yearly_totals_do_not_depend_on_splitting_a_claim(settle, amounts, data):
    """CONTRACT.md 年度累计: resubmitting the year in any split gives the same total."""
    amounts = with_hifp(amounts)
    k = data.draw(st.integers(min_value=0, max_value=len(amounts) - 1))
    pct = data.draw(st.integers(min_value=0, max_value=100))
    whole = settle(claims=rows_for(amounts), **HARBIN)
    parts = settle(claims=rows_for(split(amounts, k, pct)), **HARBIN)
    assert totals(whole) == totals(parts)


@SETTINGS
@given(amounts=claim_lists)
def test_harbin_no_tier_pays_more_than_its_base(settle, amounts):
    """CONTRACT.md Bases and No claim is paid beyond its own cost: hifmi <= r1, maf <= r2,
    tilt <= r3 on every claim, and psn_part_amt >= 0."""
    run = settle(claims=rows_for(with_hifp(amounts)), **HARBIN)
    assert_within_bases(run)


# Each claim: (inscp_scp_amt, fulamt_ownpay_amt, hifp share in %, med_type, given hifmi_pay as a
# share of r1 in %, or None: computed). Given amounts below the schedule make a later computed
# claim catch up; 因病致贫 (8,900 / 70%) leaves r3 large enough for 倾斜救助 to cross.
given_amounts = st.tuples(
    st.one_of(st.integers(min_value=0, max_value=15_000_000),
              st.integers(min_value=500_000, max_value=4_000_000)),   # 5,000-40,000: crossings
    st.integers(min_value=0, max_value=500_000),
    st.integers(min_value=0, max_value=90),
    st.sampled_from(["inpatient", "inpatient", "chronic", "outpatient"]),
    st.one_of(st.none(), st.just(0), st.integers(min_value=0, max_value=60)),
)


def rows_with_given(amounts):
    rows = rows_for([(a, f, a * s // 100, m) for a, f, s, m, _ in amounts])
    for row, (inscp, _f, share, _m, given) in zip(rows, amounts):
        if given is not None:
            row["hifmi_pay"] = yuan((inscp - inscp * share // 100) * given // 100)
    return rows


@pytest.fixture(params=["engine", "columnar"])
def path(request, monkeypatch):
    monkeypatch.setenv("TUODI_SETTLE", request.param)
    return request.param


@SETTINGS
@given(amounts=st.lists(given_amounts, min_size=2, max_size=5),
       category=st.sampled_from(["illness_poverty", "near_dibao", "orphan"]))
def test_harbin_no_payment_beyond_its_claims_base_on_either_path(settle, path, amounts, category):
    """CONTRACT.md, No claim is paid beyond its own cost: on every claim hifmi <= r1, maf <= r2,
    tilt <= r3 and psn_part_amt >= 0, whatever the tilt crossing (哈政办规〔2022〕16号 三(二)2) and
    however given and computed hifmi_pay mix (黑医保发〔2021〕41号 二1); on both paths."""
    run = settle(policy="harbin", persons=[("P1", "390")], identities=[("P1", category, "", "")],
                 stats=INCOME, claims=rows_with_given(amounts))
    assert_within_bases(run)
    assert_fund_adds_up(run)


@SETTINGS
@given(amounts=claim_lists)
def test_harbin_fund_and_person_part_add_up_to_medfee(settle, amounts):
    """CONTRACT.md settlements file: fund_pay_sumamt + psn_part_amt = medfee_sumamt on every row."""
    run = settle(claims=rows_for(with_hifp(amounts)), **HARBIN)
    assert_fund_adds_up(run)
    # with the income figure given, every Harbin 低保边缘 amount is defined
    assert all(r["fund_pay_sumamt"] != "" for r in run.rows)


# --- Qinghai: a 低保边缘 resident (12000 / 80%; 2500 / 60% / 2万; tilt undefined) and a resident
# --- without identity (everything defined) ---------------------------------------------------

def qinghai_claims(amounts):
    return rows_for(amounts, day0=dt.date(2023, 1, 10), psn="P1", prefix="A") + \
        rows_for(amounts, day0=dt.date(2023, 1, 10), psn="P2", prefix="B")


QINGHAI = dict(policy="qinghai", persons=[("P1", "390"), ("P2", "390")],
               identities=[("P1", "near_dibao", "", "")])


def person_totals(run, prefix):
    assert run.exit_code == 0, run.stderr
    out = {}
    for col in ("hifmi_pay", "maf_pay"):
        vals = [run.amount(r["setl_id"], col) for r in run.rows if r["setl_id"].startswith(prefix)]
        out[col] = None if any(v is None for v in vals) else sum(vals, D(0))
    return out


@SETTINGS
@given(amounts=covered_lists, data=st.data())
def test_qinghai_yearly_totals_do_not_depend_on_order_or_split(settle, amounts, data):
    """CONTRACT.md 年度累计 on 青海 三(二)2 and 四(二): same yearly 大病保险 and 医疗救助 totals whatever
    the order and however one claim is split."""
    amounts = with_hifp(amounts)
    shuffled = data.draw(st.permutations(amounts))
    k = data.draw(st.integers(min_value=0, max_value=len(amounts) - 1))
    pct = data.draw(st.integers(min_value=0, max_value=100))
    base = settle(claims=qinghai_claims(amounts), **QINGHAI)
    for other in (settle(claims=qinghai_claims(shuffled), **QINGHAI),
                  settle(claims=qinghai_claims(split(amounts, k, pct)), **QINGHAI)):
        for prefix in ("A", "B"):
            assert person_totals(base, prefix) == person_totals(other, prefix)


@SETTINGS
@given(amounts=claim_lists)
def test_qinghai_no_tier_pays_more_than_its_base_and_fund_adds_up(settle, amounts):
    """CONTRACT.md Bases and settlements file on 青海: hifmi <= r1, maf <= r2; fund + psn_part =
    medfee where defined (always for the resident without identity)."""
    run = settle(claims=qinghai_claims(with_hifp(amounts)), **QINGHAI)
    assert_within_bases(run)
    assert_fund_adds_up(run)
    assert all(r["fund_pay_sumamt"] != "" for r in run.rows if r["setl_id"].startswith("B"))
