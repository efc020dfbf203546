"""The RetFail caption gallery, drawn as the evaluation protocol says, and what it withholds.

Two generators are available (``retfail.gallery_rng``):

- ``numpy-randomstate``: the official call sequence, ``choice(forget["text"], 1000,
  replace=False)`` then the same on ``retain_disjoint``, made with a *dedicated*
  ``numpy.random.RandomState(seed)``. ``choice`` without replacement takes the first rows of
  one permutation, so drawing row indices is the same draw as drawing the texts; at seed 42 it
  is the official gallery, and it never depends on evaluation order or on other numpy users.
- ``dedicated``: numpy's ``Generator`` seeded by the seed and a purpose string.

The retain rows a gallery holds are withheld from the retain split that methods train on
(``withheld_retain_texts``), for whatever seed and protocol the run evaluates with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.benchmarks.base import Split
from harness.rng import dedicated_rng


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


def _draw_order(choices: Mapping[str, Any]) -> tuple[str, str]:
    return ("forget", "retain") if choices["draw_order"] == "forget-first" else ("retain", "forget")


def _draw(
    sizes: Mapping[str, int], seed: int, choices: Mapping[str, Any]
) -> tuple[dict[str, np.ndarray], Any]:
    """Row indices per split, in the protocol's order, and the generator after the draws."""
    per_split = int(choices["distractors_per_split"])
    rows: dict[str, np.ndarray] = {}
    if choices["gallery_rng"] == "numpy-randomstate":
        state = np.random.RandomState(seed)
        for name in _draw_order(choices):
            rows[name] = state.choice(sizes[name], size=min(per_split, sizes[name]), replace=False)
        return rows, state
    generator = dedicated_rng(seed, "retfail-gallery")
    for name in _draw_order(choices):
        drawn = generator.choice(sizes[name], size=min(per_split, sizes[name]), replace=False)
        rows[name] = np.sort(drawn)
    return rows, generator


def draw_gallery(
    forget: Split, retain_disjoint: Split, seed: int, choices: Mapping[str, Any]
) -> Gallery:
    """The gallery of the protocol's ``retfail`` ``choices`` at ``seed`` (fewer distractors
    than asked when a split is smaller)."""
    rows, _ = _draw({"forget": len(forget), "retain": len(retain_disjoint)}, seed, choices)
    digest = hashlib.sha256()
    for split, drawn in ((forget, rows["forget"]), (retain_disjoint, rows["retain"])):
        for row in drawn:
            digest.update(f"{split.name}\t{split.file_names[row]}\t{split.texts[row]}\n".encode())
    return Gallery(rows["forget"], rows["retain"], seed, digest.hexdigest())


def spread_forget_rows(n_forget: int, seed: int, choices: Mapping[str, Any]) -> list[np.ndarray]:
    """The forget distractors of the ``spread_draws`` further galleries (seeds seed+1 ...).

    Only the forget half is redrawn: every retain caption that a gallery can hold is withheld
    from methods, so the retain half stays the protocol gallery's.
    """
    count = min(int(choices["distractors_per_split"]), n_forget)
    draws = []
    for k in range(1, int(choices["spread_draws"]) + 1):
        if choices["gallery_rng"] == "numpy-randomstate":
            draws.append(np.random.RandomState(seed + k).choice(n_forget, count, replace=False))
        else:
            draws.append(
                np.sort(dedicated_rng(seed + k, "retfail-gallery").choice(n_forget, count, False))
            )
    return draws


def generator_after_gallery(
    n_forget: int, n_retain: int, seed: int, choices: Mapping[str, Any]
) -> np.random.RandomState:
    """A ``RandomState(seed)`` advanced past the gallery draws: the state the official call
    sequence leaves for the first model evaluated in a process."""
    state = np.random.RandomState(seed)
    per_split = int(choices["distractors_per_split"])
    sizes = {"forget": n_forget, "retain": n_retain}
    for name in _draw_order(choices):
        state.choice(sizes[name], size=min(per_split, sizes[name]), replace=False)
    return state


def withheld_retain_texts(
    forget: Split, retain_disjoint: Split, seed: int, choices: Mapping[str, Any]
) -> set[str]:
    """Every retain caption the evaluation's galleries can hold at ``seed``: methods never
    read a retain row with one of these texts."""
    gallery = draw_gallery(forget, retain_disjoint, seed, choices)
    return {retain_disjoint.texts[i] for i in gallery.retain_rows}
