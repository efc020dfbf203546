"""Batches prepared ahead: the same for any number of workers or cache state, charged exactly
when received, with the time spent waiting for them recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from harness.context import SplitView
from harness.evaluation.image_cache import ImageCache
from harness.run.budget import Budget
from harness.training_data import DATA_PATH_VERSION, DataPath
from tests.training_data.test_cache import SIZES, _split
from tests.training_data.test_geometry import _transform

ROWS = SIZES * 4  # 20 rows


def tokenize(texts: list[str]) -> torch.Tensor:
    """A stand-in tokenizer: one row of character codes per text."""
    return torch.tensor([[ord(c) for c in text.ljust(12)[:12]] for text in texts])


def _view(tmp_path: Path, workers: int, cache: bool, budget: Budget) -> tuple[SplitView, DataPath]:
    data = DataPath(
        seed=7,
        workers=workers,
        image_cache=cache,
        scope="test",
        show_progress=False,
        cache=ImageCache(tmp_path),
    )
    return SplitView(_split(ROWS), budget, _transform(32), tokenize, data=data), data


def _read(view: SplitView, batches: int) -> list[torch.Tensor]:
    stream = view.batches(4, np.random.default_rng(0))
    out = [
        torch.cat([b.images.flatten(), b.tokens.flatten().float()])
        for _, b in zip(range(batches), stream, strict=False)
    ]
    stream.close()
    return out


@pytest.mark.parametrize("cache", [True, False])
def test_batches_are_the_same_for_any_workers_and_cache_state(tmp_path: Path, cache: bool) -> None:
    reads = []
    for workers in (0, 1, 2, 0):  # the first cached read builds the cache, the rest read it
        view, data = _view(tmp_path, workers, cache, Budget(10.0, len(ROWS)))
        reads.append(_read(view, 12))
        if cache:
            assert data.sources["forget"]["entry"] == ("built" if len(reads) == 1 else "warm")
    for other in reads[1:]:
        assert all(torch.equal(a, b) for a, b in zip(reads[0], other, strict=True))
    assert len(reads[0]) == 12  # 2.4 epochs of 5 batches: epochs continue


def test_read_ahead_is_never_charged_and_never_passes_the_budget(tmp_path: Path) -> None:
    budget = Budget(1.0, len(ROWS))  # 20 forget samples: 5 batches of 4
    view, data = _view(tmp_path, 2, True, budget)
    stream = view.batches(4, np.random.default_rng(0))
    next(stream)
    assert budget.reads["forget"] == 4  # the workers prepared more; one batch was received
    stream.close()
    budget = Budget(1.0, len(ROWS))
    view, data = _view(tmp_path, 2, True, budget)
    assert len(list(view.batches(4, np.random.default_rng(0)))) == 5
    assert budget.reads["forget"] == 20 and data.batches == 5
    record = data.record(method_seconds=10.0)
    assert record["version"] == DATA_PATH_VERSION and record["workers"] == 2
    assert record["augmentation"] == "workers" and record["image_cache"] is True
    assert record["splits"]["forget"]["entry"] == "warm"
    waited = record["wait_seconds"] + record["cache_build_seconds"]
    assert record["compute_seconds"] == pytest.approx(10.0 - waited, abs=2e-3)


def test_direct_reads_are_charged_and_seeded_by_their_call(tmp_path: Path) -> None:
    budget = Budget(1.0, len(ROWS))
    view, _ = _view(tmp_path, 0, True, budget)
    first, second = view.rows([1, 6]), view.rows([1, 6])  # square: crops vary
    assert budget.reads["forget"] == 4
    assert first.texts == second.texts == ["caption 1", "caption 6"]
    assert not torch.equal(first.images, second.images)  # a new read draws new crops
    again, _ = _view(tmp_path, 2, True, Budget(1.0, len(ROWS)))
    assert torch.equal(again.rows([1, 6]).images, first.images)


def test_the_process_generators_are_left_alone(tmp_path: Path) -> None:
    torch.manual_seed(3)
    state = torch.get_rng_state()
    view, _ = _view(tmp_path, 0, False, Budget(1.0, len(ROWS)))
    _read(view, 3)
    view.rows([1, 2])
    assert torch.equal(torch.get_rng_state(), state)


def test_raw_images_are_charged_like_rows(tmp_path: Path) -> None:
    budget = Budget(1.0, len(ROWS))
    view, _ = _view(tmp_path, 0, True, budget)
    pictures = view.images([0, 2])
    assert [p.size for p in pictures] == [SIZES[0], SIZES[2]]
    assert all(p.mode == "RGB" for p in pictures) and budget.reads["forget"] == 2
