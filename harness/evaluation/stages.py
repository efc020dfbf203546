"""Where evaluation time goes: seconds per stage (decoding, image and text encoding).

Engines that share a ``StageClock`` add to it; results record the difference between two
snapshots as ``cost.stages``, with the rest of the evaluation's time as metric computation.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

#: decode: reading images and resizing them (or waiting for DataLoader workers to);
#: image_encode / text_encode: the model's encoders, tokenising included for texts
STAGES = ("decode", "image_encode", "text_encode")
T = TypeVar("T")


class StageClock:
    """Seconds spent per stage, summed over every engine that shares the clock."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)

    @contextlib.contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        """Add the time spent in the ``with`` block to ``stage``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started

    def timed(self, items: Iterable[T], stage: str) -> Iterator[T]:
        """Yield from ``items``, adding the time spent waiting for each item to ``stage``."""
        iterator = iter(items)
        while True:
            with self.timing(stage):
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item

    def snapshot(self) -> dict[str, float]:
        """The seconds per stage so far."""
        return dict(self.seconds)

    def since(self, snapshot: dict[str, float]) -> dict[str, float]:
        """The seconds per stage since ``snapshot``."""
        return {stage: self.seconds[stage] - snapshot.get(stage, 0.0) for stage in STAGES}
