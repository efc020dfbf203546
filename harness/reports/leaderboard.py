"""Leaderboards: one row per (method, parameters, budget), seeds aggregated, beside the references.

Each cell summarises a metric over a row's seeds: the mean, the sample standard deviation
(ddof=1; 0 with one seed), the number of seeds, the mean normalised score and the mean of the
seeds' bootstrap interval endpoints. Per-identity values are averaged over seeds, identity by
identity, for the distribution plots.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from harness.errors import UnknownNameError
from harness.protocol import recorded_identity
from harness.reports.sequences import sequence_of
from harness.results.loading import Excluded, LoadedResult, ResultSet
from harness.run.budget import rule_of


@dataclass(frozen=True)
class MetricInfo:
    """What a column is: key, name, which way is better and which reference is the target."""

    key: str
    name: str
    group: str
    direction: str
    target: str
    splits: tuple[str, ...] = ()


@dataclass
class Cell:
    """One metric of one row, over its seeds."""

    mean: float
    std: float
    n: int
    score: float | None = None
    score_std: float | None = None
    formula: str | None = None
    ci: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "std": self.std,
            "n": self.n,
            "normalized": self.score,
            "normalized_std": self.score_std,
            "formula": self.formula,
            "ci": list(self.ci) if self.ci else None,
        }


@dataclass
class Row:
    """A method at one parameter setting and budget."""

    label: str
    method: str | None
    parameters: dict[str, Any]
    budget: float | None
    seeds: list[int | None]
    cells: dict[str, Cell]
    diagnosis: dict[str, int]
    files: list[str]
    per_identity: dict[str, dict[str, float]] = field(default_factory=dict)
    display: str = ""
    sequence: dict[str, Any] | None = None
    """A schedule's row: its name and the summary of its rounds, averaged over seeds."""

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.display or self.label,
            "method": self.method,
            "parameters": self.parameters,
            "budget": self.budget,
            "seeds": self.seeds,
            "metrics": {key: cell.to_json() for key, cell in self.cells.items()},
            "diagnosis": self.diagnosis,
            "files": self.files,
            "sequence": self.sequence,
        }


@dataclass
class Leaderboard:
    """Rows, the reference rows, the columns and what was left out."""

    benchmark: dict[str, str]
    metrics: list[MetricInfo]
    references: dict[str, dict[str, float | None]]
    reference_identities: dict[str, dict[str, dict[str, float]]]
    rows: list[Row]
    excluded: list[Excluded]
    #: the metric suite the results declare (headline and collateral keys), if any
    suite: dict[str, Any] | None = None
    #: metrics some results lack or hold at another version (their cells are blank)
    notes: list[str] = field(default_factory=list)

    @property
    def has_sequences(self) -> bool:
        """Whether some row is a schedule's (its leaderboard shows a sequence column)."""
        return any(row.sequence for row in self.rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "suite": self.suite,
            "metrics": [{**vars(m), "splits": list(m.splits)} for m in self.metrics],
            "references": self.references,
            "rows": [row.to_json() for row in self.rows],
            "excluded": [vars(e) for e in self.excluded],
            "notes": list(self.notes),
        }


def build_leaderboard(results: ResultSet, sort: str | None = None) -> Leaderboard:
    """Aggregate ``results`` into rows; ``sort`` is a metric key or name (best first)."""
    if not results.results:
        raise ValueError("no comparable results to put in a leaderboard")
    first = results.results[0].document
    versions = results.versions or {key: m["version"] for key, m in first["metrics"].items()}
    columns = {  # each metric as the first result holding it at the compared version records it
        key: next(
            r.document["metrics"][key]
            for r in results.results
            if r.document["metrics"].get(key, {}).get("version") == version
        )
        for key, version in versions.items()
    }
    metrics = [
        MetricInfo(
            key, m["name"], m["group"], m["direction"], m["target"], tuple(m.get("splits", ()))
        )
        for key, m in columns.items()
    ]
    references = {
        role: {
            key: m["references"][role].get("value")
            if m["references"][role].get("status") == "ok"
            else None
            for key, m in columns.items()
        }
        for role in ("clean", "compromised")
    }
    reference_identities = {
        role: {key: m["references"][role].get("per_identity", {}) for key, m in columns.items()}
        for role in ("clean", "compromised")
    }
    grouped: dict[str, list[LoadedResult]] = defaultdict(list)
    for result in results.results:
        grouped[_row_key(result.document)].append(result)
    excluded = list(results.excluded)
    rows = []
    for members in grouped.values():
        members, duplicates = _one_per_seed(members)
        excluded.extend(duplicates)
        rows.append(_row(members, metrics, versions))
    rows.sort(key=lambda r: (r.label, json.dumps(r.parameters, sort_keys=True), r.budget or 0))
    if sort:
        info = metric_by_name(metrics, sort)
        rows.sort(key=lambda r: _sort_value(r, info))
    _set_display_labels(rows)
    protocol = recorded_identity(first["evaluation"])
    benchmark = {
        "name": first["benchmark"]["name"],
        "revision": first["benchmark"]["revision"],
        "protocol": f"{protocol['name']} v{protocol['version']}",
    }
    return Leaderboard(
        benchmark,
        metrics,
        references,
        reference_identities,
        rows,
        excluded,
        first.get("suite"),
        list(results.notes),
    )


def metric_by_name(metrics: list[MetricInfo], name: str) -> MetricInfo:
    """The column whose key or name is ``name`` (case-insensitive)."""
    for info in metrics:
        if name.lower() in (info.key.lower(), info.name.lower()):
            return info
    raise UnknownNameError("metric", name, [m.key for m in metrics] + [m.name for m in metrics])


def parameters_label(parameters: dict[str, Any]) -> str:
    """Parameters as ``k=v`` pairs, sorted by name."""
    return ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(parameters.items())
    )


def _set_display_labels(rows: list[Row]) -> None:
    """The method's name, plus the parameters and budget that tell its rows apart."""
    by_label: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_label[row.label].append(row)
    for same in by_label.values():
        if len(same) == 1:
            same[0].display = same[0].label
            continue
        names = {k for row in same for k in row.parameters}
        varying = {k for k in names if len({json.dumps(r.parameters.get(k)) for r in same}) > 1}
        budgets_vary = len({r.budget for r in same}) > 1
        for row in same:
            parts = parameters_label({k: v for k, v in row.parameters.items() if k in varying})
            if budgets_vary:
                budget = "none" if row.budget is None else f"{row.budget:g}x"
                parts = ", ".join(p for p in (parts, f"budget={budget}") if p)
            row.display = f"{row.label} ({parts})"


def _row_key(document: dict[str, Any]) -> str:
    method = document["method"]
    budget = (document.get("budget") or {}).get("multiple")
    if rule_of(document.get("budget")) == "samples":  # counted differently: never the same row
        budget = f"{budget:g}x (samples rule)"
    if document["kind"] == "imported":
        return json.dumps(["imported", document["models"]["evaluated"]["id"]])
    schedule = _schedule_label(document)
    if method is None:
        key = ["evaluate", document["models"]["evaluated"]["sha256"]]
        return json.dumps([*key, schedule] if schedule else key)
    key = [method["name"], method["parameters"], budget]
    return json.dumps([*key, schedule] if schedule else key, sort_keys=True)


def _schedule_label(document: dict[str, Any]) -> str | None:
    """A schedule's name; a round of one (an unfinished schedule's folder) with its round."""
    section = document.get("schedule")
    if not section:
        return None
    if "round" in section:
        return f"{section['name']} round {section['round']}/{section['of']}"
    return str(section["name"])


def _one_per_seed(members: list[LoadedResult]) -> tuple[list[LoadedResult], list[Excluded]]:
    """The newest result for each seed; older repeats are left out."""
    by_seed: dict[Any, LoadedResult] = {}
    left_out = []
    for result in sorted(members, key=lambda r: r.document["finished_at"], reverse=True):
        if result.seed in by_seed:
            newer = by_seed[result.seed].path
            left_out.append(
                Excluded(
                    str(result.path), f"seed {result.seed} repeated; the newer {newer} is used"
                )
            )
        else:
            by_seed[result.seed] = result
    kept = sorted(by_seed.values(), key=lambda r: (r.seed is None, r.seed or 0))
    return kept, left_out


def _row(members: list[LoadedResult], metrics: list[MetricInfo], versions: dict[str, str]) -> Row:
    first = members[0].document
    method = first["method"]
    parameters: dict[str, Any]
    if first["kind"] == "imported":
        label, parameters = f"{first['models']['evaluated']['id']} (imported)", {}
    elif method is None:
        label, parameters = f"evaluate {first['models']['evaluated']['id']}", {}
    else:
        label, parameters = method["name"], method["parameters"]
    schedule = _schedule_label(first)
    if schedule:
        label = f"{label} [{schedule}]"
    cells, per_identity = {}, {}
    for info in metrics:
        entries = [r.document["metrics"].get(info.key, {}) for r in members]
        entries = [
            e for e in entries if e.get("status") == "ok" and e["version"] == versions[info.key]
        ]
        if not entries:
            continue
        cells[info.key] = _cell(entries)
        per_identity[info.key] = _mean_by_identity([e.get("per_identity", {}) for e in entries])
    modes = Counter(
        mode
        for r in members
        for diagnosis in (
            r.document.get("diagnosis"),
            (r.document.get("schedule") or {}).get("diagnosis"),
        )
        for mode in (diagnosis or {}).get("modes", [])
    )
    return Row(
        label=label,
        method=method["name"] if method else None,
        parameters=parameters,
        budget=(first.get("budget") or {}).get("multiple"),
        seeds=[r.seed for r in members],
        cells=cells,
        diagnosis=dict(sorted(modes.items())),
        files=[str(r.path) for r in members],
        per_identity=per_identity,
        sequence=sequence_of([r.document for r in members]),
    )


def _cell(entries: list[dict[str, Any]]) -> Cell:
    values = [e["value"] for e in entries]
    scores = [
        e["normalized"]["score"]
        for e in entries
        if e.get("normalized", {}).get("score") is not None
    ]
    intervals = [e["ci"]["value"] for e in entries if "value" in e.get("ci", {})]
    return Cell(
        mean=statistics.fmean(values),
        std=statistics.stdev(values) if len(values) > 1 else 0.0,
        n=len(values),
        score=statistics.fmean(scores) if scores else None,
        score_std=(statistics.stdev(scores) if len(scores) > 1 else 0.0) if scores else None,
        formula=entries[0].get("normalized", {}).get("formula"),
        ci=(
            statistics.fmean(i[0] for i in intervals),
            statistics.fmean(i[1] for i in intervals),
        )
        if intervals
        else None,
    )


def _mean_by_identity(maps: list[dict[str, float]]) -> dict[str, float]:
    sums: dict[str, list[float]] = defaultdict(list)
    for mapping in maps:
        for identity, value in mapping.items():
            sums[identity].append(value)
    return {identity: statistics.fmean(v) for identity, v in sorted(sums.items())}


def _sort_value(row: Row, info: MetricInfo) -> tuple[int, float]:
    cell = row.cells.get(info.key)
    if cell is None:
        return (1, 0.0)
    return (0, cell.mean if info.direction == "lower" else -cell.mean)
