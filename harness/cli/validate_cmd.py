"""``salmu-harness validate PATH...``: schema and semantic checks of result files, for CI."""

from __future__ import annotations

import glob
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import click

FORMATS = ("text", "json", "github")
#: below this many files, starting worker processes costs more than it saves
PARALLEL_FROM = 64


def expand(paths: tuple[str, ...]) -> list[Path]:
    """Files named directly, ``*.json`` files under directories (recursively), glob matches.

    In a directory, the harness's own other JSON files in a run folder (one that holds a
    ``result.json``: ``model/*.json``, a bundle's ``config.json`` and ``manifest.json``) are
    not result files and are skipped; every other ``*.json`` is checked. A path that matches
    nothing is kept, so that it is reported as unreadable.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*.json")) if not _run_folder_extra(p, path))
        elif any(c in raw for c in "*?["):
            found.extend(sorted(Path(p) for p in glob.glob(raw, recursive=True)))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


#: JSON files a run folder holds besides its result: the model's config, a bundle's files
RUN_FOLDER_FILES = {"config.json", "manifest.json"}


def _run_folder_extra(file: Path, top: Path) -> bool:
    """Whether ``file`` is one of the harness's own non-result files inside a run folder."""
    folder = file.parent
    if folder.name == "model" and (folder.parent / "result.json").is_file():
        return True
    return file.name in RUN_FOLDER_FILES and (folder / "result.json").is_file()


def check(path: Path, strict: bool = False) -> tuple[list[Any], int, int]:
    """Problems of one file, and (with ``strict``) references checked and unavailable."""
    from harness.validation import Problem, validate_file

    problems = validate_file(path)
    if problems or not strict:
        return problems, 0, 0
    from harness.strict import check_references

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
    type=click.Choice(FORMATS),
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
    files = expand(paths)
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
    if output_format == "json":
        summary: dict[str, Any] = {"valid": not invalid}
        if strict:
            summary["references"] = {"checked": checked, "not_in_cache": unavailable}
        summary["files"] = [
            {"file": n, "valid": not p, "problems": [x.to_json() for x in p]}
            for n, p in report.items()
        ]
        click.echo(json.dumps(summary, indent=2))
    else:
        for problems in report.values():
            for problem in problems:
                if output_format == "github":
                    click.echo(_annotation(problem))
                else:
                    click.echo(str(problem), err=True)
        click.echo(f"{len(files) - len(invalid)} valid, {len(invalid)} invalid")
        if strict:
            click.echo(
                f"references: {checked} matched against the cache, {unavailable} not in the "
                "cache (not checked)"
            )
    sys.exit(1 if invalid else 0)


def _annotation(problem: Any) -> str:
    message = f"{problem.path}: {problem.message}".replace("%", "%25")
    message = message.replace("\r", "%0D").replace("\n", "%0A")
    return f"::error file={problem.file},title=invalid result::{message}"
