"""``salmu-harness protocols [NAME]``: the evaluation protocols and every choice they make."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click


@click.command("protocols")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="The protocol documents, whole.")
def command(name: str | None, as_json: bool) -> None:
    """List evaluation protocols side by side, or show NAME (or a protocol file) with the
    basis of each of its choices: quoted from the official evaluator, inferred, or unknown."""
    from tabulate import tabulate

    from harness.plugins import load_plugins
    from harness.protocol import DEFAULT_PROTOCOL

    registry = load_plugins()
    protocols = [registry.protocol(name)] if name else [p for p, _ in registry.protocols.values()]
    if as_json:
        documents = [p.to_json() for p in protocols]
        click.echo(json.dumps(documents[0] if name else documents, indent=2))
        return
    for protocol in protocols:
        origin = (
            registry.plugin_of("protocol", protocol.name).distribution
            if protocol.name in registry.protocols
            else "file"
        )
        default = "default, " if protocol.name == DEFAULT_PROTOCOL else ""
        click.echo(
            f"{protocol.name} v{protocol.version} ({default}{origin}): {protocol.description}"
        )
    click.echo()
    if name:
        protocol = protocols[0]
        rows = [
            [choice, _shown(value), *_basis(protocol.basis.get(choice))]
            for choice, value in _flat(protocol.choices)
        ]
        headers: tuple[str, ...] = ("choice", "value", "basis", "why")
        click.echo(tabulate(rows, headers=headers, maxcolwidths=[None, 24, None, 70]))
        return
    names = [f"{p.name} v{p.version}" for p in protocols]
    table = [dict(_flat(p.choices)) for p in protocols]
    choices = list(dict.fromkeys(c for flat in table for c in flat))
    rows = [[c, *(_shown(flat.get(c, "-")) for flat in table)] for c in choices]
    click.echo(tabulate(rows, headers=("choice", *names), maxcolwidths=[None] + [24] * len(names)))
    click.echo("\n`salmu-harness protocols NAME` shows why each choice is what it is.")


def _flat(choices: Any) -> list[tuple[str, Any]]:
    return [(f"{section}.{k}", v) for section, values in choices.items() for k, v in values.items()]


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _basis(basis: Mapping[str, str] | None) -> list[str]:
    return [basis["status"], basis["note"]] if basis else ["", ""]
