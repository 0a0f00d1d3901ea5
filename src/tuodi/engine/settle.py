"""One-stop settlement (一站式结算, 先保险后救助): the pure rules of CONTRACT.md.

For each person and calendar year (年度累计), claims are taken in `setl_date` order, then in the
order given, through three tiers after basic insurance (基本医保, given by the hospital):

    critical illness (大病保险)  on r1 = inscp_scp_amt - hifp_pay
    medical assistance (医疗救助) on r2 = r1 - hifmi_pay
    tilted assistance (倾斜救助)  on r3 = r2 - maf_pay   (经三重制度综合保障后政策范围内个人自付)

A tier keeps, for each *candidate* (the general rule, or one identity of the person with the rule
its category follows), the yearly base of the claims eligible for it. On a claim its entitlement is
the largest F(base) over the candidates valid for that claim (就高不就低), and it pays
`max(0, entitlement - paid so far this year)`, so a person is never paid twice and the claims of a
year always add up to the yearly amount, however they are split (Changzhi's annual
reconciliation, 扣减已按次支付, is this very subtraction).

An amount the seeds do not quantify is None, never 0. Once a tier has left an amount empty, what it
has paid that year is unknown, so its later amounts that year are empty too: a yearly cap or a
reconciliation cannot be computed on an unknown.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from dateutil.relativedelta import relativedelta

from tuodi.engine.model import Claim, Identity, Person, Settlement, Step
from tuodi.engine.schedule import NotDefined, Schedule, Stats, resolve
from tuodi.policy import Policy
from tuodi.policy.schema import Rule

TIERS = ("critical_illness", "assistance", "tilt")
TIER_COLUMN = {"critical_illness": "hifmi_pay", "assistance": "maf_pay", "tilt": "tilt_pay"}
TIER_LABEL = {"critical_illness": "大病保险", "assistance": "医疗救助", "tilt": "倾斜救助"}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A schedule a person may be paid under: the general rule, or one of their identities."""

    key: str
    category: str | None  # the person's own identity slug; None for a general rule
    rule: Rule


@dataclass
class Notes:
    """What a run tells its user besides the amounts (warnings on stderr)."""

    #: (tier, rule id, category or "") -> claims left empty
    undefined: Counter = field(default_factory=Counter)
    undefined_reason: dict = field(default_factory=dict)
    #: categories a person holds that the jurisdiction does not recognise -> identities ignored
    ignored_categories: Counter = field(default_factory=Counter)


@dataclass
class SettleResult:
    settlements: list[Settlement]
    notes: Notes


class _PersonCalendar:
    """Which identities of one person hold on which claim (dates, look-back windows)."""

    def __init__(self, policy: Policy, identities: Iterable[Identity], notes: Notes):
        self.policy = policy
        self.by_category: dict[str, list[Identity]] = defaultdict(list)
        for ident in identities:
            if policy.recognises(ident.category):
                self.by_category[ident.category].append(ident)
            else:
                notes.ignored_categories[ident.category] += 1
        # the policy's order of categories breaks ties between identities
        order = {c: i for i, c in enumerate(policy.model.categories.recognised)}
        self.categories = sorted(self.by_category, key=lambda c: order[c])

    def holds(self, category: str, claim: Claim, tier: str) -> bool:
        records = self.by_category[category]
        day = claim.setl_date
        if any(r.holds_on(day) for r in records):
            return True
        if tier == "critical_illness":
            return False
        lookback = self.policy.lookback(category)
        if lookback is None or claim.med_type not in lookback.med_types:
            return False
        window = (
            relativedelta(months=lookback.months) if lookback.months is not None
            else relativedelta(days=lookback.days)
        )
        return any(
            r.begndate is not None and r.begndate - window <= day < r.begndate for r in records
        )


def _candidates(policy: Policy, person: Person, cal: _PersonCalendar, tier: str) -> list[Candidate]:
    out = []
    for rule in policy.rules(tier):
        if rule.insutypes is not None and person.insutype not in rule.insutypes:
            continue
        if rule.categories == "general":
            out.append(Candidate(f"general:{rule.id}", None, rule))
    for category in cal.categories:
        for rule in policy.rules(tier):
            if rule.insutypes is not None and person.insutype not in rule.insutypes:
                continue
            if rule.categories != "general" and policy.follows(category) in rule.categories:
                out.append(Candidate(f"{category}:{rule.id}", category, rule))
    return out


class _Tier:
    """One tier's yearly state for one person: bases per candidate and what it has paid."""

    def __init__(self, policy: Policy, name: str, candidates: list[Candidate], stats: Stats,
                 notes: Notes, schedules: dict):
        self.policy, self.name, self.candidates = policy, name, candidates
        self.stats, self.notes, self.schedules = stats, notes, schedules
        tier = policy.tier(name)
        self.exclude_unreferred = bool(tier and tier.exclude_unreferred_out_of_area)
        self.exclude_ref = tier.exclude_ref if tier else None
        self.bases: dict[str, int | None] = {c.key: 0 for c in candidates}
        self.paid: int | None = 0

    def _schedule(self, rule: Rule, day: dt.date) -> Schedule | NotDefined:
        key = (self.name, rule.id, day)
        if key not in self.schedules:
            self.schedules[key] = resolve(self.policy, rule, day, self.stats)
        return self.schedules[key]

    def _excluded_reason(self, cand: Candidate, claim: Claim) -> str | None:
        """Why the claim does not count for this candidate whatever its med_type (referral, area)."""
        if self.exclude_unreferred and claim.out_of_area and not claim.referred:
            return f"out of area without referral ({self.policy.short_cite(self.exclude_ref or '')})"
        if cand.rule.requires_referral_in_province and not (claim.referred and claim.in_province):
            return "counts only referred claims treated in the province"
        return None

    def _ineligible_reason(self, cand: Candidate, claim: Claim) -> str | None:
        if claim.med_type not in cand.rule.med_types:
            return f"{claim.med_type} not covered by {cand.rule.id}"
        return self._excluded_reason(cand, claim)

    def _idle(self, cand: Candidate, claim: Claim) -> bool:
        """The candidate's rule has nothing to say on this claim: excluded, or a med_type it
        neither covers nor names (as opposed to one it names without a number: undefined)."""
        return self._excluded_reason(cand, claim) is not None or (
            claim.med_type not in cand.rule.med_types
            and claim.med_type not in cand.rule.undefined_med_types)

    def settle(self, claim: Claim, base: int | None, cal: _PersonCalendar,
               given: int | None = None) -> tuple[int | None, Step, str | None]:
        """Pay this tier on one claim; returns (amount, explanation step, chosen category)."""
        active = [c for c in self.candidates if c.category is None or cal.holds(c.category, claim, self.name)]
        reasons = {c.key: self._ineligible_reason(c, claim) for c in active}
        for c in active:
            if reasons[c.key] is None:
                before = self.bases[c.key]
                self.bases[c.key] = None if before is None or base is None else before + base

        if given is not None:
            return self._given(claim, given, base)
        if not active:
            note = ("no identity with a rule in this tier holds on this date"
                    if self.name != "critical_illness" else "no critical-illness rule for this person")
            return 0, Step(self.name, 0, base_claim=base, note=note), None

        # A claim no valid identity's rule covers (med_type left out, out of area without
        # referral, …) pays 0, even when an earlier amount this year is unknown: CONTRACT.md,
        # "a med_type the seed's rule leaves out is not covered: 0".
        idle = {c.key: self._idle(c, claim) for c in active}
        if all(idle.values()):
            first = active[0]
            return 0, Step(self.name, 0, rule_id=first.rule.id, rule_name=first.rule.name,
                           category=first.category, base_claim=0, note=reasons[first.key]), first.category

        best: tuple[int, Candidate, Schedule] | None = None
        undefined: tuple[Candidate, str] | None = None
        for c in active:
            # an idle candidate still bounds the entitlement by what it already gave (its F on an
            # unchanged base), but when that is unknown it cannot make this claim's amount unknown
            if claim.med_type in c.rule.undefined_med_types and not idle[c.key]:
                undefined = undefined or (c, f"{c.rule.id}: {claim.med_type} named but not quantified")
                continue
            sched = self._schedule(c.rule, claim.setl_date)
            if isinstance(sched, NotDefined):
                if claim.med_type in c.rule.med_types and not idle[c.key]:
                    undefined = undefined or (c, sched.reason)
                continue
            if self.bases[c.key] is None:
                if not idle[c.key]:
                    undefined = undefined or (c, "an earlier amount this year is empty")
                continue
            ent = sched.annual_amount(self.bases[c.key])  # type: ignore[arg-type]
            if best is None or ent > best[0]:
                best = (ent, c, sched)

        if undefined is None and self.paid is None:
            undefined = (active[0], "an earlier amount this year is empty")
        if undefined is not None:
            cand, reason = undefined
            self.paid = None
            self.notes.undefined[(self.name, cand.rule.id, cand.category or "")] += 1
            self.notes.undefined_reason.setdefault((self.name, cand.rule.id, cand.category or ""), reason)
            step = Step(self.name, None, rule_id=cand.rule.id, rule_name=cand.rule.name,
                        category=cand.category, base_claim=base, note=reason)
            return None, step, cand.category
        if best is None:
            return 0, Step(self.name, 0, base_claim=base, note="no rule covers this claim"), active[0].category

        ent, cand, sched = best
        paid_before = self.paid
        amount = max(0, ent - paid_before)  # type: ignore[operator]
        self.paid = paid_before + amount  # type: ignore[operator]
        step = Step(
            self.name, amount, rule_id=cand.rule.id, rule_name=cand.rule.name, category=cand.category,
            base_claim=base if reasons[cand.key] is None else 0, base_year=self.bases[cand.key],
            threshold=sched.threshold, ratios=list(sched.segments), cap=sched.cap,
            trigger_line=sched.trigger_line, annual_amount=ent, paid_before=paid_before,
            refs=list(sched.refs), value_dates=list(sched.value_dates), note=reasons[cand.key],
        )
        return amount, step, cand.category

    def _given(self, claim: Claim, given: int, base: int | None):
        if self.paid is not None:
            self.paid += given
        return given, Step(self.name, given, base_claim=base, note="given by the claim (hifmi_pay)"), None


def settle_person(policy: Policy, person: Person, identities: Iterable[Identity],
                  claims: list[Claim], stats: Stats, notes: Notes | None = None,
                  schedules: dict | None = None) -> list[Settlement]:
    """Settle one person's claims, already in settlement order (date, then arrival)."""
    notes = notes if notes is not None else Notes()
    schedules = schedules if schedules is not None else {}
    cal = _PersonCalendar(policy, identities, notes)
    cands = {t: _candidates(policy, person, cal, t) for t in TIERS}
    years: dict[int, dict[str, _Tier]] = {}
    out = []
    for claim in claims:
        year = years.get(claim.setl_date.year)
        if year is None:
            year = years[claim.setl_date.year] = {
                t: _Tier(policy, t, cands[t], stats, notes, schedules) for t in TIERS
            }
        r1 = claim.ci_base
        hifmi, ci_step, ci_cat = year["critical_illness"].settle(claim, r1, cal, given=claim.hifmi_pay)
        r2 = None if hifmi is None else r1 - hifmi
        maf, maf_step, maf_cat = year["assistance"].settle(claim, r2, cal)
        r3 = None if maf is None or r2 is None else r2 - maf
        tilt, tilt_step, tilt_cat = year["tilt"].settle(claim, r3, cal)
        category = maf_cat or tilt_cat or ci_cat
        out.append(Settlement(
            setl_id=claim.setl_id, psn_no=claim.psn_no, setl_date=claim.setl_date,
            category=category, medfee_sumamt=claim.medfee_sumamt, inscp_scp_amt=claim.inscp_scp_amt,
            hifp_pay=claim.hifp_pay, hifmi_pay=hifmi, maf_pay=maf, tilt_pay=tilt,
            steps=[ci_step, maf_step, tilt_step],
        ))
    return out


def settlement_order(claims: list[Claim]) -> dict[str, list[int]]:
    """Claim indexes per person, in `setl_date` order, then in the order given."""
    by_person: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(claims):
        by_person[c.psn_no].append(i)
    for idx in by_person.values():
        idx.sort(key=lambda i: claims[i].setl_date)
    return by_person


def settle(policy: Policy, persons: dict[str, Person], identities: Iterable[Identity],
           claims: list[Claim], stats: Stats | None = None, progress=None) -> SettleResult:
    """Settle every claim; the result is in the order of `claims`.

    `progress(n)` is called with the number of claims done after each person (for progress bars).
    """
    stats = stats or {}
    notes = Notes()
    schedules: dict = {}
    idents: dict[str, list[Identity]] = defaultdict(list)
    for ident in identities:
        idents[ident.psn_no].append(ident)
    result: list[Settlement | None] = [None] * len(claims)
    for psn_no, idx in settlement_order(claims).items():
        rows = settle_person(policy, persons[psn_no], idents.get(psn_no, ()),
                             [claims[i] for i in idx], stats, notes, schedules)
        for i, s in zip(idx, rows):
            result[i] = s
        if progress is not None:
            progress(len(idx))
    return SettleResult(result, notes)  # type: ignore[arg-type]
