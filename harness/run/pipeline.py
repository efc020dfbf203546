"""The run pipeline: method -> unlearned model -> metrics -> result document.

``run_method`` is the Python API behind ``salmu-harness run`` (``harness.run.checkpoints``
holds ``evaluate``'s); the sections both fill are built here. User mistakes (unknown names,
bad parameters, bad device) are caught by ``harness.run.plan.prepare`` before any model or
dataset is loaded. Each function collects the result's sections and assembles the document
once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.benchmarks.base import Benchmark
from harness.errors import HarnessError, ParameterError
from harness.evaluation.evaluator import Evaluator
from harness.method import Method
from harness.plugins import PluginRecord, Registry, load_plugins
from harness.results.document import (
    assemble,
    base_document,
    environment,
    error_record,
    metric_entry,
    now,
    plugins_involved,
)
from harness.results.files import write_result
from harness.results.layout import TRAINING_RECORD, RunFolder, new_run_id, run_folder
from harness.results.model_card import write_model_card
from harness.results.no_op import no_op_warnings
from harness.run.budget import Budget
from harness.run.isolation import check_isolation, training_record
from harness.run.kernel import model_args, unlearn_once
from harness.run.logs import run_log
from harness.run.models import LoadedModel, load_clip, save_local_dir
from harness.run.plan import Plan, diagnosis_of, load_for, prepare
from harness.run.records import cost_section, model_record, reference_hashes
from harness.run.settings import RunOptions
from harness.tracking.events import ActiveReporters, reporting
from harness.tracking.reporter import RunStart

logger = logging.getLogger("salmu_harness")


@dataclass
class RunOutcome:
    """The written result document and where it and the unlearned model are."""

    document: dict[str, Any]
    """The result document, as written (schema-valid)."""
    result_path: Path
    """Where ``result.json`` is."""
    model_path: Path | None = None
    """Where the unlearned model was saved (``None`` for ``evaluate``)."""


def run_method(
    method_name: str,
    parameters: Mapping[str, Any] | None = None,
    options: RunOptions | None = None,
    registry: Registry | None = None,
) -> RunOutcome:
    """Unlearn with ``method_name``, save the model, evaluate it, write the result."""
    options = options or RunOptions()
    registry = registry or load_plugins()
    method = registry.method(method_name)
    resolved = method.resolve_parameters(parameters)
    if not options.budget > 0:
        raise ParameterError(
            f"budget {options.budget} must be a positive multiple", "e.g. --budget 5"
        )
    plan = prepare(options, registry)
    started, clock = now(), time.perf_counter()
    run_id = options.run_id or new_run_id(method.name)
    folder = run_folder(options.output_dir, run_id)
    start = RunStart(
        run_id,
        "run",
        method.name,
        options.to_config(method.name, resolved, plan.protocol),
        folder.root,
    )
    with run_log(folder.log), reporting(plan.reporters, start) as reporters:
        logger.info(
            "run %s: method %s %s, parameters %s", run_id, method.name, method.version, resolved
        )
        return _run(
            method, resolved, options, plan, registry, folder, run_id, started, clock, reporters
        )


def _run(
    method: Method,
    resolved: dict[str, Any],
    options: RunOptions,
    plan: Plan,
    registry: Registry,
    folder: RunFolder,
    run_id: str,
    started: str,
    clock: float,
    reporters: ActiveReporters,
) -> RunOutcome:
    plugin = registry.plugin_of("method", method.name)
    method_record = {
        "name": method.name,
        "version": method.version,
        "distribution": plugin.distribution,
        "parameters": resolved,
    }
    benchmark = load_for(options, plan, registry)
    sections = {
        "method": method_record,
        "config": options.to_config(method.name, resolved, plan.protocol),
        **described_sections(benchmark, options, plan, registry, [plugin]),
    }
    budget = Budget(options.budget, len(benchmark.split("forget")))
    model_path = None
    try:
        unlearned = unlearn_once(method, resolved, benchmark, options, plan.device, budget)
        record = training_record(benchmark, plan.protocol, plan.settings.seed, method_record)
        model_path = save_local_dir(
            unlearned.checked().cpu(),
            unlearned.student.config,
            folder.model,
            {TRAINING_RECORD: json.dumps(record, indent=2, sort_keys=True)},
        )
        evaluated = load_clip(model_path)
        isolation = {
            "status": "guaranteed",
            "overlapping_captions": 0,
            "reason": "the method trained on the retain split of this very evaluation",
        }
        evaluation_clock = time.perf_counter()
        found = evaluated_sections(
            evaluated, f"local:{model_path}", benchmark, options, plan, registry, sections
        )
        found["evaluation"]["retain_isolation"] = isolation
        found["warnings"] = no_op_warnings(unlearned.weights_changed, found["metrics"]) or None
        cost = cost_section(
            clock,
            budget,
            unlearned.seconds,
            time.perf_counter() - evaluation_clock,
            unlearned.data_path.record(unlearned.seconds),
        )
        cost["stages"] = found.pop("stages")
    except Exception as exc:
        failed, path = _write_failure(folder.result, run_id, started, sections, exc, clock, budget)
        reporters.finish(failed, path)
        raise
    document = assemble(
        base_document("run", run_id, started),
        **{**sections, **found},
        finished_at=now(),
        budget=budget.to_json(),
        cost=cost,
    )
    result_path = write_result(folder.result, document)
    write_model_card(model_path, document)  # after the result: its numbers are the result's
    reporters.finish(document, result_path)
    return RunOutcome(document, result_path, model_path)


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


def isolation_of(
    evaluated: LoadedModel,
    models: dict[str, Any],
    checkpoint: Path,
    benchmark: Benchmark,
    plan: Plan,
) -> dict[str, Any]:
    for role in ("compromised", "clean"):
        if evaluated.sha256 == models[role]["sha256"]:
            return {
                "status": "guaranteed",
                "overlapping_captions": 0,
                "reason": f"the evaluated weights are the benchmark's {role} model, "
                "which no method trained",
            }
    return check_isolation(checkpoint, benchmark, plan.suites, plan.protocol, plan.settings.seed)


def _write_failure(
    path: Path,
    run_id: str,
    started: str,
    sections: dict[str, Any],
    exc: BaseException,
    clock: float,
    budget: Budget,
) -> tuple[dict[str, Any], Path | None]:
    """Record a failed run (nothing else of it is kept: no model, no metrics); the document,
    and where it was written (None if it could not be)."""
    models = {**sections["models"], "evaluated": None}
    document = assemble(
        {**base_document("run", run_id, started), "status": "failed"},
        **{**sections, "models": models, "metrics": {}},
        error=error_record(exc),
        finished_at=now(),
        budget=budget.to_json(),
        cost=cost_section(clock, budget, 0.0, 0.0),
    )
    try:
        return document, write_result(path, document)
    except HarnessError:
        logger.exception("could not record the failed run")
        return document, None
