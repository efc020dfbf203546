"""One unlearning and its evaluation, written as one result: what ``run`` does once and a
schedule does once per round."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.benchmarks.base import Benchmark
from harness.errors import HarnessError
from harness.evaluation.evaluator import Evaluator
from harness.method import Method
from harness.plugins import Registry
from harness.results.document import assemble, base_document, error_record, now
from harness.results.files import write_result
from harness.results.layout import TRAINING_RECORD, RunFolder
from harness.results.model_card import write_model_card
from harness.results.no_op import no_op_warnings
from harness.run.budget import Budget
from harness.run.isolation import isolation_record, training_record
from harness.run.kernel import unlearn_once
from harness.run.models import load_clip, save_local_dir
from harness.run.plan import Plan
from harness.run.records import cost_section
from harness.run.sections import RunOutcome, described_sections, evaluated_sections
from harness.run.settings import RunOptions
from harness.tracking.events import ActiveReporters

logger = logging.getLogger("salmu_harness")


@dataclass(frozen=True)
class Job:
    """What every unlearning of one ``run`` shares (every round of a schedule)."""

    method: Method
    parameters: dict[str, Any]
    options: RunOptions
    plan: Plan
    registry: Registry

    @property
    def method_record(self) -> dict[str, Any]:
        """The result's ``method`` section."""
        plugin = self.registry.plugin_of("method", self.method.name)
        return {
            "name": self.method.name,
            "version": self.method.version,
            "distribution": plugin.distribution,
            "parameters": self.parameters,
        }

    def sections(self, benchmark: Benchmark) -> dict[str, Any]:
        """The sections known before anything runs."""
        plugin = self.registry.plugin_of("method", self.method.name)
        return {
            "method": self.method_record,
            "config": self.options.to_config(self.method.name, self.parameters, self.plan.protocol),
            **described_sections(benchmark, self.options, self.plan, self.registry, [plugin]),
        }


def unlearn_and_evaluate(
    job: Job,
    benchmark: Benchmark,
    folder: RunFolder,
    run_id: str,
    started: str,
    clock: float,
    reporters: ActiveReporters,
    *,
    shown: Benchmark | None = None,
    start_from: Path | None = None,
    evaluator: Evaluator | None = None,
    annotate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    sections: dict[str, Any] | None = None,
) -> RunOutcome:
    """Unlearn, save the model in ``folder``, evaluate it on ``benchmark`` and write its
    result. ``shown`` is the benchmark as the method sees it (default: ``benchmark``),
    ``start_from`` the model it starts from (default: Compromised); ``annotate(metrics)``
    gives extra sections from the metrics (a schedule round's persona groups); ``sections``
    are ``job.sections(benchmark)`` when the caller has them. A failure is recorded in
    ``folder`` and raised."""
    options, plan = job.options, job.plan
    shown = shown if shown is not None else benchmark
    sections = sections if sections is not None else job.sections(benchmark)
    budget = Budget(options.budget, len(shown.split("forget")))
    model_path = None
    try:
        unlearned = unlearn_once(
            job.method, job.parameters, shown, options, plan.device, budget, start_from=start_from
        )
        record = training_record(shown, plan.protocol, plan.settings.seed, job.method_record)
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
            evaluated,
            f"local:{model_path}",
            benchmark,
            options,
            plan,
            job.registry,
            sections,
            evaluator,
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
        extra = annotate(found["metrics"]) if annotate else {}
    except Exception as exc:
        failed, path = _write_failure(folder.result, run_id, started, sections, exc, clock, budget)
        reporters.finish(failed, path)
        raise
    document = assemble(
        base_document("run", run_id, started),
        **{**sections, **found, **extra},
        finished_at=now(),
        budget=budget.to_json(),
        cost=cost,
    )
    result_path = write_result(folder.result, document)
    write_model_card(model_path, document)  # after the result: its numbers are the result's
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
