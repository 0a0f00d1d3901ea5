"""`tuodi settle` through the columnar path gives the engine path's files byte for byte, its
warnings, and its refusals (CONTRACT.md: file, row and column named, nothing written)."""
from __future__ import annotations

import csv
import os

import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tuodi.batch.synth import Shape, synth, write_frames
from tuodi.cli.main import app

from .conftest import EXAMPLES, policy


def run(path_choice, d, policy_name, fmt, out_name, stats=True):
    before = os.environ.get("TUODI_SETTLE")
    os.environ["TUODI_SETTLE"] = path_choice
    try:
        args = ["settle", "--policy", policy_name, "--persons", str(d / f"persons.{fmt}"),
                "--identities", str(d / f"identities.{fmt}"), "--claims", str(d / f"claims.{fmt}"),
                "--out", str(d / out_name)]
        if stats:
            args += ["--stats", str(EXAMPLES / "harbin" / "stats.csv")]
        return CliRunner().invoke(app, args)
    finally:
        if before is None:
            del os.environ["TUODI_SETTLE"]
        else:
            os.environ["TUODI_SETTLE"] = before


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("name,year,seed", [("harbin", 2023, 1), ("qinghai", 2022, 2), ("jiamusi", 2021, 3)])
def test_columnar_files_equal_engine_files(tmp_path, fmt, name, year, seed):
    pol = policy(name)
    frames = synth(pol, 400, year, seed, Shape(identity_scale=6.0, cost_scale=4.0, hifmi_given=0.05, years=2))
    write_frames(tmp_path, dict(zip(("persons", "identities", "claims"), frames)), fmt)
    a = run("engine", tmp_path, name, fmt, f"e.{fmt}")
    b = run("columnar", tmp_path, name, fmt, f"c.{fmt}")
    assert a.exit_code == 0 and b.exit_code == 0, (a.stderr, b.stderr)
    assert a.stderr.replace(f"e.{fmt}", "") == b.stderr.replace(f"c.{fmt}", "")
    if fmt == "csv":
        assert (tmp_path / "e.csv").read_bytes() == (tmp_path / "c.csv").read_bytes()
    else:
        ta, tb = pq.read_table(tmp_path / "e.parquet"), pq.read_table(tmp_path / "c.parquet")
        assert ta.schema == tb.schema and ta.equals(tb)


BAD = [  # (file, column, row index, value)
    ("claims", "medfee_sumamt", 7, "-3"), ("claims", "medfee_sumamt", 3, "1.234"),
    ("claims", "setl_date", 5, "2023-02-30"), ("claims", "setl_date", 2, "2031-01-01"),
    ("claims", "med_type", 9, "dental"), ("claims", "psn_no", 4, "NOBODY"),
    ("claims", "setl_id", 6, "DUP"), ("claims", "hifp_pay", 8, "999999999"),
    ("claims", "inscp_scp_amt", 3, "0.01"), ("claims", "referred", 2, "maybe"),
    ("claims", "hifmi_pay", 5, "999999999"), ("claims", "psn_no", 1, ""),
    ("persons", "certno", 3, "230102199001011234"), ("persons", "insutype", 2, "999"),
    ("persons", "psn_no", 4, "P0000001"), ("persons", "brdy", 5, "1990/13/01"),
    ("identities", "category", 0, "martian"), ("identities", "enddate", 0, "1900-01-01"),
    ("identities", "psn_no", 0, "NOBODY"),
]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("file,column,row,value", BAD)
def test_columnar_refuses_as_the_scalar_readers(tmp_path, fmt, file, column, row, value):
    pol = policy("harbin")
    frames = dict(zip(("persons", "identities", "claims"), synth(pol, 30, 2023, 5, Shape(identity_scale=20.0))))
    write_frames(tmp_path, frames, "csv")
    path = tmp_path / f"{file}.csv"
    rows = list(csv.reader(open(path, encoding="utf-8")))
    col = rows[0].index(column)
    rows[row + 1][col] = value
    if value == "DUP":
        rows[row + 1][col] = rows[1][col]
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    if fmt == "parquet":
        for name in frames:
            pl.read_csv(tmp_path / f"{name}.csv", infer_schema=False).write_parquet(tmp_path / f"{name}.parquet")
    a = run("engine", tmp_path, "harbin", fmt, f"e.{fmt}")
    b = run("columnar", tmp_path, "harbin", fmt, f"c.{fmt}")
    assert a.exit_code == 2, a.stderr
    assert b.exit_code == a.exit_code and b.stderr == a.stderr
    assert not (tmp_path / f"c.{fmt}").exists()
