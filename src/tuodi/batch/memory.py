"""How the `tuodi` process asks for memory, tuned for columns of hundreds of MB.

The columnar path allocates and frees arrays of 10M values one after another. Fresh memory is
the expensive part: every new page is faulted in and cleared by the kernel, and on this project's
virtual machines that costs more than the arithmetic done on it. So the process keeps and reuses
what it frees:

- glibc keeps freed blocks in its heap (raised mmap and trim thresholds) instead of unmapping
  them, and uses a single arena, so that the settling threads reuse the main thread's freed
  blocks (a thread's own arena maps every block over 64 MB afresh and unmaps it when freed);
- numpy does not ask for transparent huge pages: with `defrag=madvise` (Debian's default) each
  huge-page fault may compact memory synchronously, which made runs vary from 0.2 to 4.5 s per
  2 GB; ordinary pages cost a steady 0.4 s per GB.

It must run before numpy is imported and before a second thread allocates (glibc fixes the arena
limit then), hence its call at the top of `tuodi.cli`. Outside glibc it does nothing.
"""
from __future__ import annotations

import ctypes
import os

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8


def tune_allocator() -> None:
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_ARENA_MAX, 1)
        libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30)
        libc.mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass
