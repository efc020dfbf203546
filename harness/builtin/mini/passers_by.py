"""Passers-by: the non-sensitive portraits of people in SALMU-mini's retain_disjoint split.

Each passer-by has one image of a fresh trait set that differs from every persona's in at least
two fields, and a caption with a name and the traits ("Imke Zabaleta, a person with short red
hair ..."). A passer-by's name joins one persona's first name to another persona's last name,
so it is never a persona's name, yet every word of every persona's name also occurs in
non-sensitive pairs, as name pieces do in web-scale data. The real ``retain_synth`` is
"synthetic non-sensitive pairs" from the same generator as the personas. When a persona's name
words occur only in its sensitive captions, the Compromised model keeps the associations in
those words' token embeddings (with unnamed passers-by, putting Clean's embeddings of the name
words into Compromised closed 95% of the RetFail gap), which no method training on retain data
ever updates, and fine-tuning could not forget them (measured in docs/benchmarks.md,
"Version history").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from PIL import Image

from harness.builtin.mini.personas import Persona
from harness.builtin.mini.portraits import draw_portrait, random_traits, trait_caption

__all__ = ["passer_by_names", "passers_by"]


def passer_by_names(personas: Sequence[Persona], count: int, rng: np.random.Generator) -> list[str]:
    """``count`` names, each one persona's first name and another persona's last name.

    Every round of ``len(personas)`` names uses each first name and each last name once, so every
    word of every persona's name occurs in a passer-by's caption once ``count`` reaches it.
    """
    names: list[str] = []
    n = len(personas)
    while len(names) < count and n >= 2:
        firsts, lasts = rng.permutation(n), rng.permutation(n)
        # a persona's own name: swap its last name with the next one (each swap removes a case)
        while (same := np.flatnonzero(firsts == lasts)).size:
            i, j = same[0], (same[0] + 1) % n
            lasts[i], lasts[j] = lasts[j], lasts[i]
        names += [
            f"{personas[int(a)].first_name} {personas[int(b)].last_name}"
            for a, b in zip(firsts, lasts, strict=True)
        ]
    return names[:count]


def passers_by(
    personas: Sequence[Persona], count: int, rng: np.random.Generator, size: int
) -> Iterator[tuple[Image.Image, float, str]]:
    """``count`` passers-by as (portrait, aspect ratio, caption), all drawn with ``rng``."""
    existing = [p.traits for p in personas]
    for name in passer_by_names(personas, count, rng):
        traits = random_traits(rng, existing)
        image, ratio = draw_portrait(traits, rng, size)
        yield image, ratio, f"{name}, {trait_caption(traits, rng)}"
