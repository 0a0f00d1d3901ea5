"""Reading the contract's input files (persons, identities, claims, statistics), CSV or Parquet.

Every refusal is an `InputError` naming the file, the row and the column, with what was expected:
a clerk can fix the file from the message alone. Rows are numbered from 1 for the first data row
(in a CSV file that is line 2, after the header).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from tuodi.engine.model import Claim, Identity, Person
from tuodi.engine.money import to_fen, yuan
from tuodi.policy import CATEGORY_BY_NAME, Policy


class InputError(ValueError):
    """A bad input file: `file`, `row` (1-based data row or None), `column`, and what is wrong."""

    def __init__(self, file: str | Path, message: str, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column, self.message = str(file), row, column, message
        where = [self.file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {message}")


MED_TYPE_CODES = {
    "inpatient": "inpatient", "住院": "inpatient", "21": "inpatient", "22": "inpatient",
    "23": "inpatient", "24": "inpatient",
    "chronic": "chronic", "门诊慢特病": "chronic", "14": "chronic",
    "outpatient": "outpatient", "普通门诊": "outpatient", "11": "outpatient", "12": "outpatient",
    "13": "outpatient",
}
BOOLEANS = {"true": True, "1": True, "是": True, "yes": True, "false": False, "0": False, "否": False, "no": False}
_CERTNO = re.compile(r"^\d{17}[\dXx]$")
_CERT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CERT_CHECK = "10X98765432"


def certno_ok(certno: str) -> bool:
    """GB 11643 check digit of an 18-character resident identity number."""
    if not _CERTNO.match(certno):
        return False
    total = sum(int(d) * w for d, w in zip(certno[:17], _CERT_WEIGHTS))
    return _CERT_CHECK[total % 11] == certno[17].upper()


@dataclass
class Table:
    """A file read as text columns, with the row numbers used in messages."""

    path: Path
    frame: pl.DataFrame

    @property
    def columns(self) -> list[str]:
        return self.frame.columns

    def require(self, *columns: str) -> None:
        for c in columns:
            if c not in self.frame.columns:
                raise InputError(self.path, f"missing column {c} (columns found: {', '.join(self.frame.columns)})", column=c)

    def rows(self) -> Iterator[tuple[int, dict[str, str | None]]]:
        for i, row in enumerate(self.frame.iter_rows(named=True), start=1):
            yield i, row


def read_frame(path: str | Path) -> pl.DataFrame:
    """Read a CSV (all text; UTF-8, BOM accepted) or Parquet (native types) file.

    In a CSV file, blank lines (and lines of empty cells only, as spreadsheets export them) are
    skipped: row numbers in messages count the rows that hold data. A column named twice is
    refused. A Parquet timestamp column whose values are all midnight holds dates, and is read
    as dates."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(path, "no such file")
    try:
        if suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
        elif suffix in (".parquet", ".pq"):
            frame = pl.read_parquet(path)
        else:
            raise InputError(path, "unknown file type: use .csv or .parquet")
    except InputError:
        raise
    except Exception as e:  # polars raises several kinds on a malformed file
        raise InputError(path, f"cannot read the file: {str(e).splitlines()[0]}") from None
    names = [c.lstrip("\ufeff").strip() for c in frame.columns]
    for name in names:
        m = _DUPLICATED.fullmatch(name)
        twice = m is not None and m.group(1) in names
        if twice or names.count(name) > 1:
            name = m.group(1) if twice else name
            raise InputError(path, f"the column {name} is named twice in the header", column=name)
    frame = frame.rename(dict(zip(frame.columns, names)))
    if suffix == ".csv":
        return _without_blank_rows(frame)
    return _timestamps_as_dates(path, frame)


_DUPLICATED = re.compile(r"(.+)_duplicated_\d+")   # how polars names a header's second `name`


def _without_blank_rows(frame: pl.DataFrame) -> pl.DataFrame:
    if not frame.width or not frame.height:
        return frame
    first, rest = frame.columns[0], frame.columns[1:]
    # the other cells null (bitmaps, cheap on millions of rows); the first one null or spaces
    candidates = pl.all_horizontal([pl.col(c).is_null() for c in rest]) if rest else pl.lit(True)
    blank = frame.select(candidates & (pl.col(first).is_null()
                                       | (pl.col(first).str.strip_chars() == ""))).to_series()
    if not blank.any():
        return frame
    return frame.filter(~blank)


def _timestamps_as_dates(path: Path, frame: pl.DataFrame) -> pl.DataFrame:
    casts = []
    for c, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            s = frame[c]
            if (s.dt.truncate("1d") == s).all():
                casts.append(pl.col(c).cast(pl.Date))
    return frame.with_columns(casts) if casts else frame


def read_table(path: str | Path) -> Table:
    """Read a CSV or Parquet file as text columns."""
    frame = read_frame(path)
    try:
        frame = frame.with_columns(pl.all().cast(pl.Utf8))
    except Exception as e:  # a Parquet column with no text form (nested, binary)
        raise InputError(path, f"cannot read the file: {str(e).splitlines()[0]}") from None
    return Table(Path(path), frame)


def _text(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip()
    return v or None


def _cell(t: Table, row: int, column: str, raw: str | None, parse: Callable, default=None, required=False):
    v = _text(raw)
    if v is None:
        if required:
            raise InputError(t.path, "empty, a value is required", row, column)
        return default
    try:
        return parse(v)
    except (ValueError, InvalidOperation, KeyError) as e:
        raise InputError(t.path, f"{v!r}: {e.args[0] if e.args else 'invalid'}", row, column) from None


_AMOUNT = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


#: The largest amount Tuodi accepts in a cell: a billion yuan, far beyond any real claim, so that
#: a year's sums times a ratio in basis points stay exact in 64-bit integers on the columnar path.
MAX_AMOUNT_FEN = 1_000_000_000 * 100
MAX_AMOUNT_TEXT = "1,000,000,000 yuan"


def parse_amount_fen(v: str) -> int:
    """Yuan as the contract writes them (`1234`, `1234.5`, `1234.50`) to integer fen."""
    m = _AMOUNT.fullmatch(v)
    if m is None:
        raise ValueError("not an amount in yuan (digits, at most two decimals: 1234.50)")
    if m.group(1):
        raise ValueError("negative amount")
    if m.group(3) and len(m.group(3)) > 2:
        raise ValueError("amounts have at most two decimals (yuan and fen)")
    fen = to_fen(Decimal(v))
    if fen > MAX_AMOUNT_FEN:
        raise ValueError(f"amount above {MAX_AMOUNT_TEXT}, more than any claim can be")
    return fen


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SLASH_DATE = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")   # as spreadsheets write dates: 2023/5/1


def parse_date(v: str) -> dt.date:
    """`YYYY-MM-DD`, or `YYYY/M/D` (CONTRACT.md, Files)."""
    try:
        if _ISO_DATE.fullmatch(v):
            return dt.date.fromisoformat(v)
        m = _SLASH_DATE.fullmatch(v)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        pass
    raise ValueError("not a date YYYY-MM-DD (or YYYY/M/D)")


def parse_bool(v: str) -> bool:
    try:
        return BOOLEANS[v.lower()]
    except KeyError:
        raise ValueError("not a boolean (true/false, 1/0, 是/否)") from None


def parse_med_type(v: str) -> str:
    try:
        return MED_TYPE_CODES[v.lower()]
    except KeyError:
        raise ValueError("not a med_type (inpatient 21-24, chronic 14, outpatient 11-13)") from None


def parse_category(v: str) -> str:
    try:
        return CATEGORY_BY_NAME[v]
    except KeyError:
        raise ValueError("unknown category (a slug such as dibao, or its Chinese name: see docs/reference.md, identities file)") from None


def parse_insutype(v: str) -> str:
    if v not in ("390", "310"):
        raise ValueError("insutype is 390 (resident) or 310 (employee)")
    return v


def parse_certno(v: str) -> str:
    if not certno_ok(v):
        raise ValueError("not a valid 18-character identity number (GB 11643 check digit)")
    return v


def read_persons(path: str | Path) -> dict[str, Person]:
    t = read_table(path)
    t.require("psn_no")
    persons: dict[str, Person] = {}
    for i, row in t.rows():
        psn_no = _cell(t, i, "psn_no", row.get("psn_no"), str, required=True)
        if psn_no in persons:
            raise InputError(t.path, f"duplicate psn_no {psn_no!r}", i, "psn_no")
        persons[psn_no] = Person(
            psn_no=psn_no,
            insutype=_cell(t, i, "insutype", row.get("insutype"), parse_insutype, default="390"),
            brdy=_cell(t, i, "brdy", row.get("brdy"), parse_date),
            admdvs=_text(row.get("admdvs")),
            late_stage_major_disease=_cell(t, i, "late_stage_major_disease",
                                           row.get("late_stage_major_disease"), parse_bool, default=False),
            psn_name=_text(row.get("psn_name")),
            tel=_text(row.get("tel")),
            addr=_text(row.get("addr")),
            certno=_cell(t, i, "certno", row.get("certno"), parse_certno),
            hh_no=_text(row.get("hh_no")),
        )
    return persons


def read_identities(path: str | Path, persons: dict[str, Person]) -> list[Identity]:
    t = read_table(path)
    t.require("psn_no", "category")
    out = []
    for i, row in t.rows():
        psn_no = _cell(t, i, "psn_no", row.get("psn_no"), str, required=True)
        if psn_no not in persons:
            raise InputError(t.path, f"unknown person {psn_no!r} (not in the persons file)", i, "psn_no")
        begin = _cell(t, i, "begndate", row.get("begndate"), parse_date)
        end = _cell(t, i, "enddate", row.get("enddate"), parse_date)
        if begin and end and end < begin:
            raise InputError(t.path, f"enddate {end} is before begndate {begin}", i, "enddate")
        out.append(Identity(psn_no, _cell(t, i, "category", row.get("category"), parse_category, required=True),
                            begin, end))
    return out


STAT_NAMES = ("per_capita_disposable_income", "average_wage")


def read_stats(path: str | Path) -> dict[tuple[str, int], int]:
    t = read_table(path)
    t.require("name", "year", "value")
    out: dict[tuple[str, int], int] = {}

    def name(v: str) -> str:
        if v not in STAT_NAMES:
            raise ValueError(f"unknown statistic; known: {', '.join(STAT_NAMES)}")
        return v

    def year(v: str) -> int:
        if not re.fullmatch(r"\d{4}", v):
            raise ValueError("not a year YYYY")
        return int(v)

    for i, row in t.rows():
        key = (_cell(t, i, "name", row.get("name"), name, required=True),
               _cell(t, i, "year", row.get("year"), year, required=True))
        if key in out:
            raise InputError(t.path, f"{key[0]} for {key[1]} given twice", i, "name")
        out[key] = _cell(t, i, "value", row.get("value"), parse_amount_fen, required=True)
    return out


class InconsistentAmounts(ValueError):
    """A claim whose amounts do not add up; `column` is the one to correct."""

    def __init__(self, message: str, column: str):
        super().__init__(f"inconsistent amounts: {message}")
        self.column = column


def check_claim_amounts(medfee: int, ownpay: int, overlmt: int, preself: int, inscp: int | None,
                        hifp: int, hifmi: int | None) -> int:
    """The contract's cross-field rules of a claim (fen); returns `inscp_scp_amt`.

    inscp_scp_amt = medfee_sumamt − fulamt_ownpay_amt − overlmt_selfpay − preselfpay_amt (its
    default and its only allowed value); basic insurance pays within scope; critical-illness
    insurance within what basic insurance left.
    """
    expected = medfee - ownpay - overlmt - preself
    if expected < 0:
        raise InconsistentAmounts("fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt exceed "
                                  "medfee_sumamt", "medfee_sumamt")
    if inscp is not None and inscp != expected:
        raise InconsistentAmounts("inscp_scp_amt must be medfee_sumamt − fulamt_ownpay_amt − "
                                  f"overlmt_selfpay − preselfpay_amt = {yuan(expected)}", "inscp_scp_amt")
    if hifp > expected:
        raise InconsistentAmounts("hifp_pay exceeds inscp_scp_amt", "hifp_pay")
    if hifmi is not None and hifmi > expected - hifp:
        raise InconsistentAmounts("hifmi_pay exceeds inscp_scp_amt − hifp_pay", "hifmi_pay")
    return expected


CLAIM_REQUIRED = ("setl_id", "psn_no", "setl_date", "med_type", "medfee_sumamt", "hifp_pay")


def claim_from_row(t: Table, i: int, row: dict[str, str | None], is_person: Callable[[str], bool],
                   seen: Callable[[str], bool], policy: Policy | None = None) -> Claim:
    """Check and convert one claims-file row (row number `i`); raises `InputError`.

    `is_person(psn_no)` says whether the person is known, `seen(setl_id)` whether an earlier
    row had the same id; `policy` checks that the date is in force.
    """
    def cell(column, parse, default=None, required=False):
        return _cell(t, i, column, row.get(column), parse, default, required)

    setl_id = cell("setl_id", str, required=True)
    if seen(setl_id):
        raise InputError(t.path, f"duplicate setl_id {setl_id!r}", i, "setl_id")
    psn_no = cell("psn_no", str, required=True)
    if not is_person(psn_no):
        raise InputError(t.path, f"unknown person {psn_no!r} (not in the persons file)", i, "psn_no")
    day = cell("setl_date", parse_date, required=True)
    if policy is not None and not policy.in_force(day):
        raise InputError(t.path, f"no policy in force on {day} for {policy.id} "
                         f"(in force {policy.in_force_text()})", i, "setl_date")
    med_type = cell("med_type", parse_med_type, required=True)
    medfee = cell("medfee_sumamt", parse_amount_fen, required=True)
    ownpay = cell("fulamt_ownpay_amt", parse_amount_fen, default=0)
    overlmt = cell("overlmt_selfpay", parse_amount_fen, default=0)
    preself = cell("preselfpay_amt", parse_amount_fen, default=0)
    given_inscp = cell("inscp_scp_amt", parse_amount_fen)
    hifp = cell("hifp_pay", parse_amount_fen, required=True)
    hifmi = cell("hifmi_pay", parse_amount_fen)
    try:
        inscp = check_claim_amounts(medfee, ownpay, overlmt, preself, given_inscp, hifp, hifmi)
    except InconsistentAmounts as e:
        raise InputError(t.path, str(e), i, e.column) from None
    reasonable = cell("reasonable_ownpay_amt", parse_amount_fen, default=0)
    if reasonable > ownpay + overlmt + preself:
        raise InputError(t.path, "inconsistent amounts: reasonable_ownpay_amt exceeds fulamt_ownpay_amt + "
                         f"overlmt_selfpay + preselfpay_amt = {yuan(ownpay + overlmt + preself)} (the costs "
                         "outside policy scope, of which it is the reasonable part)", i, "reasonable_ownpay_amt")
    return Claim(
        setl_id=setl_id, psn_no=psn_no, setl_date=day, med_type=med_type,
        medfee_sumamt=medfee, inscp_scp_amt=inscp, hifp_pay=hifp, hifmi_pay=hifmi,
        referred=cell("referred", parse_bool, default=True),
        in_province=cell("in_province", parse_bool, default=True),
        out_of_area=cell("out_of_area", parse_bool, default=False),
        reasonable_ownpay_amt=reasonable,
        dise_no=_text(row.get("dise_no")), dise_name=_text(row.get("dise_name")),
    )


def read_claims(path: str | Path, persons: dict[str, Person], policy: Policy | None = None) -> list[Claim]:
    """Read and check the claims file; `policy` checks each date is in force."""
    t = read_table(path)
    t.require(*CLAIM_REQUIRED)
    ids: set[str] = set()
    out = []
    for i, row in t.rows():
        claim = claim_from_row(t, i, row, persons.__contains__, ids.__contains__, policy)
        ids.add(claim.setl_id)
        out.append(claim)
    return out
