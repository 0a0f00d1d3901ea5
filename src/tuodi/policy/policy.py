"""A loaded jurisdiction policy (政策): look-ups of dated values, categories and citations."""
from __future__ import annotations

import datetime as dt
from typing import Sequence, TypeVar

from tuodi.policy.payers import TIERS, Payer, payer_chain
from tuodi.policy.schema import CATEGORY_NAMES, FurtherPayer, Lookback, PolicyFile, Rule, Tier

T = TypeVar("T")

#: every Chinese name and slug of the contract's categories -> slug
CATEGORY_BY_NAME: dict[str, str] = {
    **{slug: slug for slug in CATEGORY_NAMES},
    **{name: slug for slug, names in CATEGORY_NAMES.items() for name in names},
}


def value_at(values: Sequence[T], day: dt.date) -> T | None:
    """The dated value in force on `day` (the latest whose `from` is on or before it)."""
    found = None
    for v in values:
        if v.start <= day:  # type: ignore[attr-defined]
            found = v
        else:
            break
    return found


class Policy:
    """A jurisdiction's validated parameters, merged with its includes and any overlay."""

    def __init__(self, model: PolicyFile):
        self.model = model
        if model.in_force is None:
            raise ValueError("key in_force: a jurisdiction needs the dates it is in force")
        if model.categories is None:
            raise ValueError("key categories: a jurisdiction lists the categories it recognises")
        recognised = set(model.categories.recognised)
        #: the payer chain (tuodi.policy.payers): the three tiers, then the further payers
        self.payers: tuple[Payer, ...] = payer_chain(model)
        #: the further payers that have rules: one declared without (a body a seed names without
        #: saying whom it pays or how much) applies to no claim, has no detail row and pays nothing
        self.further_payers: tuple[Payer, ...] = tuple(p for p in self.payers if p.further and p.rules)
        self.declared_further_payers: tuple[Payer, ...] = tuple(p for p in self.payers if p.further)
        self._payer = {p.key: p for p in self.payers}
        for payer in self.payers:
            where = payer.key if not payer.further else f"payers.{payer.key}"
            for rule in payer.rules:
                if rule.categories != "general":
                    extra = set(rule.categories) - recognised
                    if extra:
                        raise ValueError(
                            f"key {where}.rules.{rule.id}.categories: {sorted(extra)} "
                            "are not in categories.recognised"
                        )

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def name(self) -> str:
        return self.model.name

    def in_force(self, day: dt.date) -> bool:
        f = self.model.in_force
        return f.start <= day and (f.end is None or day <= f.end)

    def in_force_text(self) -> str:
        f = self.model.in_force
        return f"{f.start.isoformat()} – {f.end.isoformat() if f.end else '(open)'}"

    def recognises(self, category: str) -> bool:
        return category in self.model.categories.recognised

    def follows(self, category: str) -> str:
        """The category whose rules an identity follows (Qinghai: 事实无人抚养儿童 -> 孤儿)."""
        return self.model.categories.follows.get(category, category)

    def payer(self, key: str) -> Payer:
        """A payer of the chain by its key (critical_illness, assistance, tilt, a further payer's id)."""
        return self._payer[key]

    def tier(self, name: str) -> Tier | FurtherPayer | None:
        """A payer's declaration in the policy file (a tier, or a further payer)."""
        return self._payer[name].declaration

    def rules(self, tier: str) -> list[Rule]:
        return list(self._payer[tier].rules)

    def lookback(self, category: str) -> Lookback | None:
        for lb in self.model.lookback:
            if lb.category == category:
                return lb
        return None

    def cite(self, ref: str) -> str:
        """A reference as a reader wants it: document number, section, seed file."""
        key, _, rest = ref.partition(" ")
        doc = self.model.documents.get(key)
        if doc is None:
            return ref
        seed = f" [{doc.seed}]" if doc.seed else ""
        return f"{doc.number} {rest}{seed}".strip()

    def short_cite(self, ref: str) -> str:
        """Document number and section, without the quoted words."""
        key, _, rest = ref.partition(" ")
        doc = self.model.documents.get(key)
        section = rest.split(" (")[0]
        if doc is None:
            return ref
        number = doc.number.split(" ")[0]
        return f"{number} {section}".strip()
