"""Reading the contract's input files straight into columns, and writing settlements from columns.

The refusals are those of `tuodi.io.tables`, with the same file, row, column and words: every
check is first made on whole columns; the first row any check flags is then checked again by
`tuodi.io.tables`' own cell parsers, in the scalar reader's order, which raises its message.
A value the vectorised parsers do not read (an unusual but valid spelling such as `1e3` or
`+5` for an amount) raises `Unusual`, and the caller settles through the scalar readers and the
engine instead: slower, never different.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from tuodi.batch.kernels import first_inconsistent, hash_positions
from tuodi.batch.columnar import INSUTYPES, MED_TYPES, NO_BEGIN, NO_END, Inputs, Outputs, day_number
from tuodi.engine.model import Person
from tuodi.engine.money import yuan
from tuodi.io.tables import read_frame as io_read_frame
from tuodi.io.tables import (CLAIM_REQUIRED, MAX_AMOUNT_FEN, InputError, Table, _cell,
                             parse_amount_fen, parse_bool, parse_category, parse_certno, parse_date,
                             parse_insutype, parse_med_type)
from tuodi.io.atomic import atomic_output
from tuodi.io.safe import neutralise_column
from tuodi.io.write import SETTLEMENT_COLUMNS, check_out_path
from tuodi.policy import CATEGORY_BY_NAME, Policy
from tuodi.policy.schema import CATEGORIES

# Python's str.strip() whitespace (Rust's White_Space plus the four ASCII separators)
_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
               "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_WHITESPACE_CHARS = list(_WHITESPACE)
_EPOCH = pl.date(1970, 1, 1)


class Unusual(Exception):
    """A value the columnar readers do not read, though the scalar readers may accept it."""


def read_frame(path: str | Path) -> tuple[Path, pl.DataFrame]:
    """`tuodi.io.tables.read_frame` (native Parquet types), with the path."""
    return Path(path), io_read_frame(path)


def _require(path: Path, frame: pl.DataFrame, *columns: str) -> None:
    Table(path, frame).require(*columns)


def _text(frame: pl.DataFrame, column: str) -> pl.Series:
    """The cell as the scalar reader sees it: text, stripped, empty as null."""
    if column not in frame.columns:
        return pl.Series(column, [None] * frame.height, dtype=pl.Utf8)
    s = frame[column]
    if s.dtype != pl.Utf8:
        s = s.cast(pl.Utf8)
    # one substring scan finds whether any cell holds whitespace at all; machine-written files
    # (ids, codes) hold none, and then stripping would only copy every string
    if s.str.contains_any(_WHITESPACE_CHARS).any():
        s = s.str.strip_chars(_WHITESPACE)
    if s.null_count() < len(s) and (s.str.len_bytes() == 0).any():
        s = s.set(s == "", None)
    return s


def _raw(frame: pl.DataFrame, column: str, i: int) -> str | None:
    if column not in frame.columns:
        return None
    v = frame[column][i]
    if v is None or isinstance(v, str):
        return v
    return pl.Series([v], dtype=frame[column].dtype).cast(pl.Utf8)[0]


def _amount(frame: pl.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fen, present, bad): bad where the scalar parser might refuse or read otherwise."""
    s = frame[column] if column in frame.columns else None
    if s is not None and isinstance(s.dtype, pl.Decimal) and (s.dtype.scale or 0) <= 2:
        present = s.is_not_null().to_numpy()
        fen = _unscaled(s)
        if (s.dtype.scale or 0) != 2:
            fen = fen * 10 ** (2 - (s.dtype.scale or 0))
        if s.null_count():
            fen = np.where(present, fen, 0)
        bad = (fen < 0) | (fen > MAX_AMOUNT_FEN)
        if (s.dtype.precision or 38) > 18:   # values beyond 64 bits read as 0 by `_unscaled`
            bad |= (s.abs() > Decimal(MAX_AMOUNT_FEN // 100)).fill_null(False).to_numpy()
        return fen, present, bad
    t = _text(frame, column)
    parts = t.str.extract_groups(r"^(\d{1,15})(?:\.(\d*))?$")
    whole = parts.struct.field("1")
    frac = parts.struct.field("2").fill_null("")
    ok = whole.is_not_null() & frac.str.slice(2).str.replace_all("0", "").eq("")
    cents = frac.str.slice(0, 2).str.pad_end(2, "0")
    fen = (whole.cast(pl.Int64, strict=False) * 100 + cents.cast(pl.Int64, strict=False)).fill_null(0)
    present = t.is_not_null().to_numpy()
    fen = fen.to_numpy()
    return fen, present, present & (~ok.fill_null(False).to_numpy() | (fen > MAX_AMOUNT_FEN))


def _unscaled(s: pl.Series) -> np.ndarray:
    """The integers behind a decimal column: the low 64 bits of each 128-bit value, checked to be
    the whole value (always so up to 18 digits).

    The result is a view, every other word of the column's own buffer, not a copy (10M values:
    80 MB of fresh memory saved); the words of null values are whatever the buffer holds."""
    arr = s.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.decimal128(38, arr.type.scale)) if arr.type.bit_width != 128 else arr
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)[2 * arr.offset:2 * (arr.offset + len(arr))]
    low = words[0::2]
    if (s.dtype.precision or 38) > 18 and (words[1::2] != (low >> 63)).any():
        return (s * 10 ** 0).cast(pl.Int64, strict=False).fill_null(0).to_numpy()  # pragma: no cover
    return low


def _date(frame: pl.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(days since 1970, present, bad)."""
    s = frame[column] if column in frame.columns else None
    if s is not None and s.dtype == pl.Date:
        present = s.is_not_null().to_numpy()
        return s.cast(pl.Int32).fill_null(0).to_numpy(), present, np.zeros(len(s), dtype=bool)
    t = _text(frame, column)
    d = t.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    ok = t.str.contains(r"^\d{4}-\d{2}-\d{2}$") & d.is_not_null()
    if t.str.contains("/", literal=True).any():   # YYYY/M/D, as spreadsheets write dates
        slash = t.str.strptime(pl.Date, "%Y/%m/%d", strict=False)
        slash_ok = t.str.contains(r"^\d{4}/\d{1,2}/\d{1,2}$") & slash.is_not_null()
        d = pl.select(pl.when(slash_ok).then(slash).otherwise(d)).to_series()
        ok = ok | slash_ok
    present = t.is_not_null().to_numpy()
    return d.cast(pl.Int32).fill_null(0).to_numpy(), present, present & ~ok.fill_null(False).to_numpy()


_FEW = 10_000            # distinct texts of a coded column parsed one by one (see `_mapped`)
_ABSENT, _UNPARSED = -2, -1


def _mapped(frame: pl.DataFrame, column: str, parse, values: tuple):
    """(index into `values`, present, bad) for a value parsed by `parse` (booleans, med_types)."""
    s = frame[column] if column in frame.columns else None
    if s is not None and s.dtype == pl.Boolean and values == (False, True):
        present = s.is_not_null().to_numpy()
        return s.fill_null(False).to_numpy(), present, np.zeros(len(s), dtype=bool)  # False 0, True 1
    if s is not None:
        raw = s if s.dtype == pl.Utf8 else s.cast(pl.Utf8)
        distinct = raw.unique().drop_nulls()
        if len(distinct) <= _FEW:
            # each distinct text stripped and parsed once, then one hash lookup per row
            lookup = {}
            for u in distinct.to_list():
                text = u.strip()
                try:
                    lookup[u] = values.index(parse(text)) if text else _ABSENT
                except (ValueError, KeyError):
                    lookup[u] = _UNPARSED
            if lookup:
                code = raw.replace_strict(lookup, return_dtype=pl.Int8).fill_null(_ABSENT).to_numpy()
            else:  # every cell empty: polars gives an empty mapping's input back unmapped
                code = np.full(len(raw), _ABSENT, dtype=np.int8)
            present = code != _ABSENT
            return np.maximum(code, 0), present, code == _UNPARSED
    t = _text(frame, column)
    code, parsed = _codes(t, parse)
    lookup = np.array([values.index(v) for v in parsed] + [0], dtype=np.int64)
    present = t.is_not_null().to_numpy()
    c = code.fill_null(len(parsed)).to_numpy()
    return lookup[c], present, present & code.is_null().to_numpy()


def _later_duplicates(t: pl.Series) -> np.ndarray:
    """Rows whose (non-empty) value appeared in an earlier row. Hashes find the candidates (one
    numpy sort of 64-bit hashes); the strings of those rows alone decide."""
    n = len(t)
    if n == 0:
        return np.zeros(0, dtype=bool)
    h = t.hash().to_numpy()
    s = np.sort(h)
    same = s[1:] == s[:-1]
    out = np.zeros(n, dtype=bool)
    if same.any():
        rows = np.flatnonzero(np.isin(h, s[1:][same]))
        sub = t.gather(rows)
        later = (~sub.is_first_distinct() & sub.is_not_null()).to_numpy()
        out[rows[later]] = True
    return out


def _codes(t: pl.Series, parse) -> tuple[pl.Series, list]:
    """Low-cardinality text (med_type, booleans, insutype): each distinct value parsed once.
    Returns the row's index into the list of parsed values (null where unparsable)."""
    cat = t.cast(pl.Categorical)
    names = pl.DataFrame({"c": cat}).select(pl.col("c").unique().drop_nulls()).with_columns(
        code=pl.col("c").to_physical().cast(pl.Int64), name=pl.col("c").cast(pl.Utf8))
    parsed, lookup = [], np.full(int(names["code"].max() or 0) + 2, -1, dtype=np.int64)
    for code, u in zip(names["code"].to_list(), names["name"].to_list()):
        try:
            v = parse(u)
        except (ValueError, KeyError):
            continue
        if v not in parsed:
            parsed.append(v)
        lookup[code] = parsed.index(v)
    phys = cat.to_physical().cast(pl.Int64).fill_null(len(lookup) - 1).to_numpy()
    c = lookup[phys]
    code = pl.Series(c).set(pl.Series(c < 0), None)
    return code, parsed


def _first(*flags: np.ndarray) -> int | None:
    flags = [f for f in flags if f.any()]  # a good file: one quick scan per check, no union
    if not flags:
        return None
    bad = np.logical_or.reduce(flags) if len(flags) > 1 else flags[0]
    hits = np.flatnonzero(bad)
    return int(hits[0]) if len(hits) else None


# ---------------------------------------------------------------------------------------------
# persons


def read_persons(path: str | Path, frame: pl.DataFrame | None = None, households: bool = False):
    """psn_no (stripped) and insutype codes; refuses as `tuodi.io.tables.read_persons`.
    `frame`: the file already read by `tuodi.io.tables.read_frame`. With `households`, also each
    person's family (`hh_no`, stripped, empty for none: never refused) as a number, -1 for none."""
    path, f = (Path(path), frame) if frame is not None else read_frame(path)
    _require(path, f, "psn_no")
    psn = _text(f, "psn_no")
    flags = [psn.is_null().to_numpy(), _later_duplicates(psn)]
    if "certno" in f.columns:
        flags.append(_bad_certno(_text(f, "certno")))
    ins, ins_present, ins_bad = _mapped(f, "insutype", parse_insutype, INSUTYPES)
    _, _, brdy_bad = _date(f, "brdy")
    _, _, late_bad = _mapped(f, "late_stage_major_disease", parse_bool, (False, True))
    row = _first(*flags, ins_bad, brdy_bad, late_bad) if f.height else None
    if row is not None:
        _person_row(path, f, row)
    insutype = np.where(ins_present, ins, 0).astype(np.int8)
    if not households:
        return psn, insutype
    hh = _text(f, "hh_no")
    family = (hh.rank("dense").cast(pl.Int64) - 1).fill_null(-1).to_numpy() if hh.null_count() < len(hh) \
        else np.full(len(hh), -1, dtype=np.int64)
    return psn, insutype, family


def _bad_certno(t: pl.Series) -> np.ndarray:
    """GB 11643 check digits of the present certno values, on an (n, 18) byte matrix."""
    present = t.is_not_null().to_numpy()
    eighteen = (t.str.len_bytes() == 18).fill_null(False).to_numpy()
    ok = np.zeros(len(t), dtype=bool)
    rows = np.flatnonzero(eighteen)
    if len(rows):
        arr = t.gather(rows).cast(pl.Binary).to_arrow()
        arr = arr.combine_chunks() if hasattr(arr, "combine_chunks") else arr
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if arr.type == pa.large_binary() else np.int32)
        start = offsets[arr.offset]
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[start:start + 18 * len(rows)].reshape(-1, 18)
        digits = data[:, :17].astype(np.int64) - ord("0")
        last = data[:, 17]
        shape_ok = ((digits >= 0) & (digits <= 9)).all(axis=1) & (
            ((last >= ord("0")) & (last <= ord("9"))) | (last == ord("X")) | (last == ord("x")))
        weights = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2))
        expect = np.frombuffer(b"10X98765432", dtype=np.uint8)[(digits * weights).sum(axis=1) % 11]
        upper = np.where(last == ord("x"), ord("X"), last)
        ok[rows] = shape_ok & (expect == upper)
    return present & ~ok


def _person_row(path: Path, f: pl.DataFrame, i: int) -> None:
    """`tuodi.io.tables.read_persons` on row i (0-based) alone: raises its message."""
    t, r = Table(path, f), i + 1
    psn_no = _cell(t, r, "psn_no", _raw(f, "psn_no", i), str, required=True)
    earlier = _text(f.head(i), "psn_no")
    if (earlier == psn_no).any():
        raise InputError(path, f"duplicate psn_no {psn_no!r}", r, "psn_no")
    # in `tuodi.io.tables.read_persons`' order, so a row with two bad cells names the same one
    _cell(t, r, "insutype", _raw(f, "insutype", i), parse_insutype, default="390")
    _cell(t, r, "brdy", _raw(f, "brdy", i), parse_date)
    _cell(t, r, "late_stage_major_disease", _raw(f, "late_stage_major_disease", i), parse_bool, default=False)
    if "certno" in f.columns:
        _cell(t, r, "certno", _raw(f, "certno", i), parse_certno)
    raise Unusual(f"{path} row {r}")


# ---------------------------------------------------------------------------------------------
# identities


def read_identities(path: str | Path, persons: pl.Series,
                    frame: pl.DataFrame | None = None) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    path, f = (Path(path), frame) if frame is not None else read_frame(path)
    _require(path, f, "psn_no", "category")
    psn = _text(f, "psn_no")
    index = _person_index(psn, persons)
    beg, beg_present, beg_bad = _date(f, "begndate")
    end, end_present, end_bad = _date(f, "enddate")
    cat = _text(f, "category")
    slug = cat.replace_strict(CATEGORY_BY_NAME, default=None, return_dtype=pl.Utf8)
    flags = [psn.is_null().to_numpy(), index < 0, beg_bad, end_bad,
             beg_present & end_present & ~beg_bad & ~end_bad & (end < beg),
             cat.is_null().to_numpy(), slug.is_null().to_numpy()]
    row = _first(*flags) if f.height else None
    if row is not None:
        _identity_row(path, f, row, persons)
    return (index, slug.to_list(), np.where(beg_present, beg, NO_BEGIN).astype(np.int32),
            np.where(end_present, end, NO_END).astype(np.int32))


def _person_index(psn: pl.Series, persons: pl.Series) -> np.ndarray:
    """Row of each psn_no in the persons file, -1 when absent (or empty): a join on 64-bit
    hashes, each match then confirmed on the strings."""
    ph = persons.hash().to_numpy()
    index, unique = hash_positions(ph, psn.hash().to_numpy(), max(2 * len(ph), 16).bit_length())
    if not unique:  # two persons with one hash: join on the strings themselves
        lookup = pl.DataFrame({"k": persons, "i": pl.int_range(len(persons), eager=True, dtype=pl.Int64)})
        joined = pl.DataFrame({"k": psn}).join(lookup, on="k", how="left", maintain_order="left")["i"]
        index = joined.fill_null(-1).to_numpy()
    found = index >= 0
    if found.any():
        same = (persons.gather(np.maximum(index, 0)) == psn).fill_null(False).to_numpy()
        index = np.where(found & same, index, -1)
    return index


def _identity_row(path: Path, f: pl.DataFrame, i: int, persons: pl.Series) -> None:
    t, r = Table(path, f), i + 1
    psn_no = _cell(t, r, "psn_no", _raw(f, "psn_no", i), str, required=True)
    if not (persons == psn_no).any():
        raise InputError(path, f"unknown person {psn_no!r} (not in the persons file)", r, "psn_no")
    begin = _cell(t, r, "begndate", _raw(f, "begndate", i), parse_date)
    end = _cell(t, r, "enddate", _raw(f, "enddate", i), parse_date)
    if begin and end and end < begin:
        raise InputError(path, f"enddate {end} is before begndate {begin}", r, "enddate")
    _cell(t, r, "category", _raw(f, "category", i), parse_category, required=True)
    raise Unusual(f"{path} row {r}")


# ---------------------------------------------------------------------------------------------
# claims


#: the most a file's claims may add up to (fen) for the kernels' fen x basis points to fit in 64 bits
_EXACT_SUM_FEN = (2 ** 63 - 1) // 10_000 // 2


class Claims:
    """The claims file as columns: the inputs of the settlement and the echoed fields."""

    def __init__(self, setl_id, psn_no, date, med, medfee, inscp, hifp, hifmi, hifmi_given, referred,
                 in_province, out_of_area, person, echo=None, reasonable=None):
        self.setl_id, self.psn_no, self.date, self.med = setl_id, psn_no, date, med
        #: amount columns to write back out as read: decimal(18, 2) series without nulls
        self.echo: dict[str, pl.Series] = echo or {}
        self.medfee, self.inscp, self.hifp = medfee, inscp, hifp
        self.hifmi, self.hifmi_given = hifmi, hifmi_given
        self.referred, self.in_province, self.out_of_area = referred, in_province, out_of_area
        self.person = person
        #: reasonable_ownpay_amt (fen), None when the file gives none (0 on every claim)
        self.reasonable = reasonable


def _claim_numbers(f: pl.DataFrame, policy: Policy):
    """The claims' dates, med_types, amounts and booleans, each with its present and bad masks."""
    day, day_present, day_bad = _date(f, "setl_date")
    start = day_number(policy.model.in_force.start)
    end = day_number(policy.model.in_force.end) if policy.model.in_force.end else NO_END
    med, med_present, med_bad = _mapped(f, "med_type", parse_med_type, MED_TYPES)
    amounts = {c: _amount(f, c) for c in ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay",
                                          "preselfpay_amt", "inscp_scp_amt", "hifp_pay", "hifmi_pay",
                                          "reasonable_ownpay_amt") if c in f.columns or c != "reasonable_ownpay_amt"}
    bools = {c: _mapped(f, c, parse_bool, (False, True)) for c in ("referred", "in_province", "out_of_area")}
    return day, day_present, day_bad, start, end, med, med_present, med_bad, amounts, bools


def read_claims(path: str | Path, persons: pl.Series, policy: Policy, frame: pl.DataFrame | None = None) -> Claims:
    """`frame`: the file already read by `read_frame` (e.g. on a thread while the persons were read)."""
    path, f = (Path(path), frame) if frame is not None else read_frame(path)
    _require(path, f, *CLAIM_REQUIRED)
    n = f.height

    def keys():
        sid = _text(f, "setl_id")
        psn = _text(f, "psn_no")
        return sid, psn, _later_duplicates(sid), _person_index(psn, persons)

    # the ids (hashing, duplicates, the join on the persons) on a thread while the numbers are
    # read here; errors are raised in the order of a sequential reading: the ids' first
    pool = ThreadPoolExecutor(1)
    pending = pool.submit(keys)
    pool.shutdown(wait=False)
    try:
        numbers = _claim_numbers(f, policy)
    except BaseException:
        pending.result()
        raise
    sid, psn, sid_later, index = pending.result()
    del pending
    (day, day_present, day_bad, start, end, med, med_present, med_bad, amounts, bools) = numbers
    medfee, medfee_p, medfee_bad = amounts["medfee_sumamt"]
    own, _, own_bad = amounts["fulamt_ownpay_amt"]
    over, _, over_bad = amounts["overlmt_selfpay"]
    pre, _, pre_bad = amounts["preselfpay_amt"]
    inscp, inscp_p, inscp_bad = amounts["inscp_scp_amt"]
    hifp, hifp_p, hifp_bad = amounts["hifp_pay"]
    hifmi, hifmi_p, hifmi_bad = amounts["hifmi_pay"]
    # reasonable_ownpay_amt (政策外合理费用): a part of the out-of-scope costs, read only when given
    reasonable = None
    reasonable_flags = []
    if "reasonable_ownpay_amt" in amounts:
        reasonable, reasonable_p, reasonable_bad = amounts["reasonable_ownpay_amt"]
        if reasonable_p.any():
            reasonable_flags = [reasonable_bad, reasonable_p & (reasonable > own + over + pre)]
        else:
            reasonable = None
    flags = [
        sid.is_null().to_numpy(),
        sid_later,
        index < 0, ~day_present, day_bad, day_present & ((day < start) | (day > end)),
        ~med_present, med_bad, ~medfee_p, medfee_bad, own_bad, over_bad, pre_bad,
        inscp_bad, ~hifp_p, hifp_bad, hifmi_bad,
        *[b[2] for b in bools.values()], *reasonable_flags,
    ]
    row = _first(*flags) if n else None
    # the relations between amounts (inscp = medfee - own - over - pre, hifp <= inscp, ...), in
    # one compiled pass: the first row breaking one
    related = first_inconsistent(medfee, own, over, pre, inscp, inscp_p, hifp, hifmi, hifmi_p)
    if related >= 0 and (row is None or related < row):
        row = related
    if not inscp_p.all():  # absent: the expected amount
        inscp = np.where(inscp_p, inscp, medfee - own - over - pre)
    if row is not None:
        _claim_row(path, f, row, persons, policy)
    if int(medfee.sum(dtype=np.float64)) > _EXACT_SUM_FEN:
        # a person-year's base times a ratio in basis points must stay within 64 bits: a file
        # whose costs add up to more than that settles in the engine's unbounded integers
        raise Unusual(f"{path}: the costs add up to more than the columnar path computes exactly")
    med_index = med.astype(np.int8, copy=False)

    def boolean(name, default):
        code, present, _ = bools[name]
        return np.where(present, code == 1, default)   # codes: False 0, True 1

    # the echoed amounts that are decimal(18, 2) columns without nulls go out as they came in
    # (their fen are views of these columns' memory: kept, not copied twice)
    echo = {c: f[c] for c in ("medfee_sumamt", "inscp_scp_amt", "hifp_pay")
            if c in f.columns and f[c].dtype == pl.Decimal(18, 2) and not f[c].null_count()}
    return Claims(sid, psn, day.astype(np.int32, copy=False), med_index, medfee, inscp, hifp, hifmi,
                  hifmi_p, boolean("referred", True), boolean("in_province", True),
                  boolean("out_of_area", False), index, echo, reasonable)


def _claim_row(path: Path, f: pl.DataFrame, i: int, persons: pl.Series, policy: Policy) -> None:
    """`tuodi.io.tables.read_claims` on row i (0-based) alone: raises its message."""
    t, r = Table(path, f), i + 1

    def cell(column, parse, default=None, required=False):
        return _cell(t, r, column, _raw(f, column, i), parse, default, required)

    setl_id = cell("setl_id", str, required=True)
    if (_text(f.head(i), "setl_id") == setl_id).any():
        raise InputError(path, f"duplicate setl_id {setl_id!r}", r, "setl_id")
    psn_no = cell("psn_no", str, required=True)
    if not (persons == psn_no).any():
        raise InputError(path, f"unknown person {psn_no!r} (not in the persons file)", r, "psn_no")
    day = cell("setl_date", parse_date, required=True)
    if not policy.in_force(day):
        raise InputError(path, f"no policy in force on {day} for {policy.id} "
                         f"(in force {policy.in_force_text()})", r, "setl_date")
    cell("med_type", parse_med_type, required=True)
    medfee = cell("medfee_sumamt", parse_amount_fen, required=True)
    ownpay = cell("fulamt_ownpay_amt", parse_amount_fen, default=0)
    overlmt = cell("overlmt_selfpay", parse_amount_fen, default=0)
    preself = cell("preselfpay_amt", parse_amount_fen, default=0)
    expected = medfee - ownpay - overlmt - preself
    if expected < 0:
        raise InputError(path, "inconsistent amounts: fulamt_ownpay_amt + overlmt_selfpay + "
                         "preselfpay_amt exceed medfee_sumamt", r, "medfee_sumamt")
    inscp = cell("inscp_scp_amt", parse_amount_fen, default=expected)
    if inscp != expected:
        raise InputError(path, "inconsistent amounts: inscp_scp_amt must be medfee_sumamt − "
                         "fulamt_ownpay_amt − overlmt_selfpay − preselfpay_amt "
                         f"= {expected / 100:.2f}", r, "inscp_scp_amt")
    hifp = cell("hifp_pay", parse_amount_fen, required=True)
    if hifp > inscp:
        raise InputError(path, "inconsistent amounts: hifp_pay exceeds inscp_scp_amt", r, "hifp_pay")
    hifmi = cell("hifmi_pay", parse_amount_fen)
    if hifmi is not None and hifmi > inscp - hifp:
        raise InputError(path, "inconsistent amounts: hifmi_pay exceeds inscp_scp_amt − hifp_pay",
                         r, "hifmi_pay")
    reasonable = cell("reasonable_ownpay_amt", parse_amount_fen, default=0)
    if reasonable > ownpay + overlmt + preself:
        raise InputError(path, "inconsistent amounts: reasonable_ownpay_amt exceeds fulamt_ownpay_amt + "
                         f"overlmt_selfpay + preselfpay_amt = {yuan(ownpay + overlmt + preself)} (the costs "
                         "outside policy scope, of which it is the reasonable part)", r, "reasonable_ownpay_amt")
    cell("referred", parse_bool, default=True)
    cell("in_province", parse_bool, default=True)
    cell("out_of_area", parse_bool, default=False)
    raise Unusual(f"{path} row {r}")


def inputs(persons_insutype: np.ndarray, identities, claims: Claims,
           person_hh: np.ndarray | None = None) -> Inputs:
    ident_psn, ident_cat, ident_begin, ident_end = identities
    return Inputs(
        person_insutype=persons_insutype, ident_psn=ident_psn.astype(np.int64),
        ident_category=ident_cat, ident_begin=ident_begin, ident_end=ident_end,
        claim_psn=claims.person.astype(np.int64, copy=False), claim_date=claims.date, claim_med=claims.med,
        medfee=claims.medfee, inscp=claims.inscp, hifp=claims.hifp, hifmi=claims.hifmi, hifmi_given=claims.hifmi_given,
        referred=claims.referred, in_province=claims.in_province, out_of_area=claims.out_of_area,
        person_hh=person_hh, reasonable=claims.reasonable,
    )


# ---------------------------------------------------------------------------------------------
# writing


def _decimal(values: np.ndarray, null: np.ndarray | None, words: np.ndarray | None = None) -> pa.Array:
    """Integer fen -> decimal128(18, 2) holding the same digits; `words`: the values already
    laid out as 128-bit decimals (n, 2), as the settlement kernel writes them."""
    if words is None:
        words = np.empty(2 * len(values), dtype=np.int64)
        words[0::2] = values
        words[1::2] = values >> 63
    validity, nulls = None, 0
    if null is not None and null.any():
        validity = pa.array(~null).buffers()[1]
        nulls = int(null.sum())
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(values), [validity, pa.py_buffer(words)],
                                 null_count=nulls)


def _yuan_text(values: np.ndarray, null: np.ndarray | None) -> pl.Series:
    s = pl.Series(values)
    a = s.abs()
    text = (a // 100).cast(pl.Utf8) + "." + (a % 100).cast(pl.Utf8).str.zfill(2)
    text = pl.select(pl.when(s < 0).then("-" + text).otherwise(text)).to_series()
    if null is not None and null.any():
        text = text.set(pl.Series(null), None)
    return text


_SETTLEMENT_SCHEMA = pa.schema([pa.field(c, pa.string()) for c in SETTLEMENT_COLUMNS[:2]]
                               + [pa.field(SETTLEMENT_COLUMNS[2], pa.date32()),
                                  pa.field(SETTLEMENT_COLUMNS[3], pa.string())]
                               + [pa.field(c, pa.decimal128(18, 2)) for c in SETTLEMENT_COLUMNS[4:]])


def _arrow_schema(path: str | Path, schema: pa.Schema) -> None:
    """Make the Arrow schema stored in a Parquet file's footer `schema` (as pyarrow stores it).

    polars stores its own Arrow types (large_string for text), so pyarrow would read the file
    back with other types than `tuodi.io.write`'s files. The Parquet types are the same; only
    the `ARROW:schema` key of the footer's key-value metadata changes. In the footer (Thrift
    compact protocol) that value is a length-prefixed string, and nothing outside the footer
    points into it: the footer is rewritten with the new value and its new length."""
    buf = pa.BufferOutputStream()
    pq.write_table(schema.empty_table(), buf)
    value = pq.ParquetFile(pa.BufferReader(buf.getvalue())).metadata.metadata[b"ARROW:schema"]
    with open(path, "r+b") as f:
        f.seek(-8, os.SEEK_END)
        tail = f.read(8)
        if tail[4:] != b"PAR1":
            raise ValueError(f"{path}: not a Parquet file")
        size = int.from_bytes(tail[:4], "little")
        start = f.seek(-8 - size, os.SEEK_END)
        footer = f.read(size)
        key = b"\x18\x0cARROW:schema\x18"   # KeyValue: key (field 1, binary), then value (field 2)
        at = footer.find(key)
        if at < 0 or footer.find(key, at + 1) >= 0:
            raise ValueError(f"{path}: no single ARROW:schema in the footer")
        i = at + len(key)
        length = shift = 0
        while True:  # the old value's length, a ULEB128 varint
            b = footer[i]
            i += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        n, prefix = len(value), bytearray()
        while True:
            prefix.append((n & 0x7F) | (0x80 if n >= 0x80 else 0))
            n >>= 7
            if not n:
                break
        new = footer[:at + len(key)] + bytes(prefix) + value + footer[i + length:]
        f.seek(start)
        f.write(new + len(new).to_bytes(4, "little") + b"PAR1")
        f.truncate()


def write_settlements(path: str | Path, claims: Claims, out: Outputs) -> None:
    """The settlements file (CONTRACT.md) from columns, atomically, as `tuodi.io.write` writes it."""
    path = check_out_path(path)
    suffix = path.suffix.lower()
    fund_null = out.fund_null
    amounts = {
        "medfee_sumamt": (claims.medfee, None), "inscp_scp_amt": (claims.inscp, None),
        "hifp_pay": (claims.hifp, None), "hifmi_pay": (out.hifmi, out.hifmi_null),
        "maf_pay": (out.maf, out.maf_null), "tilt_pay": (out.tilt, out.tilt_null),
        # the further payers' sum; 0 on every claim where the policy declares none (CONTRACT.md)
        "oth_pay": (out.oth, out.oth_null) if out.oth is not None else (None, None),
        "fund_pay_sumamt": (out.fund, fund_null), "psn_part_amt": (out.psn_part, fund_null),
    }
    n = len(claims.medfee)
    settled = {"hifmi_pay": 0, "maf_pay": 1, "tilt_pay": 2, "fund_pay_sumamt": 3, "psn_part_amt": 4,
               "oth_pay": 5}
    codes = np.asarray(out.category)
    if suffix == ".csv":
        category = pl.Series("category", codes).replace_strict(
            dict(enumerate(CATEGORIES)), default=None, return_dtype=pl.Utf8)
    else:  # dictionary-encoded as it is stored; the footer's schema (below) says plain text
        category = pl.from_arrow(pa.DictionaryArray.from_arrays(
            pa.array(codes.astype(np.int32), mask=codes < 0), pa.array(list(CATEGORIES)))).alias("category")
    with atomic_output(path) as tmp:
        if suffix == ".csv":
            frame = pl.DataFrame({   # text cells neutralised against formula injection, as tuodi.io.write does
                "setl_id": neutralise_column(claims.setl_id), "psn_no": neutralise_column(claims.psn_no),
                "setl_date": pl.Series(claims.date, dtype=pl.Int32).cast(pl.Date).cast(pl.Utf8),
                "category": category,
                **{c: _yuan_text(v, m) if v is not None else pl.repeat("0.00", n, eager=True)
                   for c, (v, m) in amounts.items()},
            })
            frame.write_csv(tmp, line_terminator="\r\n", null_value="", quote_style="necessary")
        else:
            decimals = [claims.echo[c].alias(c) if c in claims.echo
                        else pl.repeat(Decimal("0.00"), n, eager=True, dtype=pl.Decimal(18, 2)).alias(c)
                        if v is None else pl.from_arrow(_decimal(np.asarray(v, dtype=np.int64), m,
                                                    out.words[settled[c]] if c in settled else None)).alias(c)
                        for c, (v, m) in amounts.items()]
            frame = pl.DataFrame([
                claims.setl_id.alias("setl_id"), claims.psn_no.alias("psn_no"),
                pl.Series("setl_date", claims.date, dtype=pl.Int32).cast(pl.Date), category, *decimals])
            # polars encodes the row groups on every core (pyarrow's writer uses one); the input
            # strings go out as they came in, with no conversion to Arrow
            frame.write_parquet(tmp, compression="snappy", statistics=False)
            _arrow_schema(tmp, _SETTLEMENT_SCHEMA)


_DETAIL_SCHEMA = pa.schema([pa.field("setl_id", pa.string()), pa.field("psn_no", pa.string()),
                            pa.field("setl_date", pa.date32()), pa.field("fund_pay_type", pa.string()),
                            pa.field("fund_pay_type_name", pa.string()),
                            pa.field("fund_payamt", pa.decimal128(18, 2))])


def write_detail(path: str | Path, claims: Claims, out: Outputs, policy: Policy) -> None:
    """The detail file (CONTRACT.md, the national interface's setldetail) from columns, as
    `tuodi.io.write.write_detail` writes it: one row per claim and payer of the chain, claims in
    file order, payers in the chain's order; `fund_pay_type` the payer's fund code, else its id."""
    path = check_out_path(path)
    payers = (*policy.payers[:3], *policy.further_payers)   # those that pay: a step each in the engine
    n, k = len(claims.medfee), len(payers)
    columns = [(out.hifmi, out.hifmi_null), (out.maf, out.maf_null), (out.tilt, out.tilt_null), *out.further]
    amount = np.empty((n, k), dtype=np.int64)
    null = np.empty((n, k), dtype=bool)
    for j, (v, m) in enumerate(columns):
        amount[:, j], null[:, j] = v, m
    amount, null = amount.ravel(), null.ravel()
    rows = pl.Series(np.repeat(np.arange(n, dtype=np.int64), k))
    codes = np.tile(np.arange(k, dtype=np.int32), n)
    suffix = path.suffix.lower()
    with atomic_output(path) as tmp:
        if suffix == ".csv":
            frame = pl.DataFrame({
                "setl_id": neutralise_column(claims.setl_id).gather(rows),
                "psn_no": neutralise_column(claims.psn_no).gather(rows),
                "setl_date": pl.Series(claims.date, dtype=pl.Int32).cast(pl.Date).cast(pl.Utf8).gather(rows),
                "fund_pay_type": neutralise_column(pl.Series([p.fund_pay_type for p in payers])).gather(codes),
                "fund_pay_type_name": neutralise_column(pl.Series([p.name for p in payers])).gather(codes),
                "fund_payamt": _yuan_text(amount, null),
            })
            frame.write_csv(tmp, line_terminator="\r\n", null_value="", quote_style="necessary")
        else:
            frame = pl.DataFrame([
                claims.setl_id.gather(rows).alias("setl_id"), claims.psn_no.gather(rows).alias("psn_no"),
                pl.Series("setl_date", claims.date, dtype=pl.Int32).cast(pl.Date).gather(rows),
                pl.Series("fund_pay_type", [p.fund_pay_type for p in payers]).gather(codes),
                pl.Series("fund_pay_type_name", [p.name for p in payers]).gather(codes),
                pl.from_arrow(_decimal(amount, null)).alias("fund_payamt")])
            frame.write_parquet(tmp, compression="snappy", statistics=False)
            _arrow_schema(tmp, _DETAIL_SCHEMA)


def person_count(claims: Claims) -> int:
    """Distinct persons with claims: a mask over the persons file (np.unique of 10M claims hashes
    or sorts them all, over a second)."""
    if not len(claims.person):
        return 0
    seen = np.zeros(int(claims.person.max()) + 1, dtype=bool)
    seen[claims.person] = True
    return int(np.count_nonzero(seen))


__all__ = ["Claims", "Unusual", "inputs", "person_count", "read_claims", "read_identities",
           "read_persons", "write_detail", "write_settlements", "Person"]
