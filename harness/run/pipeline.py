"""The run pipeline: method -> unlearned model -> metrics -> result document.

``run_method`` is the Python API behind ``salmu-harness run`` (``harness.run.checkpoints``
holds ``evaluate``'s); the sections both fill are built by ``harness.run.sections``, one
unlearning and its result by ``harness.run.unlearning``, a schedule's rounds by
``harness.run.rounds``. User
mistakes (unknown names, bad parameters, bad device) are caught by
``harness.run.plan.prepare`` before any model or dataset is loaded. Each function collects the
result's sections and assembles the document once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from harness.errors import ParameterError
from harness.plugins import Registry, load_plugins
from harness.results.document import now
from harness.results.files import refuse_overwrite
from harness.results.layout import new_run_id, run_folder
from harness.run.logs import run_log
from harness.run.plan import load_for, prepare
from harness.run.rounds import run_schedule
from harness.run.sections import RunOutcome
from harness.run.settings import RunOptions
from harness.run.unlearning import Job, unlearn_and_evaluate
from harness.tracking.events import reporting
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
    if options.schedule is not None:
        return run_schedule(method_name, parameters, options, registry)
    plan = prepare(options, registry)
    started, clock = now(), time.perf_counter()
    run_id = options.run_id or new_run_id(method.name)
    folder = run_folder(options.output_dir, run_id)
    refuse_overwrite(folder)
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
        job = Job(method, resolved, options, plan, registry)
        benchmark = load_for(options, plan, registry)
        outcome = unlearn_and_evaluate(job, benchmark, folder, run_id, started, clock, reporters)
        reporters.finish(outcome.document, outcome.result_path)
        return outcome
