"""The CLI's outside shape: policies listing, Parquet in and out, explain, atomic output."""
from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from typer.testing import CliRunner

from tuodi.cli.main import app

EXAMPLES = Path(__file__).parents[2] / "examples"


def _args(j: str) -> list[str]:
    d = EXAMPLES / j
    args = ["--policy", j, "--persons", str(d / "persons.csv"), "--identities", str(d / "identities.csv"),
            "--claims", str(d / "claims.csv")]
    if (d / "stats.csv").exists():
        args += ["--stats", str(d / "stats.csv")]
    return args


def test_policies_lists_every_jurisdiction_with_dates():
    r = CliRunner().invoke(app, ["policies"])
    assert r.exit_code == 0
    for name, dates in [("harbin", "2023-01-01 – 2027-12-31"), ("qinghai", "2022-01-01"),
                        ("jiamusi", "2021-01-01"), ("changzhi", "2017-01-01"), ("quzhou", "2025-12-31")]:
        assert name in r.stdout and dates in r.stdout


def test_parquet_in_and_out_gives_the_csv_amounts(tmp_path):
    """The same claims as Parquet give the same settlement; amounts stored as exact decimals."""
    d = tmp_path
    for f in ("persons", "identities", "claims"):
        pl.read_csv(EXAMPLES / "harbin" / f"{f}.csv", infer_schema=False).write_parquet(d / f"{f}.parquet")
    r1 = CliRunner().invoke(app, ["settle", *_args("harbin"), "--out", str(d / "a.csv")])
    assert r1.exit_code == 0, r1.stderr
    r2 = CliRunner().invoke(app, [
        "settle", "--policy", "harbin", "--persons", str(d / "persons.parquet"),
        "--identities", str(d / "identities.parquet"), "--claims", str(d / "claims.parquet"),
        "--stats", str(EXAMPLES / "harbin" / "stats.csv"), "--out", str(d / "b.parquet")])
    assert r2.exit_code == 0, r2.stderr
    table = pq.read_table(d / "b.parquet")
    assert str(table.schema.field("maf_pay").type) == "decimal128(18, 2)"
    rows = list(csv.DictReader(open(d / "a.csv", encoding="utf-8")))
    got = table.to_pylist()
    assert [r["setl_id"] for r in rows] == [g["setl_id"] for g in got]
    for a, b in zip(rows, got):
        for col in ("hifmi_pay", "maf_pay", "tilt_pay", "psn_part_amt"):
            assert (Decimal(a[col]) if a[col] else None) == b[col], (a["setl_id"], col)


def test_explain_names_base_ratio_and_clause():
    """哈政办规〔2022〕16号 三(二)1: 因病致贫 8,900 / 70%; H004's first claim:
    r1 = 47000 - 29000 = 18000 -> 大病 (18000-12000)*0.65 = 3900; r2 = 14100 -> (14100-8900)*0.7 = 3640."""
    r = CliRunner().invoke(app, ["explain", *_args("harbin"), "--psn", "H004"])
    assert r.exit_code == 0, r.stderr
    text = r.stdout
    assert "maf_pay = 3640.00" in text and "起付标准 8900.00" in text and "比例 70%" in text
    assert "哈政办规〔2022〕16号 三(二)1" in text and "000_23fba78d6363922a.txt" in text
    assert "hifmi_pay = 3900.00" in text and "黑医保发〔2021〕41号 二1" in text
    assert "三(六)3" in text            # the second claim: out of area without referral


def test_explain_unknown_person_is_refused():
    r = CliRunner().invoke(app, ["explain", *_args("harbin"), "--psn", "NOBODY"])
    assert r.exit_code != 0 and "NOBODY" in r.stderr and "Traceback" not in r.stderr


def test_failed_run_leaves_an_existing_output_untouched(tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("previous results\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["settle", "--policy", "harbin", "--persons", str(EXAMPLES / "harbin/persons.csv"),
                                 "--claims", str(EXAMPLES / "qinghai/claims.csv"), "--out", str(out)])
    assert r.exit_code != 0 and "unknown person 'Q001'" in r.stderr
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]     # no temporary file left behind


def test_sample_data_has_no_negative_patient_share(tmp_path):
    """CONTRACT.md, No claim is paid beyond its own cost; issue 21: sample person H007 (因病致贫, income
    40,000 so the 2023 tilt line is 20,000) crosses the line on HB23-0013, whose own r3 is 5,250.
      HB23-0012: r1 100000 -> hifmi 63700 (黑医保发〔2021〕41号 二1); r2 36300 -> maf (36300-8900)*0.7 = 19180
                 (哈政办规〔2022〕16号 三(二)1); r3 17120 <= 20000
      HB23-0013: r1 70000 -> hifmi F(170000) - 63700 = 116200 - 63700 = 52500; r2 17500 -> maf
                 (53800-8900)*0.7 - 19180 = 12250; r3 5250; yearly r3 22370 > 20000 -> 11185 due (三(二)2):
                 HB23-0013 takes 5250, HB23-0012 the other 5935"""
    out = tmp_path / "s.csv"
    r = CliRunner().invoke(app, ["settle", *_args("harbin"), "--out", str(out)])
    assert r.exit_code == 0, r.stderr
    rows = {row["setl_id"]: row for row in csv.DictReader(open(out, encoding="utf-8-sig"))}
    assert all(Decimal(row["psn_part_amt"]) >= 0 for row in rows.values() if row["psn_part_amt"])
    assert (rows["HB23-0012"]["tilt_pay"], rows["HB23-0012"]["psn_part_amt"]) == ("5935.00", "11185.00")
    assert (rows["HB23-0013"]["tilt_pay"], rows["HB23-0013"]["psn_part_amt"]) == ("5250.00", "0.00")
