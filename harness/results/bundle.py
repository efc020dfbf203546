"""Run bundles: a run folder that carries what is needed to check it later.

A bundle is the run's folder (``result.json`` and ``model/``) plus ``config.json`` (the
resolved settings, usable again with ``run --config``), ``versions.txt`` (``pip freeze``-style
lines for the harness, every plugin and the numeric stack) and ``manifest.json`` (the sha256 and
size of every other file). ``verify_bundle`` checks the manifest, the result and the
weights' hash, then evaluates the stored weights again and compares every number.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.results.layout import CONFIG, MANIFEST, MODEL, RESULT, VERSIONS
from harness.storage import file_sha256, write_json_atomic, write_text_atomic

DEFAULT_TOLERANCE = 1e-4
#: the numeric stack whose versions can move results, besides the harness and its plugins
STACK = ("torch", "torchvision", "open_clip_torch", "numpy", "scikit-learn", "datasets", "pillow")


@dataclass
class Verification:
    """What ``verify`` found: problems (empty when the bundle checks out) and what it compared."""

    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    numbers_compared: int = 0
    largest_difference: float = 0.0
    evaluated: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def write_bundle(folder: Path, document: dict[str, Any], distributions: list[str]) -> Path:
    """Add config, versions and manifest to the run ``folder`` that holds ``document``."""
    folder = Path(folder)
    write_json_atomic(folder / CONFIG, bundle_config(document))
    write_text_atomic(folder / VERSIONS, versions_text(distributions))
    write_json_atomic(folder / MANIFEST, {"algorithm": "sha256", "files": _hashes(folder)})
    return folder


def bundle_config(document: dict[str, Any]) -> dict[str, Any]:
    """The run's resolved settings in the form ``run --config`` reads: its recorded ``config``."""
    return dict(document["config"])


def versions_text(distributions: list[str]) -> str:
    """``name==version`` lines for the harness, ``distributions`` and the numeric stack."""
    names = dict.fromkeys(["salmu-harness", *sorted(distributions), *STACK])
    lines = []
    for name in names:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"# {name} is not installed")
    return "\n".join(lines) + "\n"


def check_manifest(folder: Path) -> tuple[list[str], int]:
    """Problems with the manifest (missing, changed or unlisted files) and files checked."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        listed: dict[str, dict[str, Any]] = manifest["files"]
        if not isinstance(listed, dict) or not all(isinstance(v, dict) for v in listed.values()):
            raise TypeError("'files' must map each file name to its sha256 and size")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{MANIFEST} is missing or unreadable ({exc}); this is not a bundle"], 0
    problems = []
    for name, expected in sorted(listed.items()):
        path = folder / name
        if not _inside(folder, path):
            problems.append(f"{MANIFEST} lists {name!r}, which is outside the bundle")
        elif not path.is_file():
            problems.append(f"{name}: listed in the manifest but missing")
        elif file_sha256(path) != expected.get("sha256"):
            problems.append(f"{name}: sha256 differs from the manifest (the file was changed)")
    for name in sorted(set(_files(folder)) - set(listed)):
        problems.append(f"{name}: not in the manifest (a file was added)")
    return problems, len(listed)


def verify_bundle(
    folder: Path, tolerance: float = DEFAULT_TOLERANCE, evaluate: bool = True, **overrides: Any
) -> Verification:
    """Check a bundle; with ``evaluate``, re-evaluate its weights and compare the numbers.

    ``overrides`` replace run options for the re-evaluation (``benchmark``, ``device``,
    ``show_progress``, ...): the same numbers are expected wherever the bundle is checked.
    """
    from harness.results.validation import validate_file

    folder = Path(folder)
    report = Verification()
    report.problems, report.files_checked = check_manifest(folder)
    problems = validate_file(folder / RESULT)
    report.problems += [f"{RESULT}: {p.path}: {p.message}" for p in problems]
    if problems or not (folder / RESULT).is_file():
        return report
    document = json.loads((folder / RESULT).read_text())
    model = model_folder(folder, document)
    weights = _weights(model)
    if weights is None:
        report.problems.append(f"{model.relative_to(folder)}/ holds no weights file")
        return report
    declared = (document["models"].get("evaluated") or {}).get("sha256")
    if file_sha256(weights) != declared:
        report.problems.append(
            f"{weights.relative_to(folder)}: sha256 is not the one the result declares for "
            "the evaluated model"
        )
    if not evaluate or report.problems:
        return report
    if "protocol" not in document["evaluation"]:
        report.problems.append(
            f"{RESULT} was evaluated before evaluation protocols existed (protocol "
            "salmu-harness v1), which this harness no longer computes: its numbers cannot be "
            "re-evaluated; run the method again to make a new bundle"
        )
        return report
    fresh = _reevaluate(folder, document, overrides)
    report.evaluated = True
    for path, stated, recomputed in compare_numbers(document, fresh):
        report.numbers_compared += 1
        if recomputed is None:
            report.problems.append(f"{path}: {stated} in the result, not recomputed")
            continue
        gap = abs(stated - recomputed)
        report.largest_difference = max(report.largest_difference, gap)
        if not gap <= tolerance:
            report.problems.append(
                f"{path}: the result says {stated:.6g}, re-evaluation gives {recomputed:.6g} "
                f"(|difference| {gap:.3g} > tolerance {tolerance:g})"
            )
    return report


def compare_numbers(
    stated: dict[str, Any], fresh: dict[str, Any]
) -> Iterator[tuple[str, float, float | None]]:
    """(JSON path, stated number, recomputed number) for every headline number of ``stated``."""
    for key, metric in stated["metrics"].items():
        other = fresh["metrics"].get(key, {})
        pairs = [("", metric, other)]
        pairs += [
            (
                f".references.{role}",
                metric["references"][role],
                other.get("references", {}).get(role, {}),
            )
            for role in ("clean", "compromised")
        ]
        for suffix, entry, again in pairs:
            if entry.get("status") != "ok":
                continue
            numbers = {"value": entry["value"], **entry.get("values", {})}
            recomputed = {"value": again.get("value"), **again.get("values", {})}
            for label, number in numbers.items():
                value = recomputed.get(label)
                ok = isinstance(value, int | float) and math.isfinite(value)
                yield f"$.metrics[{json.dumps(key)}]{suffix}.{label}", number, value if ok else None


def _reevaluate(
    folder: Path, document: dict[str, Any], overrides: dict[str, Any]
) -> dict[str, Any]:
    from harness.evaluation.settings import EvaluationSettings
    from harness.run.checkpoints import evaluate_checkpoint
    from harness.run.settings import RunOptions

    config = {k: v for k, v in document["config"].items() if k not in ("method", "parameters")}
    with tempfile.TemporaryDirectory(prefix="salmu-verify-") as scratch:
        options = RunOptions.from_config(config, "the bundle's config").replace(
            output_dir=Path(scratch),
            evaluation=EvaluationSettings.from_json(document["evaluation"]),
            protocol=document["evaluation"]["protocol"],
            **overrides,
        )
        return evaluate_checkpoint(model_folder(folder, document), options).document


def model_folder(folder: Path, document: dict[str, Any]) -> Path:
    """Where a bundle's evaluated model is: ``model/``, or a schedule's last round's."""
    section = document.get("schedule") or {}
    if document["kind"] == "schedule" and section.get("requests"):
        return folder / f"round-{len(section['requests'])}" / MODEL
    return folder / MODEL


def _hashes(folder: Path) -> dict[str, dict[str, Any]]:
    return {
        name: {"sha256": file_sha256(folder / name), "bytes": (folder / name).stat().st_size}
        for name in _files(folder)
    }


def _files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() != MANIFEST
    )


def _weights(model_dir: Path) -> Path | None:
    from harness.run.models import WEIGHTS_IN_DIR

    return next((model_dir / n for n in WEIGHTS_IN_DIR if (model_dir / n).is_file()), None)


def _inside(folder: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
