"""``salmu-harness metrics``: the metrics that results will contain."""

from __future__ import annotations

import json

import click


@click.command("metrics")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def command(as_json: bool) -> None:
    """List metrics with their splits, direction, target reference and cost; opt-in metrics
    run only when named (``--metrics robustness``)."""
    from tabulate import tabulate

    from harness.plugins import load_plugins

    registry = load_plugins()
    metrics = registry.all_metrics()
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
                        "opt_in": m.opt_in,
                        "cost": m.cost,
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
            "opt-in" if m.opt_in else "default",
            registry.plugin_of("metric", m.key).distribution,
            m.summary + (f" Cost: {m.cost}." if m.opt_in else ""),
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
                "runs",
                "distribution",
                "description",
            ),
            maxcolwidths=[None] * 8 + [50],
        )
    )
