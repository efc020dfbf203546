"""``salmu-harness evaluate PATH``: evaluate any checkpoint without running a method."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from harness.cli.options import evaluation_options, options_from, read_config


@click.command("evaluate")
@click.argument("checkpoint", type=click.Path(exists=True, path_type=Path))
@evaluation_options
def command(
    checkpoint: Path,
    config_file: Path | None,
    quiet: bool,
    benchmark_option: tuple[str, ...],
    verbose: int,
    **cli: Any,
) -> None:
    """Evaluate CHECKPOINT: a local-dir: folder or a .safetensors/.bin/.pt state dict."""
    from harness.reports.result_text import render
    from harness.run.logs import log_to_stderr
    from harness.run.pipeline import evaluate_checkpoint

    log_to_stderr(verbose)

    options = options_from(read_config(config_file), cli, benchmark_option, quiet)
    outcome = evaluate_checkpoint(checkpoint, options)
    click.echo(render(outcome.document))
    click.echo(f"result: {outcome.result_path}")
    if any(m.get("status") == "failed" for m in outcome.document["metrics"].values()):
        sys.exit(1)
