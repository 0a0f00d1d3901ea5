"""Schedules (起付标准 + 比例/分段比例 + 年度限额) resolved for a date, and their yearly amount.

Every tier is a non-decreasing function F of the person's cumulative yearly base; a claim pays
F(base after it) less what the tier already paid that year. This module computes F.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tuodi.engine.money import BP, round_bp, to_bp, to_fen
from tuodi.policy import Policy, UNDEFINED, value_at
from tuodi.policy.schema import Rule

Stats = dict[tuple[str, int], int]  # (statistic name, year) -> fen


@dataclass(frozen=True, slots=True)
class Schedule:
    """A rule's values in force on a date, in fen and basis points."""

    threshold: int                        # 起付标准
    segments: tuple[tuple[int, int], ...]  # (start of segment in base fen, ratio bp)
    cap: int | None                       # 年度最高限额; None: 不设封顶线
    trigger_line: int | None              # 倾斜救助: the base must exceed it, else 0 (shown)
    trigger_scaled: int | None            # the same line x BP, compared exactly
    refs: tuple[str, ...]
    value_dates: tuple[dt.date, ...]

    def annual_amount(self, base: int) -> int:
        """F(base): the yearly entitlement on a cumulative base, rounded half-up to the fen."""
        if self.trigger_scaled is not None and base * BP <= self.trigger_scaled:
            return 0
        scaled = 0
        ends = [s for s, _ in self.segments[1:]] + [None]
        for (start, bp), end in zip(self.segments, ends):
            lo = max(start, self.threshold)
            hi = base if end is None else min(base, end)
            if hi > lo:
                scaled += (hi - lo) * bp
        amount = round_bp(scaled)
        return amount if self.cap is None else min(amount, self.cap)


@dataclass(frozen=True, slots=True)
class NotDefined:
    """The rule names this case but the seeds give no number for it."""

    reason: str


def resolve(policy: Policy, rule: Rule, day: dt.date, stats: Stats) -> Schedule | NotDefined:
    """The schedule of `rule` in force on `day`, or why there is none."""
    threshold = value_at(rule.threshold, day)
    ratio = value_at(rule.ratio, day)
    cap = value_at(rule.cap, day)
    missing = [n for n, v in (("threshold", threshold), ("ratio", ratio), ("cap", cap)) if v is None]
    if missing:
        return NotDefined(f"{rule.id}: no {', '.join(missing)} in force on {day.isoformat()}")
    undefined = [
        (n, v) for n, v in (("threshold", threshold), ("ratio", ratio), ("cap", cap))
        if v.value == UNDEFINED
    ]
    if undefined:
        what = ", ".join(n for n, _ in undefined)
        return NotDefined(f"{rule.id}: {what} not quantified ({policy.short_cite(undefined[0][1].ref)})")
    if isinstance(ratio.value, list):
        segments = tuple((to_fen(s.start), to_bp(s.ratio)) for s in ratio.value)
    else:
        segments = ((0, to_bp(ratio.value)),)
    trigger_line = trigger_scaled = None
    refs = [threshold.ref, ratio.ref, cap.ref]
    dates = [threshold.start, ratio.start, cap.start]
    if rule.trigger is not None:
        t = rule.trigger
        share = value_at(t.share, day)
        if share is None or share.value == UNDEFINED:
            return NotDefined(f"{rule.id}: trigger share not quantified on {day.isoformat()}")
        year = day.year - t.lag
        figure = stats.get((t.statistic, year))
        if figure is None:
            return NotDefined(f"{rule.id}: statistic {t.statistic} for {year} not given (--stats)")
        trigger_scaled = figure * to_bp(share.value)
        trigger_line = round_bp(trigger_scaled)
        refs.append(share.ref)
        dates.append(share.start)
    return Schedule(
        threshold=to_fen(threshold.value),
        segments=segments,
        cap=None if cap.value is None else to_fen(cap.value),
        trigger_line=trigger_line,
        trigger_scaled=trigger_scaled,
        refs=tuple(dict.fromkeys(refs)),
        value_dates=tuple(dates),
    )


__all__ = ["BP", "NotDefined", "Schedule", "Stats", "resolve"]
