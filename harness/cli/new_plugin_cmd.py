"""``salmu-harness new-plugin NAME``: a ready method, metric or benchmark plugin package."""

from __future__ import annotations

from pathlib import Path

import click

from harness.authoring.scaffold import KINDS, new_plugin
from harness.cli.options import checked_folder


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(list(KINDS)),
    default="method",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    callback=checked_folder,
    default=Path("."),
    show_default=True,
    help="Folder in which to create the package.",
)
def command(name: str, kind: str, output: Path) -> None:
    """Create salmu-KIND-NAME/: pyproject with the entry point, a skeleton that runs, a test
    using the plugin kit, and a CI workflow."""
    folder = new_plugin(name, kind, output)
    click.echo(
        f"created {folder}\nnext: pip install -e '{folder}[test]' && (cd {folder} && pytest)"
    )
