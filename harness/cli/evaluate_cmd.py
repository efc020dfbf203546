"""``salmu-harness evaluate PATH``: evaluate any checkpoint without running a method."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from harness.cli.options import (
    evaluation_options,
    merged_settings,
    parse_assignments,
    read_config,
    run_options,
)


@click.command("evaluate")
@click.argument("checkpoint", type=click.Path(exists=True, path_type=Path))
@evaluation_options
def command(
    checkpoint: Path,
    config_file: Path | None,
    quiet: bool,
    benchmark_option: tuple[str, ...],
    **cli: Any,
) -> None:
    """Evaluate CHECKPOINT: a local-dir: folder or a .safetensors/.bin/.pt state dict."""
    from harness.pipeline import evaluate_checkpoint
    from harness.report import render

    cli["benchmark_options"] = parse_assignments(benchmark_option, "--benchmark-option")
    settings = merged_settings(read_config(config_file), cli)
    outcome = evaluate_checkpoint(checkpoint, run_options(settings, quiet))
    click.echo(render(outcome.document))
    click.echo(f"result: {outcome.result_path}")
    if any(m.get("status") == "failed" for m in outcome.document["metrics"].values()):
        sys.exit(1)
