"""What methods may read of the retain data: never a row the evaluation reads, for any seed."""

from __future__ import annotations

import pytest

from harness.builtin.salmubench.gallery import draw_gallery, withheld_retain_texts
from harness.builtin.salmubench.suite import SUITE
from harness.metric import Withheld
from harness.plugins import load_plugins
from harness.run.isolation import method_retain_rows, with_method_retain, withheld_by

PROTOCOLS = {name: p for name, (p, _) in load_plugins(third_party=False).protocols.items()}


@pytest.mark.parametrize("protocol", ["official", "salmu-harness"])
@pytest.mark.parametrize("seed", [42, 7, 12345])
def test_methods_never_read_a_gallery_caption(mini_benchmark, protocol: str, seed: int) -> None:
    """The leak: for every seed and protocol, the retain split methods read holds no caption
    that the evaluation's RetFail gallery holds (nor the fragile set)."""
    chosen = PROTOCOLS[protocol]
    benchmark = with_method_retain(mini_benchmark, [SUITE], chosen, seed)
    read = set(benchmark.split("retain").texts)
    disjoint = benchmark.split("retain_disjoint")
    gallery = draw_gallery(benchmark.split("forget"), disjoint, seed, chosen.section("retfail"))
    assert gallery.retain_rows.size > 0 and len(read) > 0
    assert not read & {disjoint.texts[i] for i in gallery.retain_rows}
    assert not set(benchmark.split("retain").file_names) & set(
        benchmark.metadata["fragile_set_ids"]
    )
    withheld = withheld_by([SUITE], mini_benchmark, chosen, seed)
    assert read == {disjoint.texts[i] for i in method_retain_rows(mini_benchmark, withheld)}
    assert withheld.texts == withheld_retain_texts(
        benchmark.split("forget"), disjoint, seed, chosen.section("retfail")
    )


def test_another_seed_withholds_other_rows(mini_benchmark) -> None:
    official = PROTOCOLS["official"]
    at_42 = withheld_by([SUITE], mini_benchmark, official, 42)
    at_7 = withheld_by([SUITE], mini_benchmark, official, 7)
    assert method_retain_rows(mini_benchmark, at_42) != method_retain_rows(mini_benchmark, at_7)


def test_without_a_suite_methods_read_the_whole_source(mini_benchmark) -> None:
    source = mini_benchmark.split(mini_benchmark.method_retain_source)
    assert method_retain_rows(mini_benchmark, Withheld()) == list(range(len(source)))
    benchmark = with_method_retain(mini_benchmark, [], PROTOCOLS["official"], 42)
    assert len(benchmark.split("retain")) == len(source)
