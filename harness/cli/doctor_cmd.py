"""``salmu-harness doctor``: what will go wrong on this machine before a real run."""

from __future__ import annotations

import json
import sys

import click

from harness.cli.options import benchmark_option

SYMBOLS = {"ok": "ok", "warning": "warning", "problem": "PROBLEM"}
COLOURS = {"ok": "green", "warning": "yellow", "problem": "red"}


@click.command("doctor")
@click.option(
    "--benchmark",
    default="salmubench",
    show_default=True,
    help="The benchmark a run will use (a registered name).",
)
@benchmark_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (doctor schema).")
def command(benchmark: str, benchmark_option: tuple[str, ...], as_json: bool) -> None:
    """Check Python, torch and the GPU, hub access and token, disk space, the GenKnow source,
    the plugins and the caches; exit 1 when any check is a problem. Nothing is downloaded.

    Give the --benchmark-option values the run will use: local copies (dataset=, compromised=,
    clean=) and the GenKnow source (imagenet=) are then checked instead of the hub."""
    from tabulate import tabulate

    from harness.doctor import run_doctor
    from harness.run.settings import parse_assignments

    options = parse_assignments(benchmark_option, "--benchmark-option")
    report = run_doctor(benchmark, options)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        sys.exit(0 if report.ok else 1)
    rows = [
        [
            click.style(SYMBOLS[check.status], fg=COLOURS[check.status]),
            check.group,
            check.name,
            check.detail + (f"\n-> {check.fix}" if check.fix else ""),
        ]
        for check in report.checks
    ]
    click.echo(
        tabulate(
            rows, headers=("", "area", "check", "found / fix"), maxcolwidths=[None, None, 34, 80]
        )
    )
    counts = report.counts
    click.echo(
        f"\n{counts['problem']} problems, {counts['warning']} warnings, {counts['ok']} ok "
        f"({report.seconds:.1f} s)"
    )
    sys.exit(0 if report.ok else 1)
