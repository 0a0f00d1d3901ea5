"""Reading a settlements file (the output of `tuodi settle`, CONTRACT.md settlements file) back,
with the same refusals as the input files: file, row and column, and the same parsers. Text cells
Tuodi quoted against formula injection (`tuodi.io.safe`) are read as they were before."""
from __future__ import annotations

from pathlib import Path

from tuodi.engine.model import Person, Settlement
from tuodi.io.safe import restore
from tuodi.io.tables import InputError, _cell, parse_amount_fen, parse_date, read_table
from tuodi.io.write import SETTLEMENT_COLUMNS
from tuodi.policy.schema import CATEGORY_NAMES


def parse_signed_amount_fen(v: str) -> int:
    """An amount that may be negative, else as `parse_amount_fen`: `psn_part_amt` of the claim
    that crosses Harbin's tilted-assistance line can be a refund (哈政办规〔2022〕16号 三(二)2;
    README, How the seeds are read)."""
    if v.startswith("-"):
        return -parse_amount_fen(v[1:])
    return parse_amount_fen(v)


def parse_category_slug(v: str) -> str:
    """The settlements file writes the identity's slug (not a Chinese name)."""
    if v not in CATEGORY_NAMES:
        raise ValueError("unknown category slug")
    return v


def read_settlements(path: str | Path, persons: dict[str, Person]) -> list[Settlement]:
    """Read and check a settlements file: unique `setl_id`, known persons and category slugs,
    and amounts that add up (`fund_pay_sumamt`, `psn_part_amt`, empty when a part is)."""
    t = read_table(path)
    # oth_pay (the further payers, issue 12) may be absent from a file written before it: 0
    t.require(*(c for c in SETTLEMENT_COLUMNS if c != "oth_pay"))
    seen: set[str] = set()
    out = []
    for i, row in t.rows():
        def cell(column, parse, required=False):
            return _cell(t, i, column, row.get(column), parse, required=required)

        setl_id = cell("setl_id", restore, True)
        if setl_id in seen:
            raise InputError(t.path, f"duplicate setl_id {setl_id!r}", i, "setl_id")
        seen.add(setl_id)
        psn_no = cell("psn_no", restore, True)
        if psn_no not in persons:
            raise InputError(t.path, f"unknown person {psn_no!r} (not in the persons file)", i, "psn_no")
        s = Settlement(
            setl_id=setl_id, psn_no=psn_no, setl_date=cell("setl_date", parse_date, True),
            category=cell("category", parse_category_slug),
            medfee_sumamt=cell("medfee_sumamt", parse_amount_fen, True),
            inscp_scp_amt=cell("inscp_scp_amt", parse_amount_fen, True),
            hifp_pay=cell("hifp_pay", parse_amount_fen, True),
            hifmi_pay=cell("hifmi_pay", parse_amount_fen), maf_pay=cell("maf_pay", parse_amount_fen),
            tilt_pay=cell("tilt_pay", parse_amount_fen),
            oth_pay=cell("oth_pay", parse_amount_fen) if "oth_pay" in t.columns else 0)
        fund = cell("fund_pay_sumamt", parse_amount_fen)
        part = cell("psn_part_amt", parse_signed_amount_fen)
        if s.inscp_scp_amt > s.medfee_sumamt:
            raise InputError(t.path, "inconsistent amounts: inscp_scp_amt exceeds medfee_sumamt", i, "inscp_scp_amt")
        if fund != s.fund_pay_sumamt:
            raise InputError(t.path, "inconsistent amounts: fund_pay_sumamt must be hifp_pay + hifmi_pay + maf_pay "
                             "+ tilt_pay + oth_pay (empty when one of them is)", i, "fund_pay_sumamt")
        if part != s.psn_part_amt:
            raise InputError(t.path, "inconsistent amounts: psn_part_amt must be medfee_sumamt − fund_pay_sumamt",
                             i, "psn_part_amt")
        out.append(s)
    return out
