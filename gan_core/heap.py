"""Keep glibc's heap from holding freed tensors: map large allocations.

On the CPU torch allocates every tensor with malloc. glibc's threshold for
serving a request with its own mmap starts at 128 KiB and rises to each freed
mapped block's size (up to 32 MiB), so after the first training step the
activations of 128 KiB to 32 MiB stay in the heap when freed; the holes they
leave are resident and do not fit the next step's mix of sizes, and peak RSS
grows from step to step (bench/bench_train_memory.py: StyleGAN2-128, batch 4,
+1.1 GB from step 0 to step 1, same phase). A fixed threshold (mallopt
M_MMAP_THRESHOLD, which also stops the dynamic adjustment) returns every large
tensor to the system when it is freed. It is a trade, so it is off unless
asked for: every mapped allocation is page-faulted and zeroed afresh, and a
DCGAN-64 CPU step took 1.3x as long with a 1 MiB threshold (0.76 s against
1.00 s, bench/RESULTS.md). Set ``GAN_MALLOC_MMAP_THRESHOLD`` to the bytes wanted
(1048576 is what the memory bench uses) when RAM is what runs out; 0, the
default, leaves glibc's own behaviour, and glibc's own
``MALLOC_MMAP_THRESHOLD_`` wins when set. No-op on other C libraries; GPU
training keeps its tensors on the device, where this plays no part.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
DEFAULT_THRESHOLD = 0  # glibc's own: mapping costs CPU time (docstring)
ENV = "GAN_MALLOC_MMAP_THRESHOLD"

_applied: int | None = None


def threshold_from_env() -> int:
    """The threshold in bytes ``GAN_MALLOC_MMAP_THRESHOLD`` asks for (0: none)."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return DEFAULT_THRESHOLD
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(
            f"{ENV} must be a whole number of bytes (got {raw!r})"
        ) from None
    if value < 0:
        raise ValueError(f"{ENV} must be 0 or more (got {value})")
    return value


def map_large_allocations() -> int:
    """Fix glibc's mmap threshold once per process; returns the threshold set
    (0 when left alone: asked to, glibc's own variable set, or not glibc)."""
    global _applied
    if _applied is not None:
        return _applied
    threshold = threshold_from_env()
    if threshold == 0 or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        _applied = 0
        return 0
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc: nothing to tune
        _applied = 0
        return 0
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = threshold if mallopt(M_MMAP_THRESHOLD, threshold) == 1 else 0
    return _applied
