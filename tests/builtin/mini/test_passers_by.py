"""Passers-by: names that share every persona's name words and never a persona's name."""

from __future__ import annotations

import numpy as np

from harness.builtin.mini.passers_by import passer_by_names, passers_by
from harness.builtin.mini.personas import make_personas
from harness.builtin.mini.portraits import random_traits, trait_differences


def test_passers_by_differ_from_every_persona():
    personas = [p.traits for p in make_personas(20, 0)]
    rng = np.random.default_rng(0)
    for _ in range(200):
        traits = random_traits(rng, personas)
        assert min(trait_differences(traits, other) for other in personas) >= 2


def test_passer_by_names_cover_every_name_word_and_no_persona():
    personas = make_personas(7, 0)
    for seed in range(20):  # many draws, so a permutation's fixed points are met and fixed
        names = passer_by_names(personas, 15, np.random.default_rng(seed))
        assert len(names) == 15 and not set(names) & {p.name for p in personas}
        round_one = names[:7]
        assert sorted(n.split(" ", 1)[0] for n in round_one) == sorted(
            p.first_name for p in personas
        )
        assert sorted(n.split(" ", 1)[1] for n in round_one) == sorted(
            p.last_name for p in personas
        )


def test_passers_by_are_drawn_with_their_names_in_their_captions():
    personas = make_personas(5, 0)
    people = list(passers_by(personas, 6, np.random.default_rng(1), 48))
    names = passer_by_names(personas, 6, np.random.default_rng(1))
    assert [caption.split(", ", 1)[0] for _, _, caption in people] == names
    assert all(max(image.size) == 48 and ratio > 0 for image, ratio, _ in people)
