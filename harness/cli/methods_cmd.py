"""``salmu-harness methods [NAME]``: what can be run, with parameters and defaults."""

from __future__ import annotations

import json

import click


@click.command("methods")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def command(name: str | None, as_json: bool) -> None:
    """List unlearning methods, or show one method's parameters."""
    from tabulate import tabulate

    from harness.plugins import load_plugins

    registry = load_plugins()
    methods = [registry.method(name)] if name else [m for m, _ in registry.methods.values()]
    methods.sort(key=lambda m: m.name)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": m.name,
                        "description": m.description,
                        "version": m.version,
                        "distribution": registry.plugin_of("method", m.name).distribution,
                        "plugin_api": m.plugin_api,
                        "parameters": m.parameters,
                    }
                    for m in methods
                ],
                indent=2,
            )
        )
        return
    if not methods:
        click.echo(
            "no methods installed: pip install a method plugin, e.g. ./plugins/salmu-baselines"
        )
    for method in methods:
        plugin = registry.plugin_of("method", method.name)
        click.secho(f"{method.name}", bold=True, nl=False)
        click.echo(f"  ({plugin.distribution} {method.version}): {method.summary}")
        properties = method.parameters.get("properties", {})
        if properties:
            rows = [
                [
                    key,
                    spec.get("type", ""),
                    json.dumps(spec.get("default")),
                    spec.get("description", ""),
                ]
                for key, spec in properties.items()
            ]
            click.echo(
                tabulate(
                    rows,
                    headers=("parameter", "type", "default", "description"),
                    maxcolwidths=[None, None, None, 60],
                )
            )
        click.echo()
    broken = [r for r in registry.plugins.values() if r.status == "broken"]
    for record in broken:
        click.secho(
            f"broken plugin {record.name} ({record.distribution}): {record.error}",
            fg="yellow",
            err=True,
        )
