"""The result sections ``run`` and ``evaluate`` both fill, and the outcome they are written to.

``harness.run.pipeline`` (``run``) and ``harness.run.checkpoints`` (``evaluate``) assemble their
documents from these builders: the sections known before anything is evaluated, those an
evaluation fills, the isolation record, the stage timings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.benchmarks.base import Benchmark
from harness.evaluation.evaluator import Evaluator
from harness.plugins import PluginRecord, Registry, load_plugins
from harness.results.document import environment, metric_entry, plugins_involved
from harness.run.kernel import model_args
from harness.run.models import LoadedModel, load_clip
from harness.run.plan import Plan, diagnosis_of, load_for, prepare
from harness.run.records import model_record, reference_hashes
from harness.run.settings import RunOptions


@dataclass
class RunOutcome:
    """The written result document and where it and the unlearned model are."""

    document: dict[str, Any]
    """The result document, as written (schema-valid)."""
    result_path: Path
    """Where ``result.json`` is."""
    model_path: Path | None = None
    """Where the unlearned model was saved (``None`` for ``evaluate``)."""


def reference_records(
    options: RunOptions, registry: Registry | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Clean and Compromised records of every selected metric, by reference cache key.

    Computed once (or read from the cache) so that a sweep can hand them to every trial;
    also returns the reference cache's hits and misses (misses = metric results computed).
    """
    registry = registry or load_plugins()
    plan = prepare(options, registry)
    benchmark = load_for(options, plan, registry)
    evaluator = make_evaluator(benchmark, options, plan, reference_hashes(benchmark))
    records = evaluator.reference_records()
    return records, evaluator.cache_counts()["reference_cache"]


def make_evaluator(
    benchmark: Benchmark, options: RunOptions, plan: Plan, hashes: dict[str, str]
) -> Evaluator:
    return Evaluator(
        benchmark,
        plan.metrics,
        plan.settings,
        plan.engine_options(options),
        lambda role: load_clip(*model_args(benchmark, role)),
        hashes,
        image_cache=options.image_cache,
        preloaded=options.references,
    )


def evaluated_sections(
    evaluated: LoadedModel,
    evaluated_id: str,
    benchmark: Benchmark,
    options: RunOptions,
    plan: Plan,
    registry: Registry,
    sections: dict[str, Any],
    evaluator: Evaluator | None = None,
) -> dict[str, Any]:
    """The sections an evaluation fills: models, evaluation, metrics, suite and diagnosis;
    ``evaluator`` is shared when several models are evaluated on one benchmark."""
    models = {**sections["models"], "evaluated": model_record(evaluated, evaluated_id)}
    if evaluator is None:
        hashes = {role: models[role]["sha256"] for role in ("clean", "compromised")}
        evaluator = make_evaluator(benchmark, options, plan, hashes)
    before = evaluator.cache_counts().get("image_cache")
    clock, stages = time.perf_counter(), evaluator.clock.snapshot()
    references = evaluator.references()
    references_seconds = time.perf_counter() - clock
    records = evaluator.evaluate(evaluated)
    metrics = {
        m.key: metric_entry(
            m,
            registry.plugin_of("metric", m.key),
            records[m.key],
            {role: references[role][m.key] for role in ("clean", "compromised")},
        )
        for m in plan.metrics
    }
    return {
        "models": models,
        "evaluation": {**plan.settings.to_json(), **_counts(evaluator, before)},
        "metrics": metrics,
        "suite": plan.suite.declaration() if plan.suite else None,
        "diagnosis": diagnosis_of(plan, metrics),
        "stages": stage_seconds(
            evaluator.clock.since(stages), references_seconds, time.perf_counter() - clock
        ),
    }


def stage_seconds(
    encoding: dict[str, float], references_seconds: float, total_seconds: float
) -> dict[str, float]:
    """``cost.stages``: where one evaluation's time went. ``references`` is the time spent
    getting the Clean and Compromised records (encoding them on a reference-cache miss);
    decode, image_encode and text_encode cover every model encoded, references included;
    ``metrics`` is the rest of the evaluation."""
    metrics = total_seconds - sum(encoding.values())
    return {
        **{f"{stage}_seconds": round(seconds, 3) for stage, seconds in encoding.items()},
        "references_seconds": round(references_seconds, 3),
        "metrics_seconds": round(max(0.0, metrics), 3),
    }


def _counts(evaluator: Evaluator, images_before: dict[str, int] | None) -> dict[str, Any]:
    """Cache counts for one model: the image cache's since ``images_before``; the reference
    cache's are those of the one lookup that served every model of the evaluator."""
    counts: dict[str, Any] = evaluator.cache_counts()
    if images_before and "image_cache" in counts:
        counts["image_cache"] = {
            k: counts["image_cache"][k] - images_before[k] for k in ("hits", "misses")
        }
    return counts


def described_sections(
    benchmark: Benchmark,
    options: RunOptions,
    plan: Plan,
    registry: Registry,
    extra_plugins: list[PluginRecord],
    trained: bool = True,
) -> dict[str, Any]:
    """The sections known before anything is evaluated."""
    records = [registry.plugin_of("metric", m.key) for m in plan.metrics] + extra_plugins
    if options.benchmark in registry.benchmarks:  # by name, not a folder: its plugin too
        records.append(registry.plugin_of("benchmark", options.benchmark))
    hashes = reference_hashes(benchmark)
    models: dict[str, Any] = {
        role: {
            "id": source.id,
            "revision": source.revision,
            "path": str(source.path),
            "architecture": source.architecture,
            "sha256": hashes[role],
        }
        for role, source in benchmark.models.items()
    }
    return {
        "plugins": plugins_involved(records),
        "seeds": {
            "run": options.seed if trained else None,
            "evaluation": plan.settings.seed,
        },
        "environment": environment(str(plan.device), options.precision),
        "benchmark": benchmark.describe(),
        "models": {**models, "evaluated": None},
        "evaluation": plan.settings.to_json(),
    }
