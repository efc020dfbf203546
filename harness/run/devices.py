"""Seeding the global generators for a run, and choosing the device and precision."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import numpy as np

from harness.errors import ParameterError

if TYPE_CHECKING:
    import torch

PRECISIONS = ("fp32", "bf16", "fp16")


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (CPU and every GPU)."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(requested: str) -> torch.device:
    """``auto`` picks the first GPU when there is one; ``cuda[:N]`` must exist."""
    import torch

    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except (RuntimeError, ValueError) as exc:
        raise ParameterError(
            f"device {requested!r} is not a device", "use auto, cpu, cuda or cuda:N"
        ) from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ParameterError(
                f"device {requested!r}: this machine has no CUDA GPU", "use --device cpu (or auto)"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ParameterError(
                f"device {requested!r}: only {torch.cuda.device_count()} GPU(s) are visible"
            )
    elif device.type != "cpu":
        raise ParameterError(f"device {requested!r} is not supported", "use auto, cpu or cuda[:N]")
    return device


def check_precision(precision: str, device: torch.device) -> str:
    """The precision, if valid on ``device`` (mixed precision is for GPUs; CPUs stay fp32)."""
    if precision not in PRECISIONS:
        raise ParameterError(f"precision {precision!r} is unknown", f"use one of {PRECISIONS}")
    if precision != "fp32" and device.type != "cuda":
        raise ParameterError(f"precision {precision} needs a CUDA device", "use --precision fp32")
    return precision
