"""The RetFail gallery: the official draw, order independence, spread draws, what it withholds."""

from __future__ import annotations

import datasets
import numpy as np

from harness.benchmarks.base import Split
from harness.builtin.salmubench.gallery import (
    draw_gallery,
    generator_after_gallery,
    spread_forget_rows,
)
from harness.builtin.salmubench.protocols import builtin_protocols

PROTOCOLS = {protocol.name: protocol for protocol in builtin_protocols()}
OFFICIAL = PROTOCOLS["official"].section("retfail")


def text_split(name: str, count: int) -> Split:
    texts = [f"{name} caption {i}" for i in range(count)]
    return Split(
        name,
        datasets.Dataset.from_dict(
            {
                "text": texts,
                "identity_id": [None] * count,
                "file_name": [f"{i}.png" for i in range(count)],
            }
        ),
    )


def test_official_gallery_is_the_official_call_sequence() -> None:
    """np.random.seed(42); choice(forget["text"], 1000, replace=False); the same on retain."""
    forget, retain = text_split("forget", 3000), text_split("retain", 2500)
    np.random.seed(42)
    official_forget = np.random.choice(np.array(forget.texts), 1000, replace=False)
    official_retain = np.random.choice(np.array(retain.texts), 1000, replace=False)
    official_permutation = np.random.permutation(3000)  # the next draw: ACS's negatives
    np.random.seed(7)  # whatever the global state is now, the gallery is the same
    gallery = draw_gallery(forget, retain, 42, OFFICIAL)
    assert [forget.texts[i] for i in gallery.forget_rows] == official_forget.tolist()
    assert [retain.texts[i] for i in gallery.retain_rows] == official_retain.tolist()
    after = generator_after_gallery(3000, 2500, 42, OFFICIAL)
    assert after.permutation(3000).tolist() == official_permutation.tolist()
    assert gallery.size == 2001


def test_dedicated_gallery_depends_only_on_the_seed() -> None:
    forget, retain = text_split("forget", 1500), text_split("retain", 1200)
    choices = PROTOCOLS["salmu-harness"].section("retfail")
    first = draw_gallery(forget, retain, 42, choices)
    np.random.seed(1)
    np.random.rand(100)
    again = draw_gallery(forget, retain, 42, choices)
    assert first.sha256 == again.sha256
    assert draw_gallery(forget, retain, 43, choices).sha256 != first.sha256
    assert draw_gallery(forget, retain, 42, OFFICIAL).sha256 != first.sha256


def test_draw_order_changes_the_gallery() -> None:
    forget, retain = text_split("forget", 1500), text_split("retain", 1500)
    retain_first = {**OFFICIAL, "draw_order": "retain-first"}
    a, b = (
        draw_gallery(forget, retain, 42, OFFICIAL),
        draw_gallery(forget, retain, 42, retain_first),
    )
    assert a.forget_rows.tolist() == b.retain_rows.tolist()  # the same permutations, swapped


def test_spread_draws_redraw_forget_rows_reproducibly() -> None:
    draws = spread_forget_rows(3000, 42, OFFICIAL)
    assert len(draws) == OFFICIAL["spread_draws"] == 10
    assert all(len(rows) == 1000 == len(set(rows.tolist())) for rows in draws)
    assert draws[0].tolist() == np.random.RandomState(43).choice(3000, 1000, replace=False).tolist()
    headline = draw_gallery(text_split("forget", 3000), text_split("retain", 1000), 42, OFFICIAL)
    assert all(rows.tolist() != headline.forget_rows.tolist() for rows in draws)
    assert spread_forget_rows(3000, 42, {**OFFICIAL, "spread_draws": 0}) == []
