"""``salmu-harness show FILE``: the table of a saved result."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("show")
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "table_format",
    default="simple",
    show_default=True,
    help="Any tabulate format: simple, github, latex, ...",
)
def command(result: Path, table_format: str) -> None:
    """Print the table of a saved RESULT file (it must validate)."""
    from harness.reports.result_text import render
    from harness.results.files import read_result

    click.echo(render(read_result(result), table_format))
