"""What the programs share: the calendar year, identities held in it, notes of undefined rules."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from tuodi.engine.model import Identity
from tuodi.policy import Policy


def year_span(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def holds_in_year(ident: Identity, year: int) -> bool:
    """An identity counts for a year when it holds on at least one day of it.

    Reading: 资助参保 and grants are yearly, and recipients may enrol at any time of the year
    (青海 开通医疗救助对象…全年参加居民医保缴费绿色通道), so an identity recognised in June counts
    for that year's premium.
    """
    first, last = year_span(year)
    return (ident.begndate is None or ident.begndate <= last) and (
        ident.enddate is None or first <= ident.enddate)


def identities_in_year(policy: Policy, identities: Iterable[Identity], year: int) -> dict[str, list[str]]:
    """psn_no -> the categories the policy recognises that the person holds during `year`,
    in the policy's order of categories (which breaks ties, as in settlement)."""
    order = {c: i for i, c in enumerate(policy.model.categories.recognised)}
    out: dict[str, list[str]] = {}
    for ident in identities:
        if policy.recognises(ident.category) and holds_in_year(ident, year):
            cats = out.setdefault(ident.psn_no, [])
            if ident.category not in cats:
                cats.append(ident.category)
    for cats in out.values():
        cats.sort(key=lambda c: order[c])
    return out


@dataclass
class ProgramNotes:
    """Rules a run could not apply because the seeds leave them unquantified (or a statistic is
    missing): (program, rule id, category or "") -> how many persons, and why."""

    undefined: Counter = field(default_factory=Counter)
    reasons: dict = field(default_factory=dict)

    #: keys whose rule is quantified but whose figure is unknown (an empty amount upstream)
    unknown_figure: set = field(default_factory=set)

    def add(self, program: str, rule_id: str, category: str | None, reason: str,
            unknown_figure: bool = False) -> None:
        key = (program, rule_id, category or "")
        self.undefined[key] += 1
        self.reasons.setdefault(key, reason)
        if unknown_figure:
            self.unknown_figure.add(key)

    def lines(self, policy_id: str, left: str) -> list[str]:
        out = []
        for (program, rule_id, category), n in sorted(self.undefined.items()):
            who = f" for {category}" if category else ""
            state = ("cannot be evaluated" if (program, rule_id, category) in self.unknown_figure
                     else "is undefined")
            out.append(f"policy {policy_id}: rule {program}.{rule_id}{who} {state}: "
                       f"{left} for {n} person(s) ({self.reasons[(program, rule_id, category)]})")
        return out
