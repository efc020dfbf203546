"""``salmu-harness validate PATH...``: schema and semantic checks of result files, for CI."""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import click

from harness.reports.formats import VALIDATION_FORMATS, render_validation
from harness.results.layout import result_files

#: below this many files, starting worker processes costs more than it saves
PARALLEL_FROM = 64


def check(path: Path, strict: bool = False) -> tuple[list[Any], int, int]:
    """Problems of one file, and (with ``strict``) references checked and unavailable."""
    from harness.results.validation import Problem, validate_file

    problems = validate_file(path)
    if problems or not strict:
        return problems, 0, 0
    from harness.results.strict import check_references

    report = check_references(json.loads(path.read_text()))
    return (
        [Problem(str(path), p, m) for p, m in report.problems],
        report.checked,
        report.unavailable,
    )


def _check_strict(path: Path) -> tuple[list[Any], int, int]:
    return check(path, strict=True)


@click.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(VALIDATION_FORMATS),
    default="text",
    show_default=True,
    help="text: one line per problem; json: a report; github: Actions annotations.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option(
    "--strict",
    is_flag=True,
    help="Also compare each result's Clean/Compromised references with this machine's "
    "reference cache, where it holds them.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: one per core, for 64 files or more).",
)
def command(
    paths: tuple[str, ...], output_format: str, as_json: bool, strict: bool, jobs: int | None
) -> None:
    """Check result files (files, directories or globs); exit 0 only if all are valid."""
    files = result_files(paths)
    if not files:
        click.echo("error: no result files matched", err=True)
        sys.exit(2)
    checker = _check_strict if strict else check
    jobs = jobs or ((os.cpu_count() or 1) if len(files) >= PARALLEL_FROM else 1)
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            outcomes = list(pool.map(checker, files, chunksize=max(1, len(files) // (jobs * 4))))
    else:
        outcomes = [checker(path) for path in files]
    report = {str(path): outcome[0] for path, outcome in zip(files, outcomes, strict=True)}
    checked = sum(outcome[1] for outcome in outcomes)
    unavailable = sum(outcome[2] for outcome in outcomes)
    invalid = [name for name, problems in report.items() if problems]
    output_format = "json" if as_json else output_format
    out, err = render_validation(report, output_format, (checked, unavailable) if strict else None)
    click.echo(out)
    if err:
        click.echo(err, err=True)
    sys.exit(1 if invalid else 0)
