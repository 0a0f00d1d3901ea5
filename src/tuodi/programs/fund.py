"""A further payer's accounts for a year (CONTRACT.md "fund file"; 衢政办发〔2023〕1号 三(四): the
暖心无忧 fund is raised from 社会救助基金, 慈善资金, 社会捐助资金 and 财政资金, the fiscal part 原则上不超过40%,
and its office 定期向社会公布专项基金运行情况).

Pure: rows of the detail file (`settle --detail`) and of the sources file in, one account per payer
out. Money in fen; the fiscal share is exact (a Decimal), rounded to four places only for writing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from typing import Iterable

from tuodi.engine.model import Settlement
from tuodi.policy import UNDEFINED, Policy, value_at

SOURCE_TYPES = ("fiscal", "social_assistance", "charity", "donation")
FUND_COLUMNS = ["fund", "year", "raised", "fiscal", "fiscal_share", "paid", "persons", "claims",
                "balance", "fiscal_share_limit", "breach"]


@dataclass(frozen=True, slots=True)
class Source:
    """One sum raised for a fund (筹资): its type, who gave it, how much (fen), when."""

    fund: str
    source_type: str
    source: str | None
    amount: int
    date: dt.date


@dataclass(frozen=True, slots=True)
class Payment:
    """One detail-file row of a further payer: the claim, the person, the amount (fen; None when
    undefined)."""

    fund: str
    setl_id: str
    psn_no: str
    setl_date: dt.date
    amount: int | None


@dataclass(frozen=True, slots=True)
class Account:
    fund: str
    year: int
    raised: int
    fiscal: int
    fiscal_share: Decimal | None      # fiscal / raised; None when nothing was raised
    paid: int
    persons: int
    claims: int
    balance: int
    fiscal_share_limit: Decimal | None
    breach: tuple[str, ...]            # "fiscal_share", "overspent"
    #: raised per source type (SOURCE_TYPES order, those with a source that year): the report's
    #: breakdown of 多渠道筹资 (三(四)); the fund file gives only `raised` and `fiscal`
    raised_by_type: tuple[tuple[str, int], ...] = ()


def fund_ids(policy: Policy) -> dict[str, str]:
    """Each further payer's id and national fund code (as the detail file writes it) -> its id."""
    out = {}
    for p in policy.declared_further_payers:
        out[p.id] = p.id
        if p.fund_code:
            out[p.fund_code] = p.id
    return out


def accounts(policy: Policy, year: int, sources: list[Source], payments: list[Payment]) -> list[Account]:
    """The year's account of every further payer with sources or payments, in the chain's order."""
    out = []
    for payer in policy.declared_further_payers:
        mine = [s for s in sources if s.fund == payer.id and s.date.year == year]
        paid_rows = [p for p in payments if p.fund == payer.id and p.setl_date.year == year]
        if not mine and not paid_rows:
            continue
        raised = sum(s.amount for s in mine)
        fiscal = sum(s.amount for s in mine if s.source_type == "fiscal")
        positive = [p for p in paid_rows if p.amount]
        paid = sum(p.amount for p in positive)  # type: ignore[misc]
        share = Decimal(fiscal) / Decimal(raised) if raised else None
        limit = None
        decl = payer.declaration
        limits = getattr(decl, "fiscal_share_limit", None)
        if limits:
            v = value_at(limits, dt.date(year, 12, 31))
            if v is not None and v.value != UNDEFINED:
                limit = Decimal(v.value)
        breach = []
        if share is not None and limit is not None and share > limit:
            breach.append("fiscal_share")
        if paid > raised:
            breach.append("overspent")
        by_type = tuple((t, sum(s.amount for s in mine if s.source_type == t))
                        for t in SOURCE_TYPES if any(s.source_type == t for s in mine))
        out.append(Account(payer.id, year, raised, fiscal, share, paid, len({p.psn_no for p in positive}),
                           len({p.setl_id for p in positive}), raised - paid, limit, tuple(breach), by_type))
    return out


def payments_of(policy: Policy, settlements: Iterable[Settlement]) -> list[Payment]:
    """The further payers' payments of settled claims: the rows the detail file (`settle --detail`)
    would hold for them, read from each settlement's steps (one per payer that applies)."""
    out = []
    for s in settlements:
        for step in s.steps:
            payer = policy.payer(step.tier)
            if payer.further:
                out.append(Payment(payer.id, s.setl_id, s.psn_no, s.setl_date, step.amount))
    return out


def share_text(v: Decimal | None) -> str:
    return "" if v is None else str(v.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


__all__ = ["Account", "FUND_COLUMNS", "Payment", "SOURCE_TYPES", "Source", "accounts", "fund_ids", "payments_of", "share_text"]
