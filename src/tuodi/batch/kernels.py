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
def candidate_slot(new_group, cand, med, active, base, base_null, day, not_excluded, ref_in_prov,
                   covers, undef, req_ref, sched, span, n_med,
                   threshold, seg_start, seg_bp, nseg, cap, trigger, bp_one):
    """One candidate slot of a tier over sorted claims (a person-year starts where `new_group`):
    the candidate's yearly eligible base after each claim, and from it the entitlement (-1 where
    none), whether the candidate leaves the claim undefined and why (0 named but not quantified,
    1 no schedule on the date, 2 an earlier empty base), and whether it covers the claim or
    leaves it undefined (`blocks`: then "nothing covers it, 0" no longer applies)."""
    n = len(cand)
    ent = np.full(n, -1, dtype=np.int64)
    cand_undef = np.zeros(n, dtype=np.bool_)
    kind = np.zeros(n, dtype=np.int8)
    blocks = np.zeros(n, dtype=np.bool_)
    cum = 0
    poisoned = False
    for k in range(n):
        if new_group[k]:
            cum = 0
            poisoned = False
        c = cand[k]
        rm = c * n_med + med[k]
        cov = covers[rm]
        und = undef[rm]
        counts = not_excluded[k] and (ref_in_prov[k] or not req_ref[c])
        elig = cov and counts
        if not active[k]:
            continue
        if elig:
            cum += base[k]
            if base_null[k]:
                poisoned = True
        sid = sched[c * span + day[k]]
        defined = sid >= 0
        # idle (excluded, or a med_type neither covered nor named): bounds the entitlement by
        # F on the unchanged base when known, never makes the claim undefined (engine _idle)
        idle = not counts or (not cov and not und)
        if not idle:
            cand_undef[k] = und or (not defined and cov) or (defined and poisoned)
            kind[k] = 0 if und else (1 if not defined else 2)
        if (idle or not und) and defined and not poisoned:
            ent[k] = annual_amount(sid, cum, threshold, seg_start, seg_bp, nseg, cap, trigger, bp_one)
        blocks[k] = not idle
    return ent, cand_undef, kind, blocks
