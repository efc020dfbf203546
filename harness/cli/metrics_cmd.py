"""``salmu-harness metrics``: the metrics that results will contain."""

from __future__ import annotations

import json

import click


@click.command("metrics")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def command(as_json: bool) -> None:
    """List metrics with their splits, direction and target reference."""
    from tabulate import tabulate

    from harness.plugins import load_plugins

    registry = load_plugins()
    metrics = registry.select_metrics()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "key": m.key,
                        "name": m.name,
                        "description": m.description,
                        "group": m.group,
                        "splits": list(m.splits),
                        "direction": m.direction,
                        "target": m.target,
                        "version": m.version,
                        "distribution": registry.plugin_of("metric", m.key).distribution,
                    }
                    for m in metrics
                ],
                indent=2,
            )
        )
        return
    rows = [
        [
            m.key,
            m.name,
            m.group,
            ", ".join(m.splits) or "-",
            f"{m.direction} is better",
            m.target,
            registry.plugin_of("metric", m.key).distribution,
            m.summary,
        ]
        for m in metrics
    ]
    click.echo(
        tabulate(
            rows,
            headers=(
                "key",
                "name",
                "group",
                "splits",
                "direction",
                "target",
                "distribution",
                "description",
            ),
            maxcolwidths=[None] * 7 + [50],
        )
    )
