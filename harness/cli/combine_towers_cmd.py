"""``salmu-harness combine-towers``: one model's image tower beside another's text tower."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("combine-towers")
@click.option("--image", "image_source", required=True, help="Model whose image tower is taken.")
@click.option(
    "--text", "text_source", required=True, help="Model whose text tower (and the rest) is taken."
)
@click.option(
    "--architecture",
    default=None,
    help="OpenCLIP architecture, needed only for bare state-dict files.",
)
@click.argument("output", type=click.Path(path_type=Path))
def command(image_source: str, text_source: str, architecture: str | None, output: Path) -> None:
    """Save OUTPUT (a new local-dir: model folder): the image tower of --image, every other
    weight (text tower, token embeddings, logit scale) of --text.

    Evaluate it and its mirror image to see which tower a method's change sits in:

    \b
      salmu-harness combine-towers --image UNLEARNED --text COMPROMISED image-only
      salmu-harness combine-towers --image COMPROMISED --text UNLEARNED text-only
      salmu-harness evaluate image-only text-only
    """
    from harness.run.towers import PROVENANCE_FILE, combine_towers

    folder = combine_towers(image_source, text_source, output, architecture)
    click.echo(f"image tower from {image_source}")
    click.echo(f"text tower from  {text_source}")
    click.echo(f"saved {folder} (sources and sha256 in {PROVENANCE_FILE})")
