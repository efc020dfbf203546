"""``salmu-harness validate PATH...``: schema and semantic checks of result files, for CI."""

from __future__ import annotations

import glob
import json
import sys
from pathlib import Path

import click

FORMATS = ("text", "json", "github")


def expand(paths: tuple[str, ...]) -> list[Path]:
    """Files named directly, ``*.json`` files under directories (recursively), glob matches.

    A path that matches nothing is kept, so that it is reported as unreadable.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.rglob("*.json")))
        elif any(c in raw for c in "*?["):
            found.extend(sorted(Path(p) for p in glob.glob(raw, recursive=True)))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


@click.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text: one line per problem; json: a report; github: Actions annotations.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def command(paths: tuple[str, ...], output_format: str, as_json: bool) -> None:
    """Check result files (files, directories or globs); exit 0 only if all are valid."""
    from harness.validation import validate_file

    files = expand(paths)
    if not files:
        click.echo("error: no result files matched", err=True)
        sys.exit(2)
    report = {str(path): validate_file(path) for path in files}
    invalid = [name for name, problems in report.items() if problems]
    output_format = "json" if as_json else output_format
    if output_format == "json":
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
                if output_format == "github":
                    message = f"{problem.path}: {problem.message}".replace("%", "%25")
                    message = message.replace("\r", "%0D").replace("\n", "%0A")
                    click.echo(f"::error file={problem.file},title=invalid result::{message}")
                else:
                    click.echo(str(problem), err=True)
        click.echo(f"{len(files) - len(invalid)} valid, {len(invalid)} invalid")
    sys.exit(1 if invalid else 0)
