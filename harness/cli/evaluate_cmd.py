"""``salmu-harness evaluate PATH...``: evaluate checkpoints without running a method."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from harness.cli.options import evaluation_options, options_from, read_config


@click.command("evaluate")
@click.argument("checkpoints", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--check-reference",
    is_flag=True,
    help="Instead of checkpoints, evaluate the benchmark's Clean and Compromised models and "
    "compare every metric with the official evaluator's values (exit 1 when one is off).",
)
@click.option(
    "--reference-values",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help='The official values to check against ({"clean": ..., "compromised": ...} in '
    "the official evaluator's format; default: those shipped for SALMUBench's released pair).",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    show_default="0",
    help="With --schedule: the run seed the rounds were run with (it draws the requests).",
)
@evaluation_options
def command(
    checkpoints: tuple[Path, ...],
    check_reference: bool,
    reference_values: Path | None,
    config_file: Path | None,
    quiet: bool,
    benchmark_option: tuple[str, ...],
    verbose: int,
    **cli: Any,
) -> None:
    """Evaluate each CHECKPOINT: a local-dir: folder or a .safetensors/.bin/.pt state dict.

    Several checkpoints are evaluated in one process, the benchmark, the image cache and the
    references loaded once, one result each; a checkpoint that fails is reported and the
    others go on (exit 1 at the end). With --schedule, the checkpoints are a schedule's
    rounds (one per request, in order, or one folder of round-N/ folders): one result per
    round and the schedule's. With --check-reference, no checkpoint: the reference pair is
    checked against the official values instead.
    """
    from harness.errors import HarnessError
    from harness.reports.result_text import render
    from harness.run.checkpoints import CheckpointFailure, evaluate_checkpoints
    from harness.run.logs import log_to_stderr

    log_to_stderr(verbose)
    if check_reference and checkpoints:
        raise click.UsageError("--check-reference evaluates the reference pair: give no CHECKPOINT")
    if not check_reference and not checkpoints:
        raise click.UsageError("give at least one CHECKPOINT (or --check-reference)")
    if reference_values and not check_reference:
        raise click.UsageError("--reference-values goes with --check-reference")

    options = options_from(read_config(config_file), cli, benchmark_option, quiet)
    if cli.get("seed") is not None and options.schedule is None:
        raise click.UsageError("--seed goes with --schedule (it draws the schedule's requests)")
    if check_reference:
        from harness.cli.reference_check_view import show_reference_check

        sys.exit(show_reference_check(options, reference_values))
    if options.schedule is not None:
        from harness.plugins import load_plugins
        from harness.run.rounds import evaluate_schedule
        from harness.run.schedules import parse_schedule

        parse_schedule(options.schedule)  # a bad schedule is refused before anything loads
        schedule = evaluate_schedule(list(checkpoints), options, load_plugins())
        click.echo(render(schedule.document))
        click.echo(f"result: {schedule.result_path}")
        return
    outcomes = evaluate_checkpoints(list(checkpoints), options, keep_going=len(checkpoints) > 1)
    unevaluated, failed_metrics = 0, False
    for outcome in outcomes:
        if isinstance(outcome, CheckpointFailure):
            unevaluated += 1
            error = outcome.error
            reason = error.message if isinstance(error, HarnessError) else repr(error)
            hint = f" ({error.hint})" if isinstance(error, HarnessError) and error.hint else ""
            click.echo(f"error: {outcome.checkpoint}: {reason}{hint}; nothing written", err=True)
            continue
        click.echo(render(outcome.document))
        click.echo(f"result: {outcome.result_path}")
        metrics = outcome.document["metrics"].values()
        failed_metrics |= any(m.get("status") == "failed" for m in metrics)
    if len(outcomes) > 1:
        click.echo(
            f"{len(outcomes)} checkpoints: {len(outcomes) - unevaluated} results written, "
            f"{unevaluated} could not be evaluated"
        )
    if unevaluated or failed_metrics:
        sys.exit(1)
