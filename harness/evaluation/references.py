"""Reference results (Clean and Compromised), cached on disk.

A cached reference is keyed by the weights' sha256, the hashes of the splits the metric reads,
the metric's key and version, the evaluation settings, the precision and the harness version;
a cache whose key does not match is never used.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.storage import cache_dir, write_json_atomic
from harness.versions import __version__

if TYPE_CHECKING:  # keeps this module free of torch: `validate --strict` imports it
    from harness.benchmarks.base import Benchmark
    from harness.evaluation.settings import EvaluationSettings
    from harness.metric import Metric


def cache_key(
    model_sha256: str,
    metric: Metric,
    benchmark: Benchmark,
    settings: EvaluationSettings,
    precision: str = "fp32",
) -> str:
    """The key under which one metric's value for one model is cached."""
    return reference_key(
        model_sha256,
        (metric.key, metric.version),
        {s: benchmark.split(s).sha256 for s in metric.splits if s in benchmark.splits},
        (benchmark.name, benchmark.revision),
        genknow_identity(benchmark),
        settings.to_json(),
        __version__,
        precision,
    )


def reference_key(
    model_sha256: str,
    metric: tuple[str, str],
    split_hashes: dict[str, str],
    benchmark: tuple[str, str],
    genknow: tuple[Any, ...] | None,
    settings: dict[str, Any],
    harness_version: str,
    precision: str = "fp32",
) -> str:
    """The cache key from plain values, so that a result document's own fields can rebuild it."""
    material = {
        "model": model_sha256,
        "metric": list(metric),
        "splits": split_hashes,
        "benchmark": list(benchmark),
        "genknow": list(genknow) if genknow else None,
        "settings": settings,
        "harness": harness_version,
        "precision": precision,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def genknow_identity(benchmark: Benchmark) -> tuple[Any, ...] | None:
    """The GenKnow set's identity in reference cache keys, or None without one."""
    return genknow_key(benchmark.genknow.describe() if benchmark.genknow else None)


def genknow_key(description: dict[str, Any] | None) -> tuple[Any, ...] | None:
    """The cache-key identity of a recorded GenKnow set: its content, row-order and prompt
    hashes (row order too: cached records hold per-row values); name and rows for results
    written before the hashes were recorded."""
    if not description:
        return None
    if "sha256" in description:
        return (
            description["sha256"],
            description["rows_sha256"],
            description["prompts_sha256"],
            description["rows"],
        )
    return description["name"], description["rows"]


class ReferenceCache:
    """One JSON file per (model, metric) under the harness cache."""

    def __init__(
        self, root: Path | None = None, preloaded: dict[str, dict[str, Any]] | None = None
    ) -> None:
        self.root = Path(root) if root else cache_dir("references")
        self.preloaded = dict(preloaded or {})
        self.hits = 0
        self.misses = 0

    def get_or_compute(
        self,
        keys: dict[str, str],
        compute: Callable[[Sequence[str]], dict[str, dict[str, Any]]],
    ) -> dict[str, dict[str, Any]]:
        """Records for every metric in ``keys`` (metric key -> cache key), computing the misses."""
        found: dict[str, dict[str, Any]] = {}
        for metric_key, key in keys.items():
            if key in self.preloaded:  # handed over by a sweep's driver: never recomputed
                found[metric_key] = self.preloaded[key]
                self.hits += 1
                continue
            path = self.root / f"{key}.json"
            try:
                found[metric_key] = json.loads(path.read_text())
                self.hits += 1
            except (OSError, json.JSONDecodeError):
                pass
        missing = [k for k in keys if k not in found]
        if missing:
            self.misses += len(missing)
            computed = compute(missing)
            for metric_key in missing:
                record = {k: v for k, v in computed[metric_key].items() if k != "per_row"}
                found[metric_key] = record
                if record.get("status") == "ok":
                    write_json_atomic(self.root / f"{keys[metric_key]}.json", record)
        return found
