"""Large blocks of memory given back to the system when freed (glibc only).

glibc's malloc maps a block of its own for a request above its mmap threshold and unmaps it when
freed; below, it carves the request from the heap, whose free holes stay resident. The threshold
starts at 128 KiB and rises to the size of each mapped block freed, up to 32 MiB: after the first
large tensors come and go, every tensor up to 32 MiB (a 1024 px tile's activations at a VGG
layer, a level's targets) comes from the heap, and at full resolution the holes they leave
between levels and tiles add up. Fixing the threshold at LARGE_BLOCK_BYTES (which also stops it
rising) keeps such tensors out of the heap: a 2048x1364 run's peak went from 3112 to 2701 MiB
(docs/measurements/2026-12-precision-and-reuse.md). Set once, before TensorFlow starts, so that
its first blocks are placed so too; a user's own MALLOC_MMAP_THRESHOLD_ or glibc tunable wins.
"""
from __future__ import annotations

import ctypes
import os

from nst_tf.limits import LARGE_BLOCK_BYTES

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


def release_large_blocks() -> bool:
    """Fixes glibc's mmap threshold at LARGE_BLOCK_BYTES; whether it was set (False on another C
    library, or when the user set the threshold)."""
    # confstr, not platform.libc_ver(), which scans the Python binary at every start.
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return False
    except (ValueError, OSError, AttributeError):  # not a glibc system
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "mmap_threshold" in os.environ.get(
            "GLIBC_TUNABLES", ""):
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES))
    except (OSError, AttributeError):
        return False
