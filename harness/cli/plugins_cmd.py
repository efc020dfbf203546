"""``salmu-harness plugins``: every plugin, where it comes from, what it registers, its status."""

from __future__ import annotations

import json

import click


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def command(as_json: bool) -> None:
    """List installed plugins (broken ones with their error)."""
    from tabulate import tabulate

    from harness.plugins import load_plugins

    registry = load_plugins()
    records = sorted(registry.plugins.values(), key=lambda r: (not r.builtin, r.name))
    if as_json:
        click.echo(json.dumps([r.to_json() for r in records], indent=2))
        return
    rows = [
        [
            r.name,
            f"{r.distribution} {r.version}",
            ", ".join(
                sorted(r.methods + r.metrics)
                + [f"benchmark {name}" for name in sorted(r.benchmarks)]
                + [f"reporter {name}" for name in sorted(r.reporters)]
            )
            or "-",
            "ok" if r.status == "ok" else f"broken: {r.error}",
        ]
        for r in records
    ]
    click.echo(
        tabulate(
            rows,
            headers=("plugin", "distribution", "registers", "status"),
            maxcolwidths=[None, None, 40, 60],
        )
    )
    for key, owners in registry.conflicts.items():
        names = " and ".join(f"{o.distribution} {o.version}" for o in owners)
        click.secho(f"conflict: {key} is registered by {names}", fg="yellow", err=True)
