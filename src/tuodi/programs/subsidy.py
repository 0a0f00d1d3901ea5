"""Premium subsidy (资助参保): the share of a resident's individual contribution that assistance pays.

For a person and a year, every subsidy rule whose categories the person holds during the year
applies (an age condition is checked on 1 January); the person gets the largest share over them
(就高不就低, 青海 三(二)3 and CONTRACT.md subsidy file). A share the seeds name but do not quantify
is undefined: the largest cannot be known unless a defined share is already the whole premium
(a share cannot exceed 1), so the share and amount are left empty with a note.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from tuodi.engine.model import Identity, Person
from tuodi.engine.money import round_bp, to_bp
from tuodi.policy import Policy, UNDEFINED, value_at
from tuodi.programs.common import ProgramNotes, identities_in_year

#: 资助参保 is of the resident scheme's individual contribution (哈政办规 三(一) 城乡居民基本医保
#: 个人缴费; 青海 三(一) 参加居民医保个人缴费部分): an employee (310) pays no resident premium.
RESIDENT = "390"


@dataclass(frozen=True, slots=True)
class SubsidyShare:
    """One row of the subsidy file: the share (None when undefined) and amount in fen."""

    psn_no: str
    category: str | None
    share: Decimal | None
    amount: int | None
    rule_id: str | None = None
    ref: str | None = None


def age_on(brdy: dt.date, day: dt.date) -> int:
    """Full years of age on `day`."""
    return day.year - brdy.year - ((day.month, day.day) < (brdy.month, brdy.day))


def _share_in_year(rule, year: int):
    """The dated share in force for the year: the latest value starting on or before 31 December,
    if the rule still holds then (`until`, transition periods 过渡期)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if rule.until is not None and rule.until < first:
        return None
    return value_at(rule.share, first) or value_at(rule.share, last)


def subsidies_for_year(policy: Policy, persons: dict[str, Person], identities: Iterable[Identity],
                       year: int, contribution_fen: int | None,
                       notes: ProgramNotes | None = None) -> list[SubsidyShare]:
    """One SubsidyShare per person, in the persons' order."""
    notes = notes if notes is not None else ProgramNotes()
    held = identities_in_year(policy, identities, year)
    jan1 = dt.date(year, 1, 1)
    out = []
    for psn_no, person in persons.items():
        best: tuple[Decimal, str, str, str] | None = None  # share, category, rule id, ref
        undefined: tuple[str, str, str] | None = None        # category, rule id, reason
        if person.insutype == RESIDENT:
            for category in held.get(psn_no, ()):
                for rule in policy.model.subsidy:
                    if category not in rule.categories and policy.follows(category) not in rule.categories:
                        continue
                    dated = _share_in_year(rule, year)
                    if dated is None:
                        continue
                    if rule.under_age is not None:
                        if person.brdy is None:
                            undefined = undefined or (category, rule.id, f"brdy not given; the share is for "
                                                      f"persons under {rule.under_age} on {jan1}")
                            continue
                        if age_on(person.brdy, jan1) >= rule.under_age:
                            continue
                    if dated.value == UNDEFINED:
                        undefined = undefined or (category, rule.id,
                                                  f"share not quantified ({policy.short_cite(dated.ref)})")
                        continue
                    if best is None or dated.value > best[0]:
                        best = (dated.value, category, rule.id, dated.ref)
        if undefined is not None and not (best is not None and best[0] == 1):
            category, rule_id, reason = undefined
            notes.add("subsidy", rule_id, category, reason)
            out.append(SubsidyShare(psn_no, category, None, None, rule_id))
        elif best is None:
            out.append(SubsidyShare(psn_no, None, Decimal(0),
                                    None if contribution_fen is None else 0))
        else:
            share, category, rule_id, ref = best
            amount = None if contribution_fen is None else round_bp(contribution_fen * to_bp(share))
            out.append(SubsidyShare(psn_no, category, share, amount, rule_id, ref))
    return out
