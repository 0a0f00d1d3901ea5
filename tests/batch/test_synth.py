"""`tuodi synth` (issue 20): a population whose tiers fire, upstream critical-illness amounts that
follow the seeds (stand-ins only where they give no number, and only in synth), a profile that is
what `tuodi settle` gives on the written files, deterministic for a seed."""
from __future__ import annotations

import os
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest
from typer.testing import CliRunner

from tuodi.batch.profile import format_profile, profile
from tuodi.batch.synth import Shape, generate, upstream_policy, write_frames
from tuodi.cli.main import app
from tuodi.engine import settle
from tuodi.io import read_claims, read_identities, read_persons, read_stats
from tuodi.policy import load_policy
from tuodi.programs.warnings import evaluate_warnings

from .conftest import EXAMPLES, INCOME

STATS = EXAMPLES / "harbin" / "stats.csv"


def test_same_seed_same_population_other_seed_other():
    pol = load_policy("harbin")
    a, b = generate(pol, 500, 2023, 4), generate(pol, 500, 2023, 4)
    for x, y in zip(a.frames, b.frames):
        assert x.equals(y)
    assert not a.claims.equals(generate(pol, 500, 2023, 5).claims)


def test_stand_ins_live_in_synth_not_in_the_policy():
    """黑医保发〔2021〕41号 gives no numbers for 职工大额医疗费用补助 or the 特困/低保/返贫致贫 tilt: the
    policy keeps them undefined; the upstream stand-ins are 12,000 / 80% / cap 400,000 and the
    national rule of 国办发〔2021〕42号 (threshold 12,000 x 50% = 6,000, ratios 65/70/75% + 5 points)."""
    pol = load_policy("harbin")
    rules = {r.id: r for r in pol.rules("critical_illness")}
    assert rules["ci_employee"].undefined_med_types and not rules["ci_employee"].med_types
    up = {r.id: r for r in upstream_policy(pol).rules("critical_illness")}
    emp, tilt = up["ci_employee"], up["ci_tilt_poor"]
    assert (emp.threshold[-1].value, emp.ratio[-1].value, emp.cap[-1].value) == (12000, Decimal("0.80"), 400000)
    assert tilt.threshold[-1].value == 6000 and tilt.cap[-1].value is None
    assert [s.ratio for s in tilt.ratio[-1].value] == [Decimal("0.70"), Decimal("0.75"), Decimal("0.80")]
    assert up["ci_resident"] == rules["ci_resident"]           # quantified: the seed's own rule


def test_given_hifmi_is_heilongjiangs_schedule_on_each_residents_yearly_base():
    """黑医保发〔2021〕41号 二1, from 2022: threshold 12,000, 65% to 20,000, 70% to 50,000, 75% above, no
    cap, on the yearly base r1 = Σ(inscp - hifp); each claim gets the yearly amount after it less what
    was given before, so a resident without identity is given exactly F(yearly r1) over the year:
    e.g. r1 = 60,000: (20,000 - 12,000) x 0.65 + (50,000 - 20,000) x 0.70 + (60,000 - 50,000) x 0.75
    = 5,200 + 21,000 + 7,500 = 33,700."""
    pol = load_policy("harbin")
    pop = generate(pol, 3000, 2023, 2, Shape(cost_scale=3.0))
    c = pop.claims
    assert c["hifmi_pay_fen"].null_count() == 0
    holders = set(pop.identities["psn_no"].to_list())
    residents = pop.persons.filter(pl.col("insutype") == "390")["psn_no"].to_list()
    yearly = (c.filter(pl.col("psn_no").is_in([p for p in residents if p not in holders]))
              .group_by("psn_no").agg((pl.col("inscp_scp_amt_fen") - pl.col("hifp_pay_fen")).sum().alias("r1"),
                                      pl.col("hifmi_pay_fen").sum().alias("given")))

    def schedule(r1_fen: int) -> int:
        b = Decimal(r1_fen)
        amount = (max(min(b, 2_000_000) - 1_200_000, 0) * Decimal("0.65")
                  + max(min(b, 5_000_000) - 2_000_000, 0) * Decimal("0.70")
                  + max(b - 5_000_000, 0) * Decimal("0.75"))
        return int(amount.quantize(Decimal(1), ROUND_HALF_UP))

    assert schedule(6_000_000) == 3_370_000
    over = 0
    for r1, given in yearly.select("r1", "given").iter_rows():
        assert given == schedule(r1)
        over += given > 0
    assert over >= 50


def test_extra_columns_are_read_by_both_paths_and_the_profile_is_what_settle_gives(tmp_path):
    """CONTRACT.md: persons `hh_no`, `admdvs`; identities `apply_date`; claims `fixmedins_code`,
    `dise_no`, `dise_name`, `reasonable_ownpay_amt`. `tuodi settle` on the engine path and on the
    columnar path write the same settlements from the files, and the profile's counts (from the
    upstream settlement, not settled again) are those of the settlements file."""
    pol = load_policy("harbin")
    pop = generate(pol, 1500, 2023, 9, Shape(identity_scale=6.0, cost_scale=3.0), stats=read_stats(STATS))
    assert pop.settled is not None
    write_frames(tmp_path, dict(zip(("persons", "identities", "claims"), pop.frames)), "parquet")
    outs = {}
    for choice in ("engine", "columnar"):
        os.environ["TUODI_SETTLE"] = choice
        try:
            r = CliRunner().invoke(app, ["settle", "--policy", "harbin", "--persons", str(tmp_path / "persons.parquet"),
                                         "--identities", str(tmp_path / "identities.parquet"),
                                         "--claims", str(tmp_path / "claims.parquet"), "--stats", str(STATS),
                                         "--out", str(tmp_path / f"{choice}.csv")])
        finally:
            del os.environ["TUODI_SETTLE"]
        assert r.exit_code == 0, r.stderr
        outs[choice] = (tmp_path / f"{choice}.csv").read_bytes()
    assert outs["engine"] == outs["columnar"]
    s = pl.read_csv(tmp_path / "engine.csv", infer_schema_length=0)
    prof = profile(pol, pop, read_stats(STATS), outputs=pop.settled)
    again = profile(pol, pop, read_stats(STATS))                   # settled afresh
    for payer in ("hifmi_pay", "maf_pay", "tilt_pay"):
        col = s[payer]
        assert prof.paid[payer] == again.paid[payer] == int((col.cast(pl.Float64, strict=False) > 0).sum())
        assert prof.empty[payer] == again.empty[payer] == col.null_count()
    assert prof.paid["maf_pay"] > 0 and prof.paid["tilt_pay"] > 0


def test_profile_warning_counts_are_the_warn_programs():
    """哈政办规〔2022〕16号 三(四), 三(二)2: the profile's persons over each line are those
    `tuodi.programs.warnings` lists from the engine's settlements of the same files."""
    pol = load_policy("harbin")
    pop = generate(pol, 1500, 2023, 6, Shape(upstream="mixed", identity_scale=6.0, cost_scale=3.0))
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        paths = write_frames(Path(d), dict(zip(("persons", "identities", "claims"), pop.frames)), "csv")
        psn = read_persons(paths["persons"])
        ids = read_identities(paths["identities"], psn)
        clm = read_claims(paths["claims"], psn, pol)
    alerts = evaluate_warnings(pol, psn, ids, settle(pol, psn, ids, clm, INCOME).settlements, INCOME)
    prof = profile(pol, pop, INCOME, upstream="mixed")
    by_rule = {w.rule: w.persons for w in prof.warnings}
    assert by_rule == {r.id: sum(a.rule == r.id for a in alerts) for r in pol.model.warnings}
    assert all(v > 0 for v in by_rule.values())


def test_a_default_harbin_sample_meets_issue_20s_targets():
    """50,000 persons of the default population (upstream given, 2022 income 40,000: tilt line
    20,000): assistance on >= 5% of identity holders' claims, tilt >= 100 persons per million, the
    100,000 assistance cap reached, no payer empty on more than 5% of claims."""
    pol = load_policy("harbin")
    sts = read_stats(STATS)
    pop = generate(pol, 50_000, 2023, 0, stats=sts)
    prof = profile(pol, pop, sts, outputs=pop.settled)
    assert all(ok for _, ok in prof.targets()), format_profile(prof)
    assert prof.several > 0


def test_cli_prints_the_profile_and_refuses_an_unknown_upstream(tmp_path):
    r = CliRunner().invoke(app, ["synth", "--persons", "300", "--year", "2023", "--policy", "harbin",
                                 "--profile-only", "--upstream", "computed", "--stats", str(STATS)])
    assert r.exit_code == 0, r.stderr
    assert "profile: 300 persons" in r.stderr and "upstream computed" in r.stderr and "maf_pay" in r.stderr
    assert not list(tmp_path.iterdir())
    r = CliRunner().invoke(app, ["synth", "--persons", "3", "--year", "2023", "--policy", "harbin",
                                 "--out", str(tmp_path), "--upstream", "upstairs"])
    assert r.exit_code != 0 and "--upstream" in r.stderr


@pytest.mark.parametrize("name,year", [("jiamusi", 2021), ("qinghai", 2022), ("changzhi", 2017), ("quzhou", 2023)])
def test_other_jurisdictions_get_given_amounts_on_every_claim(name, year):
    pol = load_policy(name)
    pop = generate(pol, 300, year, 1)
    assert pop.claims["hifmi_pay_fen"].null_count() == 0
    assert (pop.claims["hifmi_pay_fen"] > 0).sum() > 0
