"""Batches prepared ahead of the step, and what a run records of its data path.

``DataPath`` is one run's choice (workers, image cache, device) and its clock. A split view
asks it for a ``stream`` of jobs (rows and seeds): worker processes of a DataLoader turn each
job into tensors (``sources``) ahead of the step, into pinned memory when the model is on a
GPU, and a read-ahead thread finishes them (normalising, on the GPU when the model is there)
while the method computes. The method only waits when no batch is ready; that time is counted
as waiting for data. Without workers (the default on a CPU, whose cores the steps use) each
batch is made when the method asks for it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import DataLoader

from harness.benchmarks.base import Split
from harness.evaluation.image_cache import ImageCache
from harness.training_data.allocator import keep_large_blocks
from harness.training_data.cache import cached_pixels
from harness.training_data.geometry import TrainGeometry
from harness.training_data.sources import BatchMaker, ExactPixels, Job, PixelSource

#: bump when a change can alter the batches a method receives for the same seed
DATA_PATH_VERSION = "2"
#: batches each worker keeps ready ahead of the step
PREFETCH_PER_WORKER = 2
#: finished batches the read-ahead thread keeps ready
READY_BATCHES = 2
logger = logging.getLogger("salmu_harness")


def default_training_workers() -> int:
    """Worker processes per split stream on a GPU, and filling the cache: one per core, at
    most 8."""
    return max(0, min(8, os.cpu_count() or 1))


@dataclass
class DataPath:
    """How a run's methods get their batches, and where the time went."""

    seed: int = 0
    """The run seed: every augmentation draw derives from it (``draws``)."""
    workers: int = 0
    """Worker processes per split stream (0: batches are made in the main process)."""
    decode_workers: int | None = None
    """Worker processes filling the training image cache (``None``: ``workers``)."""
    image_cache: bool = False
    """Whether images come from the training image cache (else the exact per-image path)."""
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    """Where the model is: batches are pinned for a CUDA device, and normalised there."""
    scope: str = ""
    """The benchmark's cache scope (``name@revision``)."""
    show_progress: bool = True
    cache: ImageCache | None = None
    wait_seconds: float = 0.0
    """Time the method spent waiting for a batch that was not ready."""
    cache_build_seconds: float = 0.0
    """Time spent decoding splits into the training image cache."""
    batches: int = 0
    """Batches handed to the method."""
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Split name -> how its images were made (results record it)."""
    allocator: str = "default"
    """``large blocks reused`` when the method's process keeps freed batches' pages
    (``allocator``: CPU runs on glibc)."""
    _made: dict[str, PixelSource] = field(default_factory=dict, repr=False)

    @property
    def pin_memory(self) -> bool:
        return self.device.type == "cuda"

    def source(self, split: Split, preprocess_train: Callable) -> PixelSource:
        """Where ``split``'s training images come from, decided (and cached) on first use."""
        if split.name not in self._made:
            self._made[split.name] = self._choose(split, preprocess_train)
            self.sources[split.name] = self._made[split.name].description
        return self._made[split.name]

    def _choose(self, split: Split, preprocess_train: Callable) -> PixelSource:
        if not self.image_cache:
            return ExactPixels(split.dataset, preprocess_train, "--no-image-cache")
        geometry = TrainGeometry.split(preprocess_train)
        if geometry is None:
            reason = "the training transform is not RandomResizedCrop -> ToTensor -> Normalize"
            return ExactPixels(split.dataset, preprocess_train, reason)
        cache = self.cache or ImageCache()
        clock = time.perf_counter()
        try:
            decoders = self.workers if self.decode_workers is None else self.decode_workers
            source, found = cached_pixels(
                split, geometry, self.scope, cache, decoders, self.show_progress
            )
        except OSError as exc:
            logger.warning("training image cache unavailable (%s): exact path", exc)
            return ExactPixels(split.dataset, preprocess_train, f"cache unwritable: {exc}")
        self.cache_build_seconds += time.perf_counter() - clock
        source.description = {**source.description, "entry": "warm" if found else "built"}
        return source

    def stream(
        self, maker: BatchMaker, jobs: Iterable[Job]
    ) -> Generator[dict[str, Any], None, None]:
        """``maker``'s batches for ``jobs``, in order, finished (``PixelSource.finish``) and
        ready to use; the time the method spends waiting for each is counted.

        With workers, the batches are made by DataLoader workers and finished by a thread of
        this process, both ahead of the step. Without, each batch is made and finished when
        the method asks for it (the draws reseed torch's generator, which no thread may do
        while the method uses it)."""
        if self.device.type == "cpu":
            self.allocator = "large blocks reused" if keep_large_blocks() else "default"
        loader = DataLoader(
            maker,
            batch_size=None,
            sampler=jobs,  # any iterable of keys
            num_workers=self.workers,
            pin_memory=self.pin_memory,
            prefetch_factor=PREFETCH_PER_WORKER if self.workers else None,
            persistent_workers=False,
            # DataLoader draws its workers' base seed from this, not from the method's
            # generator (the draws of the batches never use that seed)
            generator=torch.Generator().manual_seed(self.seed),
        )
        iterator = iter(loader)
        ahead = _ReadAhead(iterator, maker, self.device) if self.workers else None
        try:
            while True:
                clock = time.perf_counter()
                try:
                    made = ahead.next() if ahead else self._finish_now(next(iterator), maker)
                except StopIteration:
                    return
                finally:
                    self.wait_seconds += time.perf_counter() - clock
                yield made
        finally:
            if ahead is not None:
                ahead.stop()
            shutdown = getattr(iterator, "_shutdown_workers", None)
            if shutdown is not None:
                shutdown()

    def _finish_now(self, made: dict[str, Any], maker: BatchMaker) -> dict[str, Any]:
        return {**made, "images": maker.source.finish(made["images"], self.device)}

    def made_now(self, maker: BatchMaker, job: Job) -> dict[str, Any]:
        """One batch made and finished in this process (a direct ``rows`` read), its time
        counted as waiting for data."""
        clock = time.perf_counter()
        made = self._finish_now(maker[job], maker)
        self.wait_seconds += time.perf_counter() - clock
        return made

    def record(self, method_seconds: float) -> dict[str, Any]:
        """The result's ``cost.data_path``: what this run's data path was and where its time
        went (compute is the method's time less waiting for data and building the cache)."""
        compute = method_seconds - self.wait_seconds - self.cache_build_seconds
        return {
            "version": DATA_PATH_VERSION,
            "workers": self.workers,
            "decode_workers": self.workers if self.decode_workers is None else self.decode_workers,
            "image_cache": self.image_cache,
            "augmentation": "workers" if self.workers else "main process",
            "pin_memory": self.pin_memory,
            "prefetch_batches": PREFETCH_PER_WORKER * self.workers,
            "host_allocator": self.allocator,
            "splits": dict(sorted(self.sources.items())),
            "batches": self.batches,
            "wait_seconds": round(self.wait_seconds, 3),
            "cache_build_seconds": round(self.cache_build_seconds, 3),
            "compute_seconds": round(max(0.0, compute), 3),
        }


class _ReadAhead:
    """A thread that takes the workers' batches and finishes them (normalising, copying to
    the GPU) while the method's step runs, keeping up to ``READY_BATCHES`` ready.

    On a CPU the float batches are written into tensors that the method's thread allocates
    (one for each batch it takes): glibc gives a thread other than the main one an arena of
    at most 64 MiB, so a batch allocated here would be fresh pages every time, while the
    main thread's heap reuses the pages of the batches the method has dropped
    (``allocator``)."""

    def __init__(self, batches: Iterator[dict[str, Any]], maker: BatchMaker, device: Any) -> None:
        self._batches, self._maker, self._device = batches, maker, device
        self._ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=READY_BATCHES)
        self._buffers: queue.SimpleQueue[torch.Tensor] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="salmu-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for made in self._batches:
                out = None if self._buffers.empty() else self._buffers.get()
                images = self._maker.source.finish(made["images"], self._device, out)
                finished = {**made, "images": images}
                if not self._put(("batch", finished)):
                    return
            self._put(("end", None))
        except BaseException as exc:  # handed to the method's thread, raised there
            self._put(("error", exc))

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._stopping.is_set():
            try:
                self._ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def next(self) -> dict[str, Any]:
        """The next finished batch; ``StopIteration`` at the end; a worker's error raised."""
        kind, value = self._ready.get()
        if kind == "end":
            self._ready.put(("end", None))
            raise StopIteration
        if kind == "error":
            raise value
        if self._device.type == "cpu":  # the buffer of a later batch, from this heap
            self._buffers.put(torch.empty(value["images"].shape, dtype=torch.float32))
        return value

    def stop(self) -> None:
        """Stop reading ahead (returns once the thread has finished its current batch)."""
        self._stopping.set()
        self._thread.join()
