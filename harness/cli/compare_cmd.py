"""``salmu-harness compare A.json B.json``: paired comparison of two results, metric by metric."""

from __future__ import annotations

from pathlib import Path

import click

from harness.reports.formats import COMPARISON_FORMATS


@click.command("compare")
@click.argument("a", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(COMPARISON_FORMATS),
    default="table",
    show_default=True,
)
@click.option(
    "--resamples",
    type=click.IntRange(min=100),
    default=10_000,
    show_default=True,
    help="Paired bootstrap resamples.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Interval level.",
)
def command(a: Path, b: Path, output_format: str, resamples: int, seed: int, level: float) -> None:
    """Compare result B with result A over the same identities (B - A, paired bootstrap)."""
    from harness.reports.comparison import compare_results
    from harness.reports.formats import render_comparison, result_label
    from harness.results.files import read_result

    doc_a, doc_b = read_result(a), read_result(b)
    comparison = compare_results(doc_a, doc_b, resamples=resamples, level=level, seed=seed)
    if output_format == "json":
        labels = (str(a), str(b))
    else:
        labels = (f"{result_label(doc_a)} ({a})", f"{result_label(doc_b)} ({b})")
    click.echo(render_comparison(comparison, labels, output_format))
