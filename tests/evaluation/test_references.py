"""References on the test SALMU-mini: normalised scores at the two ends, caching, determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from harness.results.validation import validate_file
from harness.run.checkpoints import evaluate_checkpoint
from harness.run.settings import RunOptions


def evaluate(checkpoint: Path, tmp_path: Path, **kwargs) -> dict:
    options = RunOptions(output_dir=tmp_path, show_progress=False, num_workers=0, **kwargs)
    return evaluate_checkpoint(checkpoint, options).document


@pytest.fixture(scope="module")
def reference_documents(mini_root: Path, tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("refs")
    return {
        role: evaluate(mini_root / "models" / role, out, benchmark=str(mini_root))
        for role in ("compromised", "clean")
    }


def test_compromised_closes_no_gap_and_clean_closes_all(reference_documents) -> None:
    for key, metric in reference_documents["compromised"]["metrics"].items():
        formula = metric["normalized"]["formula"]
        assert metric["normalized"]["score"] == pytest.approx(
            0.0 if formula == "gap_closed" else 1.0
        ), key
    for key, metric in reference_documents["clean"]["metrics"].items():
        if metric["target"] == "clean":
            assert metric["normalized"]["score"] == pytest.approx(1.0), key
            assert metric["value"] == metric["references"]["clean"]["value"]


def test_diagnosis_of_the_references(reference_documents) -> None:
    compromised = reference_documents["compromised"]["diagnosis"]
    assert compromised["modes"] == ["ineffective_forgetting"]
    assert compromised["rules"]["min_gap_closed"] == 0.9
    finding = next(f for f in compromised["findings"] if f["mode"] == "ineffective_forgetting")
    assert finding["evidence"]["gap_closed"] == 0.0
    identities = compromised["identities"]
    mrr = [w["value"] for w in identities["most_retrievable"]]
    assert mrr == sorted(mrr, reverse=True) and identities["distribution"]["max"] == mrr[0]
    assert "ineffective_forgetting" not in reference_documents["clean"]["diagnosis"]["modes"]


def test_references_come_from_the_cache_the_second_time(
    mini_root: Path, tmp_path: Path, reference_documents
) -> None:
    again = evaluate(mini_root / "models" / "clean", tmp_path, benchmark=str(mini_root))
    assert again["evaluation"]["reference_cache"] == {"hits": 20, "misses": 0}
    for key, metric in again["metrics"].items():
        assert metric["value"] == reference_documents["clean"]["metrics"][key]["value"]


def test_numbers_do_not_depend_on_order_or_process(
    mini_root: Path, tmp_path: Path, reference_documents
) -> None:
    """Evaluate clean then compromised in a fresh process with an empty cache: same numbers."""
    env = {**os.environ, "SALMU_HARNESS_CACHE": str(tmp_path / "cache")}
    for role in ("clean", "compromised"):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "harness.cli",
                "evaluate",
                str(mini_root / "models" / role),
                "--benchmark",
                str(mini_root),
                "--output",
                str(tmp_path / role),
                "--workers",
                "0",
                "--quiet",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        (path,) = (tmp_path / role).glob("*/result.json")
        other = json.loads(path.read_text())
        assert other["evaluation"]["reference_cache"]["misses"] == (20 if role == "clean" else 0)
        ours = reference_documents[role]["metrics"]
        for key, metric in other["metrics"].items():
            assert metric["value"] == ours[key]["value"], (role, key)
            assert metric["references"] == {
                r: {k: v for k, v in ours[key]["references"][r].items()}
                for r in ("clean", "compromised")
            }


def test_real_benchmark_path_end_to_end(mini_root: Path, tmp_path: Path) -> None:
    """salmubench on hub-layout folders from the mini generator, GenKnow from an ImageFolder."""
    for c, label in enumerate(("red circle", "blue square")):
        (tmp_path / "val" / label).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (40, 30), (200 * (1 - c), 40 * i, 200 * c)).save(
                tmp_path / "val" / label / f"{i}.png"
            )
    document = evaluate(
        mini_root / "models" / "compromised",
        tmp_path / "out",
        benchmark="salmubench",
        benchmark_options={
            "dataset": str(mini_root / "dataset"),
            "compromised": str(mini_root / "models" / "compromised"),
            "clean": str(mini_root / "models" / "clean"),
            "imagenet": str(tmp_path / "val"),
        },
    )
    assert document["benchmark"]["name"] == "salmubench"
    assert all(m["status"] == "ok" for m in document["metrics"].values())
    genknow = document["metrics"]["2.1"]
    assert genknow["details"]["classes"] == 2 and genknow["details"]["images"] == 6
    cone = genknow["details"]["cone"]
    assert set(cone) == {"mean_image_norm", "mean_class_norm", "centred_accuracy"}
    assert 0.0 < cone["mean_image_norm"] <= 1.0 and 0.0 <= cone["centred_accuracy"] <= 1.0
    (path,) = (tmp_path / "out").glob("*/result.json")
    assert validate_file(path) == []


def test_a_text_embedding_does_not_depend_on_its_batch(mini_root: Path) -> None:
    """The same text, encoded alone, among others, or after the engine cached others, gives the
    same bits: numbers never depend on which metrics ran (or were cached) before."""
    import torch

    from harness.evaluation.embeddings import EmbeddingEngine
    from harness.run.models import load_clip

    loaded = load_clip(mini_root / "models" / "clean")

    def engine() -> EmbeddingEngine:
        return EmbeddingEngine(
            loaded.model,
            loaded.tokenizer,
            loaded.preprocess_eval,
            torch.device("cpu"),
            show_progress=False,
        )

    target = "a small red circle at the top"
    others = [f"a photo of thing {i}" for i in range(300)]
    alone = engine().texts([target])
    crowded = engine().texts([*others[:200], target, *others[200:]])[200:201]
    warm = engine()
    warm.texts(others[:37])
    after = warm.texts([*others[:37], target])[-1:]
    assert torch.equal(alone, crowded) and torch.equal(alone, after)
