"""Loading a benchmark from a local folder described by a ``benchmark.json`` manifest.

SALMU-mini writes such folders; anyone can write one for a benchmark of their own in the same
layout (an evaluation dataset folder in hub layout, two model folders or weights files, and an
optional zero-shot set).
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.benchmarks.assemble import assemble_benchmark
from harness.benchmarks.base import Benchmark, ModelSource
from harness.benchmarks.genknow import read_genknow
from harness.benchmarks.hub_layout import read_evaluation_dataset
from harness.errors import BenchmarkError

MANIFEST = "benchmark.json"


def load_local_benchmark(folder: Path) -> Benchmark:
    """The benchmark in ``folder``, as its ``benchmark.json`` describes it."""
    folder = Path(folder).expanduser().resolve()
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BenchmarkError(
            f"{folder} is not a benchmark folder (no {MANIFEST})",
            "give a registered benchmark (`salmu-harness benchmarks`), or a folder with a "
            "benchmark.json manifest (docs/benchmarks.md, 'A benchmark folder')",
        )
    try:
        manifest = json.loads(manifest_path.read_text())
        models = {
            role: ModelSource(
                role=role,
                id=spec["id"],
                revision=spec.get("revision"),
                path=folder / spec["path"],
                architecture=spec.get("architecture"),
            )
            for role, spec in manifest["models"].items()
        }
        name, revision, dataset = manifest["name"], manifest["revision"], manifest["dataset"]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise BenchmarkError(f"{manifest_path} is invalid: {exc!r}") from exc
    if set(models) != {"compromised", "clean"}:
        raise BenchmarkError(f"{manifest_path} must name a compromised and a clean model")
    stored, metadata = read_evaluation_dataset(folder / dataset)
    genknow = read_genknow(folder / manifest["genknow"]) if manifest.get("genknow") else None
    return assemble_benchmark(
        name,
        revision,
        stored,
        metadata,
        models,
        genknow=genknow,
        genknow_skip_reason=None if genknow else "the benchmark folder has no zero-shot set",
        details=manifest.get("details", {}),
    )
