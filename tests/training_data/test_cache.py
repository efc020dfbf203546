"""The training image cache: built once, read warm, nothing left behind by a failed build."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import datasets
import numpy as np
import pytest
from PIL import Image

from harness.benchmarks.base import Split
from harness.errors import BenchmarkError
from harness.evaluation.image_cache import ImageCache
from harness.training_data import cache as training_cache
from harness.training_data.cache import cached_pixels
from harness.training_data.geometry import TrainGeometry
from tests.training_data.test_geometry import _picture, _transform


def _png(image: Image.Image) -> bytes:
    with io.BytesIO() as buffer:
        image.save(buffer, format="PNG")
        return buffer.getvalue()


def _split(sizes: list[tuple[int, int]], broken: int | None = None) -> Split:
    images = [
        {"bytes": b"not a png" if i == broken else _png(_picture(w, h)), "path": None}
        for i, (w, h) in enumerate(sizes)
    ]
    rows = {
        "image": images,
        "text": [f"caption {i}" for i in range(len(sizes))],
        "identity_id": [f"{i:08d}" for i in range(len(sizes))],
        "file_name": [f"{i:08d}_000.png" for i in range(len(sizes))],
    }
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "text": datasets.Value("string"),
            "identity_id": datasets.Value("string"),
            "file_name": datasets.Value("string"),
        }
    )
    return Split("forget", datasets.Dataset.from_dict(rows, features=features))


SIZES = [(120, 80), (64, 64), (70, 100), (50, 90), (200, 40)]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_split_is_decoded_once_then_read_warm(tmp_path: Path, workers: int) -> None:
    geometry = TrainGeometry.split(_transform(32))
    cache = ImageCache(tmp_path)
    split = _split(SIZES)
    built, found = cached_pixels(split, geometry, "scope", cache, workers, show_progress=False)
    assert not found and cache.misses == 1
    again, found = cached_pixels(split, geometry, "scope", cache, workers, show_progress=False)
    assert found and cache.hits == 1
    assert built.path == again.path and again.pixels.shape == (5, 37, 37, 3)
    assert np.array_equal(again.sizes, np.array(SIZES))
    expected = geometry.cached_pixels(_picture(70, 100))
    assert np.array_equal(again.pixels[2].numpy(), expected)
    [entry] = cache.entries()
    assert entry["purpose"] == "training" and "37x37" in entry["images"]
    other, found = cached_pixels(split, geometry, "other scope", cache, 0, show_progress=False)
    assert not found and other.path != built.path  # another benchmark revision: its own entry


def test_a_corrupt_image_names_the_split_and_row_and_caches_nothing(tmp_path: Path) -> None:
    geometry = TrainGeometry.split(_transform(32))
    with pytest.raises(BenchmarkError, match=r"forget split's row 3 \(00000003_000.png\)"):
        cached_pixels(_split(SIZES, broken=3), geometry, "s", ImageCache(tmp_path), 0, False)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_build_leaves_no_entry(tmp_path: Path, monkeypatch) -> None:
    geometry = TrainGeometry.split(_transform(32))
    original = training_cache._Squares.__getitem__

    def interrupted(self, row: int):
        if row == 2:
            raise KeyboardInterrupt  # Ctrl-C while the third image decodes
        return original(self, row)

    monkeypatch.setattr(training_cache, "DECODE_BATCH", 1)
    monkeypatch.setattr(training_cache._Squares, "__getitem__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cached_pixels(_split(SIZES), geometry, "s", ImageCache(tmp_path), 0, False)
    assert list(tmp_path.iterdir()) == []  # no entry, no staged temporary file


_INTERRUPTED_BUILD = """
import sys, time
from pathlib import Path
from harness.evaluation.image_cache import ImageCache
from harness.training_data import cache as training_cache
from harness.training_data.geometry import TrainGeometry
from tests.training_data.test_cache import SIZES, _split
from tests.training_data.test_geometry import _transform

marker = Path(sys.argv[2])
original = training_cache._Squares.__getitem__

def slow(self, row):  # in the decoding workers: a build that takes a while
    marker.touch()
    time.sleep(0.2)
    return original(self, row)

training_cache.DECODE_BATCH = 1
training_cache._Squares.__getitem__ = slow
split = _split(SIZES * 40)
geometry = TrainGeometry.split(_transform(32))
training_cache.cached_pixels(split, geometry, "s", ImageCache(Path(sys.argv[1])), 2, False)
"""


def test_ctrl_c_during_a_build_with_workers_leaves_no_entry(tmp_path: Path) -> None:
    """A real SIGINT to the whole process group, as a terminal's Ctrl-C sends it, while two
    decoding workers run: the process stops and the cache folder holds nothing."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root, marker = tmp_path / "images", tmp_path / "started"
    process = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED_BUILD, str(root), str(marker)],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, workers included
        # as from a terminal: a job started in the background (CI) inherits SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120

    def staged() -> bool:
        # bytes written: batches arrive, so every worker has been forked (a SIGINT that lands
        # inside the fork itself is swallowed by Python's at-fork hooks, and the build goes on)
        for path in root.glob(".*.tmp") if root.exists() else []:
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_size > 0:
                    return True
        return False

    while not (marker.exists() and staged()) and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.05)
    assert process.poll() is None and staged(), process.communicate()[0]  # mid-build
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0 and "KeyboardInterrupt" in output, output
    assert not root.exists() or list(root.iterdir()) == []  # no entry, no staged file


def test_a_derived_split_reads_its_parents_entry_row_for_row(tmp_path: Path) -> None:
    geometry = TrainGeometry.split(_transform(32))
    whole = _split(SIZES)
    rows = [4, 1, 3]  # a schedule's request: some of the forget split's rows, in its order
    derived = Split("forget", whole.dataset.select(rows), parent=whole, parent_rows=rows)
    alone = Split("forget", whole.dataset.select(rows))  # the same rows, as a split of its own
    cache = ImageCache(tmp_path)
    parent, _ = cached_pixels(whole, geometry, "s", cache, 0, show_progress=False)
    read, found = cached_pixels(derived, geometry, "s", cache, 0, show_progress=False)
    assert found and len(cache.entries()) == 1  # no second decode, no second entry
    own, _ = cached_pixels(alone, geometry, "s", ImageCache(tmp_path / "own"), 0, False)
    seeds = [11, 12, 13]
    assert np.array_equal(read.images([0, 1, 2], seeds), own.images([0, 1, 2], seeds))
    twice = read.subset([2, 0])  # a derived split of a derived split maps through both
    assert np.array_equal(twice.images([0, 1], [5, 6]), parent.images([3, 4], [5, 6]))
