"""``salmu-harness cache info|clear``: what the harness caches on disk, and removing it."""

from __future__ import annotations

import json
import shutil
from typing import Any

import click

#: cache area -> what it holds
AREAS = {
    "images": "preprocessed uint8 images per (benchmark, image content, transform), for "
    "evaluation and for training",
    "references": "Clean/Compromised metric results per (weights, splits, metric, settings)",
    "hashes": "content hashes of splits per dataset fingerprint",
    "mini": "built SALMU-mini benchmarks (data and the trained model pair)",
}
CHEAP_TO_REBUILD = ("images", "references", "hashes")


@click.group("cache")
def command() -> None:
    """The harness cache ($SALMU_HARNESS_CACHE or the user cache folder)."""


@command.command("info")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def info(as_json: bool) -> None:
    """Size and entries of each cache area, and the image cache's entries."""
    from tabulate import tabulate

    from harness.evaluation.image_cache import ImageCache, folder_bytes
    from harness.storage import cache_dir

    areas: list[dict[str, Any]] = []
    for area, purpose in AREAS.items():
        folder = cache_dir(area)
        entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
        if area == "images":
            entries = [p for p in entries if p.suffix == ".u8"]
        elif area == "references":
            entries = [p for p in entries if p.suffix == ".json"]
        areas.append(
            {
                "area": area,
                "entries": len(entries),
                "bytes": folder_bytes(folder),
                "path": str(folder),
                "holds": purpose,
            }
        )
    images = ImageCache().entries()
    if as_json:
        click.echo(json.dumps({"areas": areas, "images": images}, indent=2))
        return
    rows = [[a["area"], a["entries"], _size(a["bytes"]), a["holds"]] for a in areas]
    click.echo(tabulate(rows, ["area", "entries", "size", "holds"]))
    click.echo(f"\ntotal {_size(sum(a['bytes'] for a in areas))} in {cache_dir()}")
    if images:
        rows = [
            [
                e["key"][:12],
                e.get("scope", ""),
                e.get("images", ""),
                "x".join(str(n) for n in e["shape"]),
                _size(e["bytes"]),
            ]
            for e in images
        ]
        titles = ["image entry", "benchmark", "images", "uint8 shape", "size"]
        click.echo("\n" + tabulate(rows, titles))


@command.command("clear")
@click.argument("areas", nargs=-1, type=click.Choice(list(AREAS)))
@click.option("--all", "everything", is_flag=True, help="Every area, SALMU-mini builds included.")
def clear(areas: tuple[str, ...], everything: bool) -> None:
    """Delete cache AREAS (default: images, references and hashes, which rebuild on their own)."""
    from harness.evaluation.image_cache import folder_bytes
    from harness.storage import cache_dir

    chosen = list(AREAS) if everything else list(areas or CHEAP_TO_REBUILD)
    for area in chosen:
        folder = cache_dir(area)
        freed = folder_bytes(folder)
        shutil.rmtree(folder, ignore_errors=True)
        click.echo(f"cleared {area}: {_size(freed)} freed ({folder})")


def _size(count: Any) -> str:
    count = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"
