"""The preprocessed-image cache: a split's images decoded, resized and cropped once, on disk.

An evaluation transform (open_clip's ``Resize -> CenterCrop -> RGB -> ToTensor -> Normalize``)
is split in two: the pixel geometry up to ``ToTensor``, whose uint8 output is cached, and the
float conversion plus normalisation, redone on every read with the same operations (so cached
and uncached embeddings are bit-identical). Entries live under ``$SALMU_HARNESS_CACHE/images``,
one raw ``uint8`` file of shape ``[rows, 3, H, W]`` and one JSON file each, keyed by the
benchmark, the content hash of the images and the geometry. They are read memory-mapped. An
entry may carry small per-row arrays beside its pixels (``extras``: the training cache's
original image sizes), written before the JSON file that makes the entry visible.
Writers stage to a temp file and rename, so concurrent writers are safe (both write the same
bytes; readers only ever see whole files).
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torchvision.transforms import Compose, Normalize, ToTensor
from torchvision.transforms import functional as TF

from harness.storage import cache_dir, write_bytes_atomic, write_json_atomic

AREA = "images"
logger = logging.getLogger("salmu_harness")
FORMAT_VERSION = "1"


@dataclass(frozen=True)
class PixelTransform:
    """An evaluation transform split into cacheable geometry and per-read normalisation."""

    geometry: Callable[[Any], Any]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    description: str

    @classmethod
    def split(cls, preprocess: Any) -> PixelTransform | None:
        """The split of ``preprocess``, or None when it is not ``... -> ToTensor -> Normalize``."""
        steps = list(getattr(preprocess, "transforms", []))
        at = next((i for i, step in enumerate(steps) if isinstance(step, ToTensor)), None)
        if at is None or len(steps) != at + 2 or not isinstance(steps[-1], Normalize):
            return None
        normalize = steps[-1]
        geometry = steps[:at]
        return cls(
            geometry=Compose(geometry) if geometry else _identity,
            mean=tuple(float(v) for v in normalize.mean),
            std=tuple(float(v) for v in normalize.std),
            description=json.dumps([_describe(step) for step in geometry]),
        )

    def pixels(self, image: Any) -> torch.Tensor:
        """One image as the uint8 ``[3, H, W]`` tensor that is cached."""
        return TF.pil_to_tensor(self.geometry(image.convert("RGB")))

    def normalise(self, pixels: torch.Tensor) -> torch.Tensor:
        """What ``ToTensor`` then ``Normalize`` would have produced, for a uint8 batch."""
        return TF.normalize(pixels.to(torch.float32).div(255), self.mean, self.std)


def content_key(*parts: str) -> str:
    """A cache key from its parts (content hashes, transform description, scope)."""
    material = json.dumps([FORMAT_VERSION, *parts])
    return hashlib.sha256(material.encode()).hexdigest()


class ImageCache:
    """uint8 image tensors on disk, one entry per (benchmark, image content, geometry)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else cache_dir(AREA)
        self.hits = 0
        self.misses = 0

    def load(self, key: str) -> torch.Tensor | None:
        """The cached tensor (memory-mapped), or None when absent or incomplete."""
        meta_path, data_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text())
            shape = tuple(int(n) for n in meta["shape"])
            if data_path.stat().st_size != int(np.prod(shape)):
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if int(np.prod(shape)) == 0:
            return torch.empty(shape, dtype=torch.uint8)
        flat = torch.from_file(
            str(data_path), shared=False, size=int(np.prod(shape)), dtype=torch.uint8
        )
        return flat.view(shape)

    def lookup(self, key: str) -> torch.Tensor | None:
        """The cached tensor (counted as a hit), or None."""
        found = self.load(key)
        if found is not None:
            self.hits += 1
        return found

    def load_extra(self, key: str, name: str) -> np.ndarray | None:
        """The per-row array ``name`` stored with the entry ``key``, or None when absent."""
        try:
            return np.load(_extra_path(self.root, key, name), allow_pickle=False)
        except (OSError, ValueError):
            return None

    def filling(
        self,
        key: str,
        batches: Iterable[torch.Tensor],
        description: dict[str, Any],
        extras: Callable[[], dict[str, np.ndarray]] | None = None,
    ) -> Generator[torch.Tensor, None, None]:
        """Yield each uint8 ``[n, 3, H, W]`` batch of ``batches`` while writing it to the entry
        ``key``, so the first model encodes the images as they are decoded. The entry appears
        only once every batch was written; a consumer that stops early leaves none. A write
        that fails (full disk, read-only cache) is logged and the batches keep coming.
        ``extras()``, called once the batches are done, gives per-row arrays stored beside."""
        self.misses += 1
        writer: _EntryWriter | None = None
        try:
            writer = _EntryWriter(self.root, key)
        except OSError as exc:
            logger.warning("image cache unavailable (%s); images are not cached", exc)
        completed = False
        try:
            for batch in batches:
                if writer is not None:
                    try:
                        writer.write(batch)
                    except OSError as exc:
                        logger.warning("image cache write failed (%s); not caching", exc)
                        writer.discard()
                        writer = None
                yield batch
            completed = True
        finally:
            if writer is not None:
                if completed:
                    try:
                        writer.commit(description, extras() if extras else {})
                    except OSError as exc:
                        logger.warning("image cache write failed (%s); not caching", exc)
                        writer.discard()
                else:
                    writer.discard()

    def get_or_build(
        self, key: str, batches: Callable[[], Iterable[torch.Tensor]], description: dict[str, Any]
    ) -> torch.Tensor:
        """The cached tensor, building it from ``batches()`` (uint8 ``[n, 3, H, W]``) if absent."""
        found = self.lookup(key)
        if found is not None:
            return found
        for _ in self.filling(key, batches(), description):
            pass
        loaded = self.load(key)
        if loaded is None:
            raise OSError(f"the image cache entry {key} could not be written under {self.root}")
        return loaded

    def entries(self) -> list[dict[str, Any]]:
        """Every complete entry's description, size in bytes and key."""
        out = []
        for meta_path in sorted(self.root.glob("*.json")):
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                continue
            data_path = meta_path.with_suffix(".u8")
            size = data_path.stat().st_size if data_path.exists() else 0
            out.append({**meta, "key": meta_path.stem, "bytes": size})
        return out

    def clear(self) -> int:
        """Delete every entry; returns the bytes freed."""
        freed = folder_bytes(self.root)
        shutil.rmtree(self.root, ignore_errors=True)
        return freed

    def _paths(self, key: str) -> tuple[Path, Path]:
        return _paths(self.root, key)


def _paths(root: Path, key: str) -> tuple[Path, Path]:
    return root / f"{key}.json", root / f"{key}.u8"


def _extra_path(root: Path, key: str, name: str) -> Path:
    return root / f"{key}.{name}.npy"


class _EntryWriter:
    """One entry being written: a temp file renamed into place, then its JSON description."""

    def __init__(self, root: Path, key: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.meta_path, self.data_path = _paths(root, key)
        handle, temporary = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=root)
        self.temporary = Path(temporary)
        self.stream = os.fdopen(handle, "wb")
        self.rows = 0
        self.shape: tuple[int, ...] | None = None

    def write(self, batch: torch.Tensor) -> None:
        self.shape = tuple(batch.shape[1:])
        self.rows += batch.shape[0]
        self.stream.write(batch.contiguous().numpy().tobytes())

    def commit(self, description: dict[str, Any], extras: dict[str, np.ndarray]) -> None:
        self.stream.close()
        os.replace(self.temporary, self.data_path)
        for name, values in extras.items():
            target = _extra_path(self.data_path.parent, self.data_path.stem, name)
            with io.BytesIO() as buffer:
                np.save(buffer, values, allow_pickle=False)
                write_bytes_atomic(target, buffer.getvalue())
        shape = [self.rows, *(self.shape or (3, 0, 0))]
        write_json_atomic(self.meta_path, {"shape": shape, "dtype": "uint8", **description})

    def discard(self) -> None:
        self.stream.close()
        self.temporary.unlink(missing_ok=True)


def folder_bytes(folder: Path) -> int:
    """Total size of the files under ``folder`` (0 when it does not exist)."""
    if not folder.exists():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _identity(image: Any) -> Any:
    return image


def _describe(step: Any) -> str:
    # stable across processes: never a repr that holds a memory address
    if inspect.isfunction(step):
        return f"{step.__module__}.{step.__qualname__}"
    kind = type(step)
    if kind.__repr__ is not object.__repr__:
        return repr(step)
    state = {k: repr(v) for k, v in sorted(vars(step).items())}
    return f"{kind.__module__}.{kind.__qualname__}{json.dumps(state)}"
