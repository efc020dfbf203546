"""Turning stored splits, metadata and a model pair into a ``Benchmark``."""

from __future__ import annotations

from typing import Any

from harness.benchmarks.base import Benchmark, GenKnowSet, ModelSource, Role, Split
from harness.benchmarks.hub_layout import derive_splits


def assemble_benchmark(
    name: str,
    revision: str,
    stored: dict[str, Split],
    metadata: dict[str, Any],
    models: dict[Role, ModelSource],
    genknow: GenKnowSet | None = None,
    genknow_skip_reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> Benchmark:
    """Derive the evaluator's splits.

    The ``retain`` split that methods train on depends on the evaluation's protocol and seed:
    ``harness.run.isolation.with_method_retain`` adds it for each run.
    """
    return Benchmark(
        name=name,
        revision=revision,
        splits=derive_splits(stored, metadata),
        metadata=metadata,
        models=models,
        genknow=genknow,
        genknow_skip_reason=genknow_skip_reason,
        details=dict(details or {}),
    )
