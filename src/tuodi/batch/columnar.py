"""Columnar settlement (列式批量结算): the engine's rules on whole columns of integer fen.

`tuodi.engine.settle` is the reference: this module gives exactly its amounts, categories and
warnings on every claim, but on whole columns instead of claim objects.

How (one person-year is a *group*):

- **Order.** Claims are sorted by person, `setl_date`, file order (one sort of an integer key),
  so every group is a contiguous run, in the engine's settlement order.
- **Candidates.** A person's candidates in a tier (the general rules of their `insutype`, then
  each identity category they hold with the rules it `follows`) depend only on the person's
  *profile* (insutype, set of recognised categories held). Profiles are few: their candidate
  lists are made once by the engine's own `_candidates`, and each claim reads its profile's.
- **Identities.** Which categories hold on each claim's date, or only inside a look-back window,
  is worked out for all claims at once (`_Holds`: identity rows joined to claims by person).
- **Tiers.** Each tier is then one compiled pass over the sorted claims
  (`kernels.settle_tier`): per group, each candidate slot keeps its yearly base and whether an
  empty base poisoned it, and each claim is due max(0, best entitlement - paid) or is left
  undefined, exactly as the engine's loop; it takes the due up to its own base and passes the
  rest to the group's earlier claims with room, the most recent first (a stack of them: each
  claim is pushed and popped once, so a pass stays linear). Critical illness runs on r1 = inscp - hifp, assistance
  on r2 = r1 - hifmi, tilt on r3 = r2 - maf, as whole-column differences.
- **Further payers** (梯次减负, CONTRACT.md "Further payers") run after the tiers, one after the
  other, by the same kernel on their base: `in_scope` max(0, r4 - P), `reasonable`
  r4 + reasonable_ownpay_amt - P (r4 = r3 - tilt, P what the earlier further payers paid). A
  person-unit payer's years are the tiers' person-years (those before the first family-unit payer
  run inside the tiers' pass); a family-unit payer's claims are sorted once more by (family
  `hh_no`, `setl_date`, file order), and its slots add to one yearly base per rule of the family
  (`acc`), so that a claim is eligible by its claimant's identities while the base, the amount
  paid and the own-cost pass-back are the family's. `oth_pay` is their sum.
- **Threads.** From `PARALLEL_FROM` claims the sorted claims are cut at a person boundary and the
  two halves settled on two threads (the kernels release the GIL), each putting its results back
  at their file rows; the five computed amounts are then laid out as 128-bit decimals
  (`kernels.decimal_words`, two halves of the file), ready for a decimal(18, 2) column. The notes
  on undefined amounts are taken once, over all claims in settlement order.

Nothing is routed back to the scalar engine: every case the engine handles has its array form
here, and `tests/batch` checks both agree on random populations.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from dateutil.relativedelta import relativedelta

from tuodi.batch.kernels import decimal_words, settle_tier
from tuodi.engine.money import BP
from tuodi.engine.schedule import NotDefined, Schedule, Stats, resolve
from tuodi.engine.settle import TIERS, Candidate, Notes, _candidates
from tuodi.engine.model import Person
from tuodi.policy import Policy
from tuodi.policy.schema import CATEGORIES

MED_TYPES = ("inpatient", "chronic", "outpatient")
INSUTYPES = ("390", "310")
NCAT = len(CATEGORIES)
CAT_INDEX = {c: i for i, c in enumerate(CATEGORIES)}
EPOCH = dt.date(1970, 1, 1)
NO_BEGIN = np.iinfo(np.int32).min
NO_END = np.iinfo(np.int32).max
EARLIER_EMPTY = "an earlier amount this year is empty"


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def from_day_number(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


@dataclass
class Inputs:
    """The engine's inputs as columns (amounts in fen, dates as days since 1970-01-01).

    Claims are in file order; `claim_psn` indexes the persons arrays; `hifmi_given` says where
    `hifmi_pay` was given. Identity `begin`/`end` use NO_BEGIN/NO_END for open dates; the
    identity category is the contract slug.
    """

    person_insutype: np.ndarray          # int8: 0 = 390, 1 = 310
    ident_psn: np.ndarray                # int64
    ident_category: list[str] | np.ndarray
    ident_begin: np.ndarray              # int32
    ident_end: np.ndarray                # int32
    claim_psn: np.ndarray                # int64
    claim_date: np.ndarray               # int32
    claim_med: np.ndarray                # int8 index into MED_TYPES
    medfee: np.ndarray                   # int64 fen
    inscp: np.ndarray                    # int64 fen
    hifp: np.ndarray                     # int64 fen
    hifmi: np.ndarray                    # int64 fen (0 where not given)
    hifmi_given: np.ndarray              # bool
    referred: np.ndarray                 # bool
    in_province: np.ndarray              # bool
    out_of_area: np.ndarray              # bool
    #: family (hh_no) of each person as a number, -1 for none (a family alone); for further
    #: payers whose unit is the family
    person_hh: np.ndarray | None = None  # int64
    #: reasonable_ownpay_amt (fen) of each claim: for further payers on the `reasonable` base
    reasonable: np.ndarray | None = None  # int64


@dataclass
class Outputs:
    """Per claim, in file order: the tiers' amounts, oth_pay, fund_pay_sumamt and psn_part_amt
    (fen) with their null masks, and the category (index into CATEGORIES, -1 for none).

    The amounts are views of `words` (5, n, 2), or (6, n, 2) with further payers: each amount
    column laid out as 128-bit decimals (low word, then its sign), which a decimal(18, 2) Arrow
    column takes as it is. `further` holds each further payer's (amount, undefined) columns, in
    the chain's order (for the detail file); `oth_pay` is their sum."""

    words: np.ndarray
    null: np.ndarray          # (3, n): hifmi, maf, tilt undefined; (4, n) with oth_pay
    category: np.ndarray
    notes: Notes
    stats: dict = field(default_factory=dict)
    further: list = field(default_factory=list)

    @property
    def oth(self) -> np.ndarray | None:
        """oth_pay (fen), None when the policy declares no further payer (0 on every claim)."""
        return self.words[5, :, 0] if self.words.shape[0] > 5 else None

    @property
    def oth_null(self) -> np.ndarray | None:
        return self.null[3] if self.null.shape[0] > 3 else None

    hifmi = property(lambda self: self.words[0, :, 0])
    maf = property(lambda self: self.words[1, :, 0])
    tilt = property(lambda self: self.words[2, :, 0])
    fund = property(lambda self: self.words[3, :, 0])
    psn_part = property(lambda self: self.words[4, :, 0])
    hifmi_null = property(lambda self: self.null[0])
    maf_null = property(lambda self: self.null[1])
    tilt_null = property(lambda self: self.null[2])
    fund_null = property(lambda self: np.logical_or.reduce(self.null, axis=0))


# ---------------------------------------------------------------------------------------------
# schedules as arrays


class _Schedules:
    """Each rule's schedule on each day that occurs, as ids into numeric parameter tables."""

    def __init__(self, policy: Policy, stats: Stats, days: np.ndarray, day0: int):
        self.policy, self.stats, self.days, self.day0 = policy, stats, days, day0
        self.span = int(days.max() - day0 + 1) if len(days) else 1
        self.ids: dict[Schedule, int] = {}
        self.params: list[Schedule] = []
        self.by_rule: dict[tuple[str, str], np.ndarray] = {}

    def table(self, tier: str, rule) -> np.ndarray:
        """Day offset -> schedule id, or -1 where the rule is not defined on that day."""
        key = (tier, rule.id)
        if key not in self.by_rule:
            tab = np.full(self.span, -1, dtype=np.int32)
            for d in self.days:
                s = resolve(self.policy, rule, from_day_number(d), self.stats)
                if isinstance(s, Schedule):
                    k = (s.threshold, s.segments, s.cap, s.trigger_scaled)
                    if k not in self.ids:
                        self.ids[k] = len(self.params)
                        self.params.append(s)
                    tab[d - self.day0] = self.ids[k]
            self.by_rule[key] = tab
        return self.by_rule[key]

    def arrays(self) -> tuple:
        """The schedules as numeric tables for `kernels.settle_tier`: threshold, segment starts
        and ratios (basis points), segment counts, cap and trigger (-1: none)."""
        k = len(self.params) or 1
        width = max([len(p.segments) for p in self.params] + [1])
        threshold = np.zeros(k, dtype=np.int64)
        seg_start = np.zeros((k, width), dtype=np.int64)
        seg_bp = np.zeros((k, width), dtype=np.int64)
        nseg = np.zeros(k, dtype=np.int64)
        cap = np.full(k, -1, dtype=np.int64)
        trigger = np.full(k, -1, dtype=np.int64)
        for i, p in enumerate(self.params):
            threshold[i], nseg[i] = p.threshold, len(p.segments)
            for j, (start, bp) in enumerate(p.segments):
                seg_start[i, j], seg_bp[i, j] = start, bp
            if p.cap is not None:
                cap[i] = p.cap
            if p.trigger_scaled is not None:
                trigger[i] = p.trigger_scaled
        return threshold, seg_start, seg_bp, nseg, cap, trigger, BP


# ---------------------------------------------------------------------------------------------
# candidates per profile


class _CategoriesHeld:
    """Stands in for the engine's calendar where only the categories held matter."""

    def __init__(self, categories: list[str]):
        self.categories = categories


@dataclass
class _TierCandidates:
    table: np.ndarray            # (profiles, max slots) -> candidate id, -1 past the end
    count: np.ndarray            # candidates per profile
    cands: list[Candidate]
    cat: np.ndarray              # candidate id -> category index or -1 (general)
    acc: np.ndarray              # (profiles, max slots) -> the yearly base it adds to
    n_acc: int


def _profiles(policy: Policy, inp: Inputs, ident_cat: np.ndarray, recognised: np.ndarray):
    n_persons = len(inp.person_insutype)
    mask = np.zeros(n_persons, dtype=np.int64)
    ok = recognised[ident_cat] if len(ident_cat) else np.zeros(0, dtype=bool)
    np.bitwise_or.at(mask, inp.ident_psn[ok], np.left_shift(1, ident_cat[ok].astype(np.int64)))
    key = inp.person_insutype.astype(np.int64) << NCAT | mask
    uniq, prof = np.unique(key, return_inverse=True)
    order = {c: i for i, c in enumerate(policy.model.categories.recognised)}
    tiers = {}
    for payer in policy.payers:
        tier = payer.key
        lists = []
        for k in uniq:
            insutype = INSUTYPES[int(k) >> NCAT]
            held = [CATEGORIES[c] for c in range(NCAT) if int(k) >> c & 1]
            held.sort(key=lambda c: order[c])
            lists.append(_candidates(policy, Person("", insutype), _CategoriesHeld(held), tier))
        width = max([len(lst) for lst in lists] + [1])
        table = np.full((len(uniq), width), -1, dtype=np.int64)
        cands: list[Candidate] = []
        for p, lst in enumerate(lists):
            for s, c in enumerate(lst):
                table[p, s] = len(cands)
                cands.append(c)
        cat = np.array([-1 if c.category is None else CAT_INDEX[c.category] for c in cands] or [0],
                       dtype=np.int64)
        if payer.unit == "family":
            # a family's yearly bases are per rule (the engine's family candidates: an identity's
            # key without its category), shared by the members whose identities reach it
            keys: dict[str, int] = {}
            acc = np.zeros((len(uniq), width), dtype=np.int64)
            for p, lst in enumerate(lists):
                for s, c in enumerate(lst):
                    acc[p, s] = keys.setdefault(c.key.split(":", 1)[1] if c.category else c.key, len(keys))
            n_acc = max(len(keys), 1)
        else:
            acc = np.broadcast_to(np.arange(width, dtype=np.int64), (len(uniq), width)).copy()
            n_acc = width
        tiers[tier] = _TierCandidates(table, np.array([len(lst) for lst in lists]), cands, cat, acc, n_acc)
    return prof, mask, tiers


# ---------------------------------------------------------------------------------------------
# identities holding on each claim


class _Holds:
    """For claims of persons holding a recognised identity: which categories hold on the date
    (`direct`), and which only inside a look-back window before `begndate` (`lookback`)."""

    def __init__(self, policy: Policy, inp: Inputs, ident_cat: np.ndarray, recognised: np.ndarray,
                 sorted_psn: np.ndarray, sorted_date: np.ndarray, sorted_med: np.ndarray,
                 person_mask: np.ndarray):
        n = len(sorted_psn)
        self.row = np.full(n, -1, dtype=np.int64)
        claims = np.flatnonzero(person_mask[sorted_psn] != 0)
        self.row[claims] = np.arange(len(claims))
        self.direct = np.zeros((len(claims), NCAT), dtype=bool)
        self.lookback = np.zeros((len(claims), NCAT), dtype=bool)
        if len(claims) == 0:
            return
        keep = np.flatnonzero(recognised[ident_cat]) if len(ident_cat) else np.zeros(0, np.int64)
        rec = keep[np.argsort(inp.ident_psn[keep], kind="stable")]
        rec_psn = inp.ident_psn[rec]
        n_persons = len(inp.person_insutype)
        first = np.searchsorted(rec_psn, np.arange(n_persons))
        count = np.searchsorted(rec_psn, np.arange(n_persons), side="right") - first
        cp = sorted_psn[claims]
        reps = count[cp]
        pair_claim = np.repeat(np.arange(len(claims)), reps)
        within = np.arange(len(pair_claim)) - np.repeat(np.cumsum(reps) - reps, reps)
        pair_rec = rec[np.repeat(first[cp], reps) + within]
        day = sorted_date[claims][pair_claim]
        med = sorted_med[claims][pair_claim]
        beg, end, cat = inp.ident_begin[pair_rec], inp.ident_end[pair_rec], ident_cat[pair_rec]
        holds = (beg <= day) & (day <= end)
        self.direct[pair_claim[holds], cat[holds]] = True
        # look-back windows (依申请救助): begndate - window <= day < begndate, for the category's
        # med_types; the window is computed as the engine does (relativedelta).
        window_start = np.full(len(pair_rec), NO_END, dtype=np.int64)
        lb_med = np.zeros((NCAT, len(MED_TYPES)), dtype=bool)
        for lb in policy.model.lookback:
            c = CAT_INDEX[lb.category]
            for m in lb.med_types:
                lb_med[c, MED_TYPES.index(m)] = True
            delta = relativedelta(months=lb.months) if lb.months is not None else relativedelta(days=lb.days)
            sel = (cat == c) & (beg != NO_BEGIN)
            if sel.any():
                ub, inv = np.unique(beg[sel], return_inverse=True)
                starts = np.array([day_number(from_day_number(b) - delta) for b in ub], dtype=np.int64)
                window_start[sel] = starts[inv]
        lb_ok = lb_med[cat, med] & (beg != NO_BEGIN) & (window_start <= day) & (day < beg)
        self.lookback[pair_claim[lb_ok], cat[lb_ok]] = True


# ---------------------------------------------------------------------------------------------
# one tier


_NAMED, _SCHED, _EARLIER = 0, 1, 2

#: from this many claims the sorted claims are settled in two parts (whole persons) on two threads
PARALLEL_FROM = 200_000


class _Settler:
    def __init__(self, policy: Policy, inp: Inputs, stats: Stats):
        self.policy, self.inp, self.stats = policy, inp, stats
        self.notes = Notes()
        n = len(inp.claim_psn)
        self.n = n
        day0 = int(inp.claim_date.min()) if n else 0
        self.day0 = day0
        # settlement order: person, setl_date, file order (a stable sort on one integer key)
        span = int(inp.claim_date.max()) - day0 + 1 if n else 1
        bits = max(int(n).bit_length(), 1)
        if n and (int(inp.claim_psn.max()) + 1) * span < 2 ** (63 - bits):
            # the file position in the low bits makes every key unique: a plain (SIMD) sort of
            # the keys is then the stable order, several times faster than a stable argsort
            # (in place: each temporary of 10M claims is 80 MB of fresh memory)
            key = inp.claim_psn.astype(np.int64)
            key *= span
            key += inp.claim_date
            key -= day0
            key <<= bits
            key |= np.arange(n, dtype=np.int64)
            key.sort()
            self.order = key & ((1 << bits) - 1)
            key >>= bits   # person and day, in order: read off the key, not gathered
            self.psn, self.day = np.divmod(key, span)
            del key
            self.day = self.day.astype(np.int32)
        else:
            self.order = np.lexsort((inp.claim_date, inp.claim_psn))
            self.psn = inp.claim_psn[self.order]
            self.day = (inp.claim_date[self.order] - day0).astype(np.int32)
        o = self.order
        self.date = self.day + day0
        self.med = inp.claim_med[o]
        # the year of each day that occurs, from a table over the days' span
        days = day0 + np.arange(span)
        year_of_day = days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int16)
        self.year_of_day = year_of_day
        year = year_of_day[self.day]
        new = np.r_[True, (self.psn[1:] != self.psn[:-1]) | (year[1:] != year[:-1])] if n else np.zeros(0, bool)
        del year
        self.starts = np.flatnonzero(new)
        self.first = new
        present = np.zeros(span, dtype=bool)
        present[self.day] = True
        self.schedules = _Schedules(policy, stats, np.flatnonzero(present) + day0, day0)
        # identities
        cats = np.asarray([CAT_INDEX.get(c, -1) for c in inp.ident_category], dtype=np.int64) \
            if not isinstance(inp.ident_category, np.ndarray) else inp.ident_category.astype(np.int64)
        recognised = np.zeros(NCAT + 1, dtype=bool)  # index -1 (unknown) -> False
        for c in policy.model.categories.recognised:
            recognised[CAT_INDEX[c]] = True
        self._ignored(inp, cats, recognised)
        cats = np.where(cats < 0, NCAT, cats)
        prof, mask, self.tier_cands = _profiles(policy, inp, cats, recognised)
        self.person_prof = prof
        self.prof = prof[self.psn]
        self.holds = _Holds(policy, inp, cats, recognised, self.psn, self.date, self.med, mask)
        self.hold_row = self.holds.row

    def _ignored(self, inp: Inputs, cats: np.ndarray, recognised: np.ndarray) -> None:
        """Identity rows of categories the policy does not recognise, of persons with claims."""
        if len(cats) == 0:
            return
        with_claims = np.zeros(len(inp.person_insutype), dtype=bool)
        with_claims[inp.claim_psn] = True
        sel = ~recognised[cats] & with_claims[inp.ident_psn]
        for c, k in Counter(np.asarray(inp.ident_category, dtype=object)[sel].tolist()).items():
            self.notes.ignored_categories[c] += k

    def _rules(self, tier: str) -> tuple:
        """The tier's candidates and rules as the numeric tables `kernels.settle_tier` reads: whether
        unreferred out-of-area claims are excluded, then the candidate tables and the schedules."""
        tc = self.tier_cands[tier]
        tier_def = self.policy.tier(tier)
        rules = [c.rule for c in tc.cands]
        n_med = len(MED_TYPES)
        covers = np.array([[m in r.med_types for m in MED_TYPES] for r in rules] or [[False] * n_med])
        undef_med = np.array([[m in r.undefined_med_types for m in MED_TYPES] for r in rules]
                             or [[False] * n_med])
        req_ref = np.array([r.requires_referral_in_province for r in rules] or [False])
        sched = np.concatenate([self.schedules.table(tier, r) for r in rules]).astype(np.int64) \
            if rules else np.zeros(0, dtype=np.int64)
        return (bool(tier_def and tier_def.exclude_unreferred_out_of_area),
                tc.table, tc.acc, tc.n_acc, tc.count, tc.cat, covers.ravel(), undef_med.ravel(), req_ref, sched,
                self.schedules.span, n_med, *self.schedules.arrays())

    def _note_undefined(self, tier: str, tc: _TierCandidates, undefined: np.ndarray, kind: np.ndarray,
                        cand: np.ndarray, unit: "_Unit | None" = None) -> None:
        """Counts per (tier, rule, category) and the engine's reason: that of the first claim it
        processes (persons in order of first appearance, then settlement order; for a further
        payer, its units' years in order of their first claim in the file, then their order).
        All three in settlement order (the unit's order for a further payer)."""
        rows = np.flatnonzero(undefined)
        if len(rows) == 0:
            return
        if unit is not None:
            self.notes.columns.setdefault(tier, self.policy.payer(tier).column)
            # each row's unit-year, and that group's first row in the file
            group = np.searchsorted(unit.starts, rows, side="right") - 1
            groups, inverse = np.unique(group, return_inverse=True)
            ends = np.r_[unit.starts[1:], len(unit.order)][groups]
            group_first = np.array([unit.order[a:b].min() for a, b in zip(unit.starts[groups], ends)]) \
                if len(groups) < 1000 else np.minimum.reduceat(unit.order, unit.starts)[groups]
            rank = group_first[inverse]
            med, date = unit.med, unit.day
        else:
            rank = self._first_seen()[self.psn[rows]]
            med, date = self.med, self.date
        keys = [(tier, cd.rule.id, cd.category or "") for cd in tc.cands]
        key_ids = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        key_of = np.array([key_ids[k] for k in keys], dtype=np.int64)
        kc = key_of[cand[rows]]
        counts = np.bincount(kc, minlength=len(key_ids))
        # each key's first claim: the least (person's first row in the file, settlement position)
        first = np.full(len(key_ids), np.iinfo(np.int64).max, dtype=np.int64)
        value = rank * self.n + rows
        for key_id in np.flatnonzero(counts):   # few keys: a masked minimum each (ufunc.at is slow)
            first[key_id] = value[kc == key_id].min()
        for key_id in np.flatnonzero(counts):
            k = int(first[key_id] % self.n)
            cd = tc.cands[int(cand[k])]
            key = (tier, cd.rule.id, cd.category or "")
            if kind[k] == _NAMED:
                reason = f"{cd.rule.id}: {MED_TYPES[med[k]]} named but not quantified"
            elif kind[k] == _SCHED:
                day = date[k] if unit is None else int(date[k]) + self.day0
                sched = resolve(self.policy, cd.rule, from_day_number(day), self.stats)
                reason = sched.reason if isinstance(sched, NotDefined) else EARLIER_EMPTY
            else:
                reason = EARLIER_EMPTY
            self.notes.undefined[key] += int(counts[key_ids[key]])
            self.notes.undefined_reason.setdefault(key, reason)

    def _first_seen(self) -> np.ndarray:
        if not hasattr(self, "_first"):
            n = len(self.inp.claim_psn)
            first = np.full(len(self.inp.person_insutype), n, dtype=np.int64)
            np.minimum.at(first, self.inp.claim_psn, np.arange(n))
            self._first = first
        return self._first

    def run(self) -> Outputs:
        n, inp, h, o = self.n, self.inp, self.holds, self.order
        further = self.policy.further_payers
        rows_out = 4 if further else 3
        amount = np.empty((rows_out, n), dtype=np.int64)       # in file order
        null = np.empty((rows_out, n), dtype=bool)
        category = np.empty(n, dtype=np.int8)
        sorted_null = np.empty((3, n), dtype=bool)      # in settlement order, for the notes
        cand = np.empty((3, n), dtype=np.int32)
        kind = np.empty((3, n), dtype=np.int8)
        rules = [self._rules(t) for t in TIERS]
        # the further payers before the first family-unit one run in the tiers' pass: the same
        # person-years, the base chained on (no gathering, on the tiers' threads)
        lead = []
        for payer in further:
            if payer.unit != "person":
                break
            lead.append(payer)
        lead_rules = [self._rules(p.key) for p in lead]
        lead_paid = [(np.empty(n, dtype=np.int64), np.empty(n, dtype=bool)) for _ in lead]   # file order
        lead_sorted = [(np.empty(n, dtype=bool), np.empty(n, dtype=np.int8), np.empty(n, dtype=np.int32))
                       for _ in lead]                                                          # null, kind, cand

        def settle(a: int, b: int) -> None:
            """Sorted claims a:b (whole persons): their inputs gathered, the three tiers settled
            (critical illness on r1 = inscp - hifp or the given hifmi_pay, assistance on
            r2 = r1 - hifmi, tilt on r3 = r2 - maf), then the leading person-unit further payers
            on r4 - P, the results put back at their file rows."""
            m, rows = b - a, o[a:b]
            first, prof, med, day, hold_row = (x[a:b] for x in (self.first, self.prof, self.med, self.day,
                                                                self.hold_row))
            flags = inp.referred[rows], inp.in_province[rows], inp.out_of_area[rows]
            base = inp.inscp[rows]
            base -= inp.hifp[rows]
            base_null = np.zeros(m, dtype=bool)
            given, given_mask = inp.hifmi[rows], inp.hifmi_given[rows]
            no_given = np.zeros(m, dtype=bool)
            got = np.empty(m, dtype=np.int64)
            cats = np.empty((3, m), dtype=np.int8)
            for t, (tier, (exclude, *tables)) in enumerate(zip(TIERS, rules)):
                settle_tier(first, prof, med, day, base, base_null, given, given_mask, *flags, exclude,
                            hold_row, h.direct, h.lookback, tier != "critical_illness", *tables,
                            got, sorted_null[t, a:b], cats[t], cand[t, a:b], kind[t, a:b])
                amount[t, rows] = got
                null[t, rows] = sorted_null[t, a:b]
                base -= got                  # r2, r3
                base_null |= sorted_null[t, a:b]
                given_mask = no_given        # assistance and tilt compute every claim
            ci, maf, tilt = cats
            cat = np.where(maf >= 0, maf, np.where(tilt >= 0, tilt, ci))
            if lead:
                reasonable = inp.reasonable[rows] if inp.reasonable is not None else None
                pcat = cats[0]
                for (payer, (exclude, *tables), (paid, paid_null), (nl, kd, cd)) in zip(
                        lead, lead_rules, lead_paid, lead_sorted):
                    if payer.base == "reasonable":
                        pb = base + reasonable if reasonable is not None else base.copy()
                    else:
                        pb = np.maximum(base, 0)
                    settle_tier(first, prof, med, day, pb, base_null, got, no_given, *flags, exclude,
                                hold_row, h.direct, h.lookback, True, *tables,
                                got, nl[a:b], pcat, cd[a:b], kd[a:b])
                    paid[rows] = got
                    paid_null[rows] = nl[a:b]
                    np.copyto(cat, pcat, where=cat < 0)
                    base -= got
                    base_null |= nl[a:b]
            category[rows] = cat

        words = np.empty((rows_out + 2, n, 2), dtype=np.int64)
        g = int(np.searchsorted(self.starts, n // 2)) if n >= PARALLEL_FROM else 0
        two = 0 < g < len(self.starts)
        if two:
            # two parts of whole persons on two threads (the kernels and numpy's gathers release
            # the GIL)
            cut = int(self.starts[g])
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda ab: settle(*ab), [(0, cut), (cut, n)]))
        else:
            settle(0, n)
        paid = self._further(amount, null, category, lead_paid) if further else []
        notes_unit = _Unit(o, self.first, self.starts, None, self.med, self.day, None, None, None, None)
        for payer, (nl, kd, cd) in zip(lead, lead_sorted):
            self._note_undefined(payer.key, self.tier_cands[payer.key], nl, kd, cd, notes_unit)
        if n >= PARALLEL_FROM:
            # the decimal layout of the two halves of the file on two threads
            half = n // 2
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda ab: decimal_words(inp.medfee, inp.hifp, amount, null, words, *ab),
                              [(0, half), (half, n)]))
        else:
            decimal_words(inp.medfee, inp.hifp, amount, null, words, 0, n)
        for t, tier in enumerate(TIERS):
            self._note_undefined(tier, self.tier_cands[tier], sorted_null[t], kind[t], cand[t])
        return Outputs(words, null, category, self.notes,
                       {"claims": n, "person_years": len(self.starts), "routed_to_engine": 0}, paid)

    # -- further payers (CONTRACT.md "Further payers after the three tiers")

    def _person_unit(self) -> "_Unit":
        if not hasattr(self, "_punit"):
            inp, o = self.inp, self.order
            self._punit = _Unit(o, self.first, self.starts, self.prof, self.med, self.day, self.hold_row,
                                inp.referred[o], inp.in_province[o], inp.out_of_area[o])
        return self._punit

    def _family_unit(self) -> "_Unit":
        """Claims in family-year order: family (`hh_no`; a person without one is a family alone),
        `setl_date`, file order, as the engine's family units."""
        if hasattr(self, "_funit"):
            return self._funit
        inp, n = self.inp, self.n
        hh = inp.person_hh if inp.person_hh is not None else np.full(len(inp.person_insutype), -1, np.int64)
        n_hh = int(hh.max()) + 1 if len(hh) else 0
        fam_of_person = np.where(hh >= 0, hh, n_hh + np.arange(len(hh), dtype=np.int64))
        span = int(self.day.max()) + 1 if n else 1
        bits = max(int(n).bit_length(), 1)
        # the key is built in settlement (person) order, where the persons' families and days are
        # read sequentially; its low bits are the file row, so one plain sort gives the order
        if n and (int(fam_of_person.max()) + 1) * span < 2 ** (63 - bits):
            key = fam_of_person[self.psn]
            key *= span
            key += self.day
            key <<= bits
            key |= self.order
            key.sort()
            order = key & ((1 << bits) - 1)
            key >>= bits
            f_fam, f_day = np.divmod(key, span)
            del key
        else:
            order = np.lexsort((inp.claim_date, fam_of_person[inp.claim_psn]))
            f_fam = fam_of_person[inp.claim_psn[order]]
            f_day = (inp.claim_date[order] - self.day0).astype(np.int64)
        year = self.year_of_day[f_day]
        first = np.r_[True, (f_fam[1:] != f_fam[:-1]) | (year[1:] != year[:-1])] if n else np.zeros(0, bool)
        del f_fam, year
        pos = np.empty(n, dtype=np.int64)     # file row -> position in settlement (person) order
        pos[self.order] = np.arange(n)
        at = pos[order]
        del pos
        self._funit = _Unit(order, first, np.flatnonzero(first), self.prof[at], inp.claim_med[order],
                            f_day.astype(np.int32), self.hold_row[at],
                            inp.referred[order], inp.in_province[order], inp.out_of_area[order])
        return self._funit

    def _further(self, amount: np.ndarray, null: np.ndarray, category: np.ndarray, lead: list) -> list:
        """The further payers one after the other, each over its units' years (kernels.settle_tier
        with the unit's accumulators), on the base the tiers and the earlier payers left:
        `in_scope` max(0, r4 - P), `reasonable` r4 + reasonable_ownpay_amt - P. Fills oth_pay
        (amount[3], null[3]) and, where the tiers gave none, the category; returns each payer's
        (amount, undefined) in file order. `lead`: those of the first payers, person-unit, that
        the tiers' pass has settled already."""
        inp, n = self.inp, self.n
        left = inp.inscp - inp.hifp
        left -= amount[0]
        left -= amount[1]
        left -= amount[2]                       # r4, in file order
        left_null = null[0] | null[1] | null[2]
        oth, oth_null = amount[3], null[3]
        oth[:] = 0
        oth_null[:] = False
        for paid, paid_null in lead:
            oth += paid
            oth_null |= paid_null
            left -= paid
            left_null |= paid_null
        reasonable = inp.reasonable if inp.reasonable is not None else np.zeros(n, dtype=np.int64)
        h = self.holds
        out = list(lead)
        for payer in self.policy.further_payers[len(lead):]:
            u = self._family_unit() if payer.unit == "family" else self._person_unit()
            o = u.order
            base = left[o]
            if payer.base == "reasonable":
                base += reasonable[o]
            else:
                np.maximum(base, 0, out=base)
            base_null = left_null[o]
            exclude, *tables = self._rules(payer.key)
            got = np.empty(n, dtype=np.int64)
            got_null = np.empty(n, dtype=bool)
            cat = np.empty(n, dtype=np.int8)
            cand = np.empty(n, dtype=np.int32)
            kind = np.empty(n, dtype=np.int8)
            no_given = np.zeros(n, dtype=bool)

            def part(a: int, b: int) -> None:   # `given`: int64 like the tiers' (one compiled form)
                settle_tier(u.first[a:b], u.prof[a:b], u.med[a:b], u.day[a:b], base[a:b], base_null[a:b],
                            got[a:b], no_given[a:b], u.referred[a:b], u.in_province[a:b],
                            u.out_of_area[a:b], exclude, u.hold_row[a:b], h.direct, h.lookback, True,
                            *tables, got[a:b], got_null[a:b], cat[a:b], cand[a:b], kind[a:b])

            g = int(np.searchsorted(u.starts, n // 2)) if n >= PARALLEL_FROM else 0
            if 0 < g < len(u.starts):
                cut = int(u.starts[g])
                with ThreadPoolExecutor(2) as pool:
                    list(pool.map(lambda ab: part(*ab), [(0, cut), (cut, n)]))
            else:
                part(0, n)
            self._note_undefined(payer.key, self.tier_cands[payer.key], got_null, kind, cand, u)
            paid = np.empty(n, dtype=np.int64)
            paid[o] = got
            paid_null = np.empty(n, dtype=bool)
            paid_null[o] = got_null
            file_cat = np.empty(n, dtype=np.int8)
            file_cat[o] = cat
            np.copyto(category, file_cat, where=category < 0)
            oth += paid
            oth_null |= paid_null
            left -= paid
            left_null |= paid_null
            out.append((paid, paid_null))
        return out


@dataclass
class _Unit:
    """Claims in a payer's settlement order (its units' years: the person's, or the family's),
    with what `kernels.settle_tier` reads gathered in that order."""

    order: np.ndarray        # position -> file row
    first: np.ndarray        # a unit-year starts here
    starts: np.ndarray
    prof: np.ndarray
    med: np.ndarray
    day: np.ndarray          # days since the first claim's day
    hold_row: np.ndarray
    referred: np.ndarray
    in_province: np.ndarray
    out_of_area: np.ndarray


def settle_columns(policy: Policy, inputs: Inputs, stats: Stats | None = None) -> Outputs:
    """Settle every claim of `inputs` under `policy`: the engine's results, as columns: the three
    tiers, then the further payers the policy declares (梯次减负, CONTRACT.md), person or family
    units."""
    return _Settler(policy, inputs, stats or {}).run()
