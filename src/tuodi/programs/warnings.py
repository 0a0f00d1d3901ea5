"""Early warnings (双预警, 主动发现): yearly figures of each person compared with the lines the
policy names, and the departments each list goes to.

A warning rule (policy `warnings:`) names a measure, a line (a dated amount, or a share of a
published statistic of an earlier year) and the departments notified. The measures, per person and
calendar year, over the settled claims:

- `burden_after_insurance` — 经基本医保、大病保险报销后个人负担医疗费用: Σ(medfee_sumamt − hifp_pay −
  hifmi_pay), what insurance leaves to the person before any assistance (哈政办规〔2022〕16号 三(四);
  青海 五(一) 个人年度累计负担医疗费用).
- `critical_illness_started` — 启动大病保险: Σ hifmi_pay (哈政办规 三(四) 启动大病保险的监测对象).
- `self_paid_in_scope_after_assistance` — 三重制度综合保障后政策范围内个人自付: Σ(inscp_scp_amt −
  hifp_pay − hifmi_pay − maf_pay), the base of tilted assistance (哈政办规 三(二)2), as an early signal.

A rule with `categories` counts only the claims dated while the person holds one of them; with
`insutypes`, only persons of those schemes. A rule fires when the figure exceeds (超过) the line.
An empty amount (an undefined rule upstream) makes the figure unknown unless the known part
already decides (`critical_illness_started` with something paid); an unknown figure or line is a
note, never a guess.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable

from tuodi.engine.model import Identity, Person, Settlement
from tuodi.engine.money import round_bp, to_bp, to_fen
from tuodi.policy import Policy, UNDEFINED, value_at
from tuodi.policy.schema import WarningRule
from tuodi.programs.common import ProgramNotes


@dataclass(frozen=True, slots=True)
class Alert:
    """One row of the warnings file: a person's yearly figure over a rule's line (fen)."""

    psn_no: str
    year: int
    rule: str
    value: int
    threshold: int
    notify: tuple[str, ...]
    contact: bool = False


def _sum(parts: Iterable[int | None]) -> int | None:
    total = 0
    for p in parts:
        if p is None:
            return None
        total += p
    return total


def burden_after_insurance(claims: list[Settlement]) -> int | None:
    return _sum(None if s.hifmi_pay is None else s.medfee_sumamt - s.hifp_pay - s.hifmi_pay for s in claims)


def critical_illness_started(claims: list[Settlement]) -> int | None:
    known = sum(s.hifmi_pay for s in claims if s.hifmi_pay is not None)
    if known == 0 and any(s.hifmi_pay is None for s in claims):
        return None             # nothing known paid, something unknown: cannot tell
    return known


def self_paid_in_scope_after_assistance(claims: list[Settlement]) -> int | None:
    return _sum(None if s.hifmi_pay is None or s.maf_pay is None
                else s.inscp_scp_amt - s.hifp_pay - s.hifmi_pay - s.maf_pay for s in claims)


MEASURES: dict[str, Callable[[list[Settlement]], int | None]] = {
    "burden_after_insurance": burden_after_insurance,
    "critical_illness_started": critical_illness_started,
    "self_paid_in_scope_after_assistance": self_paid_in_scope_after_assistance,
}


def warning_line(policy: Policy, rule: WarningRule, year: int,
                 stats: dict[tuple[str, int], int]) -> tuple[int | None, str]:
    """The rule's line for `year` in fen, or None with the reason it is unknown."""
    if rule.line is not None:
        dated = value_at(rule.line, dt.date(year, 12, 31))
        if dated is None:
            return None, f"no line in force in {year}"
        if dated.value == UNDEFINED:
            return None, f"line not quantified ({policy.short_cite(dated.ref)})"
        return to_fen(dated.value), ""
    figure_year = year - rule.lag
    figure = stats.get((rule.statistic, figure_year))  # type: ignore[arg-type]
    if figure is None:
        return None, f"statistic {rule.statistic} for {figure_year} not given (--stats)"
    return round_bp(figure * to_bp(rule.share)), ""  # type: ignore[arg-type]


def evaluate_warnings(policy: Policy, persons: dict[str, Person], identities: Iterable[Identity],
                      settlements: Iterable[Settlement], stats: dict[tuple[str, int], int] | None = None,
                      notes: ProgramNotes | None = None) -> list[Alert]:
    """Every (person, year, rule) that fires: by year, then the persons' order, then the rules'."""
    stats = stats or {}
    notes = notes if notes is not None else ProgramNotes()
    idents: dict[str, list[Identity]] = defaultdict(list)
    for ident in identities:
        idents[ident.psn_no].append(ident)
    by_person_year: dict[tuple[int, str], list[Settlement]] = defaultdict(list)
    for s in settlements:
        by_person_year[(s.setl_date.year, s.psn_no)].append(s)
    order = {p: i for i, p in enumerate(persons)}
    out = []
    for (year, psn_no) in sorted(by_person_year, key=lambda k: (k[0], order.get(k[1], len(order)), k[1])):
        person = persons.get(psn_no)
        claims = by_person_year[(year, psn_no)]
        for rule in policy.model.warnings:
            if rule.insutypes is not None and (person is None or person.insutype not in rule.insutypes):
                continue
            mine = claims
            if rule.categories is not None:
                held = [i for i in idents.get(psn_no, ()) if i.category in rule.categories]
                mine = [s for s in claims if any(i.holds_on(s.setl_date) for i in held)]
                if not mine:
                    continue
            line, why = warning_line(policy, rule, year, stats)
            if line is None:
                notes.add("warnings", rule.id, None, why)
                continue
            value = MEASURES[rule.measure](mine)
            if value is None:
                notes.add("warnings", rule.id, None, "an amount its yearly figure adds up is empty "
                          "(a settlement rule left undefined)", unknown_figure=True)
                continue
            if value > line:
                out.append(Alert(psn_no, year, rule.id, value, line, tuple(rule.notify), rule.contact))
    return out
