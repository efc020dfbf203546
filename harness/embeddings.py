"""The embedding engine: each split encoded once per model, in batches, normalised.

Metrics never encode for themselves: they ask the engine, which caches split embeddings by split
name and text embeddings by text, so no metric re-encodes what another already encoded.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import datasets
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from harness.benchmarks.base import Split
from harness.progress import progress_bar

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class SplitEmbeddings:
    """Normalised image and caption embeddings of a split's rows, in row order (float32, CPU)."""

    split: str
    image: torch.Tensor
    text: torch.Tensor
    identity_ids: list[str | None]
    texts: list[str]
    file_names: list[str]

    def pair_similarities(self) -> torch.Tensor:
        """Cosine similarity of each image with its own caption."""
        return (self.image * self.text).sum(dim=1)


class _ImageRows(Dataset):
    def __init__(self, dataset: datasets.Dataset, transform: Callable, column: str) -> None:
        self.dataset, self.transform, self.column = dataset, transform, column

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.transform(self.dataset[index][self.column].convert("RGB"))


def default_workers() -> int:
    """DataLoader workers for image decoding: all cores but one, at most 8."""
    return max(0, min(8, (os.cpu_count() or 1) - 1))


class EmbeddingEngine:
    """Encodes splits, images and texts for one model on one device and precision."""

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Callable[..., torch.Tensor],
        preprocess: Callable,
        device: torch.device,
        precision: str = "fp32",
        batch_size: int = 256,
        num_workers: int | None = None,
        show_progress: bool = True,
        label: str = "model",
    ) -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.preprocess = preprocess
        self.device = device
        self.precision = precision
        self.batch_size = batch_size
        self.num_workers = default_workers() if num_workers is None else num_workers
        self.show_progress = show_progress
        self.label = label
        self._splits: dict[str, SplitEmbeddings] = {}
        self._texts: dict[str, torch.Tensor] = {}

    def split(self, split: Split) -> SplitEmbeddings:
        """The split's embeddings, encoded on first use."""
        if split.name not in self._splits:
            self._splits[split.name] = SplitEmbeddings(
                split=split.name,
                image=self.images(split.dataset, desc=f"{self.label}: {split.name} images"),
                text=self.texts(split.texts, desc=f"{self.label}: {split.name} captions"),
                identity_ids=split.identity_ids,
                texts=split.texts,
                file_names=split.file_names,
            )
        return self._splits[split.name]

    def images(
        self, dataset: datasets.Dataset, column: str = "image", desc: str = "images"
    ) -> torch.Tensor:
        """Normalised embeddings of every image of ``dataset``."""
        loader = DataLoader(
            _ImageRows(dataset, self.preprocess, column),
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
        )
        chunks = []
        with self._inference():
            for batch in progress_bar(loader, desc=desc, enabled=self.show_progress):
                batch = batch.to(self.device, non_blocking=True)
                chunks.append(F.normalize(self.model.encode_image(batch).float(), dim=-1).cpu())
        return torch.cat(chunks) if chunks else torch.empty(0, 0)

    def texts(self, texts: Sequence[str], desc: str = "texts") -> torch.Tensor:
        """Normalised embeddings of ``texts``; each distinct text is encoded once per engine."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._texts))
        batches = [todo[i : i + self.batch_size] for i in range(0, len(todo), self.batch_size)]
        with self._inference():
            for batch in progress_bar(
                batches, desc=desc, enabled=self.show_progress and bool(todo)
            ):
                tokens = self.tokenizer(batch).to(self.device, non_blocking=True)
                encoded = F.normalize(self.model.encode_text(tokens).float(), dim=-1).cpu()
                self._texts.update(zip(batch, encoded, strict=True))
        if not texts:
            return torch.empty(0, 0)
        return torch.stack([self._texts[t] for t in texts])

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        dtype = AUTOCAST_DTYPES.get(self.precision)
        autocast = (
            torch.autocast(self.device.type, dtype=dtype)
            if dtype is not None and self.device.type == "cuda"
            else contextlib.nullcontext()
        )
        with torch.inference_mode(), autocast:
            yield
