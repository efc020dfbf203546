"""``salmu-harness reproduce NAME``: run a published table's grid as a sweep, select fairly and
print the selected settings beside the paper's numbers and failure modes."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import click

from harness.errors import ParameterError
from harness.storage import writable_folder


@click.command("reproduce")
@click.argument("name", default="paper")
@click.option(
    "--scale",
    default="default",
    show_default=True,
    help="A scale of the reproduction: default (SALMU-mini, the full grid) or test (seconds).",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Sweep folder (default: salmu-sweeps/reproduce-NAME-SCALE). Re-running resumes: "
    "finished trials are kept.",
)
@click.option("--ray-address", default=None, help="Ray cluster to use (default: local Ray).")
@click.option(
    "--max-concurrent", type=click.IntRange(min=1), default=None, help="Trials in flight at once."
)
@click.option("--plan", is_flag=True, help="Print the trials and the time left; run nothing.")
@click.option(
    "--rule",
    "rules",
    multiple=True,
    metavar="KEY=VALUE",
    help="Judge with this diagnosis threshold instead (e.g. genknow_drop=0.03), the paper's "
    "rows and ours alike; nothing is re-run. Files get the rules in their names.",
)
@click.option(
    "--objective",
    default=None,
    metavar="NAME",
    help="Select each method's setting with this objective instead of the reproduction's own "
    "(hmean, forget-first or a metric key); nothing is re-run. Files get it in their names.",
)
def command(
    name: str,
    scale: str,
    output: Path | None,
    ray_address: str | None,
    max_concurrent: int | None,
    plan: bool,
    rules: tuple[str, ...],
    objective: str | None,
) -> None:
    """Reproduce the table NAME (built in: paper) or a reproduction file, at budget and seeds
    as it names them; writes reproduction.json and reproduction.md into the sweep folder."""
    from harness.plugins import load_plugins
    from harness.reproduce.spec import load_reproduction, sweep_for
    from harness.reproduce.table import render_markdown, reproduction_table
    from harness.run.settings import rules_from
    from harness.storage import write_json_atomic, write_text_atomic
    from harness.sweeps.planning import plan_for
    from harness.sweeps.spec import check_objective, expand_trials

    overrides = rules_from(rules)
    reproduction = load_reproduction(name)
    sweep = sweep_for(reproduction, scale)
    registry = load_plugins()
    trials = expand_trials(sweep, registry)
    if objective is not None:
        try:
            check_objective(
                replace(sweep, selection={**sweep.selection, "objective": objective}), registry
            )
        except ParameterError as exc:
            raise click.BadParameter(exc.message, param_hint="'--objective'") from exc
    root = output or Path("salmu-sweeps") / sweep.name
    planned = plan_for(sweep, trials, root, max_concurrent)
    if plan:
        click.echo(planned.text())
        return
    click.echo(f"{reproduction.data.get('title', name)}, scale {scale}: {planned.size}")
    click.echo(planned.status)
    click.echo(planned.estimate)
    from harness.sweeps.ray_runner import run_sweep

    try:
        writable_folder(root, "--output")
    except ParameterError as exc:
        raise click.BadParameter(f"{exc.message} ({exc.hint})", param_hint="'--output'") from exc
    started = time.perf_counter()
    summary = run_sweep(
        sweep,
        trials,
        root,
        ray_address,
        max_concurrent,
        lambda t, status: click.echo(f"{status:6} {t.method} seed {t.seed} {t.key[:12]}"),
    )
    click.echo(
        f"{summary.ran} trials run ({summary.succeeded} ok, {summary.failed} failed), "
        f"{summary.skipped} already done, in {time.perf_counter() - started:.0f} s"
    )
    table = reproduction_table(root, reproduction, scale, overrides, registry, objective)
    table["last_run_seconds"] = round(time.perf_counter() - started, 1)
    stem = "-".join(
        [
            "reproduction",
            *([f"objective={objective}"] if objective else []),
            *(f"{k}={v:g}" for k, v in sorted(overrides.items())),
        ]
    )
    write_json_atomic(root / f"{stem}.json", table)
    text = render_markdown(table)
    write_text_atomic(root / f"{stem}.md", text)
    click.echo("")
    click.echo(text)
    click.echo(f"written: {root / f'{stem}.json'}, {root / f'{stem}.md'}")
    if summary.failed:
        raise SystemExit(1)
