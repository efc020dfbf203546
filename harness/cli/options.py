"""Options shared by ``run`` and ``evaluate``, turned into one ``RunOptions``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from harness.errors import ParameterError
from harness.run.settings import RunOptions, parse_assignments, rules_from
from harness.storage import writable_file, writable_folder

__all__ = [
    "benchmark_option",
    "checked_file",
    "checked_folder",
    "evaluation_options",
    "options_from",
    "parse_assignments",
    "read_config",
    "verbose_option",
]


def read_config(path: Path | None) -> dict[str, Any]:
    """A run configuration file (JSON, or YAML when PyYAML is installed)."""
    if path is None:
        return {}
    from harness.storage import read_mapping_file

    return read_mapping_file(path, "config file")


def checked_folder(ctx: click.Context, param: click.Parameter, value: Path | None) -> Any:
    """A click callback: the folder must be creatable and writable (checked before any work)."""
    return _checked(writable_folder, value, param)


def checked_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Any:
    """A click callback: the file must be writable (checked before any work)."""
    return _checked(writable_file, value, param)


def _checked(check: Callable[[Path, str], Path], value: Path | None, param: click.Parameter) -> Any:
    if value is None:
        return None
    try:
        return check(value, param.opts[0])
    except ParameterError as exc:
        raise click.BadParameter(f"{exc.message} ({exc.hint})") from exc


verbose_option = click.option(
    "-v",
    "--verbose",
    count=True,
    help="Show method and metric logs on stderr: INFO with -v, DEBUG with -vv (they always go "
    "to the run folder's run.log).",
)


#: ``--benchmark-option KEY=VALUE``, a benchmark loader's option (run, evaluate, doctor)
benchmark_option = click.option(
    "--benchmark-option",
    "benchmark_option",
    multiple=True,
    metavar="KEY=VALUE",
    help="Benchmark setting, e.g. dataset=PATH or imagenet=SOURCE (repeatable).",
)


def evaluation_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options every evaluating command takes."""
    decorators = [
        click.option(
            "--benchmark",
            default=None,
            show_default="mini",
            help="Benchmark name (mini, salmubench) or path of a benchmark folder.",
        ),
        benchmark_option,
        click.option(
            "--protocol",
            default=None,
            show_default="official",
            metavar="NAME|FILE",
            help="Evaluation protocol: a name from `salmu-harness protocols` or a protocol file.",
        ),
        click.option(
            "--metrics",
            default=None,
            metavar="KEYS",
            help="Comma-separated metric keys or names (default: all installed).",
        ),
        click.option(
            "--device", default=None, show_default="auto", help="auto, cpu, cuda or cuda:N."
        ),
        click.option(
            "--precision",
            type=click.Choice(["fp32", "bf16", "fp16"]),
            default=None,
            show_default="fp32",
            help="Mixed precision is for GPUs.",
        ),
        click.option(
            "--batch-size",
            default=None,
            show_default="auto",
            help="Evaluation batch size, or auto: 256 on CPU, the largest that fits on a GPU.",
        ),
        click.option(
            "--workers",
            type=int,
            default=None,
            help="Worker processes decoding images, and preparing a method's batches ahead of "
            "its steps (default: one per core, at most 8; for batches on a CPU, none: the "
            "steps use the cores). Results do not depend on it.",
        ),
        click.option(
            "--output",
            "output",
            type=click.Path(path_type=Path),
            callback=checked_folder,
            default=None,
            show_default="salmu-results",
            help="Folder for results and models.",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="JSON/YAML file with these settings.",
        ),
        click.option(
            "--rule",
            "rules",
            multiple=True,
            metavar="KEY=VALUE",
            help="Diagnosis threshold, e.g. genknow_drop=0.02 (see docs/metrics.md).",
        ),
        click.option(
            "--no-image-cache",
            "no_image_cache",
            is_flag=True,
            default=None,
            help="Decode every image again instead of reading the image caches (evaluation and "
            "training): methods then get the exact per-image PIL pixels of preprocess_train.",
        ),
        click.option(
            "--compile",
            "compile",
            is_flag=True,
            default=None,
            help="torch.compile the image encoder (and the training loop of methods that use "
            "harness.training); opt-in: compiling takes time, numbers may differ in the last "
            "digits.",
        ),
        click.option(
            "--report-to",
            "report_to",
            default=None,
            metavar="NAMES",
            help="Experiment trackers to follow the run, comma-separated: mlflow, wandb "
            "(`salmu-harness plugins` lists the installed reporters).",
        ),
        click.option(
            "--schedule",
            default=None,
            metavar="NAME|FILE",
            help="Deletion requests one after another instead of all at once: scaled-F (one "
            "request of the fraction F of the forget personas), sequential-K (K requests in a "
            "row) or a schedule file; see docs/schedules.md.",
        ),
        click.option(
            "--run-id",
            "run_id",
            default=None,
            metavar="NAME",
            help="The run folder's name (default: METHOD-TIME-RANDOM); with --schedule, the "
            "same command with the same name resumes after the last finished round.",
        ),
        click.option("--quiet", is_flag=True, help="No progress bars."),
        verbose_option,
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def options_from(
    config: dict[str, Any],
    cli: dict[str, Any],
    benchmark_option: tuple[str, ...],
    quiet: bool,
) -> RunOptions:
    """Run options from a config file's settings overridden by the options given on the
    command line (one ``harness.run.settings.RunOptions``, whatever the source)."""
    given = {k: v for k, v in cli.items() if v not in (None, (), {})}
    run_id = given.pop("run_id", None)
    if run_id is not None:
        check_run_id(run_id)
    report_to = tuple(
        n.strip() for n in (given.pop("report_to", None) or "").split(",") if n.strip()
    )
    if given.pop("no_image_cache", None):
        given["image_cache"] = False
    if "rules" in given:
        given["rules"] = rules_from(given["rules"])
    if benchmark_option:
        given["benchmark_options"] = parse_assignments(benchmark_option, "--benchmark-option")
    settings = {**config, **given}
    options = RunOptions.from_config(settings, "the config file")
    return options.replace(show_progress=not quiet, report_to=report_to, run_id=run_id)


def check_run_id(run_id: str) -> None:
    """A run id names one folder under the output folder: no path separator, no dot names."""
    if not run_id.strip() or "/" in run_id or "\\" in run_id or run_id in (".", ".."):
        raise ParameterError(
            f"--run-id {run_id!r} is not a folder name",
            "use letters, digits, '-', '_' and '.', e.g. --run-id finetune-seq4",
        )
