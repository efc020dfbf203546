"""``salmu-harness mini build|info``: build SALMU-mini and print its statistics."""

from __future__ import annotations

import json
import time

import click

scale_option = click.option(
    "--scale",
    default="default",
    show_default=True,
    help="default (the benchmark) or test (for unit tests).",
)
seed_option = click.option(
    "--seed", type=int, default=0, show_default=True, help="Generator and training seed."
)


@click.group("mini")
def command() -> None:
    """SALMU-mini: the offline miniature of SALMUBench that runs on a CPU."""


@command.command("build")
@scale_option
@seed_option
@click.option("--force", is_flag=True, help="Rebuild even if the cache holds this build.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def build(scale: str, seed: int, force: bool, quiet: bool) -> None:
    """Generate the data and train the model pair (cached; a second call is a cache hit)."""
    from harness.builtin.mini.build import ensure_mini

    started = time.perf_counter()
    folder = ensure_mini(scale, seed, force, show_progress=not quiet)
    click.echo(
        f"SALMU-mini ({scale}, seed {seed}) ready in {time.perf_counter() - started:.1f} s: "
        f"{folder}"
    )


@command.command("info")
@scale_option
@seed_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def info(scale: str, seed: int, as_json: bool) -> None:
    """Rows and identities per split and rows per attribute type (builds if needed)."""
    from tabulate import tabulate

    from harness.benchmarks.local import MANIFEST
    from harness.builtin.mini.build import ensure_mini

    folder = ensure_mini(scale, seed)
    details = json.loads((folder / MANIFEST).read_text())["details"]
    stats = details["statistics"]
    if as_json:
        click.echo(json.dumps(details, indent=2))
        return
    click.echo(f"SALMU-mini {scale}, seed {seed}: {folder}\n")
    click.echo(
        tabulate(
            [[name, s["rows"], s["identities"]] for name, s in stats["splits"].items()],
            headers=("split", "rows", "identities"),
        )
    )
    click.echo()
    click.echo(
        tabulate(
            sorted(stats["forget_rows_per_data_field"].items()),
            headers=("data_field", "forget rows"),
        )
    )
    gallery = details["retfail_gallery"]
    click.echo(
        f"\nRetFail gallery: 1 + {gallery['forget_distractors']} forget + "
        f"{gallery['retain_distractors']} retain_disjoint captions"
    )
