"""The training image cache: each split's images decoded once, at a croppable geometry.

Entries live beside the evaluation's in ``$SALMU_HARNESS_CACHE/images`` (same staging, same
commit, listed and cleared by ``salmu-harness cache``): one uint8 ``[rows, side, side, 3]``
file of squares (``geometry``), the originals' (width, height) as a per-row array, and the JSON
description, keyed by the benchmark's scope, the split's content hash and the geometry. Every
run and sweep trial of the same benchmark revision reads the same entry, memory-mapped.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from typing import Any

import datasets
import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from harness.benchmarks.base import Split
from harness.errors import BenchmarkError
from harness.evaluation.image_cache import ImageCache, content_key
from harness.progress import progress_bar
from harness.training_data.geometry import TrainGeometry
from harness.training_data.sources import CachedPixels

#: images per decoding batch (bounded host memory for the workers' prefetched batches)
DECODE_BATCH = 128
logger = logging.getLogger("salmu_harness")


class _Squares(Dataset):
    """Row -> (square, original size, error): decoding errors travel as text, never raise
    in a worker, so the main process can name the split and the row."""

    def __init__(self, dataset: datasets.Dataset, geometry: TrainGeometry) -> None:
        self.dataset = dataset.cast_column("image", datasets.Image(decode=False))
        self.geometry = geometry

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, row: int) -> dict[str, Any]:
        side = self.geometry.side
        try:
            raw = self.dataset[row]["image"]
            with Image.open(io.BytesIO(raw["bytes"]) if raw["bytes"] else raw["path"]) as image:
                image.load()
                size = image.size
                square = self.geometry.cached_pixels(image)
            error = ""
        except Exception as exc:  # a corrupt image: reported by the main process
            square, size, error = np.zeros((side, side, 3), np.uint8), (0, 0), str(exc) or repr(exc)
        return {"square": torch.from_numpy(square), "size": torch.tensor(size), "error": error}


def cache_key(scope: str, split: Split, geometry: TrainGeometry) -> str:
    """The entry of ``split`` at ``geometry`` for the benchmark ``scope``."""
    return content_key(scope, split.sha256, "image", "training", geometry.description)


def cached_pixels(
    split: Split,
    geometry: TrainGeometry,
    scope: str,
    cache: ImageCache,
    workers: int,
    show_progress: bool = True,
) -> tuple[CachedPixels, bool]:
    """The split's cached squares, and whether they were found (False: built now).

    A corrupt image ends the build with a ``BenchmarkError`` naming the split and the row; an
    interrupted build (Ctrl-C) leaves no entry. Raises ``OSError`` when the entry cannot be
    written (the caller falls back to the exact path). A derived split (a schedule's request
    of the forget split) reads its parent's entry through its rows: one entry, decoded once,
    serves every request."""
    if split.parent is not None and split.parent_rows is not None:
        whole, hit = cached_pixels(split.parent, geometry, scope, cache, workers, show_progress)
        return whole.subset(split.parent_rows), hit
    key = cache_key(scope, split, geometry)
    found = _load(cache, key, geometry)
    if found is not None:
        cache.hits += 1
        return found, True
    sizes = np.zeros((len(split), 2), dtype=np.int32)
    description = {
        "scope": scope,
        "images": f"{split.name} (training, {geometry.side}x{geometry.side} squares)",
        "purpose": "training",
        "content_sha256": split.sha256,
        "column": "image",
        "transform": geometry.description,
    }
    batches = _decoded(split, geometry, sizes, workers, show_progress)
    filling = cache.filling(key, batches, description, extras=lambda: {"sizes": sizes})
    with contextlib.closing(filling):
        for _ in filling:
            pass
    built = _load(cache, key, geometry)
    if built is None:
        raise OSError(f"the training image cache entry {key} could not be written")
    return built, False


def _decoded(
    split: Split, geometry: TrainGeometry, sizes: np.ndarray, workers: int, show_progress: bool
) -> Iterator[torch.Tensor]:
    loader = DataLoader(
        _Squares(split.dataset, geometry),
        batch_size=DECODE_BATCH,
        num_workers=workers,
        generator=torch.Generator(),  # its base seed is not drawn from the method's generator
    )
    desc = f"{split.name}: decoding once for the training image cache"
    start = 0
    for batch in progress_bar(loader, desc=desc, enabled=show_progress, total=len(loader)):
        for offset, error in enumerate(batch["error"]):
            if error:
                row = start + offset
                raise BenchmarkError(
                    f"the {split.name} split's row {row} ({split.file_names[row]}) is not a "
                    f"readable image: {error}",
                    "the benchmark's files are damaged: download or build it again; "
                    "nothing was cached",
                )
        sizes[start : start + len(batch["size"])] = batch["size"].numpy()
        start += len(batch["size"])
        yield batch["square"]


def _load(cache: ImageCache, key: str, geometry: TrainGeometry) -> CachedPixels | None:
    pixels = cache.load(key)
    sizes = cache.load_extra(key, "sizes")
    if pixels is None or sizes is None or len(sizes) != len(pixels):
        return None
    if tuple(pixels.shape[1:]) != (geometry.side, geometry.side, 3):
        return None
    description = {
        "image_cache": "on",
        "pixels": f"cached {geometry.side}x{geometry.side} squares, cropped per sample",
    }
    return CachedPixels(cache.root / f"{key}.u8", tuple(pixels.shape), sizes, geometry, description)
