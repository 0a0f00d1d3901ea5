"""One-stop settlement (一站式结算, 先保险后救助): the pure rules of CONTRACT.md.

For each person and calendar year (年度累计), claims are taken in `setl_date` order, then in the
order given, through three tiers after basic insurance (基本医保, given by the hospital):

    critical illness (大病保险)  on r1 = inscp_scp_amt - hifp_pay
    medical assistance (医疗救助) on r2 = r1 - hifmi_pay
    tilted assistance (倾斜救助)  on r3 = r2 - maf_pay   (经三重制度综合保障后政策范围内个人自付)

A tier keeps, for each *candidate* (the general rule, or one identity of the person with the rule
its category follows), the yearly base of the claims eligible for it. On a claim its entitlement is
the largest F(base) over the candidates valid for that claim (就高不就低), and it is due
`max(0, entitlement - paid so far this year)`, so a person is never paid twice and the claims of a
year always add up to the yearly amount, however they are split (Changzhi's annual
reconciliation, 扣减已按次支付, is this very subtraction).

No claim is paid beyond its own cost (CONTRACT.md): a claim takes at most its own base for the
tier. When the entitlement rises by more than that — Harbin's tilted assistance turning on for the
whole yearly r3, an identity starting — the rest goes to the person's earlier eligible claims of
the year, from the most recent backwards, each up to its own remaining base (a given `hifmi_pay`
takes nothing more); what no claim has room for stays unpaid, and a later claim may still take it
(the tier's `paid` is what was actually paid). So the tiers run one after the other over the whole
person-year: a claim's assistance base r2 is its r1 less its final hifmi_pay, top-ups included.

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
# the chain is declared once, in tuodi.policy.payers (TIER_COLUMN and TIER_LABEL stay importable here)
from tuodi.policy.payers import TIER_COLUMN, TIER_LABEL, TIERS, Payer  # noqa: F401
from tuodi.policy.schema import Rule



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
    #: payer key -> the settlements column its undefined amounts leave empty
    columns: dict = field(default_factory=dict)


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
        # the year's claims so far, in settlement order: their setl_id, base, amount and step
        self.ids: list[str] = []
        self.claim_bases: list[int | None] = []
        self.amounts: list[int | None] = []
        self.steps: list[Step] = []
        #: claims this tier computed (not given) that still have room (base - amount > 0), in
        #: order: the most recent is last, and takes a rise first
        self.open: list[int] = []

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
               given: int | None = None, candidates: list[Candidate] | None = None,
               ) -> tuple[int | None, Step, str | None]:
        """Pay this tier on one claim; returns (amount, explanation step, chosen category).

        The amount is the claim's own; a later claim of the year may still top it up (补付):
        `amounts` and `steps` hold the year's final amounts once its last claim is settled.
        For a family unit, `cal` and `candidates` are the claimant's (a claim is eligible by its
        own claimant's identities), while the bases and `paid` are the family's."""
        amount, step, category, computed = self._settle(claim, base, cal, given, candidates)
        i = len(self.amounts)
        self.ids.append(claim.setl_id)
        self.claim_bases.append(base)
        self.amounts.append(amount)
        self.steps.append(step)
        if computed and base - amount > 0:  # type: ignore[operator]
            self.open.append(i)
        return amount, step, category

    def _pass_on(self, claim: Claim, rest: int) -> tuple[tuple[tuple[str, int], ...], int]:
        """Give `rest` to the earlier claims with room, the most recent first, each up to its
        remaining base; returns what each got and what none had room for."""
        passed = []
        while rest > 0 and self.open:
            j = self.open[-1]
            left = self.claim_bases[j] - self.amounts[j]  # type: ignore[operator]
            take = min(rest, left)
            self.amounts[j] += take  # type: ignore[operator]
            self.steps[j].amount += take  # type: ignore[operator]
            self.steps[j].top_ups += ((claim.setl_id, take),)
            passed.append((self.ids[j], take))
            rest -= take
            if take == left:
                self.open.pop()
        return tuple(passed), rest

    def _settle(self, claim: Claim, base: int | None, cal: _PersonCalendar,
                given: int | None, candidates: list[Candidate] | None = None,
                ) -> tuple[int | None, Step, str | None, bool]:
        """(amount, step, category, whether the tier computed a payment for the claim, so that
        it may take a later rise)."""
        cands = self.candidates if candidates is None else candidates
        active = [c for c in cands if c.category is None or cal.holds(c.category, claim, self.name)]
        if candidates is not None:
            # a family's candidates are its rules: a claim counts once for a rule, under the first
            # of the claimant's identities (policy order) that the rule covers on its date
            seen: set[str] = set()
            active = [c for c in active if not (c.key in seen or seen.add(c.key))]
        reasons = {c.key: self._ineligible_reason(c, claim) for c in active}
        for c in active:
            if reasons[c.key] is None:
                before = self.bases[c.key]
                self.bases[c.key] = None if before is None or base is None else before + base

        if given is not None:
            return (*self._given(claim, given, base), False)
        if not active:
            note = ("no identity with a rule in this tier holds on this date"
                    if self.name != "critical_illness" else "no critical-illness rule for this person")
            return 0, Step(self.name, 0, base_claim=base, note=note), None, False

        # A claim no valid identity's rule covers (med_type left out, out of area without
        # referral, …) pays 0, even when an earlier amount this year is unknown: CONTRACT.md,
        # "a med_type the seed's rule leaves out is not covered: 0".
        idle = {c.key: self._idle(c, claim) for c in active}
        if all(idle.values()):
            first = active[0]
            return 0, Step(self.name, 0, rule_id=first.rule.id, rule_name=first.rule.name,
                           category=first.category, base_claim=0, note=reasons[first.key]), first.category, False

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
            self.notes.columns.setdefault(self.name, self.policy.payer(self.name).column)
            self.notes.undefined[(self.name, cand.rule.id, cand.category or "")] += 1
            self.notes.undefined_reason.setdefault((self.name, cand.rule.id, cand.category or ""), reason)
            step = Step(self.name, None, rule_id=cand.rule.id, rule_name=cand.rule.name,
                        category=cand.category, base_claim=base, note=reason)
            return None, step, cand.category, False
        if best is None:
            return (0, Step(self.name, 0, base_claim=base, note="no rule covers this claim"),
                    active[0].category, False)

        ent, cand, sched = best
        paid_before = self.paid
        due = max(0, ent - paid_before)  # type: ignore[operator]
        # no claim is paid beyond its own cost: the claim takes up to its base, earlier claims the
        # rest (the base is known here: an empty one has made the claim undefined above)
        amount = min(due, max(0, base))  # type: ignore[type-var]
        passed, unplaced = self._pass_on(claim, due - amount) if due > amount else ((), 0)
        self.paid = paid_before + due - unplaced  # type: ignore[operator]
        step = Step(
            self.name, amount, rule_id=cand.rule.id, rule_name=cand.rule.name, category=cand.category,
            base_claim=base if reasons[cand.key] is None else 0, base_year=self.bases[cand.key],
            threshold=sched.threshold, ratios=list(sched.segments), cap=sched.cap,
            trigger_line=sched.trigger_line, annual_amount=ent, paid_before=paid_before,
            refs=list(sched.refs), value_dates=list(sched.value_dates), note=reasons[cand.key],
            due=due, passed_on=passed, unplaced=unplaced,
        )
        return amount, step, cand.category, True

    def _given(self, claim: Claim, given: int, base: int | None):
        if self.paid is not None:
            self.paid += given
        return given, Step(self.name, given, base_claim=base, note="given by the claim (hifmi_pay)"), None


def settle_person(policy: Policy, person: Person, identities: Iterable[Identity],
                  claims: list[Claim], stats: Stats, notes: Notes | None = None,
                  schedules: dict | None = None) -> list[Settlement]:
    """Settle one person's claims, already in settlement order (date, then arrival), through the
    whole chain; a family-unit payer sees the person as a family alone (the service's reading
    until it knows households)."""
    notes = notes if notes is not None else Notes()
    schedules = schedules if schedules is not None else {}
    out, claimant = _settle_person_tiers(policy, person, identities, claims, stats, notes, schedules)
    if policy.further_payers:
        _settle_further(policy, {person.psn_no: person}, {person.psn_no: claimant}, claims, out,
                        stats, notes, schedules)
    return out


@dataclass(slots=True)
class _Claimant:
    """What a further payer needs of a claimant: their calendar and candidates per payer."""

    cal: _PersonCalendar
    cands: dict[str, list[Candidate]]


def _settle_person_tiers(policy: Policy, person: Person, identities: Iterable[Identity],
                         claims: list[Claim], stats: Stats, notes: Notes,
                         schedules: dict) -> tuple[list[Settlement], _Claimant]:
    """The three tiers over one person's claims (in settlement order), year by year."""
    cal = _PersonCalendar(policy, identities, notes)
    cands = {p.key: _candidates(policy, person, cal, p.key) for p in policy.payers}
    years: dict[int, list[int]] = defaultdict(list)
    for i, claim in enumerate(claims):
        years[claim.setl_date.year].append(i)
    out: list[Settlement | None] = [None] * len(claims)
    tiers = policy.payers[:len(TIERS)]
    for idx in years.values():
        year_claims = [claims[i] for i in idx]
        for i, s in zip(idx, _settle_year(policy, tiers, cands, cal, year_claims, stats, notes, schedules)):
            out[i] = s
    return out, _Claimant(cal, cands)  # type: ignore[return-value]


def _settle_year(policy: Policy, tiers: tuple[Payer, ...], cands: dict[str, list[Candidate]],
                 cal: _PersonCalendar, claims: list[Claim], stats: Stats, notes: Notes,
                 schedules: dict) -> list[Settlement]:
    """One person-year, tier after tier over all its claims: a later claim may top up an earlier
    one's amount (own-cost rule), and the next tier's base is what the tier left (Payer.base_of)."""
    left: list[int | None] = [c.ci_base for c in claims]
    paid: list[list[int | None]] = []
    steps: list[list[Step]] = []
    cats: list[list[str | None]] = []
    for payer in tiers:
        tier = _Tier(policy, payer.key, cands[payer.key], stats, notes, schedules)
        cats.append([tier.settle(c, payer.base_of(b, c.reasonable_ownpay_amt), cal,
                                 given=getattr(c, payer.column) if payer.given else None)[2]
                     for c, b in zip(claims, left)])
        paid.append(tier.amounts)
        steps.append(tier.steps)
        left = [None if b is None or a is None else b - a for b, a in zip(left, tier.amounts)]
    hifmi, maf, tilt = paid
    ci_cats, maf_cats, tilt_cats = cats
    return [
        Settlement(
            setl_id=c.setl_id, psn_no=c.psn_no, setl_date=c.setl_date,
            category=maf_cats[i] or tilt_cats[i] or ci_cats[i], medfee_sumamt=c.medfee_sumamt,
            inscp_scp_amt=c.inscp_scp_amt, hifp_pay=c.hifp_pay, hifmi_pay=hifmi[i], maf_pay=maf[i],
            tilt_pay=tilt[i], steps=[s[i] for s in steps],
        )
        for i, c in enumerate(claims)
    ]


def _left_after_tiers(s: Settlement) -> int | None:
    """r4 = r3 - tilt_pay: the in-scope self-pay left after the three tiers."""
    parts = (s.hifmi_pay, s.maf_pay, s.tilt_pay)
    return None if any(p is None for p in parts) else s.inscp_scp_amt - s.hifp_pay - sum(parts)  # type: ignore[arg-type]


def _settle_further(policy: Policy, persons: dict[str, Person], claimants: dict[str, _Claimant],
                    claims: list[Claim], out: list[Settlement], stats: Stats, notes: Notes,
                    schedules: dict) -> None:
    """The further payers (CONTRACT.md "Further payers"), one after the other over all claims:
    each on its unit's year (the person, or the family by `hh_no`), claims in `setl_date` order,
    then the order given; its base is what the tiers and the earlier further payers left
    (Payer.base_of). Fills `oth_pay`, the steps and, where the tiers gave none, the category."""
    left = [_left_after_tiers(s) for s in out]
    for payer in policy.further_payers:
        units: dict[tuple, list[int]] = defaultdict(list)
        for i, c in enumerate(claims):
            hh = persons[c.psn_no].hh_no if payer.unit == "family" else None
            units[("hh", hh) if hh else ("psn", c.psn_no), c.setl_date.year].append(i)
        family = {m: [Candidate(c.key.split(":", 1)[1], c.category, c.rule) if c.category else c
                      for c in claimants[m].cands[payer.key]] for m in claimants} \
            if payer.unit == "family" else None
        for idx in units.values():
            idx.sort(key=lambda i: claims[i].setl_date)   # stable: the order given within a day
            tier = _Tier(policy, payer.key, [], stats, notes, schedules)
            cats = []
            for i in idx:
                c = claims[i]
                who = claimants[c.psn_no]
                base = payer.base_of(left[i], c.reasonable_ownpay_amt)
                if family is None:
                    tier.candidates = who.cands[payer.key]
                    tier.bases = tier.bases or {k.key: 0 for k in tier.candidates}
                    cats.append(tier.settle(c, base, who.cal)[2])
                    continue
                # a family: the yearly base per rule and the amount paid are the household's, over
                # its members' eligible claims; a claim is eligible by its claimant's identities
                for k in family[c.psn_no]:
                    tier.bases.setdefault(k.key, 0)
                cats.append(tier.settle(c, base, who.cal, candidates=family[c.psn_no])[2])
            for i, amount, step, cat in zip(idx, tier.amounts, tier.steps, cats):
                s = out[i]
                s.steps.append(step)
                s.oth_pay = None if s.oth_pay is None or amount is None else s.oth_pay + amount
                left[i] = None if left[i] is None or amount is None else left[i] - amount  # type: ignore[operator]
                if s.category is None and cat:
                    s.category = cat


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

    The tiers run person by person; the further payers then run over all claims, as a family-unit
    payer's year spans the members of a household. `progress(n)` is called with the number of
    claims done after each person (for progress bars).
    """
    stats = stats or {}
    notes = Notes()
    schedules: dict = {}
    idents: dict[str, list[Identity]] = defaultdict(list)
    for ident in identities:
        idents[ident.psn_no].append(ident)
    result: list[Settlement | None] = [None] * len(claims)
    claimants: dict[str, _Claimant] = {}
    for psn_no, idx in settlement_order(claims).items():
        rows, claimants[psn_no] = _settle_person_tiers(
            policy, persons[psn_no], idents.get(psn_no, ()), [claims[i] for i in idx], stats, notes, schedules)
        for i, s in zip(idx, rows):
            result[i] = s
        if progress is not None:
            progress(len(idx))
    if policy.further_payers:
        _settle_further(policy, persons, claimants, claims, result, stats, notes, schedules)  # type: ignore[arg-type]
    return SettleResult(result, notes)  # type: ignore[arg-type]
