"""The stage clock adds up where evaluation time goes."""

from __future__ import annotations

import time

from harness.evaluation.stages import STAGES, StageClock


def test_timed_iteration_counts_the_waits_for_items_only() -> None:
    def slow_items():
        for item in range(3):
            time.sleep(0.02)
            yield item

    clock = StageClock()
    before = clock.snapshot()
    seen = []
    for item in clock.timed(slow_items(), "decode"):
        with clock.timing("image_encode"):
            time.sleep(0.01)
        seen.append(item)
    spent = clock.since(before)
    assert seen == [0, 1, 2] and set(spent) == set(STAGES)
    assert 0.06 <= spent["decode"] < 0.2
    assert 0.03 <= spent["image_encode"] < 0.15
    assert spent["text_encode"] == 0.0
