"""Fuzzing the readers (issue 11, Prove: "only clear refusals, never a traceback or a wrong amount
accepted"). Arbitrary bytes as a CSV or Parquet file, and arbitrary cell text in files of the right
shape, given to the scalar readers (`tuodi.io.tables`, `tuodi.io.settlements`) and the columnar
ones (`tuodi.batch.files`): each either refuses with an `InputError` naming the file (and the row
and column when a cell is at fault), or reads — and then reads what an independent parse of the
contract's formats says (CONTRACT.md: amounts are yuan with at most two decimals, dates
YYYY-MM-DD), and the columnar reader reads what the scalar one reads.

(There is no XLSX reader yet in `tuodi.io`; when one lands, it belongs here too.)"""
from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuodi.batch import files
from tuodi.batch.columnar import from_day_number
from tuodi.io.settlements import read_settlements
from tuodi.io.tables import (CLAIM_REQUIRED, InputError, read_claims, read_frame, read_identities,
                             read_persons, read_stats)
from tuodi.policy import load_policy

#: a few seconds per test in CI; TUODI_FUZZ_EXAMPLES=5000 fuzzes longer by hand
FAST = settings(max_examples=int(os.environ.get("TUODI_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
HARBIN = load_policy("harbin")
CLAIM_COLUMNS = [*CLAIM_REQUIRED, "hifmi_pay", "fulamt_ownpay_amt", "referred"]
#: issue 18 (fixed): an all-blank coded column crashed the columnar reader; kept as a switch
#: for narrowing a failure down by hand
SKIP_ALL_BLANK_COLUMNS = False

# cells: what a hand or a broken export may put there, and the valid values near them
_near_amounts = st.sampled_from(["0", "1", "1234.5", "1234.50", "0.01", "100", " 42 ", "-1", "1.234", "1e3",
                                 "１２", "12,000", "0x10", "NaN", "inf", "1_000", "٣", "+5", ".5", "5.",
                                 "99999999999999999999", "00012.10"])
_near_dates = st.sampled_from(["2023-05-01", "2023-02-29", "2024-02-29", "2023/5/1", "2023-5-1", "20230501",
                               " 2023-06-30 ", "2023-13-01", "0000-01-01", "9999-12-31", "2023-05-01T00:00"])
_words = st.sampled_from(["", " ", "inpatient", "21", "住院", "14", "dibao", "低保对象", "true", "是", "0",
                          "390", "310", "P1", "P2", "\ufeff", "\x00", "\u3000", "'=1+2"])
_cells = st.one_of(st.text(max_size=12), _near_amounts, _near_dates, _words)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    # written by hand, not by csv.writer: quotes, separators and line breaks inside cells are
    # part of what is fuzzed (the cells reach the reader as any editor could leave them)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    return path


def _expect_refusal(e: BaseException, path: Path) -> None:
    assert isinstance(e, InputError), f"{type(e).__name__}: {e} on the file {path.read_bytes()!r}"
    assert e.file == str(path)
    assert e.message and "\n" not in str(e), str(e)


def _amount(text: str | None) -> int | None:
    """The contract's amount, parsed independently: yuan, at most two decimals, not negative."""
    v = (text or "").strip()
    if not v:
        return None
    assert re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", v), v
    return int(Decimal(v) * 100)


def _date(text: str | None) -> dt.date | None:
    v = (text or "").strip()
    if not v:
        return None
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v), v
    return dt.date.fromisoformat(v)


def _blank_column(path: Path) -> bool:
    """A column other than psn_no present with every cell blank (issue 18, above)."""
    try:
        frame = read_frame(path)
    except InputError:
        return False
    return frame.height > 0 and any(frame[c].null_count() == frame.height for c in frame.columns if c != "psn_no")


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


# --- arbitrary bytes -----------------------------------------------------------------------------

@FAST
@given(data=st.one_of(st.binary(max_size=300),
                      st.builds(lambda head, body: head + body,
                                st.sampled_from([b"psn_no,insutype\n", b"psn_no,category\n", b"name,year,value\n",
                                                 b"\xef\xbb\xbfpsn_no\n", b"PAR1", b"\xff\xfe"]),
                                st.binary(max_size=200))),
       suffix=st.sampled_from([".csv", ".parquet"]))
def test_arbitrary_bytes_are_read_or_refused_naming_the_file(folder, data, suffix):
    """A file of any bytes: each reader reads it or refuses it with an InputError naming it."""
    path = folder / f"bytes{suffix}"
    path.write_bytes(data)
    persons = {}
    for read in (read_persons, lambda p: read_identities(p, persons), lambda p: read_claims(p, persons, HARBIN),
                 read_stats, lambda p: read_settlements(p, persons), files.read_persons):
        if read is files.read_persons and SKIP_ALL_BLANK_COLUMNS and _blank_column(path):
            continue
        try:
            result = read(path)
        except files.Unusual:
            continue
        except Exception as e:
            _expect_refusal(e, path)
            continue
        if read is read_persons:
            persons = result


# --- arbitrary cells in a well-formed claims file ------------------------------------------------

_valid_amounts = st.builds(lambda y, f: f"{y}.{f:02d}" if f else str(y), st.integers(0, 10**7), st.integers(0, 99))
_claim_cells = {  # mostly valid, so that the cells after the first bad one are reached too
    "setl_id": st.one_of(st.text(min_size=1, max_size=6), _cells),
    "psn_no": st.one_of(st.just("P1"), st.just("P2"), st.just(" P1 "), _cells),
    "setl_date": st.one_of(st.just("2023-05-01"), _near_dates, _cells),
    "med_type": st.one_of(st.sampled_from(["inpatient", "21", "14", "门诊慢特病", "13"]), _cells),
    "medfee_sumamt": st.one_of(_valid_amounts, _near_amounts, _cells),
    "hifp_pay": st.one_of(_valid_amounts, _near_amounts, _cells),
    "hifmi_pay": st.one_of(st.just(""), _valid_amounts, _near_amounts, _cells),
    "fulamt_ownpay_amt": st.one_of(st.just(""), st.just("0"), _near_amounts, _cells),
    "referred": st.one_of(st.just(""), st.sampled_from(["true", "否", "1"]), _cells),
}
_claim_rows = st.lists(st.fixed_dictionaries(_claim_cells), min_size=1, max_size=4)


def _check_claims(path: Path, rows: list[dict], persons) -> list | None:
    """The scalar reader's claims, checked against the independent parse; None if refused."""
    try:
        claims = read_claims(path, persons, HARBIN)
    except Exception as e:
        _expect_refusal(e, path)
        assert e.row is not None and 1 <= e.row <= len(rows) and e.column in CLAIM_COLUMNS, str(e)
        return None
    assert len(claims) == len(rows)
    for c, raw in zip(claims, rows):
        assert c.setl_id == raw["setl_id"].strip() and c.psn_no == raw["psn_no"].strip()
        assert c.setl_date == _date(raw["setl_date"])
        assert c.medfee_sumamt == _amount(raw["medfee_sumamt"])
        assert c.hifp_pay == _amount(raw["hifp_pay"])
        assert c.hifmi_pay == _amount(raw["hifmi_pay"])
        assert c.inscp_scp_amt == c.medfee_sumamt - (_amount(raw["fulamt_ownpay_amt"]) or 0)
    return claims




def _check_columnar(path: Path, claims: list | None, persons: dict, rows: list[dict]) -> None:
    """The columnar reader refuses what the scalar one refuses (or hands it back as Unusual),
    and reads the same claims otherwise."""
    import polars as pl

    if SKIP_ALL_BLANK_COLUMNS and _blank_column(path):
        return

    psn = pl.Series("psn_no", list(persons), dtype=pl.Utf8)
    try:
        got = files.read_claims(path, psn, HARBIN)
    except files.Unusual:
        return
    except Exception as e:
        _expect_refusal(e, path)
        assert claims is None, f"columnar refused what the scalar reader read: {e}"
        return
    assert claims is not None, "columnar read what the scalar reader refused"
    assert got.setl_id.to_list() == [c.setl_id for c in claims]
    assert [from_day_number(d) for d in got.date] == [c.setl_date for c in claims]
    assert list(got.medfee) == [c.medfee_sumamt for c in claims]
    assert list(got.hifp) == [c.hifp_pay for c in claims]
    assert list(got.inscp) == [c.inscp_scp_amt for c in claims]
    assert [int(v) if given else None for v, given in zip(got.hifmi, got.hifmi_given)] == \
        [c.hifmi_pay for c in claims]


PERSONS = {"P1": None, "P2": None}


@FAST
@given(rows=_claim_rows)
def test_claims_csv_cells_are_read_right_or_refused_with_row_and_column(folder, rows):
    """Any cell text in a claims CSV: refused naming file, row and column, or read as the
    contract's formats say — by both readers alike."""
    cells = [[r[c] for c in CLAIM_COLUMNS] for r in rows]
    if any(re.search(r'[",\r\n]', v) for row in cells for v in row):
        cells = [['"' + v.replace('"', '""') + '"' for v in row] for row in cells]
    path = _write_csv(folder / "claims.csv", CLAIM_COLUMNS, cells)
    persons = read_persons(_write_csv(folder / "persons.csv", ["psn_no"], [["P1"], ["P2"]]))
    claims = _check_claims(path, rows, persons)
    _check_columnar(path, claims, persons, rows)


@FAST
@given(rows=_claim_rows)
def test_claims_parquet_text_cells_are_read_right_or_refused(folder, rows):
    """The same for a Parquet file of text columns (a null where the cell is blank)."""
    path = folder / "claims.parquet"
    pq.write_table(pa.table({c: pa.array([r[c] if r[c] != "" else None for r in rows], pa.string())
                             for c in CLAIM_COLUMNS}), path)
    persons = read_persons(_write_csv(folder / "persons.csv", ["psn_no"], [["P1"], ["P2"]]))
    claims = _check_claims(path, rows, persons)
    _check_columnar(path, claims, persons, rows)


@FAST
@given(rows=st.lists(st.fixed_dictionaries({"psn_no": _cells, "insutype": _cells, "brdy": _cells,
                                            "late_stage_major_disease": _cells, "certno": _cells}),
                     min_size=1, max_size=4),
       parquet=st.booleans())
def test_persons_cells_are_read_or_refused_by_both_readers_alike(folder, rows, parquet):
    """Persons: refused with row and column, or read; the columnar reader agrees."""
    columns = list(rows[0])
    if parquet:
        path = folder / "persons.parquet"
        pq.write_table(pa.table({c: pa.array([r[c] or None for r in rows], pa.string()) for c in columns}), path)
    else:   # quoted where a cell needs it; a blank cell is left blank (read as null)
        cells = [['"' + r[c].replace('"', '""') + '"' if re.search(r'[",\r\n]', r[c]) else r[c]
                  for c in columns] for r in rows]
        path = _write_csv(folder / "persons.csv", columns, cells)
    try:
        persons = read_persons(path)
    except Exception as e:
        _expect_refusal(e, path)
        assert e.row is not None and e.column in columns, str(e)
        persons = None
    else:
        for p, raw in zip(persons.values(), rows):
            assert p.psn_no == raw["psn_no"].strip()
            assert p.brdy == _date(raw["brdy"])
    if SKIP_ALL_BLANK_COLUMNS and _blank_column(path):
        return
    try:
        psn, insutype = files.read_persons(path)
    except files.Unusual:
        return
    except Exception as e:
        _expect_refusal(e, path)
        assert persons is None, f"columnar refused what the scalar reader read: {e}"
        return
    assert persons is not None, "columnar read what the scalar reader refused"
    assert psn.to_list() == list(persons)
    assert [("390", "310")[i] for i in np.asarray(insutype)] == [p.insutype for p in persons.values()]


@FAST
@given(rows=st.lists(st.fixed_dictionaries({"name": st.one_of(_cells, st.sampled_from(
    ["per_capita_disposable_income", "average_wage"])), "year": st.one_of(_cells, st.sampled_from(
        ["2022", "２０２２", " 2022"])), "value": _cells}), min_size=1, max_size=3))
def test_stats_cells_are_read_right_or_refused(folder, rows):
    """Statistics: a known name, a year YYYY and an amount, or a refusal with row and column."""
    cells = [['"' + r[c].replace('"', '""') + '"' for c in ("name", "year", "value")] for r in rows]
    path = _write_csv(folder / "stats.csv", ["name", "year", "value"], cells)
    try:
        stats = read_stats(path)
    except Exception as e:
        _expect_refusal(e, path)
        assert e.row is not None and e.column in ("name", "year", "value"), str(e)
        return
    for r in rows:
        key = (r["name"].strip(), int(r["year"].strip()))
        assert re.fullmatch(r"[0-9]{4}", r["year"].strip())
        assert stats[key] == _amount(r["value"])
