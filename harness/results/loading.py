"""Reading many result files for comparison, keeping only results that are comparable.

Two results are comparable when they were computed on the same benchmark revision and split
contents, with the same evaluation settings and reference weights. A set of files is reduced to
its largest comparable group; every other file is left out with the reason. Comparability of
metrics is decided per metric: the group's results are compared on each metric they share at
the same version (``metric_columns``), and a metric a result lacks, or holds at another
version, is blank for it, with a note.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.protocol import recorded_identity
from harness.results.validation import validate_file


@dataclass(frozen=True)
class LoadedResult:
    """A valid result document and the file it came from."""

    path: Path
    document: dict[str, Any]

    @property
    def seed(self) -> int | None:
        return self.document["seeds"]["run"]


@dataclass(frozen=True)
class Excluded:
    """A file that was left out, and why."""

    path: str
    reason: str


@dataclass
class ResultSet:
    """Comparable results, what was left out, and what they have in common."""

    results: list[LoadedResult]
    excluded: list[Excluded] = field(default_factory=list)
    basis: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    """Metric key -> the version its column compares (the most common among the results)."""
    notes: list[str] = field(default_factory=list)
    """Metrics that some results lack or hold at another version (blank for those)."""


#: what an imported result's basis holds where its file says nothing: compatible with anything
UNKNOWN = "(unknown)"


def comparability(document: dict[str, Any]) -> dict[str, Any]:
    """What must be equal for two results to share a table."""
    basis = _basis(document)
    if document["kind"] == "imported":
        evaluation = basis["evaluation"]
        basis.update(splits=UNKNOWN, genknow=UNKNOWN, references=UNKNOWN)
        basis["revision"] = basis["revision"] or UNKNOWN
        evaluation.update(bootstrap=UNKNOWN, precision=UNKNOWN)
    return basis


def compatible(basis: Any, other: Any) -> bool:
    """Equal, where an ``UNKNOWN`` part (of an imported result) matches anything."""
    if UNKNOWN in (basis, other):
        return True
    if isinstance(basis, dict) and isinstance(other, dict):
        return set(basis) == set(other) and all(compatible(basis[k], other[k]) for k in basis)
    return bool(basis == other)


def _basis(document: dict[str, Any]) -> dict[str, Any]:
    benchmark = document["benchmark"]
    return {
        "benchmark": benchmark["name"],
        "revision": benchmark["revision"],
        # the methods' retain split follows from the others, the protocol and the seed
        "splits": {
            name: split["sha256"] for name, split in benchmark["splits"].items() if name != "retain"
        },
        "evaluation": {
            "protocol": recorded_identity(document["evaluation"]),
            "seed": document["evaluation"]["seed"],
            "bootstrap": document["evaluation"]["bootstrap"],
            "precision": document["environment"]["precision"],
        },
        "genknow": genknow_basis(benchmark.get("genknow")),
        "references": {
            role: document["models"][role]["sha256"] for role in ("clean", "compromised")
        },
    }


#: what makes two GenKnow sets the same: their images and labels, and the prompts built on
#: them (not the form or folder they were read from)
GENKNOW_IDENTITY = ("rows", "classes", "sha256", "prompts_sha256")


def genknow_basis(description: dict[str, Any] | None) -> dict[str, Any] | None:
    """The GenKnow part of comparability. Results written before the set's hashes were
    recorded have only its name and rows: their hashes are unknown and match any."""
    if description is None:
        return None
    return {key: description.get(key, UNKNOWN) for key in GENKNOW_IDENTITY}


def load_results(paths: list[Path]) -> ResultSet:
    """The largest comparable group of valid, successful results among ``paths``."""
    loaded: list[tuple[LoadedResult, dict[str, Any]]] = []
    excluded: list[Excluded] = []
    for path in paths:
        problems = validate_file(path)
        if problems:
            excluded.append(
                Excluded(str(path), f"invalid: {problems[0].path}: {problems[0].message}")
            )
            continue
        document = json.loads(Path(path).read_text())
        if document["status"] != "ok":
            excluded.append(Excluded(str(path), f"failed run: {document['error']['message']}"))
            continue
        loaded.append((LoadedResult(Path(path), document), comparability(document)))
    if not loaded:
        return ResultSet([], excluded)
    # the group is chosen among fully known results; imported ones join where they fit
    known = [basis for result, basis in loaded if result.document["kind"] != "imported"]
    groups = Counter(json.dumps(basis, sort_keys=True) for basis in known or [b for _, b in loaded])
    chosen = json.loads(groups.most_common(1)[0][0])
    kept = []
    for result, basis in sorted(loaded, key=lambda item: item[0].document["kind"] == "imported"):
        if compatible(basis, chosen):
            kept.append(result)
        else:
            excluded.append(
                Excluded(str(result.path), "not comparable: " + difference(basis, chosen))
            )
    versions, notes = metric_columns([result.document for result in kept])
    return ResultSet(kept, excluded, chosen, versions, notes)


def metric_columns(documents: list[dict[str, Any]]) -> tuple[dict[str, str], list[str]]:
    """Every metric of ``documents`` with the version compared (the most common, first seen on
    a tie), and a note for each metric that some lack or hold at another version."""
    seen: dict[str, Counter[str]] = {}
    names: dict[str, str] = {}
    for document in documents:
        for key, metric in document["metrics"].items():
            seen.setdefault(key, Counter())[metric["version"]] += 1
            names.setdefault(key, metric["name"])
    versions = {key: counts.most_common(1)[0][0] for key, counts in seen.items()}
    notes = []
    for key, counts in seen.items():
        same = counts[versions[key]]
        if same == len(documents):
            continue
        others = sorted(v for v in counts if v != versions[key])
        missing = len(documents) - sum(counts.values())
        parts = [f"compared at version {versions[key]} in {same} of {len(documents)} results"]
        if others:
            parts.append(f"blank where it is version {', '.join(others)}")
        if missing:
            parts.append(f"absent from {missing}")
        notes.append(f"{key} {names[key]}: " + "; ".join(parts))
    return versions, notes


def difference(basis: dict[str, Any], chosen: dict[str, Any]) -> str:
    """The first way ``basis`` differs from the group's, in words."""
    if basis["benchmark"] != chosen["benchmark"] or not compatible(
        basis["revision"], chosen["revision"]
    ):
        return (
            f"benchmark {basis['benchmark']} revision {basis['revision']} "
            f"(the table uses {chosen['benchmark']} revision {chosen['revision']})"
        )
    mine, theirs = basis["evaluation"]["protocol"], chosen["evaluation"]["protocol"]
    if mine != theirs:
        same_release = (mine["name"], mine["version"]) == (theirs["name"], theirs["version"])
        return (
            f"protocol {mine['name']} v{mine['version']} (the table uses {theirs['name']} "
            f"v{theirs['version']}{', other choices' if same_release else ''})"
        )
    if not compatible(basis["splits"], chosen["splits"]):
        for name in sorted(set(basis["splits"]) | set(chosen["splits"])):
            if basis["splits"].get(name) != chosen["splits"].get(name):
                return f"split {name!r} has different content (sha256 differs)"
    if not compatible(basis.get("genknow"), chosen.get("genknow")):
        return f"GenKnow set {basis.get('genknow')} (the table uses {chosen.get('genknow')})"
    if not compatible(basis["evaluation"], chosen["evaluation"]):
        return f"evaluation settings {basis['evaluation']} (the table uses {chosen['evaluation']})"
    return "reference model weights differ (sha256)"
