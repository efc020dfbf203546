"""The association probe behind ACS: can a linear model tell true pairs from shuffled ones?"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    """A permutation of ``range(n)`` with no fixed point (``n >= 2``)."""
    if n < 2:
        raise ValueError("a derangement needs at least two items")
    order = rng.permutation(n)
    for i in np.flatnonzero(order == np.arange(n)):
        j = (i + 1) % n
        order[i], order[j] = order[j], order[i]
    return order


def probe_correctness(
    image: np.ndarray,
    text: np.ndarray,
    groups: Sequence[str | None],
    rng: np.random.Generator,
    folds: int = 5,
) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """Out-of-fold correctness of a logistic-regression probe on true vs deranged pairs.

    Features: the element-wise product of the normalised image and caption embeddings. Negatives:
    each image with the caption of a deranged row. Folds group rows by identity, so the probe is
    always tested on personas it was not fitted on. Returns per-sample correctness (true pairs,
    then negatives), the group of each sample, and the protocol.
    """
    n = len(image)
    shuffled = derangement(n, rng)
    features = np.concatenate([image * text, image * text[shuffled]])
    labels = np.concatenate([np.ones(n), np.zeros(n)])
    labelled = [g if g is not None else f"row:{i}" for i, g in enumerate(groups)]
    sample_groups = np.array(labelled + labelled)
    n_folds = min(folds, len(set(labelled)))
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    predicted = cross_val_predict(
        probe, features, labels, groups=sample_groups, cv=GroupKFold(n_splits=n_folds)
    )
    protocol = {
        "features": "image_embedding * caption_embedding (normalised)",
        "negatives": "each image paired with the caption of a deranged row (no fixed point)",
        "classifier": "StandardScaler + LogisticRegression(C=1.0, max_iter=2000)",
        "cross_validation": f"GroupKFold({n_folds}) by identity, out-of-fold accuracy",
    }
    return (predicted == labels).astype(np.float64), sample_groups, protocol
