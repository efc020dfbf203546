"""``salmu-harness import-official FILE``: an official evaluator result as a harness result."""

from __future__ import annotations

import time
from pathlib import Path

import click

from harness.cli.options import checked_folder


@click.command("import-official")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--label", default=None, help="Name of the evaluated model (default: file name).")
@click.option(
    "--clean",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Official result file of the Clean model (default: the released pair's official values).",
)
@click.option(
    "--compromised",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Official result file of the Compromised model (with --clean).",
)
@click.option("--benchmark", default="salmubench", show_default=True, help="Benchmark evaluated.")
@click.option(
    "--revision",
    default=None,
    help="Dataset revision evaluated (default: the released values' revision, else unknown).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    callback=checked_folder,
    default=Path("salmu-results"),
    show_default=True,
    help="Folder for the result's run folder.",
)
def command(
    file: Path,
    label: str | None,
    clean: Path | None,
    compromised: Path | None,
    benchmark: str,
    revision: str | None,
    output: Path,
) -> None:
    """Import FILE, written by the official SALMUBench evaluator, as a schema-valid result
    (kind imported, protocol official), so that it joins `leaderboard` and `compare`."""
    from harness.builtin.salmubench.official_import import import_official
    from harness.plugins import load_plugins
    from harness.reports.result_text import render
    from harness.results.files import write_result

    name = label or file.stem
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)[:60]
    run_id = f"imported-{safe}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    document = import_official(
        file,
        load_plugins(),
        label=label,
        clean=clean,
        compromised=compromised,
        benchmark=benchmark,
        revision=revision,
        run_id=run_id,
    )
    path = write_result(output / run_id / "result.json", document)
    click.echo(render(document))
    click.echo(f"unknown (left out): {'; '.join(document['imported']['unknown'])}")
    click.echo(f"result: {path}")
