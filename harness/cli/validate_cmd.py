"""``salmu-harness validate FILE...``: schema and semantic checks of result files, for CI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report on stdout.")
def command(files: tuple[str, ...], as_json: bool) -> None:
    """Check result FILES; exit 0 only if every one is valid."""
    from harness.validation import validate_file

    report = {}
    for name in files:
        report[name] = validate_file(Path(name))
    invalid = [name for name, problems in report.items() if problems]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "valid": not invalid,
                    "files": [
                        {"file": n, "valid": not p, "problems": [x.to_json() for x in p]}
                        for n, p in report.items()
                    ],
                },
                indent=2,
            )
        )
    else:
        for problems in report.values():
            for problem in problems:
                click.echo(str(problem), err=True)
        click.echo(f"{len(files) - len(invalid)} valid, {len(invalid)} invalid")
    sys.exit(1 if invalid else 0)
