"""``salmu-harness genknow check SOURCE``: what a GenKnow source holds, before any run uses it."""

from __future__ import annotations

import json
import time

import click

FORMS_HELP = """SOURCE is a folder or hf:ID[@REVISION][:SPLIT]. Folder forms, tried in this order:

\b
  zero-shot-folder  zero_shot.json + data/*.parquet (SALMU-mini's)
  save-to-disk      a datasets save_to_disk folder
  webdataset        CLIP_benchmark wds: classnames.txt + test/nshards.txt + test/*.tar
  parquet           parquet files with image and label columns
  imagefolder       one sub-folder of images per class (ImageNet val's wnid folders)
"""


@click.group("genknow")
def command() -> None:
    """The GenKnow zero-shot set (ImageNet-1k val for SALMUBench)."""


@command.command("check", epilog=FORMS_HELP)
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def check(source: str, as_json: bool) -> None:
    """Read SOURCE as a GenKnow set and say what it found: form, images, classes and hash.

    The hash depends only on the images and labels: the same images in two forms hash alike,
    and results computed on them are comparable. Use the source as
    `--benchmark-option imagenet=SOURCE`.
    """
    from tabulate import tabulate

    from harness.benchmarks.genknow import read_genknow

    clock = time.perf_counter()
    genknow = read_genknow(source)
    found = {**genknow.describe(), "seconds": round(time.perf_counter() - clock, 2)}
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    labels = genknow.dataset["label"]
    used = len(set(labels))
    rows = [
        ("form", found["source"]),
        ("location", found["location"]),
        ("images", f"{found['rows']:,}"),
        ("classes", f"{found['classes']:,} ({used:,} with images)"),
        ("class names", ", ".join(genknow.classnames[:3]) + ", ..."),
        ("templates", f"{found['templates']} (first: {genknow.templates[0]!r})"),
        ("sha256", found["sha256"]),
        ("prompts sha256", found["prompts_sha256"]),
    ]
    click.echo(tabulate(rows, tablefmt="plain"))
    click.echo(f"read in {found['seconds']} s")
    if used < found["classes"]:
        click.echo(
            f"note: {found['classes'] - used:,} classes have no image (ImageNet-1k val has "
            "50 per class); accuracy is still over these images and all classes' prompts"
        )
