"""``salmu-harness check-method NAME``: the plugin author kit's conformance run."""

from __future__ import annotations

import sys

import click

from harness.cli.options import verbose_option


@click.command("check-method")
@click.argument("name")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Method parameter for the check (repeatable).",
)
@click.option(
    "--budget",
    type=float,
    default=2.0,
    show_default=True,
    help="Budget of the check runs, in passes over the (test-scale) forget split.",
)
@verbose_option
def command(name: str, assignments: tuple[str, ...], budget: float, verbose: int) -> None:
    """Check that method NAME behaves: architecture, changes, isolation, budget, determinism,
    reload."""
    from tabulate import tabulate

    from harness.authoring.conformance import check_method
    from harness.cli.options import parse_assignments
    from harness.run.logs import log_to_stderr

    log_to_stderr(verbose)

    checks = check_method(name, parse_assignments(assignments, "--set"), budget=budget)
    click.echo(
        tabulate(
            [["PASS" if c.passed else "FAIL", c.name, c.detail] for c in checks],
            headers=("", "check", "detail"),
        )
    )
    failed = [c for c in checks if not c.passed]
    click.echo(f"{name}: {len(checks) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)
