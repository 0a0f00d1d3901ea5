"""Writing result files atomically (`tuodi.io.atomic`: complete or absent, nothing left behind),
with every text cell of a CSV neutralised against formula injection (`tuodi.io.safe`)."""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from tuodi.engine.model import Settlement
from tuodi.policy import Policy
from tuodi.engine.money import yuan
from tuodi.io.atomic import atomic_output
from tuodi.io.safe import neutralise
from tuodi.io.tables import InputError

SETTLEMENT_COLUMNS = ["setl_id", "psn_no", "setl_date", "category", "medfee_sumamt", "inscp_scp_amt",
                      "hifp_pay", "hifmi_pay", "maf_pay", "tilt_pay", "oth_pay", "fund_pay_sumamt", "psn_part_amt"]
AMOUNT_COLUMNS = SETTLEMENT_COLUMNS[4:]
#: the detail file (`settle --detail`): one row per claim and payer, after the national `setldetail`
DETAIL_COLUMNS = ["setl_id", "psn_no", "setl_date", "fund_pay_type", "fund_pay_type_name", "fund_payamt"]


def settlement_row(s: Settlement) -> dict[str, str]:
    """A settlement as the contract's row of strings (amounts in yuan with two decimals)."""
    return {
        "setl_id": s.setl_id, "psn_no": s.psn_no, "setl_date": s.setl_date.isoformat(),
        "category": s.category or "", "medfee_sumamt": yuan(s.medfee_sumamt),
        "inscp_scp_amt": yuan(s.inscp_scp_amt), "hifp_pay": yuan(s.hifp_pay),
        "hifmi_pay": yuan(s.hifmi_pay), "maf_pay": yuan(s.maf_pay), "tilt_pay": yuan(s.tilt_pay),
        "oth_pay": yuan(s.oth_pay), "fund_pay_sumamt": yuan(s.fund_pay_sumamt), "psn_part_amt": yuan(s.psn_part_amt),
    }


def check_out_path(path: str | Path) -> Path:
    """An `--out` file Tuodi can write: .csv or .parquet, in a folder that exists."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(path, "unknown file type for --out: use .csv or .parquet")
    if not path.parent.exists():
        raise InputError(path, f"the folder {path.parent} does not exist")
    return path


def write_rows(path: str | Path, columns: Sequence[str], rows: Iterable[dict[str, str]],
               amount_columns: Sequence[str] = (), date_columns: Sequence[str] = ()) -> None:
    """Write rows of strings as CSV or Parquet (by extension), atomically.

    In Parquet, amount columns are decimal(18,2) and date columns date32: exact, typed, and read
    back by any Arrow tool; empty strings become nulls.
    """
    path = check_out_path(path)
    suffix = path.suffix.lower()
    with atomic_output(path) as tmp:
        if suffix == ".csv":
            # a text cell a spreadsheet would run as a formula is quoted; the amounts and dates
            # Tuodi formats are numbers (a refund may begin with '-') and go out as they are
            text = [c for c in columns if c not in amount_columns and c not in date_columns]
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=list(columns))
                w.writeheader()
                for row in rows:
                    w.writerow({**row, **{c: neutralise(row[c]) for c in text}})
        else:
            rows = list(rows)
            arrays, fields = [], []
            for c in columns:
                values = [r[c] if r[c] != "" else None for r in rows]
                if c in amount_columns:
                    typ = pa.decimal128(18, 2)
                    values = [None if v is None else Decimal(v) for v in values]
                elif c in date_columns:
                    typ = pa.date32()
                    values = [None if v is None else dt.date.fromisoformat(v) for v in values]
                else:
                    typ = pa.string()
                arrays.append(pa.array(values, type=typ))
                fields.append(pa.field(c, typ))
            pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), tmp)


def write_settlements(path: str | Path, settlements: Iterable[Settlement]) -> None:
    write_rows(path, SETTLEMENT_COLUMNS, (settlement_row(s) for s in settlements),
               amount_columns=AMOUNT_COLUMNS, date_columns=("setl_date",))


def detail_rows(s: Settlement, policy: Policy) -> list[dict[str, str]]:
    """A settlement's detail-file rows: one per payer of the chain, in its order (CONTRACT.md,
    detail file); `fund_pay_type` is the payer's national fund code, else its id."""
    rows = []
    for step in s.steps:
        payer = policy.payer(step.tier)
        rows.append({"setl_id": s.setl_id, "psn_no": s.psn_no, "setl_date": s.setl_date.isoformat(),
                     "fund_pay_type": payer.fund_pay_type, "fund_pay_type_name": payer.name,
                     "fund_payamt": yuan(step.amount)})
    return rows


def write_detail(path: str | Path, settlements: Iterable[Settlement], policy: Policy) -> None:
    write_rows(path, DETAIL_COLUMNS, (row for s in settlements for row in detail_rows(s, policy)),
               amount_columns=("fund_payamt",), date_columns=("setl_date",))
