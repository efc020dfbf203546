"""What a method receives: the run context, with budget-counted access to its two splits.

A method sees the Compromised model (a fresh trainable copy), its tokenizer and transforms, the
``forget`` split, the ``retain`` split, and the generic captions of forget images. It never sees
the holdout splits or the Clean model: they are not reachable from here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from harness.benchmarks.base import Split
from harness.progress import progress_bar
from harness.run.budget import Budget
from harness.training_data.draws import sample_seed
from harness.training_data.sources import BatchMaker, Job
from harness.training_data.stream import DataPath


@dataclass
class Batch:
    """A training batch: preprocessed images, tokenised captions and their row metadata."""

    images: torch.Tensor
    """[B, 3, H, W] float images through ``preprocess_train`` (or its cached equivalent, see
    docs/performance.md), on the CPU; when the model is on a GPU they may already be there
    (normalised on the device), so ``.to(ctx.device)`` costs nothing."""
    tokens: torch.Tensor
    """[B, context_length] tokenised captions, on the CPU."""
    texts: list[str]
    """The captions of the rows."""
    identity_ids: list[str | None]
    """The persona id of each row (``None`` for rows of no persona)."""
    file_names: list[str]
    """The image file name of each row (the key of ``ctx.generic_captions``)."""

    def __len__(self) -> int:
        return len(self.texts)


class SplitView:
    """Read access to a split for a method; every row read is charged to the budget.

    Batches come through the run's data path (``harness.training_data``): prepared ahead by
    worker processes from the training image cache, each sample's augmentation drawn from its
    own seed, so a run's batches depend only on the seed, the split and the read, never on
    the number of workers or the state of the cache. Read-ahead is never charged: a batch is
    charged when the method receives it.
    """

    def __init__(
        self,
        split: Split,
        budget: Budget,
        transform: Callable,
        tokenizer: Callable,
        *,
        data: DataPath | None = None,
    ) -> None:
        self.name = split.name
        """The split's name (``forget`` or ``retain``)."""
        self._split = split
        self._budget = budget
        self._transform = transform
        self._tokenizer = tokenizer
        self._data = data if data is not None else DataPath()
        self._maker: BatchMaker | None = None
        self._streams = 0
        self._direct_reads = 0

    def __len__(self) -> int:
        return len(self._split)

    @property
    def texts(self) -> list[str]:
        """Captions (metadata reads are free: only images+captions as samples count)."""
        return self._split.texts

    @property
    def identity_ids(self) -> list[str | None]:
        """The persona id of each row, in row order (free to read)."""
        return self._split.identity_ids

    @property
    def file_names(self) -> list[str]:
        """The image file name of each row, in row order (free to read)."""
        return self._split.file_names

    def rows(self, indices: Sequence[int] | np.ndarray) -> Batch:
        """The rows at ``indices`` as a batch, charged to the budget (made at once, in this
        process)."""
        indices = [int(i) for i in indices]
        self._budget.charge(self.name, len(indices))
        job = self._job(f"rows {self._direct_reads}", indices)
        self._direct_reads += 1
        return self._batch(self._data.made_now(self._batch_maker(), job))

    def images(self, indices: Sequence[int] | np.ndarray) -> list[Any]:
        """The rows at ``indices`` as decoded RGB PIL images, charged to the budget like
        ``rows``: for methods that transform images themselves (no cache, no workers)."""
        indices = [int(i) for i in indices]
        self._budget.charge(self.name, len(indices))
        return [record["image"].convert("RGB") for record in self._split.dataset.select(indices)]

    def batches(
        self, batch_size: int, rng: np.random.Generator, *, drop_last: bool = True
    ) -> Iterator[Batch]:
        """Shuffled batches, epoch after epoch, for as long as the budget allows.

        Each epoch's order is ``rng.permutation(len(self))``, drawn when the read-ahead
        reaches that epoch (so before the method receives its first batch)."""
        stream = self._streams
        self._streams += 1
        jobs = self._jobs(stream, batch_size, rng, drop_last)
        prepared = self._data.stream(self._batch_maker(), jobs)
        try:
            for made in prepared:
                if not self._budget.allows(len(made["rows"]), self.name):
                    return
                self._budget.charge(self.name, len(made["rows"]))
                yield self._batch(made)
        finally:
            prepared.close()

    def _jobs(
        self, stream: int, batch_size: int, rng: np.random.Generator, drop_last: bool
    ) -> Iterator[Job]:
        # read-ahead stops at what the budget allows now; reads elsewhere meanwhile are
        # caught when each batch is handed out
        allowed = self._budget.remaining_of(self.name)
        made = number = 0
        while True:
            order = rng.permutation(len(self))
            stop = len(order) - (len(order) % batch_size if drop_last else 0)
            if stop == 0:
                return
            for start in range(0, stop, batch_size):
                chunk = [int(i) for i in order[start : start + batch_size]]
                if made + len(chunk) > allowed:
                    return
                made += len(chunk)
                yield self._job(f"stream {stream} batch {number}", chunk)
                number += 1

    def _job(self, read: str, rows: list[int]) -> Job:
        seed = self._data.seed
        return Job(
            rows=tuple(rows),
            seeds=tuple(sample_seed(seed, self.name, read, slot) for slot in range(len(rows))),
        )

    def _batch_maker(self) -> BatchMaker:
        if self._maker is None:
            source = self._data.source(self._split, self._transform)
            self._maker = BatchMaker(source, self._split.texts, self._tokenizer)
        return self._maker

    def _batch(self, made: dict[str, Any]) -> Batch:
        rows = made["rows"]
        self._data.batches += 1
        return Batch(
            images=made["images"],
            tokens=made["tokens"],
            texts=[self._split.texts[i] for i in rows],
            identity_ids=[self._split.identity_ids[i] for i in rows],
            file_names=[self._split.file_names[i] for i in rows],
        )


@dataclass
class RunContext:
    """Everything a method may use. Return the unlearned model from ``Method.unlearn``."""

    model: torch.nn.Module
    """A fresh trainable copy of the Compromised model, on ``device``, in train mode."""
    tokenizer: Callable[..., torch.Tensor]
    """The model's open_clip tokenizer: ``tokenizer(list_of_texts)`` -> token tensor."""
    preprocess_train: Callable
    """The model's training image transform (PIL image -> tensor)."""
    preprocess_eval: Callable
    """The model's evaluation image transform (PIL image -> tensor)."""
    forget: SplitView
    """The forget split: the persona-attribute pairs to unlearn."""
    retain: SplitView
    """The method-retain split (the rows the evaluation reads are withheld from it)."""
    generic_captions: Mapping[str, str]
    """Forget file name -> a caption of the image without any personal attribute."""
    device: torch.device
    """Where the model lives (``--device``)."""
    precision: str
    """``fp32``, ``bf16`` or ``fp16`` (``--precision``; AMP for the latter two)."""
    seed: int
    """The run seed; use ``rng`` for random draws."""
    budget: Budget
    """What the method may still read (``remaining``: forget samples; ``remaining_of(split)``);
    every batch read is charged here."""
    logger: logging.Logger
    """``salmu_harness.method.NAME``: records go to the run's ``run.log`` (always, at DEBUG)
    and to stderr with ``-v`` (INFO) or ``-vv`` (DEBUG)."""
    show_progress: bool = True
    """Whether progress bars are shown (``--quiet`` turns them off)."""
    compile: bool = False
    """Whether ``torch.compile`` was asked for (``--compile``)."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Benchmark-specific additions; empty for SALMUBench and SALMU-mini."""
    report_step: Callable[[int, Mapping[str, float]], None] | None = None
    """Where ``step`` sends each step's number and values (set by the harness: the run's
    reporters); methods call ``step``, not this."""

    def rng(self, purpose: str = "method") -> np.random.Generator:
        """A numpy generator seeded from the run seed and ``purpose``."""
        from harness.rng import dedicated_rng

        return dedicated_rng(self.seed, purpose)

    def progress(self, total: int | None = None, desc: str = "unlearning") -> Any:
        """A progress bar for the method's loop (call ``.update(n)``; close it when done)."""
        return progress_bar(None, total=total, desc=desc, enabled=self.show_progress)

    def step(self, loss: float | None = None) -> None:
        """Count one optimizer step (recorded in the result); with its ``loss``, reporters
        (``--report-to``) log it beside the forget passes and the samples read per split so far."""
        self.budget.optimizer_steps += 1
        values = {"forget_passes": self.budget.forget_passes}
        values.update({f"{split}_samples": n for split, n in sorted(self.budget.reads.items())})
        if loss is not None:
            values["loss"] = float(loss)
        if self.report_step is not None:
            self.report_step(self.budget.optimizer_steps, values)
