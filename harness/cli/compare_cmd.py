"""``salmu-harness compare A.json B.json``: paired comparison of two results, metric by metric."""

from __future__ import annotations

import json
from pathlib import Path

import click

FORMATS = ("table", "md", "json")


@click.command("compare")
@click.argument("a", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="table", show_default=True
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
    from tabulate import tabulate

    from harness.comparison import compare_results
    from harness.results import read_result

    doc_a, doc_b = read_result(a), read_result(b)
    comparison = compare_results(doc_a, doc_b, resamples=resamples, level=level, seed=seed)
    if output_format == "json":
        click.echo(json.dumps({"a": str(a), "b": str(b), **comparison.to_json()}, indent=2))
        return
    rows = [
        [
            f"{m.key} {m.name}",
            "lower" if m.direction == "lower" else "higher",
            f"{m.a:.4f}",
            f"{m.b:.4f}",
            f"{m.difference:+.4f}",
            f"[{m.ci[0]:+.4f}, {m.ci[1]:+.4f}]",
            "yes" if m.significant else "no",
            m.better,
            f"{m.units} {'identities' if m.unit == 'identity' else 'rows'}",
        ]
        for m in comparison.metrics
    ]
    headers = [
        "metric",
        "better",
        "A",
        "B",
        "B - A per unit",
        f"{level:.0%} CI",
        "significant",
        "winner",
        "paired over",
    ]
    click.echo(f"A: {_label(doc_a)} ({a})\nB: {_label(doc_b)} ({b})\n")
    table_format = "github" if output_format == "md" else "simple"
    click.echo(tabulate(rows, headers, tablefmt=table_format, disable_numparse=True))
    for key, reason in comparison.skipped.items():
        click.echo(f"{key}: not compared ({reason})")
    click.echo(
        f"\nA and B are the results' values; B - A per unit is the mean over paired units (each "
        "identity or row weighs the same), with a paired percentile bootstrap interval "
        f"({resamples} resamples, seed {seed})."
    )


def _label(document: dict) -> str:
    method = document["method"]
    if method is None:
        return f"evaluate {document['models']['evaluated']['id']}"
    parameters = ", ".join(f"{k}={v}" for k, v in sorted(method["parameters"].items()))
    return f"{method['name']} ({parameters}), seed {document['seeds']['run']}"
