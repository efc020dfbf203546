"""``salmu-harness run METHOD``: unlearn, save the model, evaluate, write a result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from harness.cli.options import evaluation_options, options_from, parse_assignments, read_config


@click.command("run")
@click.argument("method")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Method parameter (repeatable); values are parsed as JSON when possible.",
)
@click.option("--seed", type=int, default=None, show_default="0", help="Run seed.")
@click.option(
    "--budget",
    type=float,
    default=None,
    show_default="5",
    help="Compute budget in passes over the forget split.",
)
@click.option(
    "--bundle",
    is_flag=True,
    help="Make the run folder a verifiable bundle: adds config.json, versions.txt and a "
    "sha256 manifest (check it later with `salmu-harness verify`).",
)
@evaluation_options
def command(
    method: str,
    assignments: tuple[str, ...],
    config_file: Path | None,
    quiet: bool,
    benchmark_option: tuple[str, ...],
    bundle: bool,
    verbose: int,
    **cli: Any,
) -> None:
    """Run an unlearning METHOD on the benchmark and evaluate the result."""
    from harness.plugins import load_plugins
    from harness.reports.result_text import render
    from harness.run.logs import log_to_stderr
    from harness.run.pipeline import run_method

    log_to_stderr(verbose)

    config = read_config(config_file)
    parameters = {**(config.get("parameters") or {}), **parse_assignments(assignments, "--set")}
    options = options_from(config, cli, benchmark_option, quiet)
    registry = load_plugins()
    outcome = run_method(method, parameters, options, registry)
    click.echo(render(outcome.document))
    click.echo(f"result: {outcome.result_path}")
    click.echo(f"model:  {outcome.model_path}")
    if bundle:
        from harness.results.bundle import write_bundle

        distributions = sorted({record.distribution for record in registry.plugins.values()})
        folder = write_bundle(outcome.result_path.parent, outcome.document, distributions)
        click.echo(f"bundle: {folder} (check with `salmu-harness verify {folder}`)")
    if any(m.get("status") == "failed" for m in outcome.document["metrics"].values()):
        sys.exit(1)
