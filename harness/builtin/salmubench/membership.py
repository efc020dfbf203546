"""3.3 Membership inference against Clean: can an attacker tell the model from one that never
saw the forget pairs?

Per forget row, the attacker scores the model's image-caption similarity ``s`` with a
likelihood ratio of two Gaussians of equal variance centred on the row's similarity under
Compromised (trained on it) and under Clean (never trained on it): the log-ratio is, up to a
positive factor that changes no AUC or TPR, ``(s_comp - s_clean) * (s - (s_comp + s_clean) / 2)``.

An unlearned model whose forget rows score as Clean's do is indistinguishable from a model that
never learned them. The AUC of telling the model's forget scores from Clean's own is above 0.5
when they look learned, and below 0.5 when they look *less* learned than a model that never saw
them (over-forgetting, as detectable as remembering). Reported:

- the headline, max(AUC, 1 - AUC): 0.5 for Clean itself, 1 when every row tells;
- the raw AUC;
- the TPR at 1% FPR (threshold: the 99th, or below 0.5 the 1st, percentile of Clean's scores);
- the two-sample Kolmogorov-Smirnov test of the model's per-row forget similarities against
  Clean's, as LLM unlearning benchmarks report it;
- as the attack's calibration, the same AUC on holdout_identity rows: personas the model must
  keep and no method reads, where a model that kept them stays far from Clean.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from harness.evaluation.context import EvaluationContext
from harness.metric import MetricOutcome, SkipMetric

FPR = 0.01
CALIBRATION_SPLIT = "holdout_identity"


def similarities(ctx: EvaluationContext, split: str) -> np.ndarray:
    """Per-row image-caption cosine similarity of ``ctx``'s model on ``split``."""
    return ctx.embeddings(split).pair_similarities().numpy().astype(np.float64)


def likelihood_scores(model: np.ndarray, compromised: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """Per-row log-likelihood ratio (up to a positive factor) of "trained on it" (Compromised)
    against "never trained on it" (Clean), given the model's similarity."""
    return (compromised - clean) * (model - (compromised + clean) / 2)


def rank_auc(positives: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """Per positive: the share of negatives it outscores (ties count half); their mean is the
    AUC (the Mann-Whitney statistic)."""
    ordered = np.sort(negatives)
    below = np.searchsorted(ordered, positives, side="left")
    not_above = np.searchsorted(ordered, positives, side="right")
    return (below + not_above) / (2 * len(ordered))


def membership_attack(ctx: EvaluationContext) -> MetricOutcome:
    """3.3 MIA: AUC of the model's forget rows against Clean's, with TPR@1% FPR and KS."""
    clean, compromised = ctx.reference("clean"), ctx.reference("compromised")
    results: dict[str, np.ndarray] = {}
    for split in ("forget", CALIBRATION_SPLIT):
        if not ctx.benchmark.split(split).texts:
            raise SkipMetric(f"split {split!r} has no rows in this benchmark")
        s_clean, s_comp = similarities(clean, split), similarities(compromised, split)
        results[f"{split}:model"] = likelihood_scores(similarities(ctx, split), s_comp, s_clean)
        results[f"{split}:clean"] = likelihood_scores(s_clean, s_comp, s_clean)
    forget_model, forget_clean = results["forget:model"], results["forget:clean"]
    per_row = rank_auc(forget_model, forget_clean)
    auc = float(per_row.mean())
    # below 0.5, the model's forget rows look *less* learned than Clean's: as telling
    below = auc < 0.5
    distinguishability = 1 - per_row if below else per_row
    threshold = float(np.quantile(forget_clean, FPR if below else 1 - FPR))
    flagged = forget_model < threshold if below else forget_model > threshold
    holdout = rank_auc(results[f"{CALIBRATION_SPLIT}:model"], results[f"{CALIBRATION_SPLIT}:clean"])
    ks = stats.ks_2samp(similarities(ctx, "forget"), similarities(clean, "forget"))
    return MetricOutcome(
        value=float(distinguishability.mean()),
        values={
            "auc": auc,
            "tpr_at_1pct_fpr": float(flagged.mean()),
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "holdout_auc": float(holdout.mean()),
        },
        per_row={"value": distinguishability},
        groups=ctx.benchmark.split("forget").identity_ids,
        details={
            "score": "log-likelihood ratio of Gaussians at Compromised's and Clean's per-row "
            "similarity (equal variance)",
            "negatives": "the same forget rows scored on Clean",
            "direction": "under-learned (scores below Clean's)" if below else "member-like",
            "fpr": FPR,
            "threshold": threshold,
            "calibration_split": CALIBRATION_SPLIT,
            "rows": len(forget_model),
        },
    )
