"""The embedding engine: each split encoded once per model, in batches, normalised.

Metrics never encode for themselves: they ask the engine, which caches split embeddings by split
name and text embeddings by text, so no metric re-encodes what another already encoded.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import datasets
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from harness.benchmarks.base import Split
from harness.evaluation.image_cache import ImageCache, PixelTransform, content_key
from harness.evaluation.short_text import ShortTextEncoder, text_lengths
from harness.evaluation.stages import StageClock
from harness.evaluation.tokens import TokenCache
from harness.progress import progress_bar

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
#: texts per text-encoder batch, always (the last batch is padded with empty texts)
TEXT_BATCH = 256
#: images per DataLoader batch when decoding into the image cache: bounded host memory for
#: workers' prefetched batches, however large the (GPU) encoding batch
DECODE_BATCH = 256
#: a derived split holding at least this share of its parent's rows is sliced from the
#: parent's embeddings (a rule on the data alone, so values never depend on metric order)
SUBSET_SHARE = 0.25
logger = logging.getLogger("salmu_harness")


@dataclass(frozen=True)
class SplitEmbeddings:
    """Normalised image and caption embeddings of a split's rows, in row order (float32, CPU)."""

    split: str
    """The split's name."""
    image: torch.Tensor
    """[rows, D] unit-norm image embeddings, float32 on the CPU, in row order."""
    text: torch.Tensor
    """[rows, D] unit-norm caption embeddings; row ``i`` is the caption of image ``i``."""
    identity_ids: list[str | None]
    """The persona id of each row (``None`` for rows of no persona, e.g. retain_real)."""
    texts: list[str]
    """The caption of each row."""
    file_names: list[str]
    """The image file name of each row (the key of the caption metadata files)."""

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


class _PixelRows(_ImageRows):
    def __getitem__(self, index: int) -> torch.Tensor:
        return self.transform(self.dataset[index][self.column])


def rebatched(batches: Iterable[torch.Tensor], size: int) -> Iterator[torch.Tensor]:
    """The rows of ``batches`` in batches of exactly ``size`` (the last may be smaller): the
    batches a warm image cache gives, so cold and warm evaluations encode identical batches."""
    pending: list[torch.Tensor] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += len(batch)
        while held >= size:
            joined = torch.cat(pending) if len(pending) > 1 else pending[0]
            yield joined[:size]
            pending, held = ([joined[size:]] if held > size else []), held - size
    if held:
        yield torch.cat(pending) if len(pending) > 1 else pending[0]


def default_workers() -> int:
    """DataLoader workers for image decoding: one per core, at most 8 (decoding PNGs costs
    far more than encoding them, so the main process mostly waits for the workers)."""
    return max(0, min(8, os.cpu_count() or 1))


class EmbeddingEngine:
    """Encodes splits, images and texts for one model on one device and precision."""

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Callable[..., torch.Tensor],
        preprocess: Callable,
        device: torch.device,
        precision: str = "fp32",
        batch_size: int | None = 256,
        num_workers: int | None = None,
        show_progress: bool = True,
        label: str = "model",
        image_cache: ImageCache | None = None,
        cache_scope: str = "",
        compile: bool = False,
        tokens: TokenCache | None = None,
        clock: StageClock | None = None,
        reuse_subsets: bool = True,
        shorten_texts: bool = True,
    ) -> None:
        self.model = model.to(device).eval()
        if device.type == "cuda":  # faster patch-embedding convolutions on GPUs
            self.model = self.model.to(memory_format=torch.channels_last)
        self.tokenizer = tokenizer
        self.preprocess = preprocess
        self.device = device
        self.precision = precision
        self._batch_size = batch_size
        self.num_workers = default_workers() if num_workers is None else num_workers
        self.show_progress = show_progress
        self.label = label
        clip: Any = self.model  # an OpenCLIP model: encode_image, encode_text
        self._encode_image = torch.compile(clip.encode_image) if compile else None
        self.image_cache = image_cache
        self.cache_scope = cache_scope
        self.pixel_transform = PixelTransform.split(preprocess) if image_cache else None
        self._splits: dict[str, SplitEmbeddings] = {}
        self._texts: dict[str, torch.Tensor] = {}
        self.tokens = tokens if tokens is not None else TokenCache()
        """Token rows, shared with the engines of other models of the same evaluator."""
        self.clock = clock if clock is not None else StageClock()
        """Seconds per stage, shared with the engines of other models of the same evaluator."""
        self.reuse_subsets = reuse_subsets
        """Whether large derived splits are sliced from their parent's embeddings."""
        self.shorten_texts = shorten_texts
        """Whether texts are encoded without their padding where the tower allows it."""
        self._text_encoder = ShortTextEncoder(self.model) if shorten_texts else None

    def with_model(self, model: torch.nn.Module, label: str) -> EmbeddingEngine:
        """An engine for another model with this one's settings, tokenizer, preprocessing and
        image cache (its embeddings are its own)."""
        return EmbeddingEngine(
            model,
            self.tokenizer,
            self.preprocess,
            self.device,
            self.precision,
            batch_size=self._batch_size,
            num_workers=self.num_workers,
            show_progress=self.show_progress,
            label=label,
            image_cache=self.image_cache,
            cache_scope=self.cache_scope,
            compile=self._encode_image is not None,
            tokens=self.tokens,
            clock=self.clock,
            reuse_subsets=self.reuse_subsets,
            shorten_texts=self.shorten_texts,
        )

    @property
    def batch_size(self) -> int:
        """The batch size given, or (``None``) the largest that fits, found on first use."""
        if self._batch_size is None:
            from harness.evaluation.batching import auto_batch_size

            size = getattr(getattr(self.model, "visual", None), "image_size", 224)
            size = tuple(size) if isinstance(size, tuple | list) else (size, size)
            self._batch_size = auto_batch_size(
                self.model, (3, *size), self.device, AUTOCAST_DTYPES.get(self.precision)
            )
        return self._batch_size

    def split(self, split: Split) -> SplitEmbeddings:
        """The split's embeddings, encoded on first use. A derived split that holds at least
        ``SUBSET_SHARE`` of its parent's rows (forget_identity: half of forget) takes its
        parent's embeddings of those rows instead of decoding and encoding them again."""
        parent = split.parent if self.reuse_subsets else None
        sliced = (
            parent is not None
            and bool(split.parent_rows)
            and len(split) >= SUBSET_SHARE * len(parent)
        )
        if split.name not in self._splits and sliced:
            assert parent is not None and split.parent_rows is not None
            whole = self.split(parent)
            rows = torch.as_tensor(split.parent_rows, dtype=torch.long)
            self._splits[split.name] = SplitEmbeddings(
                split=split.name,
                image=whole.image[rows],
                text=self.texts(split.texts, desc=f"{self.label}: {split.name} captions"),
                identity_ids=split.identity_ids,
                texts=split.texts,
                file_names=split.file_names,
            )
        if split.name not in self._splits:
            self._splits[split.name] = SplitEmbeddings(
                split=split.name,
                image=self.images(
                    split.dataset,
                    desc=f"{self.label}: {split.name} images",
                    content_sha256=split.sha256 if self.pixel_transform else None,
                ),
                text=self.texts(split.texts, desc=f"{self.label}: {split.name} captions"),
                identity_ids=split.identity_ids,
                texts=split.texts,
                file_names=split.file_names,
            )
        return self._splits[split.name]

    def images(
        self,
        dataset: datasets.Dataset,
        column: str = "image",
        desc: str = "images",
        content_sha256: str | None = None,
    ) -> torch.Tensor:
        """Normalised embeddings of every image of ``dataset``.

        With an image cache and the images' content hash, the decoded, resized and cropped
        pixels are read from the cache; on a miss they are decoded once, written to the cache
        and encoded as they come, so the first model pays for decoding and nothing else.
        """
        if self.image_cache is None or self.pixel_transform is None or content_sha256 is None:
            loader = self._decoded(dataset, column, self.preprocess)
            return self._encode(self.clock.timed(loader, "decode"), None, desc, len(loader))
        pixels = self.pixel_transform
        key = content_key(self.cache_scope, content_sha256, column, pixels.description)
        size = self.batch_size
        stored = self.image_cache.lookup(key)
        if stored is not None:
            batches: Iterable[torch.Tensor] = (
                stored[i : i + size] for i in range(0, len(stored), size)
            )
            return self._encode(batches, pixels, desc, total=-(-len(stored) // size))
        loader = self._decoded(dataset, column, pixels.pixels, _PixelRows, DECODE_BATCH)
        description = {
            "scope": self.cache_scope,
            "images": desc.removeprefix(f"{self.label}: "),
            "content_sha256": content_sha256,
            "column": column,
            "transform": pixels.description,
        }
        batches = self.image_cache.filling(key, self.clock.timed(loader, "decode"), description)
        return self._encode(
            rebatched(batches, size),
            pixels,
            f"{desc} (decoding once for the image cache)",
            total=-(-len(dataset) // size),
        )

    def pixels(self, split: Split, rows: Sequence[int]) -> torch.Tensor:
        """The evaluation transform's output for ``rows`` of ``split``: ``[n, 3, H, W]`` float32
        on the device. Read from the image cache when it holds the split (the same values as
        decoding), else decoded from the dataset."""
        chosen = [int(i) for i in rows]
        pixels = self.pixel_transform
        stored = None
        if self.image_cache is not None and pixels is not None:
            key = content_key(self.cache_scope, split.sha256, "image", pixels.description)
            stored = self.image_cache.load(key)
        if stored is None or pixels is None:
            records = split.dataset.select(chosen)
            decoded = torch.stack([self.preprocess(r["image"].convert("RGB")) for r in records])
            return decoded.to(self.device)
        batch = stored[torch.as_tensor(chosen, dtype=torch.long)]
        if self.device.type == "cuda":
            batch = batch.pin_memory()
        return pixels.normalise(batch.to(self.device, non_blocking=True))

    def _decoded(
        self,
        dataset: datasets.Dataset,
        column: str,
        transform: Callable,
        rows: type[_ImageRows] = _ImageRows,
        batch_size: int | None = None,
    ) -> DataLoader:
        return DataLoader(
            rows(dataset, transform, column),
            batch_size=min(batch_size or self.batch_size, self.batch_size),
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
        )

    def _encode(
        self,
        batches: Iterable[torch.Tensor],
        pixels: PixelTransform | None,
        desc: str,
        total: int | None = None,
    ) -> torch.Tensor:
        cuda = self.device.type == "cuda"
        chunks = []  # kept on the device: one transfer at the end, no sync per batch
        with self._inference():
            for batch in progress_bar(batches, desc=desc, enabled=self.show_progress, total=total):
                with self.clock.timing("image_encode"):
                    if cuda and not batch.is_pinned():
                        batch = batch.pin_memory()
                    batch = batch.to(self.device, non_blocking=True)
                    chunks.append(self._encode_batch(batch, pixels))
        with self.clock.timing("image_encode"):
            return torch.cat(chunks).cpu() if chunks else torch.empty(0, 0)

    def _encode_batch(self, raw: torch.Tensor, pixels: PixelTransform | None) -> torch.Tensor:
        """One batch's normalised embeddings; on running out of GPU memory, in two halves."""
        try:
            batch = raw if pixels is None else pixels.normalise(raw)  # uint8: on the device
            if self.device.type == "cuda":
                batch = batch.contiguous(memory_format=torch.channels_last)
            encode = self._encode_image or cast(Any, self.model).encode_image
            return F.normalize(encode(batch).float(), dim=-1)
        except torch.cuda.OutOfMemoryError:
            if len(raw) < 2:
                raise
            torch.cuda.empty_cache()
            half = len(raw) // 2
            self._batch_size = half  # later batches use the smaller size
            logger.warning("out of GPU memory; evaluation batch size now %d", half)
            return torch.cat(
                [self._encode_batch(raw[:half], pixels), self._encode_batch(raw[half:], pixels)]
            )

    def texts(self, texts: Sequence[str], desc: str = "texts") -> torch.Tensor:
        """Normalised embeddings of ``texts``; each distinct text is encoded once per engine.

        Texts are encoded in batches of exactly ``TEXT_BATCH`` (the last one padded) of texts of
        one shortened length (``short_text``), so a text's embedding never depends on which
        other texts shared its batch: a matrix product of another shape may round differently,
        and which texts are still to encode depends on what the engine encoded before.
        """
        todo = list(dict.fromkeys(t for t in texts if t not in self._texts))
        batches = self._text_batches(todo)
        with self._inference():
            for batch, tokens, length in progress_bar(
                batches, desc=desc, enabled=self.show_progress and bool(todo)
            ):
                with self.clock.timing("text_encode"):
                    tokens = tokens.to(self.device, non_blocking=True)
                    text = self._encode_tokens(tokens, length)[: len(batch)]
                    encoded = F.normalize(text.float(), dim=-1).cpu()
                    self._texts.update(zip(batch, encoded, strict=True))
        if not texts:
            return torch.empty(0, 0)
        return torch.stack([self._texts[t] for t in texts])

    def _text_batches(self, todo: list[str]) -> list[tuple[list[str], torch.Tensor, int]]:
        """``todo`` as (texts, padded token rows, shortened length) batches."""
        if not todo:
            return []
        with self.clock.timing("text_encode"):
            rows = self.tokens.tokenize(self.tokenizer, todo)
            blank = self.tokens.tokenize(self.tokenizer, [""])
        shortens = self._text_encoder is not None and self._text_encoder.shortens
        lengths = text_lengths(rows) if shortens else [rows.shape[1]] * len(todo)
        by_length: dict[int, list[int]] = {}
        for index, length in enumerate(lengths):
            by_length.setdefault(length, []).append(index)
        batches = []
        for length, members in sorted(by_length.items()):
            for start in range(0, len(members), TEXT_BATCH):
                chosen = members[start : start + TEXT_BATCH]
                tokens = torch.cat([rows[chosen], blank.expand(TEXT_BATCH - len(chosen), -1)])
                batches.append(([todo[i] for i in chosen], tokens, length))
        return batches

    def _encode_tokens(self, tokens: torch.Tensor, length: int) -> torch.Tensor:
        if self._text_encoder is None:
            return cast(Any, self.model).encode_text(tokens)
        return self._text_encoder.encode(tokens, length)

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
