"""Columnar settlement (列式批量结算): the engine's rules on whole columns of integer fen.

`tuodi.engine.settle` is the reference: this module gives exactly its amounts, categories and
warnings on every claim, but works tier by tier on numpy arrays instead of claim by claim.

How the engine's sequential rules become array operations (one person-year is a *group*; claims
are sorted by person, `setl_date`, file order, so every group is a contiguous run):

- **Candidates.** A person's candidates in a tier (the general rules of their `insutype`, then
  each identity category they hold with the rules it `follows`) depend only on the person's
  *profile* (insutype, set of recognised categories held). Profiles are few; each claim gets the
  candidate list of its person's profile, and slot `s` of that list is processed for all claims
  at once.
- **Bases.** A candidate's yearly base after claim k is the segmented cumulative sum, over the
  group, of the tier's base on the claims where the candidate was active (its identity holds on
  the date or within the look-back window) and eligible (med_type covered, not out of area
  without referral, referred and in province where required). An empty base poisons the
  candidate's base from then on: a segmented cumulative "any".
- **Payments.** The engine pays `max(0, ent_k - paid)` and adds it to `paid`, so `paid` after
  claim k is `max(paid before, ent_k)`: a running maximum. Claims whose `hifmi_pay` is given add
  the given amount instead; with G_k the group's cumulative given amount,
  `paid_k = G_k + max(0, cummax_{j<=k}(ent_j - G_j))`, a segmented cumulative maximum. A claim
  pays `paid_k - paid_{k-1}` (or its given amount).
- **Undefined.** A claim is undefined in a tier when one of its active candidates is (med_type
  named but not quantified, schedule not defined on the date for a covered med_type, or an empty
  base), or when an earlier claim of the group was undefined in that tier; claims no active
  candidate covers still pay 0 (the engine's "not covered is 0"). The first undefined claim of a
  group is found with a segmented cumulative "any" of the undefined starts.

Nothing is routed back to the scalar engine: every case the engine handles has its array form
here, and `tests/batch` checks both agree on random populations.
"""
from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from dateutil.relativedelta import relativedelta

from tuodi.batch.kernels import candidate_slot
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
    inscp: np.ndarray                    # int64 fen
    hifp: np.ndarray                     # int64 fen
    hifmi: np.ndarray                    # int64 fen (0 where not given)
    hifmi_given: np.ndarray              # bool
    referred: np.ndarray                 # bool
    in_province: np.ndarray              # bool
    out_of_area: np.ndarray              # bool


@dataclass
class Outputs:
    """Per claim, in file order: the tiers' amounts (fen) with their null masks, and the category
    (index into CATEGORIES, -1 for none)."""

    hifmi: np.ndarray
    hifmi_null: np.ndarray
    maf: np.ndarray
    maf_null: np.ndarray
    tilt: np.ndarray
    tilt_null: np.ndarray
    category: np.ndarray
    notes: Notes
    stats: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# segmented scans over contiguous groups


def _starts(g: np.ndarray) -> np.ndarray:
    """Indices where a new group begins in a non-decreasing group-id array."""
    if len(g) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, g[1:] != g[:-1]])


def _local(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    starts = _starts(g)
    first = np.zeros(len(g), dtype=bool)
    first[starts] = True
    return starts, np.cumsum(first) - 1


def seg_cumsum(x: np.ndarray, starts: np.ndarray, local: np.ndarray) -> np.ndarray:
    cs = np.cumsum(x)
    before = (cs - x)[starts]
    return cs - before[local]


def seg_cumany(x: np.ndarray, starts: np.ndarray, local: np.ndarray) -> np.ndarray:
    return seg_cumsum(x.astype(np.int64), starts, local) > 0


def seg_cummax(x: np.ndarray, starts: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Running maximum restarting at each group: groups are lifted onto disjoint value ranges so
    one global `maximum.accumulate` never carries a value across a group boundary."""
    if len(x) == 0:
        return x.copy()
    lo = np.minimum.reduceat(x, starts)
    span = np.maximum.reduceat(x, starts) - lo + 1
    offset = np.cumsum(span) - span
    if offset[-1] + span[-1] >= 2 ** 62:  # pragma: no cover - amounts beyond any real year
        out = np.empty_like(x)
        for a, b in zip(starts, np.r_[starts[1:], len(x)]):
            out[a:b] = np.maximum.accumulate(x[a:b])
        return out
    shift = (offset - lo)[local]
    return np.maximum.accumulate(x + shift) - shift


def seg_shift(x: np.ndarray, starts: np.ndarray, fill) -> np.ndarray:
    """x of the previous element in the group (`fill` at group starts)."""
    out = np.empty_like(x)
    out[1:] = x[:-1]
    out[starts] = fill
    return out


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
        """The schedules as numeric tables for `kernels.candidate_slot`: threshold, segment starts
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

    def annual_amount(self, sid: np.ndarray, base: np.ndarray) -> np.ndarray:
        """F(base) for each row under schedule `sid` (>= 0): `Schedule.annual_amount` on arrays."""
        out = np.zeros(len(base), dtype=np.int64)
        present = np.flatnonzero(np.bincount(sid, minlength=len(self.params)))
        for s in present:
            sel = None if len(present) == 1 else sid == s
            b = base if sel is None else base[sel]
            sched = self.params[s]
            scaled = np.zeros(len(b), dtype=np.int64)
            starts = [st for st, _ in sched.segments]
            ends = starts[1:] + [None]
            for (start, bp), end in zip(sched.segments, ends):
                lo = max(start, sched.threshold)
                hi = b if end is None else np.minimum(b, end)
                scaled += np.maximum(hi - lo, 0) * bp
            amount = (scaled + BP // 2) // BP
            if sched.cap is not None:
                amount = np.minimum(amount, sched.cap)
            if sched.trigger_scaled is not None:
                amount = np.where(b * BP <= sched.trigger_scaled, 0, amount)
            if sel is None:
                return amount
            out[sel] = amount
        return out


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


def _profiles(policy: Policy, inp: Inputs, ident_cat: np.ndarray, recognised: np.ndarray):
    n_persons = len(inp.person_insutype)
    mask = np.zeros(n_persons, dtype=np.int64)
    ok = recognised[ident_cat] if len(ident_cat) else np.zeros(0, dtype=bool)
    np.bitwise_or.at(mask, inp.ident_psn[ok], np.left_shift(1, ident_cat[ok].astype(np.int64)))
    key = inp.person_insutype.astype(np.int64) << NCAT | mask
    uniq, prof = np.unique(key, return_inverse=True)
    order = {c: i for i, c in enumerate(policy.model.categories.recognised)}
    tiers = {}
    for tier in TIERS:
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
        tiers[tier] = _TierCandidates(table, np.array([len(lst) for lst in lists]), cands, cat)
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

    def active(self, claims: np.ndarray, cat: np.ndarray, tier: str) -> np.ndarray:
        out = np.ones(len(claims), dtype=bool)
        sel = cat >= 0
        if sel.any():
            r, c = self.row[claims[sel]], cat[sel]
            held = self.direct[r, c]
            if tier != "critical_illness":
                held = held | self.lookback[r, c]
            out[sel] = held
        return out


class _SubHolds:
    """`_Holds` seen from a subset of the sorted claims."""

    def __init__(self, holds: _Holds, sub: np.ndarray):
        self.holds, self.sub = holds, sub

    def active(self, claims: np.ndarray, cat: np.ndarray, tier: str) -> np.ndarray:
        return self.holds.active(self.sub[claims], cat, tier)


class _OffsetHolds:
    """`_Holds` seen from the sorted claims `offset:` (one part of a split settlement)."""

    def __init__(self, holds: _Holds, offset: int):
        self.holds, self.offset = holds, offset

    def active(self, claims: np.ndarray, cat: np.ndarray, tier: str) -> np.ndarray:
        return self.holds.active(claims + self.offset, cat, tier)


# ---------------------------------------------------------------------------------------------
# one tier


@dataclass
class _TierResult:
    amount: np.ndarray
    null: np.ndarray
    cat: np.ndarray          # category index or -1


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
            key = inp.claim_psn.astype(np.int64) * span + (inp.claim_date.astype(np.int64) - day0)
            key = np.sort((key << bits) | np.arange(n, dtype=np.int64))
            self.order = key & ((1 << bits) - 1)
        else:
            self.order = np.lexsort((inp.claim_date, inp.claim_psn))
        o = self.order
        self.psn = inp.claim_psn[o]
        self.date = inp.claim_date[o].astype(np.int64)
        self.med = inp.claim_med[o].astype(np.int64)
        year = self.date.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
        new = np.r_[True, (self.psn[1:] != self.psn[:-1]) | (year[1:] != year[:-1])] if n else np.zeros(0, bool)
        self.group = np.cumsum(new) - 1
        self.starts = np.flatnonzero(new)
        self.first = new
        self.day = self.date - day0
        self.local = self.group
        present = np.zeros(span, dtype=bool)
        present[self.date - day0] = True
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
        self.prof = prof[self.psn]
        self.holds = _Holds(policy, inp, cats, recognised, self.psn, self.date, self.med, mask)
        self.referred = inp.referred[o]
        self.in_province = inp.in_province[o]
        self.out_of_area = inp.out_of_area[o]
        self._heads: dict = {}   # undefined key -> ((tier, key id), first-seen rank of its reason's claim)

    def _ignored(self, inp: Inputs, cats: np.ndarray, recognised: np.ndarray) -> None:
        """Identity rows of categories the policy does not recognise, of persons with claims."""
        if len(cats) == 0:
            return
        with_claims = np.zeros(len(inp.person_insutype), dtype=bool)
        with_claims[inp.claim_psn] = True
        sel = ~recognised[cats] & with_claims[inp.ident_psn]
        for c, k in Counter(np.asarray(inp.ident_category, dtype=object)[sel].tolist()).items():
            self.notes.ignored_categories[c] += k

    def tier(self, tier: str, base: np.ndarray, base_null: np.ndarray,
             given: np.ndarray | None = None, given_mask: np.ndarray | None = None) -> _TierResult:
        n = self.n
        tc = self.tier_cands[tier]
        count = tc.count[self.prof]
        sub = np.flatnonzero(count > 0)
        if len(sub) < n:
            return self._tier_on(sub, tier, base, base_null, given, given_mask)
        tier_def = self.policy.tier(tier)
        exclude_unref = bool(tier_def and tier_def.exclude_unreferred_out_of_area)
        rules = [c.rule for c in tc.cands]
        n_med = len(MED_TYPES)
        covers = np.array([[m in r.med_types for m in MED_TYPES] for r in rules] or [[False] * n_med])
        undef_med = np.array([[m in r.undefined_med_types for m in MED_TYPES] for r in rules]
                             or [[False] * n_med])
        req_ref = np.array([r.requires_referral_in_province for r in rules] or [False])
        span = self.schedules.span
        sched_flat = np.concatenate([self.schedules.table(tier, r) for r in rules]).astype(np.int64) \
            if rules else np.zeros(0, dtype=np.int64)
        covers_flat, undef_flat = covers.ravel(), undef_med.ravel()
        not_excluded = ~(self.out_of_area & ~self.referred) if exclude_unref else np.ones(n, bool)
        ref_in_prov = self.referred & self.in_province
        params = self.schedules.arrays()

        best_ent = np.full(n, -1, dtype=np.int64)
        best_slot = np.full(n, -1, dtype=np.int64)
        first_active = np.full(n, -1, dtype=np.int64)
        first_undef = np.full(n, -1, dtype=np.int64)
        undef_kind = np.zeros(n, dtype=np.int8)
        blocked = np.zeros(n, dtype=bool)   # an active candidate covers the claim or leaves it undefined
        for s in range(tc.table.shape[1]):
            idx = np.flatnonzero(count > s)
            if len(idx) == 0:
                continue
            full = len(idx) == n   # every claim has this slot: no gathers

            def take(a):
                return a if full else a[idx]

            cand = tc.table[take(self.prof), s]
            cat = tc.cat[cand]
            active = self.holds.active(idx, cat, tier)
            if full:
                new_group = self.first
            else:
                g = self.group[idx]
                new_group = np.r_[True, g[1:] != g[:-1]]
            ent, cand_undef, kind, blocks = candidate_slot(
                new_group, cand, take(self.med), active, take(base), take(base_null),
                take(self.day), take(not_excluded), take(ref_in_prov), covers_flat, undef_flat,
                req_ref, sched_flat, span, n_med, *params)
            better = ent > best_ent[idx]
            best_ent[idx[better]] = ent[better]
            best_slot[idx[better]] = s
            new_active = active & (first_active[idx] < 0)
            first_active[idx[new_active]] = s
            new_undef = cand_undef & (first_undef[idx] < 0)
            first_undef[idx[new_undef]] = s
            undef_kind[idx[new_undef]] = kind[new_undef]
            blocked[idx[blocks]] = True

        has_active = first_active >= 0
        computed = np.ones(n, dtype=bool) if given_mask is None else ~given_mask
        settles = computed & has_active & blocked      # not "no active candidate covers it: 0"
        any_undef = first_undef >= 0
        start = settles & any_undef
        poisoned_before = seg_shift(seg_cumany(start, self.starts, self.local), self.starts, False)
        undefined = settles & (any_undef | poisoned_before)
        ent = np.where(settles & ~undefined & (best_ent >= 0), best_ent, 0)
        if given_mask is not None and given_mask.any():
            g = np.where(given_mask, given, 0)
            cum_given = seg_cumsum(g, self.starts, self.local)
            paid = cum_given + np.maximum(seg_cummax(ent - cum_given, self.starts, self.local), 0)
            amount = np.where(given_mask, g, paid - seg_shift(paid, self.starts, 0))
        else:
            paid = np.maximum(seg_cummax(ent, self.starts, self.local), 0)
            amount = paid - seg_shift(paid, self.starts, 0)
        amount[undefined] = 0

        # the engine's category: best candidate when paid, first undefined (or first active when
        # only poisoned) when empty, first active when nothing covers; none without candidates
        slot = np.where(undefined, np.where(any_undef, first_undef, first_active),
                        np.where(settles & (best_slot >= 0), best_slot, first_active))
        slot = np.where(computed & has_active, slot, -1)
        cand = np.where(slot >= 0, tc.table[self.prof, np.maximum(slot, 0)], -1)
        cat = np.where(cand >= 0, tc.cat[np.maximum(cand, 0)], -1)
        self._note_undefined(tier, tc, undefined, np.where(any_undef, undef_kind, _EARLIER), cand)
        return _TierResult(amount, undefined, cat)

    def _tier_on(self, sub: np.ndarray, tier: str, base, base_null, given, given_mask) -> _TierResult:
        """A tier on the claims of persons with candidates only; the others pay 0 (or their
        given amount) under no category, as the engine does for a tier with no active rule."""
        view = copy.copy(self)
        view.n = len(sub)
        for name in ("psn", "date", "day", "med", "prof", "group", "referred", "in_province", "out_of_area"):
            setattr(view, name, getattr(self, name)[sub])
        view.starts, view.local = _local(view.group)
        view.first = np.zeros(len(sub), dtype=bool)
        view.first[view.starts] = True
        view.holds = _SubHolds(self.holds, sub)
        r = view.tier(tier, base[sub], base_null[sub], None if given is None else given[sub],
                      None if given_mask is None else given_mask[sub])
        amount = np.zeros(self.n, dtype=np.int64)
        if given_mask is not None:
            amount[given_mask] = given[given_mask]
        amount[sub] = r.amount
        null = np.zeros(self.n, dtype=bool)
        null[sub] = r.null
        cat = np.full(self.n, -1, dtype=np.int64)
        cat[sub] = r.cat
        return _TierResult(amount, null, cat)

    def _note_undefined(self, tier: str, tc: _TierCandidates, undefined: np.ndarray,
                        kind: np.ndarray, cand: np.ndarray) -> None:
        """Counts per (tier, rule, category) and the engine's reason: that of the first claim it
        processes (persons in order of first appearance, then settlement order)."""
        rows = np.flatnonzero(undefined)
        if len(rows) == 0:
            return
        first_seen = self._first_seen()
        keys = [(tier, cd.rule.id, cd.category or "") for cd in tc.cands]
        key_ids = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        key_of = np.array([key_ids[k] for k in keys], dtype=np.int64)
        kc = key_of[cand[rows]]
        rank = first_seen[self.psn[rows]]
        pick = np.lexsort((rows, rank, kc))
        kc_sorted = kc[pick]
        heads = pick[np.r_[True, kc_sorted[1:] != kc_sorted[:-1]]]
        counts = np.bincount(kc, minlength=len(key_ids))
        for h in heads:
            k = rows[h]
            cd = tc.cands[int(cand[k])]
            key = (tier, cd.rule.id, cd.category or "")
            if kind[k] == _NAMED:
                reason = f"{cd.rule.id}: {MED_TYPES[self.med[k]]} named but not quantified"
            elif kind[k] == _SCHED:
                sched = resolve(self.policy, cd.rule, from_day_number(self.date[k]), self.stats)
                reason = sched.reason if isinstance(sched, NotDefined) else EARLIER_EMPTY
            else:
                reason = EARLIER_EMPTY
            self.notes.undefined[key] += int(counts[key_ids[key]])
            self.notes.undefined_reason.setdefault(key, reason)
            self._heads.setdefault(key, ((TIERS.index(tier), key_ids[key]), int(rank[h])))

    def _first_seen(self) -> np.ndarray:
        if not hasattr(self, "_first"):
            n = len(self.inp.claim_psn)
            first = np.full(len(self.inp.person_insutype), n, dtype=np.int64)
            np.minimum.at(first, self.inp.claim_psn, np.arange(n))
            self._first = first
        return self._first

    def _sorted(self):
        """The three tiers and the category, in settlement order."""
        inp, o = self.inp, self.order
        r1 = inp.inscp[o] - inp.hifp[o]
        no_null = np.zeros(self.n, dtype=bool)
        ci = self.tier("critical_illness", r1, no_null, inp.hifmi[o], inp.hifmi_given[o])
        r2 = r1 - ci.amount
        del r1
        maf = self.tier("assistance", r2, ci.null)
        r3 = r2 - maf.amount
        del r2
        r3_null = ci.null | maf.null
        tilt = self.tier("tilt", r3, r3_null)
        cat = np.where(maf.cat >= 0, maf.cat, np.where(tilt.cat >= 0, tilt.cat, ci.cat))
        return (ci.amount, ci.null, maf.amount, maf.null, tilt.amount, tilt.null, cat)

    def _part(self, a: int, b: int, ga: int, gb: int) -> "_Settler":
        """The settler of sorted claims a:b (groups ga:gb, whole persons), with its own notes."""
        view = copy.copy(self)
        view.notes, view._heads = Notes(), {}
        view.n = b - a
        view.order = self.order[a:b]
        for name in ("psn", "date", "day", "med", "prof", "first", "referred", "in_province", "out_of_area"):
            setattr(view, name, getattr(self, name)[a:b])
        view.group = self.group[a:b] - ga
        view.local = view.group
        view.starts = self.starts[ga:gb] - a
        view.holds = _OffsetHolds(self.holds, a)
        return view

    def _merge_notes(self, parts: list["_Settler"]) -> None:
        """The parts' undefined counts, in the order and with the reasons of one settlement: keys
        by tier and rule, the reason of the part whose person comes first in the file (the first part
        when a person's years fall in both)."""
        heads = sorted((order, rank, i, key) for i, p in enumerate(parts) for key, (order, rank) in p._heads.items())
        for order, rank, i, key in heads:
            p = parts[i]
            self.notes.undefined[key] += p.notes.undefined[key]
            self.notes.undefined_reason.setdefault(key, p.notes.undefined_reason[key])
            self._heads.setdefault(key, (order, rank))

    def run(self) -> Outputs:
        o = self.order
        m = self.n // 2
        g = int(np.searchsorted(self.starts, m)) if self.n >= PARALLEL_FROM else 0
        if 0 < g < len(self.starts):
            # two parts of whole persons on two threads (the kernels and numpy release the GIL)
            from concurrent.futures import ThreadPoolExecutor
            self._first_seen()
            a = int(self.starts[g])
            parts = [self._part(0, a, 0, g), self._part(a, self.n, g, len(self.starts))]
            with ThreadPoolExecutor(2) as pool:
                results = list(pool.map(lambda p: p._sorted(), parts))
            self._merge_notes(parts)
            columns = [np.concatenate([r[i] for r in results]) for i in range(7)]
            del results
        else:
            columns = list(self._sorted())

        def back(x):
            out = np.empty_like(x)
            out[o] = x
            return out

        return Outputs(*[back(c) for c in columns], self.notes,
                       {"claims": self.n, "person_years": len(self.starts), "routed_to_engine": 0})


def settle_columns(policy: Policy, inputs: Inputs, stats: Stats | None = None) -> Outputs:
    """Settle every claim of `inputs` under `policy`: the engine's results, as columns."""
    return _Settler(policy, inputs, stats or {}).run()
