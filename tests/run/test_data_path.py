"""A run's numbers do not depend on its data path's workers or on the state of the cache,
and every result records the data path."""

from __future__ import annotations

import json
from pathlib import Path

from harness.evaluation.image_cache import ImageCache
from harness.results.validation import validate_document
from harness.run.pipeline import run_method
from harness.run.settings import RunOptions
from tests.conftest import COMPARED_PARAMETERS


def _metrics(document: dict) -> dict:
    return {
        key: (entry["value"], entry.get("values")) for key, entry in document["metrics"].items()
    }


def _clear_training_entries() -> int:
    cache = ImageCache()
    removed = 0
    for entry in cache.entries():
        if entry.get("purpose") == "training":
            for path in cache.root.glob(f"{entry['key']}*"):
                path.unlink()
            removed += 1
    return removed


def test_workers_and_a_cold_cache_give_bit_identical_results(
    mini_root: Path, baselines_registry, finetune_outcome, tmp_path: Path
) -> None:
    reference = finetune_outcome.document  # workers 0, seed 0
    path = reference["cost"]["data_path"]
    assert path["workers"] == 0 and path["augmentation"] == "main process"
    assert path["decode_workers"] == 0  # --workers 0 sets both
    assert path["version"] and path["image_cache"] is True
    options = RunOptions(
        benchmark=str(mini_root),
        output_dir=tmp_path,
        show_progress=False,
        num_workers=2,
        budget=1.0,
        run_id="finetune-workers2",
    )
    with_workers = run_method("finetune", COMPARED_PARAMETERS, options, baselines_registry)
    record = with_workers.document["cost"]["data_path"]
    assert record["workers"] == 2 and record["augmentation"] == "workers"
    assert record["splits"]["retain"]["entry"] == "warm"
    assert _metrics(with_workers.document) == _metrics(reference)
    assert with_workers.document["budget"] == reference["budget"]

    assert _clear_training_entries() >= 1
    cold = run_method(
        "finetune",
        COMPARED_PARAMETERS,
        options.replace(num_workers=0, run_id="finetune-cold"),
        baselines_registry,
    )
    record = cold.document["cost"]["data_path"]
    assert record["splits"]["retain"]["entry"] == "built" and record["cache_build_seconds"] > 0
    assert _metrics(cold.document) == _metrics(reference)
    assert validate_document(json.loads(cold.result_path.read_text())) == []


def test_without_the_image_cache_the_exact_path_runs_and_is_recorded(
    mini_root: Path, baselines_registry, tmp_path: Path
) -> None:
    options = RunOptions(
        benchmark=str(mini_root),
        output_dir=tmp_path,
        show_progress=False,
        num_workers=0,
        budget=0.5,
        image_cache=False,
        metrics=["1.1"],
    )
    outcome = run_method("finetune", COMPARED_PARAMETERS, options, baselines_registry)
    record = outcome.document["cost"]["data_path"]
    assert record["image_cache"] is False
    assert record["splits"]["retain"] == {
        "image_cache": "off",
        "reason": "--no-image-cache",
        "pixels": "exact",
    }
