"""``salmu-harness sweep FILE``: run a sweep's trials on Ray (or ``--plan`` to see them)."""

from __future__ import annotations

from pathlib import Path

import click

from harness.errors import ParameterError
from harness.storage import writable_folder


@click.command("sweep")
@click.argument("sweep_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Sweep folder (default: salmu-sweeps/NAME). Re-running skips finished trials. "
    "Checked before Ray starts; --plan creates nothing.",
)
@click.option(
    "--ray-address",
    default=None,
    help="Ray cluster to use, e.g. auto or ray://head:10001 (default: a local Ray instance).",
)
@click.option(
    "--max-concurrent",
    type=click.IntRange(min=1),
    default=None,
    help="Trials in flight at once (default: as many as Ray's resources allow).",
)
@click.option(
    "--plan", is_flag=True, help="Print the trials, their status and the work left; run nothing."
)
def command(
    sweep_file: Path,
    output: Path | None,
    ray_address: str | None,
    max_concurrent: int | None,
    plan: bool,
) -> None:
    """Run the sweep in SWEEP_FILE: one harness run per (method setting, budget, seed)."""
    from harness.plugins import load_plugins
    from harness.sweeps.planning import plan_text
    from harness.sweeps.spec import Trial, expand_trials, load_sweep

    sweep = load_sweep(sweep_file)
    trials = expand_trials(sweep, load_plugins())
    root = output or Path("salmu-sweeps") / sweep.name
    if plan:
        click.echo(plan_text(sweep, trials, root, max_concurrent))
        return
    from harness.sweeps import state
    from harness.sweeps.ray_runner import run_sweep

    try:
        writable_folder(root, "--output")  # before Ray starts or any trial runs
    except ParameterError as exc:
        raise click.BadParameter(f"{exc.message} ({exc.hint})", param_hint="'--output'") from exc

    def report(trial: Trial, status: str) -> None:
        click.echo(
            f"{status:6} {trial.method} seed {trial.seed} budget {trial.budget:g}x {trial.key[:12]}"
        )

    summary = run_sweep(sweep, trials, root, ray_address, max_concurrent, report)
    click.echo(
        f"{summary.ran} trials run ({summary.succeeded} ok, {summary.failed} failed), "
        f"{summary.skipped} already done; references: {summary.references.get('misses', 0)} "
        f"metric results computed once, {summary.references.get('hits', 0)} read from the cache"
    )
    if summary.nodes:
        placed = state.nodes(root, trials)
        counts = {node: sum(p["id"] == node for p in placed.values()) for node in summary.nodes}
        click.echo(
            f"ran on {len(summary.nodes)} Ray node(s): "
            + ", ".join(
                f"{host} (node {node[:12]}, {counts[node]} trials)"
                for node, host in summary.nodes.items()
            )
        )
    click.echo(f"report: salmu-harness sweep-report {root}")
