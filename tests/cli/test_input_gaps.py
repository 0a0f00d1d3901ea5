"""Unusual but valid inputs a probe of every command found refused or misread (issue 21, part 2).

Each runs `tuodi settle` on the path the session chooses (`make test` runs this file on both),
and the overflow case on both paths explicitly, since that is where they differed.

The amounts: a Harbin 低保对象 has no threshold and 90% (哈政办规〔2022〕16号 三(二)1), so a claim
of 15,000 with 9,000 basic insurance and 0 critical-illness insurance gets
maf = (15000 − 9000) × 0.9 = 5400.
"""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tuodi.cli.main import app

PERSONS = "psn_no,insutype\nE1,390\n"
IDENTITIES = "psn_no,category,begndate,enddate\nE1,dibao,,\n"
CLAIMS_HEADER = "setl_id,psn_no,setl_date,med_type,medfee_sumamt,hifp_pay,hifmi_pay\n"


def run(tmp_path, claims: str | None = None, identities: str = IDENTITIES, claims_file=None, path_choice=None):
    (tmp_path / "persons.csv").write_text(PERSONS, encoding="utf-8")
    (tmp_path / "identities.csv").write_text(identities, encoding="utf-8")
    if claims_file is None:
        claims_file = tmp_path / "claims.csv"
        claims_file.write_text(claims, encoding="utf-8")
    before = os.environ.get("TUODI_SETTLE")
    if path_choice:
        os.environ["TUODI_SETTLE"] = path_choice
    try:
        r = CliRunner().invoke(app, ["settle", "--policy", "harbin", "--persons", str(tmp_path / "persons.csv"),
                                     "--identities", str(tmp_path / "identities.csv"),
                                     "--claims", str(claims_file), "--out", str(tmp_path / "out.csv")])
    finally:
        if path_choice:
            if before is None:
                os.environ.pop("TUODI_SETTLE", None)
            else:
                os.environ["TUODI_SETTLE"] = before
    return r


def out_rows(tmp_path) -> list[list[str]]:
    return [line.split(",") for line in (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[1:]]


def test_slash_dates_are_read_as_dates(tmp_path):
    """CONTRACT.md, Files: dates are YYYY-MM-DD, also YYYY/M/D. The identity from 2023/3/1
    holds on the 2023/5/1 claim (maf 5400) and not on the 2023/2/1 one (0)."""
    r = run(tmp_path, CLAIMS_HEADER + "a,E1,2023/5/1,inpatient,15000,9000,0\nb,E1,2023/2/1,inpatient,15000,9000,0\n",
            identities="psn_no,category,begndate,enddate\nE1,dibao,2023/3/1,2023/12/31\n")
    assert r.exit_code == 0, r.stderr
    rows = out_rows(tmp_path)
    assert [(x[0], x[2], x[8]) for x in rows] == [("a", "2023-05-01", "5400.00"), ("b", "2023-02-01", "0.00")]


def test_a_slash_date_that_does_not_exist_is_refused(tmp_path):
    r = run(tmp_path, CLAIMS_HEADER + "a,E1,2023/2/30,inpatient,15000,9000,0\n")
    assert r.exit_code == 2 and "row 1, column setl_date" in r.stderr and "not a date" in r.stderr


def test_parquet_timestamps_holding_dates_are_dates(tmp_path):
    """A Parquet export whose dates are timestamps at midnight (as many databases write them)."""
    table = pa.table({"setl_id": ["a"], "psn_no": ["E1"],
                      "setl_date": pa.array([dt.datetime(2023, 5, 1)], type=pa.timestamp("us")),
                      "med_type": ["inpatient"], "medfee_sumamt": [Decimal("15000.00")],
                      "hifp_pay": [Decimal("9000.00")], "hifmi_pay": [Decimal("0.00")]})
    pq.write_table(table, tmp_path / "claims.parquet")
    r = run(tmp_path, claims_file=tmp_path / "claims.parquet")
    assert r.exit_code == 0, r.stderr
    assert out_rows(tmp_path)[0][2] == "2023-05-01" and out_rows(tmp_path)[0][8] == "5400.00"


def test_parquet_timestamps_with_a_time_are_refused(tmp_path):
    table = pa.table({"setl_id": ["a"], "psn_no": ["E1"],
                      "setl_date": pa.array([dt.datetime(2023, 5, 1, 14, 30)], type=pa.timestamp("us")),
                      "med_type": ["inpatient"], "medfee_sumamt": ["15000"], "hifp_pay": ["9000"]})
    pq.write_table(table, tmp_path / "claims.parquet")
    r = run(tmp_path, claims_file=tmp_path / "claims.parquet")
    assert r.exit_code == 2 and "row 1, column setl_date" in r.stderr, r.stderr


@pytest.mark.parametrize("ending", ["\n", "\n\n\n", "\r\n", ",,,,,,\n", "   \n"])
def test_blank_lines_are_skipped(tmp_path, ending):
    """A file that ends in an empty line (or a spreadsheet's row of empty cells) is not a claim."""
    r = run(tmp_path, CLAIMS_HEADER + "a,E1,2023-05-01,inpatient,15000,9000,0\n" + ending)
    assert r.exit_code == 0, r.stderr
    assert [x[0] for x in out_rows(tmp_path)] == ["a"]


def test_a_blank_line_between_claims_is_skipped(tmp_path):
    r = run(tmp_path, CLAIMS_HEADER + "a,E1,2023-05-01,inpatient,15000,9000,0\n\nb,E1,2023-06-01,outpatient,100,50,0\n")
    assert r.exit_code == 0, r.stderr
    assert [x[0] for x in out_rows(tmp_path)] == ["a", "b"]


def test_a_column_named_twice_is_refused(tmp_path):
    """Reading the first of two `hifp_pay` columns would be a guess: refused, as Parquet does."""
    r = run(tmp_path, "setl_id,psn_no,setl_date,med_type,medfee_sumamt,hifp_pay,hifp_pay\n"
                      "a,E1,2023-05-01,inpatient,15000,9000,8000\n")
    assert r.exit_code == 2, r.stderr
    assert "column hifp_pay" in r.stderr and "named twice" in r.stderr
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("path_choice", ["engine", "columnar"])
@pytest.mark.parametrize("amount", ["10000000000000", "1000000000.01"])
def test_amounts_beyond_any_claim_are_refused_on_both_paths(tmp_path, path_choice, amount):
    """10¹³ yuan overflowed silently on the columnar path (a wrong amount, exit 0): any amount
    above 1,000,000,000 yuan is refused with the file, row and column, on both paths."""
    r = run(tmp_path, CLAIMS_HEADER + f"a,E1,2023-05-01,inpatient,{amount},9000,0\n", path_choice=path_choice)
    assert r.exit_code == 2, r.stderr
    assert "claims.csv, row 1, column medfee_sumamt" in r.stderr and "1,000,000,000 yuan" in r.stderr


@pytest.mark.parametrize("path_choice", ["engine", "columnar"])
def test_a_wide_parquet_decimal_beyond_any_claim_is_refused(tmp_path, path_choice):
    """decimal(38, 2) holds values beyond 64 bits; the columnar reader must not read them as 0."""
    table = pa.table({"setl_id": ["a"], "psn_no": ["E1"], "setl_date": ["2023-05-01"], "med_type": ["inpatient"],
                      "medfee_sumamt": pa.array([Decimal("123456789012345678901.00")], type=pa.decimal128(38, 2)),
                      "hifp_pay": pa.array([Decimal("9000.00")], type=pa.decimal128(38, 2))})
    pq.write_table(table, tmp_path / "claims.parquet")
    r = run(tmp_path, claims_file=tmp_path / "claims.parquet", path_choice=path_choice)
    assert r.exit_code == 2, r.stderr
    assert "row 1, column medfee_sumamt" in r.stderr


def test_the_largest_amount_accepted_settles(tmp_path):
    """1,000,000,000 yuan itself is accepted: (1e9 − 9000) × 0.9 = 899,991,900, capped at the
    yearly 100,000 (三(二)1: 年度每人最高救助限额10万元)."""
    r = run(tmp_path, CLAIMS_HEADER + "a,E1,2023-05-01,inpatient,1000000000,9000,0\n")
    assert r.exit_code == 0, r.stderr
    row = out_rows(tmp_path)[0]
    assert (row[4], row[5], row[8]) == ("1000000000.00", "1000000000.00", "100000.00")


@pytest.mark.parametrize("category", ["hardship_worker", "困难职工", "disabled", "残疾人", "持证残疾人"])
def test_the_contracts_new_categories_are_accepted(tmp_path, category):
    """CONTRACT.md's identity table lists 困难职工 and 残疾人; Harbin's notice pays neither, so the
    identity is ignored with a warning, like any category a policy does not recognise."""
    r = run(tmp_path, CLAIMS_HEADER + "a,E1,2023-05-01,inpatient,15000,9000,0\n",
            identities=f"psn_no,category,begndate,enddate\nE1,{category},,\n")
    assert r.exit_code == 0, r.stderr
    assert "not recognised there" in r.stderr
    assert out_rows(tmp_path)[0][3] == "" and out_rows(tmp_path)[0][8] == "0.00"
