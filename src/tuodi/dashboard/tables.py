"""The protection report's figures (保障情况): per identity category and month, and in total.

For each group of claims: persons, claims, cost (医疗费总额), in-scope cost (政策范围内费用), each
fund's spend — basic insurance (hifp_pay, settled upstream), then the payer chain's settlements
columns in its order (tuodi.policy.payers: hifmi_pay 大病保险, maf_pay 医疗救助, tilt_pay 倾斜救助,
oth_pay 其他支出, the further payers' sum) — the funds together and the personal part, and three
rates:

- 综合保障率 (protection rate)          = fund_pay_sumamt ÷ medfee_sumamt
- 政策范围内保障率 (in-scope protection) = fund_pay_sumamt ÷ inscp_scp_amt
- 个人负担率 (burden rate)               = psn_part_amt ÷ medfee_sumamt

Money sums and rates are taken over the claims whose every amount is known: a claim with an empty
amount (a rule the seeds do not quantify) cannot be split, so it is counted apart
(`claims_with_empty_amounts`) rather than guessed. `persons_warned` counts the group's persons
flagged by at least one early-warning rule in the year of their claims. Targets are the policy's
own (衢政办发〔2023〕1号 二: 医疗救助对象 综合保障率 ≥ 85%, 个人负担率 ≤ 15% by 2025), or, when the
policy sets none, those of the reference policy the caller passes in (the command line passes
Quzhou's); they are compared on the claims of identity holders. When the caller gives the further
payers' sources and payments, the report carries their accounts per year (tuodi.programs.fund, the
statement the 暖心无忧 fund office 定期向社会公布: 衢政办发〔2023〕1号 三(四)). Nothing here reads a file.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

from tuodi.engine.model import Settlement
from tuodi.policy import Policy
from tuodi.policy.payers import FURTHER_COLUMN
from tuodi.policy.schema import CATEGORY_NAMES
from tuodi.programs.fund import Account
from tuodi.programs.warnings import Alert

#: basic insurance: settled upstream (the claim's hifp_pay), before the payer chain
BASIC = ("hifp_pay", "基本医保")
#: the English word shown beside a settlements column's Chinese name
ENGLISH = {"hifp_pay": "basic", "hifmi_pay": "critical illness", "maf_pay": "assistance", "tilt_pay": "tilted",
           FURTHER_COLUMN: "further payers", "psn_part_amt": "personal"}
PERSONAL = ("psn_part_amt", "个人负担")


@dataclass(frozen=True)
class FundColumn:
    """A fund's spend column: the settlements column, its Chinese name, and the payers in it."""

    column: str
    name: str
    payers: tuple[str, ...] = ()     # the further payers' names that add up to oth_pay

    @property
    def label(self) -> str:
        return f"{self.name} {ENGLISH.get(self.column, self.column)}"


def fund_columns(policy: Policy) -> list[FundColumn]:
    """The funds' spend columns: basic insurance, then the payer chain's columns in its order (the
    further payers are one column, oth_pay, as in the settlements file, which always has it)."""
    out = [FundColumn(*BASIC)]
    further = tuple(p.name for p in policy.payers if p.further)
    for p in policy.payers:
        if p.further:
            continue
        if all(c.column != p.column for c in out):
            out.append(FundColumn(p.column, p.name))
    out.append(FundColumn(FURTHER_COLUMN, "其他支出", further))
    return out


def money_columns(funds: list[FundColumn]) -> tuple[str, ...]:
    return ("medfee_sumamt", "inscp_scp_amt", *(f.column for f in funds), "fund_pay_sumamt", "psn_part_amt")


#: the columns of a report without a policy at hand (the three tiers and oth_pay)
MONEY = ("medfee_sumamt", "inscp_scp_amt", "hifp_pay", "hifmi_pay", "maf_pay", "tilt_pay", FURTHER_COLUMN,
         "fund_pay_sumamt", "psn_part_amt")
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
    columns: tuple[str, ...] = MONEY
    persons: set = field(default_factory=set)
    warned: set = field(default_factory=set)
    claims: int = 0
    incomplete: int = 0
    money: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.money = {m: self.money.get(m, 0) for m in self.columns}

    def add(self, s: Settlement, warned: bool) -> None:
        self.persons.add(s.psn_no)
        if warned:
            self.warned.add(s.psn_no)
        self.claims += 1
        if s.fund_pay_sumamt is None or s.psn_part_amt is None:
            self.incomplete += 1
            return
        for m in self.columns:
            self.money[m] += getattr(s, m)    # every column is a Settlement field or property

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
    funds: list[FundColumn] = field(default_factory=list)
    #: the further payers' accounts per year, when sources were given (None: not asked for)
    accounts: list[Account] | None = None
    #: each further payer's id -> (name, clause) for the accounts section
    payer_names: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def money_columns(self) -> tuple[str, ...]:
        return money_columns(self.funds)

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
                 notes: Iterable[str] = (), reference: Policy | None = None,
                 accounts: list[Account] | None = None) -> Report:
    """Group the settled claims and compare with the targets: the policy's own, or, when it sets
    none, those of `reference` (a policy already loaded by the caller). `accounts` are the further
    payers' accounts (tuodi.programs.fund.accounts), when the caller has their sources."""
    alerts = list(alerts)
    flagged = {(a.psn_no, a.year) for a in alerts}
    funds = fund_columns(policy)
    columns = money_columns(funds)
    groups: dict[tuple[str, str], Group] = {}

    def group(category: str, month: str) -> Group:
        if (category, month) not in groups:
            groups[(category, month)] = Group(category, month, columns)
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
    total = groups.get((ALL, ALL), Group(ALL, ALL, columns))
    recipients = groups.get((RECIPIENTS, ALL), Group(RECIPIENTS, ALL, columns))
    rules = {r.id: r for r in policy.model.warnings}
    warnings = []
    for rule_id, rule in rules.items():
        fired = [a for a in alerts if a.rule == rule_id]
        warnings.append({"rule": rule_id, "name": rule.name, "persons": len({a.psn_no for a in fired}),
                         "notify": ";".join(rule.notify), "ref": policy.cite(rule.ref)})
    names = {p.id: (p.name, policy.cite(p.declaration.ref) if p.declaration is not None and p.declaration.ref
                    else "") for p in policy.declared_further_payers}
    return Report(policy.id, policy.name, by_category, by_month, by_category_month, total, recipients,
                  _targets(policy, recipients, reference), warnings, _contribution(policy), list(notes),
                  funds, accounts, names)
