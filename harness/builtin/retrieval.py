"""Ranking a true caption inside a gallery of distractors (the arithmetic of RetFail)."""

from __future__ import annotations

import numpy as np
import torch


def gallery_ranks(
    image: torch.Tensor,
    true_text: torch.Tensor,
    distractors: torch.Tensor,
    excluded: torch.Tensor | None = None,
    chunk: int = 4096,
) -> np.ndarray:
    """The rank (1 = best) of each image's true caption among itself and the distractors.

    ``image`` and ``true_text`` are [N, D] normalised embeddings (row i is a pair), ``distractors``
    is [M, D]. ``excluded`` [N, M] marks distractors left out of row i's gallery (e.g. captions
    identical to the true one). Ties share the average rank: a distractor scoring exactly the
    true caption's similarity counts half a place, so a collapsed model that scores everything
    alike ranks mid-gallery rather than first or last.
    """
    ranks = np.empty(len(image), dtype=np.float64)
    for start in range(0, len(image), chunk):
        stop = start + chunk
        imgs = image[start:stop]
        true = (imgs * true_text[start:stop]).sum(dim=1, keepdim=True)
        scores = imgs @ distractors.T
        greater = scores > true
        equal = scores == true
        if excluded is not None:
            keep = ~excluded[start:stop]
            greater &= keep
            equal &= keep
        ranks[start:stop] = (1 + greater.sum(1) + 0.5 * equal.sum(1)).numpy()
    return ranks


def reciprocal_rank_and_hit(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row reciprocal rank and recall@1 (1 only when the true caption is strictly first)."""
    return 1.0 / ranks, (ranks == 1.0).astype(np.float64)
