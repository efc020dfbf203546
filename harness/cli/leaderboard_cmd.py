"""``salmu-harness leaderboard RESULTS...``: seeds aggregated per method setting, one table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli.options import checked_file
from harness.reports.formats import LEADERBOARD_FORMATS
from harness.results.layout import result_files

if TYPE_CHECKING:
    from harness.reports.leaderboard import Leaderboard
    from harness.results.loading import Excluded


@click.command("leaderboard")
@click.argument("results", nargs=-1, required=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(LEADERBOARD_FORMATS),
    default="table",
    show_default=True,
)
@click.option("--sort", "sort_by", metavar="METRIC", help="Metric key or name, best first.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=checked_file,
    help="Write here (atomically).",
)
def command(
    results: tuple[str, ...], output_format: str, sort_by: str | None, output: Path | None
) -> None:
    """Leaderboard of RESULTS (files, directories or globs of result.json files).

    Results from other benchmark revisions, split contents, metric versions or evaluation
    settings than the largest comparable group are left out, each with the reason.
    """
    from harness.reports.formats import RENDERERS

    board = load_board(results, sort_by)
    text = RENDERERS[output_format](board)
    report_excluded(board.excluded)
    emit(text, output)


def load_board(results: tuple[str, ...], sort_by: str | None) -> Leaderboard:
    """The leaderboard of the files named, or a clear error."""
    from harness.errors import HarnessError
    from harness.reports.leaderboard import build_leaderboard
    from harness.results.loading import load_results

    loaded = load_results(result_files(results))
    if not loaded.results:
        report_excluded(loaded.excluded)
        raise HarnessError(
            "no valid, successful result among the files given",
            "pass result.json files, folders that hold them, or globs",
        )
    board = build_leaderboard(loaded, sort_by)
    if board.suite is None:  # results written before suites were recorded
        from harness.plugins import load_plugins

        suite = load_plugins(third_party=False).suite_for(m.key for m in board.metrics)
        board.suite = suite.declaration() if suite else None
    return board


def report_excluded(excluded: list[Excluded]) -> None:
    """One stderr line per file left out."""
    for item in excluded:
        click.echo(f"left out {item.path}: {item.reason}", err=True)


def emit(text: str, output: Path | None) -> None:
    """Print ``text``, or write it atomically to ``output``."""
    if output is None:
        click.echo(text)
        return
    from harness.storage import write_text_atomic

    write_text_atomic(output, text if text.endswith("\n") else text + "\n")
    click.echo(f"wrote {output}", err=True)
