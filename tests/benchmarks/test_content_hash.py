"""Split content hashes are remembered per dataset fingerprint, and only per fingerprint."""

from __future__ import annotations

import io
import os
from pathlib import Path

import datasets
from PIL import Image

from harness.benchmarks.content_hash import remembered_hash
from harness.benchmarks.hub_layout import read_split


def test_a_hash_is_computed_once_per_fingerprint(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SALMU_HARNESS_CACHE", str(tmp_path))
    calls: list[str] = []

    def compute(value: str):
        return lambda: calls.append(value) or value

    assert remembered_hash("fp-1", compute("a")) == "a"
    assert remembered_hash("fp-1", compute("b")) == "a"  # remembered, not recomputed
    assert remembered_hash("fp-2", compute("c")) == "c"
    assert remembered_hash(None, compute("d")) == remembered_hash(None, compute("d")) == "d"
    assert calls == ["a", "c", "d", "d"]


def _write_split(folder: Path, colour: tuple[int, int, int]) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    rows = {
        "image": [{"bytes": buffer.getvalue(), "path": "a.png"}],
        "text": ["a caption"],
        "identity_id": [None],
        "file_name": ["a.png"],
    }
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "text": datasets.Value("string"),
            "identity_id": datasets.Value("string"),
            "file_name": datasets.Value("string"),
        }
    )
    (folder / "data").mkdir(parents=True, exist_ok=True)
    path = folder / "data" / "forget-00000-of-00001.parquet"
    datasets.Dataset.from_dict(rows, features=features).to_parquet(str(path))
    return path


def test_a_changed_split_file_is_hashed_anew(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SALMU_HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets"))
    folder = tmp_path / "dataset"
    path = _write_split(folder, (255, 0, 0))
    first = read_split(folder, "forget")
    assert first.sha256 == first._content_hash()
    assert read_split(folder, "forget").sha256 == first.sha256  # remembered
    stat = path.stat()
    _write_split(folder, (0, 0, 255))  # other pixels; a later modification time
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    changed = read_split(folder, "forget")
    assert changed.sha256 != first.sha256 and changed.sha256 == changed._content_hash()
