"""Loops that numpy cannot express without many passes, compiled by numba (cached on disk).

Each one is the plain sequential reading of a rule or a check, kept short so that it can be
compared with the array formulation it replaces (and with the engine)."""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def hash_positions(keys: np.ndarray, probes: np.ndarray, bits: int) -> tuple[np.ndarray, bool]:
    """Position of each probe among `keys` (64-bit hashes), -1 when absent: an open-addressing
    table of 2**bits slots. The flag is False when two keys are equal (the caller then joins on
    the strings themselves)."""
    mask = np.uint64((1 << bits) - 1)
    table = np.full(1 << bits, -1, dtype=np.int64)
    for i in range(len(keys)):
        h = keys[i]
        j = np.int64((h ^ (h >> np.uint64(29))) & mask)
        while table[j] >= 0:
            if keys[table[j]] == h:
                return np.empty(0, dtype=np.int64), False
            j = np.int64((np.uint64(j) + np.uint64(1)) & mask)
        table[j] = i
    out = np.empty(len(probes), dtype=np.int64)
    for i in range(len(probes)):
        h = probes[i]
        j = np.int64((h ^ (h >> np.uint64(29))) & mask)
        out[i] = -1
        while table[j] >= 0:
            if keys[table[j]] == h:
                out[i] = table[j]
                break
            j = np.int64((np.uint64(j) + np.uint64(1)) & mask)
    return out, True


@njit(cache=True, nogil=True)
def first_inconsistent(medfee, own, over, pre, inscp, inscp_present, hifp, hifmi, hifmi_present) -> int:
    """The first claim whose amounts break CONTRACT.md's relations (-1 when none): own, over and
    pre parts exceeding medfee_sumamt; inscp_scp_amt, when given, other than medfee_sumamt minus
    them; hifp_pay over inscp_scp_amt; a given hifmi_pay over inscp_scp_amt - hifp_pay."""
    for i in range(len(medfee)):
        expected = medfee[i] - own[i] - over[i] - pre[i]
        if expected < 0:
            return i
        if inscp_present[i] and inscp[i] != expected:
            return i
        if hifp[i] > expected:
            return i
        if hifmi_present[i] and hifmi[i] > expected - hifp[i]:
            return i
    return -1


@njit(cache=True, nogil=True, inline="always")  # inlined: no call, no reference counting of its arrays
def annual_amount(s, b, threshold, seg_start, seg_bp, nseg, cap, trigger, bp_one):
    """`Schedule.annual_amount` of schedule `s` on the yearly base `b` (fen)."""
    scaled = 0
    for j in range(nseg[s]):
        lo = max(seg_start[s, j], threshold[s])
        hi = b if j + 1 == nseg[s] else min(b, seg_start[s, j + 1])
        if hi > lo:
            scaled += (hi - lo) * seg_bp[s, j]
    amount = (scaled + bp_one // 2) // bp_one
    if cap[s] >= 0 and amount > cap[s]:
        amount = cap[s]
    if trigger[s] >= 0 and b * bp_one <= trigger[s]:
        amount = 0
    return amount


@njit(cache=True, nogil=True)
def settle_tier(first, prof, med, day, base, base_null, given, given_mask, referred, in_province,
                out_of_area, exclude_unreferred, hold_row, direct, lookback, use_lookback,
                table, acc, n_acc, count, cand_cat, covers, undef, req_ref, sched, span, n_med,
                threshold, seg_start, seg_bp, nseg, cap, trigger, bp_one,
                amount, null, cat_out, cand_out, kind_out):
    """One tier over claims sorted into person-years (a group starts where `first`), in one pass:
    the engine's `settle` loop with the candidates of each claim's profile (`table[prof]`, the
    first `count[prof]`) as slots that keep their yearly base and poisoning.

    Slot s of a profile keeps its yearly base in accumulator `acc[prof, s]` (of `n_acc`): for a
    person-year the slot itself; for a family-year (a further payer whose unit is the family,
    `hh_no`) the rule, shared by every member whose identities reach it, as the engine's family
    candidates. A claim counts once per accumulator: under the first of its claimant's active
    slots that reaches it (the engine's de-duplication by key).

    Per candidate, as the engine's `_entitlement`: an active candidate (general, or its identity
    holds on the date or in a look-back window) adds the claim's base to its yearly base when it
    covers the med_type and counts the claim (not out of area without referral where excluded;
    referred and in province where required); an empty base poisons it for the rest of the year.
    It leaves the claim undefined when the med_type is named but not quantified, when no schedule
    is defined on the date for a covered med_type, or when its base is poisoned (`kind` 0, 1, 2);
    otherwise, and when idle (not counting the claim, or neither covering nor naming the
    med_type), its entitlement is F(yearly base).

    Per claim, as the engine's `_Tier.settle`: a given amount is paid as given; otherwise, when an
    active candidate covers the claim or leaves it undefined, it is undefined if any does or if an
    earlier claim of the year was, and else is due max(0, best entitlement - paid). No claim is paid
    beyond its own cost: the claim takes min(due, its base), and the rest goes to the earlier
    claims of the group that this pass computed and that still have room (`open`, a stack: the most
    recent on top), each up to its base less its amount; what none has room for stays unpaid, and
    `paid` counts what was placed. Writes into the arrays given (earlier claims' amounts too):
    amount, undefined, category (-1 none), the candidate named (-1 none) and the undefined kind
    (2 also when only an earlier claim was undefined)."""
    n = len(prof)
    amount[:] = 0
    null[:] = False
    cat_out[:] = -1
    cand_out[:] = -1
    kind_out[:] = 2
    cum = np.zeros(n_acc, dtype=np.int64)
    poisoned = np.zeros(n_acc, dtype=np.bool_)
    stamp = np.full(n_acc, -1, dtype=np.int64)   # the last claim each accumulator was active on
    paid = 0
    earlier_undefined = False
    open_ = np.empty(n, dtype=np.int64)   # claims of the group with room left, oldest first
    top = 0
    for k in range(n):
        if first[k]:
            cum[:] = 0
            poisoned[:] = False
            paid = 0
            earlier_undefined = False
            top = 0
        p = prof[k]
        m = med[k]
        not_excluded = not (exclude_unreferred and out_of_area[k] and not referred[k])
        ref_in_prov = referred[k] and in_province[k]
        best_ent = -1
        best_slot = -1
        first_active = -1
        first_undef = -1
        undef_kind = 0
        blocked = False
        for t in range(count[p]):
            c = table[p, t]
            cc = cand_cat[c]
            if cc >= 0:
                r = hold_row[k]
                if not (direct[r, cc] or (use_lookback and lookback[r, cc])):
                    continue
            s = acc[p, t]
            if stamp[s] == k:
                continue
            stamp[s] = k
            if first_active < 0:
                first_active = t
            rm = c * n_med + m
            cov = covers[rm]
            und = undef[rm]
            counts = not_excluded and (ref_in_prov or not req_ref[c])
            if cov and counts:
                cum[s] += base[k]
                if base_null[k]:
                    poisoned[s] = True
            sid = sched[c * span + day[k]]
            defined = sid >= 0
            idle = not counts or (not cov and not und)
            if not idle:
                blocked = True
                if first_undef < 0 and (und or (not defined and cov) or (defined and poisoned[s])):
                    first_undef = t
                    undef_kind = 0 if und else (1 if not defined else 2)
            if (idle or not und) and defined and not poisoned[s]:
                ent = annual_amount(sid, cum[s], threshold, seg_start, seg_bp, nseg, cap, trigger, bp_one)
                if ent > best_ent:
                    best_ent = ent
                    best_slot = t
        if given_mask[k]:
            amount[k] = given[k]
            paid += given[k]
            continue
        if first_active < 0:
            continue
        settles = blocked
        undefined = settles and (first_undef >= 0 or earlier_undefined)
        if settles and first_undef >= 0:
            earlier_undefined = True
        if undefined:
            null[k] = True
            slot = first_undef if first_undef >= 0 else first_active
            if first_undef >= 0:
                kind_out[k] = undef_kind
        elif settles and best_slot >= 0:
            slot = best_slot
            room = base[k] if base[k] > 0 else 0
            if best_ent > paid:
                due = best_ent - paid
                own = due if due < room else room
                amount[k] = own
                rest = due - own
                while rest > 0 and top > 0:   # the rise past this claim's own cost (own-cost rule)
                    j = open_[top - 1]
                    left = base[j] - amount[j]
                    if rest < left:
                        amount[j] += rest
                        rest = 0
                    else:
                        amount[j] += left
                        rest -= left
                        top -= 1
                paid = best_ent - rest
            if room > amount[k]:
                open_[top] = k
                top += 1
        else:
            slot = first_active
        c = table[p, slot]
        cand_out[k] = c
        cat_out[k] = cand_cat[c]
    return


@njit(cache=True, nogil=True)
def decimal_words(medfee, hifp, amount, null, words, lo, hi):
    """Rows lo:hi of the settlements' computed amounts as 128-bit decimals: `words` (5, n, 2)
    gets hifmi, maf, tilt (`amount`), fund_pay_sumamt = hifp + the three (+ oth_pay) and
    psn_part_amt = medfee - fund, each as (low word, sign word); with further payers `amount`
    has a fourth row, oth_pay, and `words` a sixth; an undefined amount (`null`) counts 0."""
    further = amount.shape[0] > 3
    for i in range(lo, hi):
        ci = 0 if null[0, i] else amount[0, i]
        maf = 0 if null[1, i] else amount[1, i]
        tilt = 0 if null[2, i] else amount[2, i]
        oth = 0
        if further and not null[3, i]:
            oth = amount[3, i]
        fund = hifp[i] + ci + maf + tilt + oth
        for j, v in enumerate((ci, maf, tilt, fund, medfee[i] - fund)):
            words[j, i, 0] = v
            words[j, i, 1] = -1 if v < 0 else 0
        if further:
            words[5, i, 0] = oth
            words[5, i, 1] = -1 if oth < 0 else 0


def warm_up() -> None:
    """Start numba's runtime and load `hash_positions` from the on-disk cache with the types of its
    first real call (read-only 64-bit hashes, as polars gives them): 0.15 s that the command
    line spends on a thread while the files decode, instead of on the main thread later."""
    keys = np.zeros(1, dtype=np.uint64)
    keys.flags.writeable = False
    hash_positions(keys, keys, 4)

