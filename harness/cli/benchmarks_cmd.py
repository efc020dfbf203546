"""``salmu-harness benchmarks``: the registered benchmarks and the options each takes."""

from __future__ import annotations

import json
from typing import Any

import click


@click.command("benchmarks")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def command(as_json: bool) -> None:
    """List benchmarks (use one with --benchmark NAME, its options with --benchmark-option)."""
    from tabulate import tabulate

    from harness.benchmarks import DEFAULT_BENCHMARK
    from harness.plugins import load_plugins

    registry = load_plugins()
    listed: list[dict[str, Any]] = [
        {
            "name": loader.name,
            "distribution": record.distribution,
            "default": loader.name == DEFAULT_BENCHMARK,
            "description": loader.description,
            "options": dict(loader.options),
        }
        for loader, record in registry.benchmarks.values()
    ]
    if as_json:
        click.echo(json.dumps(listed, indent=2))
        return
    rows = [
        [
            b["name"] + (" (default)" if b["default"] else ""),
            b["distribution"],
            b["description"],
            "\n".join(f"{k}: {v}" for k, v in b["options"].items()) or "-",
        ]
        for b in listed
    ]
    headers = ("name", "distribution", "description", "options")
    click.echo(tabulate(rows, headers=headers, maxcolwidths=[None, None, 40, 60]))
    click.echo("\nA benchmark folder in the hub layout also works: --benchmark PATH.")
