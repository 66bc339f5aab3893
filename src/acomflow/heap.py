"""Heap tuning for long per-frame loops.

glibc's malloc serves blocks above 128 KiB with fresh memory maps and returns them to the
system on free, so each frame's work arrays cost page faults again (about 1,300 faults, 2 ms
of a 512 x 512 frame). Keeping such blocks in the heap lets the next frame reuse them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@functools.cache
def reuse_freed_blocks(largest: int = 32 << 20, kept: int = 256 << 20) -> bool:
    """Serve blocks up to `largest` bytes from the heap and keep up to `kept` freed bytes there
    (process-wide, once). False where the C library is not glibc: nothing is changed there."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        mallopt = None
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, largest)) and bool(mallopt(_M_TRIM_THRESHOLD, kept))
