"""Options shared by ``run`` and ``evaluate``, and parsing of ``key=value`` settings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from harness.errors import ParameterError


def parse_assignments(items: Iterable[str], what: str) -> dict[str, Any]:
    """``key=value`` strings to a dict; values are parsed as JSON when they can be."""
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"{what} {item!r} is not of the form key=value")
        try:
            parsed[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key.strip()] = raw
    return parsed


def read_config(path: Path | None) -> dict[str, Any]:
    """A run configuration file (JSON, or YAML when PyYAML is installed)."""
    if path is None:
        return {}
    from harness.settings_files import read_mapping_file

    return read_mapping_file(path, "config file")


def evaluation_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options every evaluating command takes."""
    decorators = [
        click.option(
            "--benchmark",
            default=None,
            show_default="mini",
            help="Benchmark name (mini, salmubench) or path of a benchmark folder.",
        ),
        click.option(
            "--benchmark-option",
            "benchmark_option",
            multiple=True,
            metavar="KEY=VALUE",
            help="Benchmark setting, e.g. dataset=PATH or imagenet=PATH (repeatable).",
        ),
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
            help="Image-decoding workers (default: cores - 1, at most 8).",
        ),
        click.option(
            "--output",
            "output",
            type=click.Path(path_type=Path),
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
            help="Decode every image again instead of reading the preprocessed-image cache.",
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
        click.option("--quiet", is_flag=True, help="No progress bars."),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def merged_settings(config: dict[str, Any], cli: dict[str, Any]) -> dict[str, Any]:
    """Config-file settings overridden by the options given on the command line."""
    known = {
        "benchmark",
        "benchmark_options",
        "metrics",
        "device",
        "precision",
        "batch_size",
        "workers",
        "output",
        "seed",
        "budget",
        "method",
        "parameters",
        "rules",
        "compile",
        "evaluation",
        "image_cache",
        "protocol",
    }
    unknown = sorted(set(config) - known)
    if unknown:
        raise ParameterError(
            f"config file has an unknown setting {unknown[0]!r}",
            f"known settings: {', '.join(sorted(known))}",
        )
    merged = dict(config)
    for key, value in cli.items():
        if value not in (None, (), {}):
            merged[key] = value
    return merged


def run_options(settings: dict[str, Any], quiet: bool) -> Any:
    """A :class:`~harness.pipeline.RunOptions` from merged settings."""
    from harness.pipeline import RunOptions

    metrics = settings.get("metrics")
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    defaults = RunOptions()
    return RunOptions(
        benchmark=str(settings.get("benchmark") or defaults.benchmark),
        benchmark_options=dict(settings.get("benchmark_options") or {}),
        metrics=metrics,
        device=settings.get("device") or defaults.device,
        precision=settings.get("precision") or defaults.precision,
        seed=int(settings.get("seed", defaults.seed)),
        budget=float(settings.get("budget", defaults.budget)),
        output_dir=Path(settings.get("output") or defaults.output_dir),
        batch_size=_batch_size(settings.get("batch_size")),
        num_workers=settings.get("workers"),
        show_progress=not quiet,
        diagnosis=diagnosis_rules(settings.get("rules")),
        evaluation=evaluation_settings(settings.get("evaluation")),
        protocol=settings.get("protocol") or defaults.protocol,
        image_cache=bool(not settings.get("no_image_cache") and settings.get("image_cache", True)),
        compile=bool(settings.get("compile")),
    )


def _batch_size(value: Any) -> int | None:
    if value in (None, "auto"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"batch size {value!r} is not a number", "give a positive integer or 'auto'"
        ) from exc


def evaluation_settings(recorded: Any) -> Any:
    """:class:`~harness.evaluation.EvaluationSettings` from a config's ``evaluation`` mapping."""
    from harness.evaluation import EvaluationSettings

    if not recorded:
        return EvaluationSettings()
    try:
        return EvaluationSettings.from_json(recorded)
    except (KeyError, TypeError) as exc:
        raise ParameterError(
            f"config setting 'evaluation' is malformed ({exc!r})",
            'expected {"seed": INT, "bootstrap": {"seed": INT, "resamples": INT, "level": FLOAT}}',
        ) from exc


def diagnosis_rules(rules: Any) -> Any:
    """:class:`~harness.diagnosis.DiagnosisRules` from ``KEY=VALUE`` strings or a mapping."""
    from dataclasses import fields

    from harness.diagnosis import DiagnosisRules

    if not rules:
        return DiagnosisRules()
    if not isinstance(rules, dict):
        rules = parse_assignments(rules, "--rule")
    known = {f.name: f.type for f in fields(DiagnosisRules)}
    for key, value in rules.items():
        if key not in known:
            raise ParameterError(
                f"there is no diagnosis rule {key!r}", f"the rules are: {', '.join(known)}"
            )
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ParameterError(f"diagnosis rule {key}={value!r} must be a non-negative number")
    if "worst_identities" in rules:
        rules["worst_identities"] = int(rules["worst_identities"])
    return DiagnosisRules(**rules)
