"""One-off grants (一次性救助): e.g. Changzhi's 5,000 yuan 大病关怀救助 (长民发[2017]142号 三(二)2)
for 低保, 特困 and 建档立卡贫困人口 (从重点对象扩展到建档立卡贫困人口对象) with one of the 24 major
diseases at a late stage, once per person."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import AbstractSet, Iterable

from tuodi.engine.model import Identity, Person
from tuodi.engine.money import to_fen
from tuodi.policy import Policy, UNDEFINED, value_at
from tuodi.programs.common import ProgramNotes, identities_in_year


@dataclass(frozen=True, slots=True)
class GrantDue:
    """One row of the grants file: the grant's id and amount in fen (None when undefined)."""

    psn_no: str
    grant: str
    amount: int | None
    category: str
    ref: str | None


#: the person-level conditions a grant may require, read from the persons file
CONDITIONS = {"late_stage_major_disease": lambda p: p.late_stage_major_disease}


def grants_for_year(policy: Policy, persons: dict[str, Person], identities: Iterable[Identity],
                    year: int, notes: ProgramNotes | None = None,
                    paid: AbstractSet[tuple[str, str]] = frozenset()) -> list[GrantDue]:
    """The grants due in `year`, in the persons' order, each grant at most once per person.

    `paid` holds the (psn_no, grant id) pairs granted by earlier runs (their grants files): a
    grant that is `once_per_person` (长民发[2017]142号 三(二)2 给予每人一次性的5000元) is not due
    again to them, in any later year.
    """
    notes = notes if notes is not None else ProgramNotes()
    held = identities_in_year(policy, identities, year)
    out = []
    for psn_no, person in persons.items():
        for grant in policy.model.grants:
            if grant.once_per_person and (psn_no, grant.id) in paid:
                continue
            category = next((c for c in held.get(psn_no, ())
                             if c in grant.categories or policy.follows(c) in grant.categories), None)
            if category is None:
                continue
            if not all(CONDITIONS[cond](person) for cond in grant.requires):
                continue
            dated = value_at(grant.amount, dt.date(year, 12, 31))
            if dated is None:
                continue
            if dated.value == UNDEFINED:
                notes.add("grants", grant.id, category, f"amount not quantified ({policy.short_cite(dated.ref)})")
                out.append(GrantDue(psn_no, grant.id, None, category, dated.ref))
            else:
                out.append(GrantDue(psn_no, grant.id, to_fen(dated.value), category, dated.ref))
    return out
