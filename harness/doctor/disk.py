"""Checks of free disk space against what SALMUBench will write, sized from its row counts and
image geometries: the dataset and weights in the hub cache, the arrow copy ``datasets`` makes,
and the harness's evaluation and training image caches.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.doctor.record import Check

#: channels of a cached uint8 image
CHANNELS = 3
#: warn when less than this share of free space would remain after everything is written
HEADROOM = 0.1


@dataclass(frozen=True)
class Need:
    """Bytes one thing will write under a folder (``None``: cannot be sized here)."""

    what: str
    area: str
    """The cache it goes to (``hub cache``, ``datasets cache``, ``harness cache``)."""
    folder: Path
    size: int | None
    how: str
    """How the size was found (for the row's detail)."""


def image_cache_needs(
    stored_rows: dict[str, int], method_rows: int, image_side: int, train_side: int, cache: Path
) -> list[Need]:
    """The evaluation image cache (every stored row at the model's input side, uint8) and the
    training image cache (the rows a method trains on, at the cached training side)."""
    evaluated = sum(stored_rows.values())
    return [
        Need(
            "evaluation image cache",
            "harness cache",
            cache,
            evaluated * CHANNELS * image_side**2,
            f"at most {evaluated:,} images x {CHANNELS}x{image_side}x{image_side} uint8",
        ),
        Need(
            "training image cache",
            "harness cache",
            cache,
            method_rows * CHANNELS * train_side**2,
            f"at most {method_rows:,} images x {CHANNELS}x{train_side}x{train_side} uint8",
        ),
    ]


def disk_checks(
    needs: Iterable[Need], free_bytes: Callable[[Path], int] | None = None
) -> list[Check]:
    """One row per file system: the sum of what will be written there against its free space."""
    free_bytes = free_bytes or _free_bytes
    by_device: dict[object, list[Need]] = {}
    for need in needs:
        by_device.setdefault(_device(need.folder), []).append(need)
    checks = []
    for group in by_device.values():
        areas = list(dict.fromkeys(n.area for n in group))
        free = free_bytes(group[0].folder)
        sized = [n for n in group if n.size is not None]
        unsized = [n for n in group if n.size is None]
        total = sum(n.size or 0 for n in sized)
        parts = "; ".join(f"{n.what} {_gib(n.size or 0)} ({n.how})" for n in sized)
        mount = _mount_point(group[0].folder)
        detail = f"{_gib(free)} free on {mount}" + (
            f", {_gib(total)} for a first run: {parts}" if sized else ""
        )
        if unsized:
            detail += "; cannot size here: " + ", ".join(f"{n.what} ({n.how})" for n in unsized)
        name = "space for the " + ", ".join(areas)
        if total > free:
            checks.append(
                Check(
                    "disk",
                    name,
                    "problem",
                    detail,
                    f"free {_gib(total - free)} there, or point the caches elsewhere "
                    "(HF_HOME, HF_DATASETS_CACHE, SALMU_HARNESS_CACHE)",
                )
            )
        elif unsized or free - total < HEADROOM * free:
            checks.append(
                Check(
                    "disk",
                    name,
                    "warning",
                    detail,
                    "check the unsized items once the hub can be reached"
                    if unsized
                    else "little space would remain: free some, or move a cache",
                )
            )
        else:
            checks.append(Check("disk", name, "ok", detail))
    return checks


def train_side(image_side: int) -> int:
    """The side of a cached training square for a model input of ``image_side``."""
    from harness.training_data.geometry import SIDE_FACTOR

    return math.ceil(image_side * SIDE_FACTOR)


def _free_bytes(folder: Path) -> int:
    return shutil.disk_usage(_existing(folder)).free


def _mount_point(folder: Path) -> Path:
    path = _existing(folder)
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _device(folder: Path) -> object:
    try:
        return os.stat(_existing(folder)).st_dev
    except OSError:
        return str(folder)


def _existing(folder: Path) -> Path:
    """``folder`` or its nearest existing parent (caches are created on first use)."""
    folder = Path(folder).expanduser().absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _gib(size: int) -> str:
    return f"{size / 2**30:,.1f} GiB"
