"""Identity-level bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest

from harness.evaluation import statistics
from harness.evaluation.statistics import (
    BootstrapSettings,
    bootstrap_ci,
    group_index,
    per_group_means,
)
from harness.rng import dedicated_rng


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


def test_rows_of_few_values_resample_by_counts_with_the_row_bootstrap_distribution() -> None:
    rng = np.random.default_rng(1)
    correct = (rng.random(2000) < 0.3).astype(float)
    distinct, occurrences = np.unique(correct, return_counts=True)
    labels = np.arange(correct.size)
    by_counts = statistics._resampled_means_by_counts(
        distinct, occurrences, 20000, np.random.default_rng(2)
    )
    by_rows = statistics._resampled_means_by_groups(
        correct, labels, correct.size, 20000, np.random.default_rng(3)
    )
    for q in (0.025, 0.5, 0.975):
        assert abs(np.quantile(by_counts, q) - np.quantile(by_rows, q)) < 0.003
    assert abs(by_counts.std() - by_rows.std()) < 0.0005


def test_ungrouped_rows_of_few_values_take_the_counting_path_and_grouped_rows_do_not() -> None:
    correct = (np.random.default_rng(4).random(500) < 0.6).astype(float)
    settings = BootstrapSettings(resamples=300)
    distinct, occurrences = np.unique(correct, return_counts=True)
    counted = statistics._resampled_means_by_counts(
        distinct, occurrences, 300, dedicated_rng(settings.seed, "bootstrap")
    )
    expected = tuple(float(q) for q in np.quantile(counted, [0.025, 0.975]))
    assert bootstrap_ci(correct, None, settings) == pytest.approx(expected, abs=1e-12)
    groups = [f"id{i % 50}" for i in range(500)]
    assert bootstrap_ci(correct, groups, settings) != bootstrap_ci(correct, None, settings)


def test_a_binary_interval_has_the_binomial_width() -> None:
    p, n = 0.49, 48_000
    correct = np.zeros(n)
    correct[: int(p * n)] = 1.0
    low, high = bootstrap_ci(correct, None, BootstrapSettings(resamples=4000))
    expected = 2 * 1.96 * np.sqrt(p * (1 - p) / n)  # 0.0089
    assert abs((high - low) - expected) < 0.05 * expected
    assert low < p < high


def test_differences_of_three_values_resample_by_counts_around_their_mean() -> None:
    diffs = np.array([-1.0] * 300 + [0.0] * 1500 + [1.0] * 200)
    low, high = bootstrap_ci(diffs, None, BootstrapSettings(resamples=4000))
    assert low < -0.05 < high and high < 0.0
