"""Identity-level bootstrap intervals."""

from __future__ import annotations

import numpy as np

from harness.evaluation.statistics import (
    BootstrapSettings,
    bootstrap_ci,
    group_index,
    per_group_means,
)


def test_groups_are_numbered_and_none_rows_stand_alone() -> None:
    labels = group_index(["a", "b", "a", None, None], 5)
    assert labels[0] == labels[2] and len(set(labels.tolist())) == 4


def test_interval_brackets_the_mean_and_is_reproducible() -> None:
    values = np.random.default_rng(0).normal(size=300)
    groups = [f"id{i % 30}" for i in range(300)]
    settings = BootstrapSettings(seed=3, resamples=500)
    low, high = bootstrap_ci(values, groups, settings)
    assert low < values.mean() < high
    assert (low, high) == bootstrap_ci(values, groups, settings)
    assert (low, high) != bootstrap_ci(values, groups, BootstrapSettings(seed=4, resamples=500))


def test_resampling_identities_widens_the_interval_for_correlated_rows() -> None:
    # 10 identities, 20 identical rows each: rows are not independent evidence
    values = np.repeat(np.arange(10, dtype=float), 20)
    groups = [f"id{v}" for v in values.astype(int)]
    settings = BootstrapSettings(resamples=2000)
    by_identity = bootstrap_ci(values, groups, settings)
    by_row = bootstrap_ci(values, None, settings)
    assert (by_identity[1] - by_identity[0]) > 3 * (by_row[1] - by_row[0])


def test_constant_values_give_a_point_interval() -> None:
    assert bootstrap_ci([0.5] * 10, None, BootstrapSettings()) == (0.5, 0.5)
    assert per_group_means([1, 3, 5], ["a", "a", None]) == {"a": 2.0}
