"""``salmu-harness sweep-report DIR``: the selected setting per method, budget and schedule,
fairly."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harness.reports.formats import SWEEP_REPORT_FORMATS


@click.command("sweep-report")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(SWEEP_REPORT_FORMATS),
    default="table",
    show_default=True,
)
def command(folder: Path, output_format: str) -> None:
    """Select each method's setting on validation identities; report on the others."""
    from tabulate import tabulate

    from harness.reports.formats import RENDERERS
    from harness.reports.leaderboard import parameters_label
    from harness.sweeps.selection import sweep_report

    chosen, board, split = sweep_report(folder)
    if output_format == "json":
        data = {
            "split": split,
            "selected": [c.to_json() for c in chosen],
            "leaderboard": board.to_json(),
        }
        click.echo(json.dumps(data, indent=2))
        return
    rows = [
        [
            c.method + (f" [{c.schedule}]" if c.schedule else ""),
            f"{c.budget:g}x",
            parameters_label(c.parameters) if c.parameters is not None else "(none finished)",
            c.settings_tried,
            f"{c.trials} ({c.trials_failed} failed)",
            c.seeds,
            "—" if c.validation_objective is None else f"{c.validation_objective:.3f}",
        ]
        for c in chosen
    ]
    headers = [
        "method",
        "budget",
        "selected parameters",
        "settings tried",
        "trials given",
        "seeds",
        f"validation {split['objective']}",
    ]
    style = "github" if output_format == "md" else "simple"
    click.echo(
        f"selection on {split['validation_identities']} validation identities, numbers on the "
        f"other {split['report_identities']} forget identities "
        f"({split['finished']} of {split['trials']} trials finished"
        + (f"; {split['stale']} stale results left out" if split["stale"] else "")
        + ")\n"
    )
    click.echo(tabulate(rows, headers, tablefmt=style, disable_numparse=True))
    click.echo("")
    click.echo(RENDERERS["md" if output_format == "md" else "table"](board))
