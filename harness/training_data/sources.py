"""Turning rows of a split into a batch's tensors: from the training image cache, or exactly.

Both run in DataLoader workers or in the main process and give the same tensors either way:
each sample's draws come from its own seed (``draws``). The exact path decodes each PNG and
applies the model's own ``preprocess_train`` (any transform, today's pixels); the cached path
crops the cached squares (``geometry``). Neither touches the process's random generators.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch

from harness.training_data.draws import preserved_generator, reseed
from harness.training_data.geometry import TrainGeometry


@dataclass(frozen=True)
class Job:
    """One batch to prepare: its rows and each sample's seed."""

    rows: tuple[int, ...]
    seeds: tuple[int, ...]


class PixelSource:
    """Training images of rows, given each sample's seed: ``images`` runs where the batch is
    prepared (a worker), ``finish`` in the method's process, on the model's device."""

    description: dict[str, Any]
    """What results record of this source."""

    def images(self, rows: Sequence[int], seeds: Sequence[int]) -> torch.Tensor:
        raise NotImplementedError

    def finish(
        self, images: torch.Tensor, device: torch.device, out: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The float ``[n, 3, H, W]`` batch a method receives, from what ``images`` made
        (written into ``out`` where the source computes it and ``out`` fits)."""
        return images


class ExactPixels(PixelSource):
    """Each PNG decoded and put through ``preprocess_train`` (PIL), seeded per sample."""

    def __init__(self, dataset: datasets.Dataset, transform: Callable, reason: str) -> None:
        self.dataset = dataset
        self.transform = transform
        self.description = {"image_cache": "off", "reason": reason, "pixels": "exact"}

    def images(self, rows: Sequence[int], seeds: Sequence[int]) -> torch.Tensor:
        records = self.dataset.select(list(rows))
        out = []
        with preserved_generator():
            for record, seed in zip(records, seeds, strict=True):
                reseed(seed)
                out.append(self.transform(record["image"].convert("RGB")))
        return torch.stack(out, out=_shared_like(out[0], len(out)))


class CachedPixels(PixelSource):
    """Crops of the cached squares. The memory map is opened in each process that reads it
    (a pickled source carries the file's path, never its pixels)."""

    def __init__(
        self,
        path: Path,
        shape: tuple[int, ...],
        sizes: np.ndarray,
        geometry: TrainGeometry,
        description: dict[str, Any],
        rows: np.ndarray | None = None,
    ) -> None:
        self.path, self.shape, self.sizes, self.geometry = path, shape, sizes, geometry
        self.description = description
        self.rows = rows
        """For a derived split read from its parent's entry: each row's row in the entry."""
        self._pixels: torch.Tensor | None = None

    def subset(self, rows: Sequence[int]) -> CachedPixels:
        """The same entry read as the derived split whose row k is this one's ``rows[k]``."""
        mapped = np.asarray(rows, dtype=np.int64)
        if self.rows is not None:
            mapped = self.rows[mapped]
        return CachedPixels(
            self.path, self.shape, self.sizes, self.geometry, self.description, mapped
        )

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_pixels": None}

    @property
    def pixels(self) -> torch.Tensor:
        """The cached ``[rows, side, side, 3]`` uint8 squares, memory-mapped."""
        if self._pixels is None:
            count = int(np.prod(self.shape))
            flat = torch.from_file(str(self.path), shared=False, size=count, dtype=torch.uint8)
            self._pixels = flat.view(self.shape)
        return self._pixels

    def images(self, rows: Sequence[int], seeds: Sequence[int]) -> torch.Tensor:
        out_h, out_w = self.geometry.crop.size
        out = _shared_like(torch.empty(3, out_h, out_w, dtype=torch.uint8), len(rows))
        if self.rows is not None:
            rows = self.rows[np.asarray(rows, dtype=np.int64)].tolist()
        return self.geometry.apply(self.pixels, rows, self.sizes, seeds, out)

    def finish(
        self, images: torch.Tensor, device: torch.device, out: torch.Tensor | None = None
    ) -> torch.Tensor:
        """uint8 crops normalised on ``device``: a GPU receives a quarter of float32's bytes
        and normalises them itself; on a CPU this is the one pass the method's process does
        (into ``out`` when it has the batch's shape)."""
        if device.type == "cuda":
            return self.geometry.normalise(images.to(device, non_blocking=True))
        fits = out is not None and out.shape == images.shape and out.dtype == torch.float32
        return self.geometry.normalise(images, out if fits else None)


def _shared_like(sample: torch.Tensor, count: int) -> torch.Tensor | None:
    """In a DataLoader worker, a ``[count, *sample.shape]`` tensor in shared memory, so
    the batch reaches the main process without a copy (as DataLoader's own collate does);
    None in the main process."""
    if torch.utils.data.get_worker_info() is None:
        return None
    shape = (count, *sample.shape)
    storage = sample.untyped_storage()._new_shared(sample.element_size() * int(np.prod(shape)))
    return torch.empty(0, dtype=sample.dtype).set_(storage).view(shape)


class BatchMaker(torch.utils.data.Dataset):
    """A map-style dataset whose items are whole batches: ``maker[job]`` -> images, tokens."""

    def __init__(
        self, source: PixelSource, texts: Sequence[str], tokenizer: Callable[..., torch.Tensor]
    ) -> None:
        self.source, self.texts, self.tokenizer = source, list(texts), tokenizer
        self._tokens: dict[int, torch.Tensor] = {}  # row -> token row, per process

    def __getitem__(self, job: Job) -> dict[str, Any]:
        return {
            "images": self.source.images(job.rows, job.seeds),
            "tokens": self.tokens(job.rows),
            "rows": list(job.rows),
        }

    def tokens(self, rows: Sequence[int]) -> torch.Tensor:
        """The token rows of ``rows``' captions, each caption tokenised once per process
        (a caption's tokens never depend on the others of its batch)."""
        missing = list(dict.fromkeys(i for i in rows if i not in self._tokens))
        if missing:
            encoded = self.tokenizer([self.texts[i] for i in missing])
            self._tokens.update(zip(missing, encoded, strict=True))
        return torch.stack([self._tokens[i] for i in rows])

    def __len__(self) -> int:  # jobs come from a sampler; the length is never used
        return len(self.texts)
