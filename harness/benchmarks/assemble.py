"""Turning stored splits, metadata and a model pair into a :class:`Benchmark`."""

from __future__ import annotations

from typing import Any

from harness.benchmarks.base import Benchmark, GenKnowSet, ModelSource, Role, Split
from harness.benchmarks.hub_layout import derive_splits
from harness.gallery import DEFAULT_GALLERY_SEED, draw_gallery


def assemble_benchmark(
    name: str,
    revision: str,
    stored: dict[str, Split],
    metadata: dict[str, Any],
    models: dict[Role, ModelSource],
    genknow: GenKnowSet | None = None,
    genknow_skip_reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> Benchmark:
    """Derive the evaluator's splits and the ``retain`` split that methods train on.

    ``retain`` is retain_synth minus everything the evaluation reads: retain_joint (VisIdInt),
    the fragile set (FragSim) and the retain_disjoint captions drawn into the RetFail gallery.
    """
    splits = derive_splits(stored, metadata)
    disjoint = splits["retain_disjoint"]
    gallery = draw_gallery(splits["forget"], disjoint, DEFAULT_GALLERY_SEED)
    reserved = set(gallery.retain_rows.tolist())
    fragile = set(metadata["fragile_set_ids"])
    keep = [
        i
        for i, file_name in enumerate(disjoint.file_names)
        if i not in reserved and file_name not in fragile
    ]
    splits["retain"] = Split("retain", disjoint.dataset.select(keep))
    return Benchmark(
        name=name,
        revision=revision,
        splits=splits,
        metadata=metadata,
        models=models,
        genknow=genknow,
        genknow_skip_reason=genknow_skip_reason,
        details={
            **(details or {}),
            "method_retain_split": "retain_synth minus retain_joint, the fragile set and the "
            f"RetFail gallery's retain distractors (seed {DEFAULT_GALLERY_SEED})",
        },
    )
