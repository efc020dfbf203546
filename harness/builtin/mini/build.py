"""Building SALMU-mini once per (generator version, training version, scale, seed) and caching it.

The build writes into a temporary folder beside its destination and renames it when complete,
under a file lock, so an interrupted or concurrent build never leaves a half-written benchmark.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from filelock import FileLock

from harness.benchmarks.local import MANIFEST
from harness.builtin.mini.dataset import GENERATOR_VERSION, SCALES, write_mini_dataset
from harness.builtin.mini.training import RECIPES, TRAINING_VERSION, train_pair
from harness.errors import BenchmarkError
from harness.progress import QUIET_ENV_VAR, progress_bar
from harness.storage import cache_dir, staged_folder

#: the official RetFail gallery's distractors per split (recorded in the manifest)
DISTRACTORS_PER_SPLIT = 1000

DEFAULT_SCALE = "default"
DEFAULT_SEED = 0


def mini_key(scale: str, seed: int) -> str:
    """The cache folder name of one build."""
    return f"g{GENERATOR_VERSION}-t{TRAINING_VERSION}-{scale}-seed{seed}"


def ensure_mini(
    scale: Any = DEFAULT_SCALE,
    seed: Any = DEFAULT_SEED,
    force: Any = False,
    show_progress: bool = True,
) -> Path:
    """The folder of the requested SALMU-mini, built on first use (a cache hit afterwards).
    ``scale``, ``seed`` and ``force`` are the mini benchmark's options, as a user gave them."""
    scale = str(scale)
    if scale not in SCALES:
        from harness.errors import UnknownNameError

        raise UnknownNameError("mini scale", scale, SCALES)
    try:
        seed = int(seed)
    except (TypeError, ValueError) as exc:
        raise BenchmarkError(f"mini seed {seed!r} is not an integer") from exc
    return build_mini(scale, seed, force=bool(force), show_progress=show_progress)


def build_mini(
    scale: str,
    seed: int,
    *,
    force: bool = False,
    show_progress: bool = True,
    root: Path | None = None,
) -> Path:
    """Build SALMU-mini into the cache (or ``root``) unless an identical build is there."""
    parent = Path(root) if root else cache_dir("mini")
    parent.mkdir(parents=True, exist_ok=True)
    destination = parent / mini_key(scale, seed)
    with FileLock(str(parent / f".{destination.name}.lock")):
        if (destination / MANIFEST).is_file() and not force:
            return destination
        with staged_folder(destination) as staging:
            _build_into(staging, scale, seed, show_progress)
    return destination


def _build_into(folder: Path, scale: str, seed: int, show_progress: bool) -> None:
    started = time.perf_counter()
    if show_progress and not os.environ.get(QUIET_ENV_VAR):
        print(  # one line even where no progress bar can be drawn (CI logs, pipes)
            f"Building SALMU-mini ({scale}, seed {seed}) on first use: generating data and "
            "training the model pair (about 4 minutes on 2 cores, cached afterwards)",
            file=sys.stderr,
            flush=True,
        )
    bar = progress_bar(
        total=None, desc=f"SALMU-mini {scale}: generating data", enabled=show_progress
    )

    def report(stage: str, done: int) -> None:
        bar.set_description(f"SALMU-mini {scale}: {stage}")
        bar.update(0)

    stats = write_mini_dataset(folder, SCALES[scale], seed, report)
    bar.set_description(f"SALMU-mini {scale}: training Clean and Compromised")
    bar.refresh()
    training = train_pair(folder, seed, RECIPES[scale])
    bar.close()
    manifest = {
        "name": "salmu-mini",
        "revision": mini_key(scale, seed),
        "dataset": "dataset",
        "genknow": "genknow",
        "models": {
            role: {
                "id": f"salmu-mini/{role}",
                "revision": mini_key(scale, seed),
                "path": f"models/{role}",
            }
            for role in ("compromised", "clean")
        },
        "details": {
            "scale": scale,
            "seed": seed,
            "generator_version": GENERATOR_VERSION,
            "training": training,
            "statistics": stats,
            "retfail_gallery": {
                "forget_distractors": min(DISTRACTORS_PER_SPLIT, stats["splits"]["forget"]["rows"]),
                "retain_distractors": min(
                    DISTRACTORS_PER_SPLIT, stats["splits"]["retain_disjoint"]["rows"]
                ),
            },
            "build_seconds": round(time.perf_counter() - started, 1),
        },
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
