"""The association probe behind ACS: can a linear model tell true pairs from shuffled ones?

The protocol's ``acs`` section decides every choice: how negatives are made and drawn, the
train/test protocol, the features and the classifier. Two train/test protocols exist:

- ``stratified-half`` (official): N true and N shuffled pairs, one stratified 50/50 split
  (``train_test_split(..., stratify=labels, random_state=seed)``); the value is the test
  accuracy over N samples.
- ``group-kfold``: identity-grouped folds, negatives drawn *within* each fold, out-of-fold
  predictions for all 2N samples. No caption, image or persona of a test fold is ever seen
  while fitting, so a model with no signal reads 0.5 (a shuffled caption drawn from a training
  fold would let the probe learn "captions of other folds are negatives" and read below chance).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, PredefinedSplit, cross_val_predict, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler


def derangement(n: int, rng: Any) -> np.ndarray:
    """A permutation of ``range(n)`` with no fixed point (``n >= 2``); ``rng`` has
    ``permutation`` (a numpy ``Generator`` or ``RandomState``)."""
    if n < 2:
        raise ValueError("a derangement needs at least two items")
    order = np.asarray(rng.permutation(n))
    for i in np.flatnonzero(order == np.arange(n)):
        j = (i + 1) % n
        order[i], order[j] = order[j], order[i]
    return order


def shuffled(n: int, rng: Any, kind: str) -> np.ndarray:
    """The partner of each row in its negative pair: a permutation (fixed points possible, as
    ``numpy``'s ``permutation``) or a derangement."""
    return np.asarray(rng.permutation(n)) if kind == "permutation" else derangement(n, rng)


def pair_features(image: np.ndarray, text: np.ndarray, kind: str) -> np.ndarray:
    """The probe's input for pairs (row i of ``image`` with row i of ``text``)."""
    product = image * text
    if kind == "product":
        return product
    if kind == "cosine":
        return product.sum(axis=1, keepdims=True)
    if kind == "concat":
        return np.concatenate([image, text], axis=1)
    return np.concatenate([product, image, text], axis=1)


def classifier(choices: Mapping[str, Any]) -> Pipeline | LogisticRegression:
    """The probe: logistic regression, standardised first when the protocol says so."""
    probe = LogisticRegression(C=float(choices["C"]), max_iter=int(choices["max_iter"]))
    return make_pipeline(StandardScaler(), probe) if choices["standardize"] else probe


def probe_correctness(
    image: np.ndarray,
    text: np.ndarray,
    groups: Sequence[str | None],
    choices: Mapping[str, Any],
    rng: Any,
    split_seed: int,
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """Per-sample correctness of the probe on its test samples, each sample's identity, and
    what was done (recorded in the result)."""
    n = len(image)
    labelled = [g if g is not None else f"row:{i}" for i, g in enumerate(groups)]
    if choices["split"] == "group-kfold":
        folds = min(int(choices["folds"]), len(set(labelled)))
        fold_of = np.empty(n, dtype=np.int64)
        for fold, (_, rows) in enumerate(GroupKFold(n_splits=folds).split(image, groups=labelled)):
            fold_of[rows] = fold
        partner = np.arange(n)
        for fold in range(folds):
            rows = np.flatnonzero(fold_of == fold)
            partner[rows] = rows[shuffled(len(rows), rng, choices["negatives"])]
    else:
        partner = shuffled(n, rng, choices["negatives"])
    negatives = (
        (image, text[partner]) if choices["permute"] == "captions" else (image[partner], text)
    )
    features = np.concatenate(
        [
            pair_features(image, text, choices["features"]),
            pair_features(*negatives, choices["features"]),
        ]
    )
    labels = np.concatenate([np.ones(n), np.zeros(n)])
    sample_groups = labelled + labelled
    probe = classifier(choices)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if choices["split"] == "group-kfold":
            predicted = cross_val_predict(
                probe, features, labels, cv=PredefinedSplit(np.concatenate([fold_of, fold_of]))
            )
            tested = np.arange(2 * n)
            protocol = f"out-of-fold over GroupKFold({folds}) by identity, negatives within folds"
        else:
            train, tested = train_test_split(
                np.arange(2 * n), test_size=0.5, stratify=labels, random_state=split_seed
            )
            predicted = probe.fit(features[train], labels[train]).predict(features[tested])
            protocol = f"stratified 50/50 split (random_state={split_seed}), test accuracy"
    correct = (predicted == labels[tested]).astype(np.float64)
    details = {
        "choices": dict(choices),
        "protocol": protocol,
        "samples": int(2 * n),
        "tested": len(tested),
        "negatives_that_are_true_pairs": int((partner == np.arange(n)).sum()),
        "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught),
    }
    return correct, [sample_groups[i] for i in tested], details
