"""``salmu-harness verify BUNDLE``: check a run bundle's files and re-evaluate its weights."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("verify")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=1e-4,
    show_default=True,
    help="Largest |difference| accepted between a stated and a recomputed number.",
)
@click.option(
    "--no-evaluate",
    is_flag=True,
    help="Only check the manifest, the result and the weights' hash (no re-evaluation).",
)
@click.option(
    "--benchmark", default=None, help="Where the benchmark is here, if not where the run found it."
)
@click.option("--device", default=None, help="Device for the re-evaluation (default: the run's).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def command(
    bundle: Path,
    tolerance: float,
    no_evaluate: bool,
    benchmark: str | None,
    device: str | None,
    quiet: bool,
) -> None:
    """Verify BUNDLE (a folder written by `run --bundle`); exit 1 if anything does not match."""
    from harness.results.bundle import verify_bundle

    overrides: dict[str, object] = {"show_progress": not quiet}
    if benchmark:
        overrides["benchmark"] = benchmark
    if device:
        overrides["device"] = device
    report = verify_bundle(bundle, tolerance, evaluate=not no_evaluate, **overrides)
    for problem in report.problems:
        click.secho(f"FAIL {problem}", fg="red", err=True)
    click.echo(f"manifest: {report.files_checked} files listed")
    if report.evaluated:
        click.echo(
            f"re-evaluation: {report.numbers_compared} numbers compared, largest |difference| "
            f"{report.largest_difference:.3g} (tolerance {tolerance:g})"
        )
    click.echo(f"{bundle}: {'verified' if report.ok else 'NOT verified'}")
    sys.exit(0 if report.ok else 1)
