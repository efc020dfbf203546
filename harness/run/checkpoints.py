"""Evaluating checkpoints without running a method: the Python API of ``salmu-harness evaluate``.

``evaluate_checkpoints`` loads the benchmark, the image cache and the references once and
evaluates each checkpoint in turn, one result each; a failing checkpoint is reported and the
rest go on. ``evaluate_checkpoint`` is the one-checkpoint form.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.benchmarks.base import Benchmark
from harness.errors import HarnessError, ParameterError
from harness.evaluation.evaluator import Evaluator
from harness.plugins import Registry, load_plugins
from harness.results.document import assemble, base_document, now
from harness.results.files import refuse_overwrite, write_result
from harness.results.layout import RunFolder, new_run_id, run_folder
from harness.run.isolation import isolation_of_checkpoint
from harness.run.kernel import check_finite
from harness.run.logs import run_log
from harness.run.models import load_clip
from harness.run.plan import Plan, load_for, prepare
from harness.run.records import architecture_of, cost_section
from harness.run.sections import (
    RunOutcome,
    described_sections,
    evaluated_sections,
    make_evaluator,
)
from harness.run.settings import RunOptions
from harness.tracking.events import reporting
from harness.tracking.reporter import RunStart

logger = logging.getLogger("salmu_harness")


def evaluate_checkpoint(
    checkpoint: str | Path, options: RunOptions | None = None, registry: Registry | None = None
) -> RunOutcome:
    """Evaluate any checkpoint (``local-dir:`` folder or state-dict file) on the benchmark."""
    (outcome,) = evaluate_checkpoints([checkpoint], options, registry, keep_going=False)
    assert isinstance(outcome, RunOutcome)
    return outcome


@dataclass
class CheckpointFailure:
    """A checkpoint that could not be evaluated, and why (nothing was written for it)."""

    checkpoint: str
    """The checkpoint as given."""
    error: BaseException
    """What went wrong (a ``HarnessError`` for the failures a user can fix)."""


def evaluate_checkpoints(
    checkpoints: Sequence[str | Path],
    options: RunOptions | None = None,
    registry: Registry | None = None,
    keep_going: bool = True,
    places: Sequence[tuple[str, RunFolder]] | None = None,
    annotate: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None,
    session: Session | None = None,
) -> list[RunOutcome | CheckpointFailure]:
    """Evaluate each checkpoint in turn, one result each, loading the benchmark, the image
    cache and the references once. With ``keep_going``, a checkpoint that fails (unreadable,
    wrong architecture, non-finite weights) is logged and returned as a ``CheckpointFailure``
    and the others go on; otherwise its error is raised. ``places`` gives each checkpoint's
    run id and folder, ``annotate(index, metrics)`` extra sections of its result, ``session``
    what ``evaluation_session`` loaded (a schedule's rounds)."""
    options = options or RunOptions()
    registry = registry or load_plugins()
    session = session or evaluation_session(options, registry, len(checkpoints))
    outcomes: list[RunOutcome | CheckpointFailure] = []
    for index, checkpoint in enumerate(checkpoints):
        started = now()
        if places is not None:
            run_id, folder = places[index]
        else:
            run_id = options.run_id or new_run_id(f"evaluate-{Path(str(checkpoint)).name}")
            folder = run_folder(options.output_dir, run_id)
            refuse_overwrite(folder)
        start = RunStart(
            run_id, "evaluate", str(checkpoint), session.sections["config"], folder.root
        )
        # a reporter that cannot start stops the whole call, as a bad option would
        with run_log(folder.log), reporting(session.plan.reporters, start) as reporters:
            logger.info("evaluation %s of %s", run_id, checkpoint)
            try:
                extra = functools.partial(annotate, index) if annotate else None
                outcome = _evaluate(checkpoint, session, folder, run_id, started, extra)
            except Exception as exc:
                if not keep_going:
                    raise
                if not isinstance(exc, HarnessError):  # not a user's mistake: keep the trace
                    logger.error("could not evaluate %s", checkpoint, exc_info=True)
                reporters.abandon(f"{type(exc).__name__}: {exc}")
                outcomes.append(CheckpointFailure(str(checkpoint), exc))
                continue
            reporters.finish(outcome.document, outcome.result_path)
            outcomes.append(outcome)
    return outcomes


def evaluation_session(options: RunOptions, registry: Registry, checkpoints: int = 1) -> Session:
    """What every checkpoint of one evaluation shares: the plan, the benchmark, the sections
    known before any checkpoint, the evaluator (references and image cache loaded once)."""
    plan = prepare(options, registry)
    if options.run_id and checkpoints > 1:
        raise ParameterError(
            f"--run-id names one result folder, but {checkpoints} checkpoints were given",
            "leave --run-id out (each result gets its own folder) or give one checkpoint",
        )
    benchmark = load_for(options, plan, registry)
    sections = {
        "method": None,
        "config": options.to_config(None, None, plan.protocol),
        **described_sections(benchmark, options, plan, registry, [], trained=False),
    }
    hashes = {role: sections["models"][role]["sha256"] for role in ("clean", "compromised")}
    return Session(
        options,
        registry,
        plan,
        benchmark,
        sections,
        make_evaluator(benchmark, options, plan, hashes),
    )


def _evaluate(
    checkpoint: str | Path,
    session: Session,
    folder: RunFolder,
    run_id: str,
    started: str,
    annotate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> RunOutcome:
    clock = time.perf_counter()
    benchmark, plan, sections = session.benchmark, session.plan, session.sections
    # a local Compromised folder carries its own config: bare state dicts are read with it
    architecture = architecture_of(benchmark) or benchmark.models["compromised"].architecture
    evaluated = load_clip(checkpoint, architecture=architecture)
    check_finite(evaluated.model, f"checkpoint {checkpoint}")
    found = evaluated_sections(
        evaluated,
        f"local:{checkpoint}",
        benchmark,
        session.options,
        plan,
        session.registry,
        sections,
        session.evaluator,
    )
    stages = found.pop("stages")
    checkpoint_path = Path(str(checkpoint).removeprefix("local-dir:"))
    found["evaluation"]["retain_isolation"] = isolation_of_checkpoint(
        checkpoint_path,
        evaluated.sha256,
        {role: sections["models"][role]["sha256"] for role in ("compromised", "clean")},
        benchmark,
        plan.suites,
        plan.protocol,
        plan.settings.seed,
    )
    extra = annotate(found["metrics"]) if annotate else {}
    document = assemble(
        base_document("evaluate", run_id, started),
        **{**sections, **found, **extra},
        finished_at=now(),
        budget=None,
        cost={**cost_section(clock, None, 0.0, time.perf_counter() - clock), "stages": stages},
    )
    return RunOutcome(document, write_result(folder.result, document))


@dataclass
class Session:
    """What every checkpoint of one ``evaluate_checkpoints`` call shares."""

    options: RunOptions
    registry: Registry
    plan: Plan
    benchmark: Benchmark
    sections: dict[str, Any]
    evaluator: Evaluator
