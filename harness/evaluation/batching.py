"""The evaluation batch size: fixed when asked, else the largest that fits on a GPU."""

from __future__ import annotations

import logging
from typing import Any, cast

import torch

CPU_BATCH = 256
GPU_START, GPU_LIMIT = 256, 4096
logger = logging.getLogger("salmu_harness")


def auto_batch_size(
    model: torch.nn.Module,
    image_shape: tuple[int, int, int],
    device: torch.device,
    dtype: torch.dtype | None = None,
    start: int = GPU_START,
    limit: int = GPU_LIMIT,
) -> int:
    """The largest power-of-two multiple of ``start`` (up to ``limit``) whose image forward
    pass fits in GPU memory; ``CPU_BATCH`` on other devices."""
    if device.type != "cuda":
        return CPU_BATCH
    best, size = None, start
    while size <= limit:
        try:
            _trial(model, image_shape, device, dtype, size)
        except (torch.cuda.OutOfMemoryError, RuntimeError) as exc:
            if isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc):
                break
            raise
        finally:
            torch.cuda.empty_cache()
        best, size = size, size * 2
    if best is None:
        best = max(1, start // 8)
        logger.warning("even a batch of %d images does not fit; using %d", start, best)
    logger.info("evaluation batch size: %d (largest that fits, up to %d)", best, limit)
    return best


def _trial(
    model: torch.nn.Module,
    image_shape: tuple[int, int, int],
    device: torch.device,
    dtype: torch.dtype | None,
    size: int,
) -> None:
    batch = torch.zeros((size, *image_shape), device=device)
    autocast = torch.autocast("cuda", dtype=dtype, enabled=dtype is not None)
    with torch.inference_mode(), autocast:
        cast(Any, model).encode_image(batch)
    torch.cuda.synchronize(device)
