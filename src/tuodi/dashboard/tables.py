"""The protection report's figures (保障情况): per identity category and month, and in total.

For each group of claims: persons, claims, cost (医疗费总额), in-scope cost (政策范围内费用), each
fund's spend (hifp_pay 基本医保, hifmi_pay 大病保险, maf_pay 医疗救助, tilt_pay 倾斜救助), the
funds together and the personal part, and three rates:

- 综合保障率 (protection rate)          = fund_pay_sumamt ÷ medfee_sumamt
- 政策范围内保障率 (in-scope protection) = fund_pay_sumamt ÷ inscp_scp_amt
- 个人负担率 (burden rate)               = psn_part_amt ÷ medfee_sumamt

Money sums and rates are taken over the claims whose every amount is known: a claim with an empty
amount (a rule the seeds do not quantify) cannot be split, so it is counted apart
(`claims_with_empty_amounts`) rather than guessed. `persons_warned` counts the group's persons
flagged by at least one early-warning rule in the year of their claims. Targets are the policy's
own (衢政办发〔2023〕1号 二: 医疗救助对象 综合保障率 ≥ 85%, 个人负担率 ≤ 15% by 2025), or, when the
policy sets none, those of the reference policy the caller passes in (the command line passes
Quzhou's); they are compared on the claims of identity holders. Nothing here reads a file.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

from tuodi.engine.model import Settlement
from tuodi.policy import Policy
from tuodi.policy.schema import CATEGORY_NAMES
from tuodi.programs.warnings import Alert

MONEY = ("medfee_sumamt", "inscp_scp_amt", "hifp_pay", "hifmi_pay", "maf_pay", "tilt_pay",
         "fund_pay_sumamt", "psn_part_amt")
FUND_LABELS = {"hifp_pay": "基本医保 basic", "hifmi_pay": "大病保险 critical illness",
               "maf_pay": "医疗救助 assistance", "tilt_pay": "倾斜救助 tilted", "psn_part_amt": "个人负担 personal"}
ALL = "(all)"
RECIPIENTS = "(all recipients)"
NONE = "(no identity)"


def category_label(category: str) -> str:
    if category in CATEGORY_NAMES:
        return f"{CATEGORY_NAMES[category][0]} {category}"
    return {ALL: "合计 total", RECIPIENTS: "医疗救助对象合计 all recipients", NONE: "无救助身份 no identity"}.get(
        category, category)


def rate(num: int, den: int) -> Decimal | None:
    if den == 0:
        return None
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


@dataclass
class Group:
    """The figures of one group of claims; money in fen over the complete claims."""

    category: str
    month: str
    persons: set = field(default_factory=set)
    warned: set = field(default_factory=set)
    claims: int = 0
    incomplete: int = 0
    money: dict = field(default_factory=lambda: {m: 0 for m in MONEY})

    def add(self, s: Settlement, warned: bool) -> None:
        self.persons.add(s.psn_no)
        if warned:
            self.warned.add(s.psn_no)
        self.claims += 1
        fund, part = s.fund_pay_sumamt, s.psn_part_amt
        if fund is None or part is None:
            self.incomplete += 1
            return
        values = (s.medfee_sumamt, s.inscp_scp_amt, s.hifp_pay, s.hifmi_pay, s.maf_pay, s.tilt_pay, fund, part)
        for m, v in zip(MONEY, values):
            self.money[m] += v

    @property
    def protection_rate(self) -> Decimal | None:
        return rate(self.money["fund_pay_sumamt"], self.money["medfee_sumamt"])

    @property
    def in_scope_protection_rate(self) -> Decimal | None:
        return rate(self.money["fund_pay_sumamt"], self.money["inscp_scp_amt"])

    @property
    def burden_rate(self) -> Decimal | None:
        return rate(self.money["psn_part_amt"], self.money["medfee_sumamt"])


@dataclass
class TargetCheck:
    id: str
    name: str
    op: str
    value: Decimal
    year: int
    ref: str
    actual: Decimal | None
    met: bool | None
    source: str


@dataclass
class Report:
    policy_id: str
    policy_name: str
    by_category: list[Group]
    by_month: list[Group]
    by_category_month: list[Group]
    total: Group
    recipients: Group
    targets: list[TargetCheck]
    warnings: list[dict]
    contribution: list[dict]
    notes: list[str]

    @property
    def months(self) -> list[str]:
        return [g.month for g in self.by_month]


def _targets(policy: Policy, recipients: Group, reference: Policy | None) -> list[TargetCheck]:
    """The policy's own targets, else the reference policy's (labelled as such), else none."""
    source_policy = policy if policy.model.targets else reference
    if source_policy is None:
        return []
    actual_of = {"protection_rate": recipients.protection_rate, "burden_rate": recipients.burden_rate}
    source = "policy" if source_policy is policy else f"reference ({source_policy.name})"
    out = []
    for t in source_policy.model.targets:
        actual = actual_of.get(t.id)
        met = None if actual is None else (actual >= t.value if t.op == ">=" else actual <= t.value)
        out.append(TargetCheck(t.id, t.name, t.op, t.value, t.year, source_policy.cite(t.ref), actual, met,
                               source))
    return out


def _contribution(policy: Policy) -> list[dict]:
    """Who pays what of the resident premium (筹资标准), as the policy gives it (佳木斯 一1, 一2)."""
    c = policy.model.contribution
    if c is None:
        return []
    rows = []
    for v in c.individual or ():
        rows.append({"item": "个人缴费 individual contribution", "from": v.start.isoformat(), "amount": v.value,
                     "ref": policy.cite(v.ref)})
    for v in c.fiscal_subsidy or ():
        rows.append({"item": "财政补助 fiscal subsidy", "from": v.start.isoformat(), "amount": v.value,
                     "ref": policy.cite(v.ref)})
    names = {"balanced_transfer": "享受均衡性转移支付市县", "non_balanced_transfer": "非均衡性转移支付市县"}
    levels = {"central": "中央", "provincial": "省级", "city_county": "市县级"}
    for kind, split in c.fiscal_split.items():
        for level, amount in split.items():
            rows.append({"item": f"财政补助 {names.get(kind, kind)} {levels.get(level, level)}",
                         "from": (c.fiscal_subsidy[0].start.isoformat() if c.fiscal_subsidy else ""),
                         "amount": amount, "ref": policy.cite(c.ref or "")})
    return rows


def build_report(policy: Policy, settlements: Iterable[Settlement], alerts: Iterable[Alert],
                 notes: Iterable[str] = (), reference: Policy | None = None) -> Report:
    """Group the settled claims and compare with the targets: the policy's own, or, when it sets
    none, those of `reference` (a policy already loaded by the caller)."""
    alerts = list(alerts)
    flagged = {(a.psn_no, a.year) for a in alerts}
    groups: dict[tuple[str, str], Group] = {}

    def group(category: str, month: str) -> Group:
        if (category, month) not in groups:
            groups[(category, month)] = Group(category, month)
        return groups[(category, month)]

    for s in settlements:
        category = s.category or NONE
        month = s.setl_date.strftime("%Y-%m")
        warned = (s.psn_no, s.setl_date.year) in flagged
        keys = [(category, month), (category, ALL), (ALL, month), (ALL, ALL)]
        if s.category:
            keys += [(RECIPIENTS, month), (RECIPIENTS, ALL)]
        for key in keys:
            group(*key).add(s, warned)

    order = {c: i for i, c in enumerate(policy.model.categories.recognised)}
    cat_key = lambda c: (c in (NONE, RECIPIENTS, ALL), order.get(c, 99), c)
    by_category = sorted((g for (c, m), g in groups.items() if m == ALL and c not in (ALL, RECIPIENTS)),
                         key=lambda g: cat_key(g.category))
    by_month = sorted((g for (c, m), g in groups.items() if c == ALL and m != ALL), key=lambda g: g.month)
    by_category_month = sorted((g for (c, m), g in groups.items() if m != ALL and c not in (ALL, RECIPIENTS)),
                               key=lambda g: (cat_key(g.category), g.month))
    total = groups.get((ALL, ALL), Group(ALL, ALL))
    recipients = groups.get((RECIPIENTS, ALL), Group(RECIPIENTS, ALL))
    rules = {r.id: r for r in policy.model.warnings}
    warnings = []
    for rule_id, rule in rules.items():
        fired = [a for a in alerts if a.rule == rule_id]
        warnings.append({"rule": rule_id, "name": rule.name, "persons": len({a.psn_no for a in fired}),
                         "notify": ";".join(rule.notify), "ref": policy.cite(rule.ref)})
    return Report(policy.id, policy.name, by_category, by_month, by_category_month, total, recipients,
                  _targets(policy, recipients, reference), warnings, _contribution(policy), list(notes))
