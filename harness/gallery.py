"""The RetFail caption gallery: distractors drawn once, by a dedicated seeded generator.

The official evaluator draws distractors from numpy's process-global RNG, so a model's score
depends on how many models were evaluated before it. Here the draw depends only on the seed and
on the splits, so every model evaluated with the same seed, in any order or process, sees the
same gallery. The retain rows drawn as distractors are also withheld from the retain split that
methods train on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from harness.benchmarks.base import Split

DEFAULT_GALLERY_SEED = 42
DISTRACTORS_PER_SPLIT = 1000


@dataclass(frozen=True)
class Gallery:
    """Indices of the distractor captions, into ``forget`` and into ``retain_disjoint``."""

    forget_rows: np.ndarray
    retain_rows: np.ndarray
    seed: int
    sha256: str

    @property
    def size(self) -> int:
        """Captions in the gallery of one image: its own plus the distractors."""
        return 1 + len(self.forget_rows) + len(self.retain_rows)


def dedicated_rng(seed: int, purpose: str) -> np.random.Generator:
    """A generator that depends only on ``seed`` and ``purpose``, never on global state."""
    salt = int.from_bytes(hashlib.sha256(purpose.encode()).digest()[:8], "little")
    return np.random.default_rng(np.random.SeedSequence([seed, salt]))


def draw_gallery(
    forget: Split,
    retain_disjoint: Split,
    seed: int = DEFAULT_GALLERY_SEED,
    per_split: int = DISTRACTORS_PER_SPLIT,
) -> Gallery:
    """Draw ``per_split`` distractors without replacement from each split (fewer if it is small)."""
    rng = dedicated_rng(seed, "retfail-gallery")
    forget_rows = np.sort(rng.choice(len(forget), size=min(per_split, len(forget)), replace=False))
    retain_rows = np.sort(
        rng.choice(len(retain_disjoint), size=min(per_split, len(retain_disjoint)), replace=False)
    )
    digest = hashlib.sha256()
    for split, rows in ((forget, forget_rows), (retain_disjoint, retain_rows)):
        for row in rows:
            digest.update(f"{split.name}\t{split.file_names[row]}\t{split.texts[row]}\n".encode())
    return Gallery(forget_rows, retain_rows, seed, digest.hexdigest())
