"""The evaluator shares what every model needs and frees the reference models it no longer needs."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from harness.evaluation.evaluator import EngineOptions, Evaluator
from harness.evaluation.settings import EvaluationSettings
from harness.plugins import load_plugins
from harness.run.models import load_clip


def evaluator(benchmark, reads_references: bool, tag: str) -> tuple[Evaluator, list[str]]:
    """An evaluator of InterIdSim whose reference hashes (``tag``) no other test uses, so
    that its references are computed, not read from the reference cache."""
    registry = load_plugins()
    (metric,) = registry.select_metrics(["2.2"])
    loaded: list[str] = []

    def load(role):
        loaded.append(role)
        return load_clip(benchmark.models[role].path)

    built = Evaluator(
        benchmark,
        [dataclasses.replace(metric, reads_references=reads_references)],
        EvaluationSettings(protocol=registry.protocol()),
        EngineOptions(torch.device("cpu"), num_workers=0, show_progress=False),
        load,
        {"clean": f"clean-{tag}", "compromised": f"compromised-{tag}"},
        image_cache=False,
    )
    return built, loaded


@pytest.mark.parametrize("reads_references", [False, True])
def test_reference_models_are_kept_only_for_metrics_that_read_them(
    mini_benchmark, reads_references: bool
) -> None:
    built, loaded = evaluator(mini_benchmark, reads_references, f"keep-{reads_references}")
    references = built.references()
    assert set(references) == {"clean", "compromised"} and sorted(loaded) == [
        "clean",
        "compromised",
    ]
    assert bool(built._contexts) == reads_references
    # the records stay whatever happens to the models
    assert built.references() is references
    records = built.evaluate(load_clip(mini_benchmark.models["compromised"].path))
    assert records["2.2"]["value"] == references["compromised"]["2.2"]["value"]


def test_every_engine_of_an_evaluator_shares_tokens_and_the_clock(mini_benchmark) -> None:
    built, _ = evaluator(mini_benchmark, False, "shared")
    built.references()
    misses = built.tokens.misses
    before = built.clock.snapshot()
    built.evaluate(load_clip(mini_benchmark.models["compromised"].path))
    assert built.tokens.misses == misses  # the Compromised captions were tokenised already
    assert built.tokens.hits > 0
    assert built.clock.since(before)["text_encode"] > 0
