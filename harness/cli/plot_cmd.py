"""``salmu-harness plot RESULTS... --out DIR``: trade-off, holdout and per-identity plots."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.leaderboard_cmd import load_board, report_excluded
from harness.cli.options import checked_folder


@click.command("plot")
@click.argument("results", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    callback=checked_folder,
    required=True,
    help="Folder for the PNG and SVG files.",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(["png", "svg"]),
    multiple=True,
    help="Only these formats (repeatable; default: both).",
)
def command(results: tuple[str, ...], out_dir: Path, formats: tuple[str, ...]) -> None:
    """Plot RESULTS (files, directories or globs): forgetting vs utility, holdout collateral,
    per-identity RetFail."""
    from harness.reports.plots import write_plots

    board = load_board(results, None)
    report_excluded(board.excluded)
    for path in write_plots(board, out_dir, formats or ("png", "svg")):
        click.echo(f"wrote {path}")
