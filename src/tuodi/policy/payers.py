"""The payer chain (支付顺序): who pays on a claim after basic insurance, in order, declared once.

After basic insurance (基本医保, settled upstream: `hifp_pay`) a claim passes through:

    critical illness (大病保险)     hifmi_pay   on r1 = inscp_scp_amt - hifp_pay
    medical assistance (医疗救助)   maf_pay     on r2 = r1 - hifmi_pay
    tilted assistance (倾斜救助)    tilt_pay    on r3 = r2 - maf_pay
    further payers, in the order the policy declares them (梯次减负: 民政, 工会, 慈善, …; special
    funds such as 医保暖心无忧专项基金): their sum is oth_pay, each on what the earlier ones left

This module turns a policy file into that ordered list. Everything that pays, explains, writes or
reports a payer iterates it; the base chain — each payer's base is what the earlier payers left —
is `Payer.base_of` (CONTRACT.md, Settlement rules, Bases; Further payers, Bases).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tuodi.policy.schema import FurtherPayer, PolicyFile, Rule, Tier

#: the three tiers: policy key, contract id, label, national fund code, settlements column, base label
_TIERS = (
    ("critical_illness", "hifmi", "大病保险", None, "hifmi_pay", "大病保险基数 r1"),
    ("assistance", "maf", "医疗救助", "610100", "maf_pay", "救助基数 r2"),   # 610100 医疗救助基金
    ("tilt", "tilt", "倾斜救助", None, "tilt_pay", "倾斜救助基数 r3"),
)
TIERS: tuple[str, ...] = tuple(t[0] for t in _TIERS)
#: the settlements-file column of every further payer: their sum (the national interface's 其他支出)
FURTHER_COLUMN = "oth_pay"
#: the settlements-file columns the chain pays, in order
PAID_COLUMNS: tuple[str, ...] = (*(t[4] for t in _TIERS), FURTHER_COLUMN)
RESERVED_IDS = frozenset(TIERS) | {t[1] for t in _TIERS}
#: each tier's settlements column and label (for callers that hold a tier's key, not a policy)
TIER_COLUMN: dict[str, str] = {t[0]: t[4] for t in _TIERS}
TIER_LABEL: dict[str, str] = {t[0]: t[2] for t in _TIERS}
TIER_BASE_LABEL: dict[str, str] = {t[0]: t[5] for t in _TIERS}


@dataclass(frozen=True, slots=True)
class Payer:
    """One payer of the chain."""

    key: str                 # the policy's key: critical_illness, assistance, tilt, or the payer's id
    id: str                  # the contract's id: hifmi, maf, tilt, or the further payer's id
    name: str                # Chinese name
    fund_code: str | None    # national fund code (基金支付类型) where one exists
    column: str              # settlements-file column it pays into
    base: Literal["in_scope", "reasonable"]
    base_label: str
    unit: Literal["person", "family"]
    further: bool            # after tilted assistance (its payments add up to oth_pay)
    given: bool              # a claim may give this payer's amount (`hifmi_pay`): it is final
    rules: tuple[Rule, ...]
    declaration: Tier | FurtherPayer | None

    @property
    def fund_pay_type(self) -> str:
        """The detail file's `fund_pay_type`: the fund code, else the payer's id."""
        return self.fund_code or self.id

    def base_of(self, left: int | None, reasonable: int) -> int | None:
        """This payer's base on a claim: `left` is the claim's in-scope self-pay after the earlier
        payers (r1 for the first tier; r4 - P after tilted assistance), `reasonable` its
        `reasonable_ownpay_amt`. None when an earlier amount is unknown."""
        if left is None or not self.further:
            return left     # a tier's base is exactly what the earlier tiers left (r1, r2, r3)
        if self.base == "reasonable":
            return left + reasonable
        return max(0, left)


def payer_chain(model: PolicyFile) -> tuple[Payer, ...]:
    """The policy's payers in the order they pay: the three tiers, then its further payers."""
    chain = []
    for key, pid, label, code, column, base_label in _TIERS:
        tier: Tier | None = getattr(model, key)
        chain.append(Payer(key, pid, label, (tier.fund_code if tier else None) or code, column,
                           "in_scope", base_label, "person", False, key == "critical_illness",
                           tuple(tier.rules) if tier else (), tier))
    seen = set()
    for p in model.payers:
        if p.id in RESERVED_IDS:
            raise ValueError(f"key payers.{p.id}: the id of a tier; a further payer needs its own id")
        if p.id in seen:
            raise ValueError(f"key payers.{p.id}: declared twice")
        seen.add(p.id)
        label = "梯次减负基数 (政策范围内自付余额)" if p.base == "in_scope" else "梯次减负基数 (含合理的政策外自付)"
        chain.append(Payer(p.id, p.id, p.name, p.fund_code, FURTHER_COLUMN, p.base, label, p.unit, True,
                           False, tuple(p.rules), p))
    return tuple(chain)


__all__ = ["FURTHER_COLUMN", "PAID_COLUMNS", "Payer", "TIERS", "TIER_BASE_LABEL", "TIER_COLUMN", "TIER_LABEL", "payer_chain"]
