"""``evaluate --check-reference``: the side-by-side table of the reference self-check."""

from __future__ import annotations

from pathlib import Path

import click

from harness.run.settings import RunOptions

SENSITIVITY_DOCS = "docs/comparing-with-the-paper.md (How far from the paper)"


def show_reference_check(options: RunOptions, values: Path | None) -> int:
    """Run the self-check, print its table and verdict; the exit code (0 when all agree)."""
    from tabulate import tabulate

    from harness.builtin.salmubench.reference_check import check_reference

    check = check_reference(options, values)
    rows = []
    for c in check.comparisons:
        label = f"{c.key} {c.name}" + ("" if c.value_name == "value" else f" ({c.value_name})")
        difference = c.difference
        rows.append(
            [
                label,
                c.role,
                _number(c.ours),
                _number(c.official),
                "" if difference is None else f"{difference:+.6f}",
                f"{c.tolerance:g}",
                click.style(c.verdict, fg={"ok": "green", "off": "red"}.get(c.verdict)),
                c.note or "",
            ]
        )
    headers = ("metric", "model", "here", "official", "difference", "tolerance", "", "note")
    click.echo(f"official values: {check.values_source}")
    click.echo(f"protocol: {check.protocol}\n")
    click.echo(
        tabulate(rows, headers=headers, disable_numparse=True, maxcolwidths=[None] * 7 + [60])
    )
    for warning in check.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    off = check.off
    skipped = len(check.not_compared)
    also = f" ({skipped} not compared: see the note column)" if skipped else ""
    if not off:
        compared = sum(c.verdict == "ok" for c in check.comparisons)
        if not compared:
            click.secho("\nnothing was compared: see the note column", fg="red")
            return 1
        click.secho(
            f"\nthis setup reproduces the official values: {compared} numbers within "
            f"tolerance{also}",
            fg="green",
        )
        return 0
    click.secho(f"\n{len(off)} numbers off:", fg="red")
    for key in dict.fromkeys(c.key for c in off):
        names = sorted({f"{c.role} {c.value_name}" for c in off if c.key == key})
        click.echo(f"- {key} ({', '.join(names)})")
        click.echo(f"  its tolerance: {check.why[key]}")
        if check.moved_by[key]:
            click.echo(f"  protocol choices that move it: {'; '.join(check.moved_by[key])}")
        else:
            click.echo(
                "  no protocol choice moves it: check the weights, --precision fp32, and the data"
            )
    click.echo(f"how much each choice moves each metric: {SENSITIVITY_DOCS}")
    return 1


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"
