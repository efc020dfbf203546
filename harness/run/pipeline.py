"""The run pipeline: method -> unlearned model -> metrics -> result document.

``run_method`` is the Python API behind ``salmu-harness run`` (``harness.run.checkpoints``
holds ``evaluate``'s); the sections both fill are built by ``harness.run.sections``. User
mistakes (unknown names, bad parameters, bad device) are caught by
``harness.run.plan.prepare`` before any model or dataset is loaded. Each function collects the
result's sections and assembles the document once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, ParameterError
from harness.method import Method
from harness.plugins import Registry, load_plugins
from harness.results.document import (
    assemble,
    base_document,
    error_record,
    now,
)
from harness.results.files import write_result
from harness.results.layout import TRAINING_RECORD, RunFolder, new_run_id, run_folder
from harness.results.model_card import write_model_card
from harness.results.no_op import no_op_warnings
from harness.run.budget import Budget
from harness.run.isolation import isolation_record, training_record
from harness.run.kernel import unlearn_once
from harness.run.logs import run_log
from harness.run.models import load_clip, save_local_dir
from harness.run.plan import Plan, load_for, prepare
from harness.run.records import cost_section
from harness.run.sections import (
    RunOutcome,
    described_sections,
    evaluated_sections,
)
from harness.run.settings import RunOptions
from harness.tracking.events import ActiveReporters, reporting
from harness.tracking.reporter import RunStart

logger = logging.getLogger("salmu_harness")


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
        isolation = isolation_record(
            "guaranteed",
            "the method trained on the retain split of this very evaluation",
            overlapping_captions=0,
        )
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
