"""3.3 Membership inference against Clean: the score, the AUC, and the two ends on the mini."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.builtin.salmubench.membership import likelihood_scores, rank_auc
from harness.run.checkpoints import evaluate_checkpoint
from harness.run.settings import RunOptions


def test_rank_auc_is_the_mann_whitney_statistic_with_half_ties() -> None:
    positives, negatives = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 2.0])
    assert list(rank_auc(positives, negatives)) == [0.0, 0.25, 0.75, 1.0]
    same = np.array([0.3, 0.1, 0.2])
    assert rank_auc(same, same).mean() == pytest.approx(0.5)
    assert rank_auc(same + 1, same).mean() == 1.0


def test_likelihood_ratio_points_to_the_nearer_reference() -> None:
    clean, compromised = np.array([0.2, 0.5]), np.array([0.8, 0.1])
    assert np.all(likelihood_scores(compromised, compromised, clean) > 0)
    assert np.all(likelihood_scores(clean, compromised, clean) < 0)
    assert np.all(likelihood_scores((clean + compromised) / 2, compromised, clean) == 0)
    # a row both references score alike carries no evidence either way
    assert likelihood_scores(np.array([0.9]), np.array([0.4]), np.array([0.4]))[0] == 0


def evaluate(checkpoint: Path, mini_root: Path, out: Path) -> dict:
    options = RunOptions(
        benchmark=str(mini_root),
        metrics=["3.3"],
        output_dir=out,
        show_progress=False,
        num_workers=0,
    )
    return evaluate_checkpoint(checkpoint, options).document["metrics"]["3.3"]


def test_clean_is_indistinguishable_and_compromised_fully_told(
    mini_root: Path, tmp_path: Path
) -> None:
    metric = evaluate(mini_root / "models" / "clean", mini_root, tmp_path)
    assert metric["value"] == pytest.approx(0.5)
    assert metric["values"]["auc"] == pytest.approx(0.5)
    assert metric["values"]["ks_statistic"] == 0.0 and metric["values"]["ks_pvalue"] == 1.0
    assert metric["values"]["tpr_at_1pct_fpr"] <= 0.02
    assert metric["normalized"]["score"] == pytest.approx(1.0)
    references = metric["references"]
    assert references["clean"]["value"] == pytest.approx(0.5)
    compromised = references["compromised"]
    assert compromised["value"] == 1.0 and compromised["values"]["auc"] == 1.0
    assert compromised["values"]["tpr_at_1pct_fpr"] == 1.0
    assert compromised["values"]["ks_pvalue"] < 1e-6
    # the calibration split: personas Compromised kept are told apart from Clean as well
    assert compromised["values"]["holdout_auc"] > 0.9
