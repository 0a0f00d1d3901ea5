"""Reading a settlements file (the output of `tuodi settle`) back, with the same refusals as the
input files: file, row and column. (io has no reader for it; the report is its only user so far.)"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

from tuodi.engine.model import Person, Settlement
from tuodi.engine.money import to_fen
from tuodi.io import InputError, read_table
from tuodi.io.tables import parse_amount_fen, parse_date
from tuodi.io.write import SETTLEMENT_COLUMNS
from tuodi.policy.schema import CATEGORY_NAMES

OPTIONAL_AMOUNTS = ("hifmi_pay", "maf_pay", "tilt_pay")


def _signed_fen(v: str) -> int:
    """psn_part_amt may be negative (a tilted-assistance refund, CONTRACT.md via README)."""
    d = Decimal(v)
    if not d.is_finite():
        raise ValueError("not an amount in yuan")
    try:
        return to_fen(d)
    except ValueError:
        raise ValueError("amounts have at most two decimals (yuan and fen)") from None


def read_settlements(path: str | Path, persons: dict[str, Person]) -> list[Settlement]:
    t = read_table(path)
    t.require(*SETTLEMENT_COLUMNS)
    seen: set[str] = set()
    out = []
    for i, row in t.rows():
        def cell(column, parse, required=False):
            raw = row.get(column)
            v = raw.strip() if raw is not None else None
            if not v:
                if required:
                    raise InputError(t.path, "empty, a value is required", i, column)
                return None
            try:
                return parse(v)
            except (ValueError, InvalidOperation) as e:
                raise InputError(t.path, f"{v!r}: {e.args[0] if e.args else 'invalid'}", i, column) from None

        setl_id = cell("setl_id", str, True)
        if setl_id in seen:
            raise InputError(t.path, f"duplicate setl_id {setl_id!r}", i, "setl_id")
        seen.add(setl_id)
        psn_no = cell("psn_no", str, True)
        if psn_no not in persons:
            raise InputError(t.path, f"unknown person {psn_no!r} (not in the persons file)", i, "psn_no")
        category = cell("category", str)
        if category is not None and category not in CATEGORY_NAMES:
            raise InputError(t.path, f"{category!r}: unknown category slug", i, "category")
        s = Settlement(
            setl_id=setl_id, psn_no=psn_no, setl_date=cell("setl_date", parse_date, True), category=category,
            medfee_sumamt=cell("medfee_sumamt", parse_amount_fen, True),
            inscp_scp_amt=cell("inscp_scp_amt", parse_amount_fen, True),
            hifp_pay=cell("hifp_pay", parse_amount_fen, True),
            hifmi_pay=cell("hifmi_pay", parse_amount_fen), maf_pay=cell("maf_pay", parse_amount_fen),
            tilt_pay=cell("tilt_pay", parse_amount_fen))
        fund = cell("fund_pay_sumamt", parse_amount_fen)
        part = cell("psn_part_amt", _signed_fen)
        if s.inscp_scp_amt > s.medfee_sumamt:
            raise InputError(t.path, "inconsistent amounts: inscp_scp_amt exceeds medfee_sumamt", i, "inscp_scp_amt")
        if fund != s.fund_pay_sumamt:
            raise InputError(t.path, "inconsistent amounts: fund_pay_sumamt must be hifp_pay + hifmi_pay + maf_pay "
                             "+ tilt_pay (empty when one of them is)", i, "fund_pay_sumamt")
        if part != s.psn_part_amt:
            raise InputError(t.path, "inconsistent amounts: psn_part_amt must be medfee_sumamt − fund_pay_sumamt",
                             i, "psn_part_amt")
        out.append(s)
    return out
