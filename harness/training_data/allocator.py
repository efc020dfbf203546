"""Keeping freed large blocks of host memory for reuse, for runs that train on a CPU.

A batch of 128 float images at 224 px is 77 MB. glibc's malloc serves blocks above 32 MB with
a fresh ``mmap`` and unmaps them when freed, so every batch made in the method's process costs
a page fault per 4 KiB (about 19,000 a batch, a quarter of the data path's time on a 2-core
virtual machine). Raising the mmap threshold and the trim threshold makes freed batches go back
to the heap and the next batch reuse their pages. The process keeps its peak heap instead of
returning it between batches. Where malloc is not glibc's, nothing changes.
"""

from __future__ import annotations

import ctypes
import functools
import logging

#: glibc's mallopt parameters
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: blocks up to this size come from the heap (a batch of 1,024 images at 224 px fits)
HEAP_BLOCKS_UP_TO = 1 << 30
logger = logging.getLogger("salmu_harness")


@functools.cache
def keep_large_blocks() -> bool:
    """Ask glibc to serve and keep large blocks on the heap (once per process); whether it
    took effect."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    kept = bool(mallopt(M_MMAP_THRESHOLD, HEAP_BLOCKS_UP_TO)) and bool(
        mallopt(M_TRIM_THRESHOLD, 2 * HEAP_BLOCKS_UP_TO)
    )
    logger.debug("large host blocks kept for reuse: %s", kept)
    return kept
