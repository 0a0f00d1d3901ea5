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
