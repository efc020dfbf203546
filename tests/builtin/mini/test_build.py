"""Building SALMU-mini: the cache, the manifest, and bit-for-bit reproducibility."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest
from safetensors.torch import load_file

from harness.benchmarks import load_benchmark
from harness.benchmarks.local import MANIFEST, load_local_benchmark
from harness.builtin.mini.build import build_mini, ensure_mini
from harness.builtin.mini.training import RECIPES
from harness.errors import BenchmarkError, UnknownNameError


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


@pytest.mark.slow
def test_rebuild_with_the_same_seed_is_byte_identical(mini_root: Path, tmp_path: Path) -> None:
    again = build_mini("test", 0, show_progress=False, root=tmp_path)
    assert again.name == mini_root.name
    ours, theirs = digests(mini_root), digests(again)
    assert ours == theirs
    assert "models/compromised/open_clip_model.safetensors" in ours
    assert any(name.endswith(".parquet") for name in ours)


def test_second_build_is_a_cache_hit(mini_root: Path) -> None:
    manifest = mini_root / MANIFEST
    before = manifest.stat().st_mtime_ns
    assert build_mini("test", 0, show_progress=False, root=mini_root.parent) == mini_root
    assert manifest.stat().st_mtime_ns == before


def test_manifest_records_the_build(mini_root: Path, mini_benchmark) -> None:
    manifest = json.loads((mini_root / MANIFEST).read_text())
    details = manifest["details"]
    assert details["scale"] == "test" and details["seed"] == 0
    forget_rows = details["statistics"]["splits"]["forget"]["rows"]
    assert forget_rows == len(mini_benchmark.split("forget"))
    assert details["retfail_gallery"]["forget_distractors"] == min(1000, forget_rows)
    losses = details["training"]["losses"]
    assert losses["compromised"]["last_loss"] < losses["compromised"]["first_loss"]
    assert load_local_benchmark(mini_root).revision == manifest["revision"]


def test_the_default_scale_fixes_the_temperature_and_the_test_scale_learns_it(
    mini_root: Path,
) -> None:
    assert RECIPES["default"].temperature == 100.0 and RECIPES["test"].temperature is None
    manifest = json.loads((mini_root / MANIFEST).read_text())
    assert manifest["details"]["training"]["recipe"]["temperature"] is None
    for role in ("clean", "compromised"):
        weights = load_file(mini_root / "models" / role / "open_clip_model.safetensors")
        # learned from OpenCLIP's initial 1/0.07, so no longer exactly there
        assert math.exp(weights["logit_scale"].item()) != pytest.approx(1 / 0.07, rel=1e-6)


def test_bad_options_are_refused() -> None:
    with pytest.raises(BenchmarkError, match="mini has no option 'scael'"):
        load_benchmark("mini", {"scael": "test"})  # the loader's declared options, checked once
    with pytest.raises(UnknownNameError, match="did you mean 'test'"):
        ensure_mini("tset")
    with pytest.raises(BenchmarkError, match="not an integer"):
        ensure_mini("test", "x")
