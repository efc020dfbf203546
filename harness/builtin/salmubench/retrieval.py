"""Ranking a true caption inside a gallery of distractors (the arithmetic of RetFail)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

#: places a tied distractor costs, per tie rule
TIE_WEIGHTS = {"strict": 0.0, "half": 0.5, "pessimistic": 1.0}


def text_codes(*texts: Sequence[str]) -> list[np.ndarray]:
    """One integer per text, equal for equal texts across every sequence given."""
    table: dict[str, int] = {}
    return [
        np.array([table.setdefault(t, len(table)) for t in seq], dtype=np.int64) for seq in texts
    ]


def gallery_ranks(
    image: torch.Tensor,
    true_text: torch.Tensor,
    distractors: torch.Tensor,
    true_codes: np.ndarray | None = None,
    distractor_codes: np.ndarray | None = None,
    identical: str = "keep",
    ties: str = "strict",
    chunk: int = 4096,
) -> np.ndarray:
    """The rank (1 = best) of each image's true caption among itself and the distractors.

    ``image`` and ``true_text`` are [N, D] normalised embeddings (row i is a pair), ``distractors``
    is [M, D]. With text codes (``text_codes``), a distractor whose text equals row i's
    caption is, by ``identical``, kept as an exact tie (``keep``: the same text has the same
    embedding, so it never scores higher, whatever the float rounding of the two products) or
    left out of row i's gallery (``exclude``). ``ties``: a distractor scoring exactly the true
    caption's similarity costs 0 (``strict``), half (``half``) or one (``pessimistic``) place.
    """
    weight = TIE_WEIGHTS[ties]
    ranks = np.empty(len(image), dtype=np.float64)
    codes = None
    if true_codes is not None and distractor_codes is not None:
        codes = torch.from_numpy(np.asarray(distractor_codes))[None, :]
    for start in range(0, len(image), chunk):
        stop = start + chunk
        imgs = image[start:stop]
        true = (imgs * true_text[start:stop]).sum(dim=1, keepdim=True)
        scores = imgs @ distractors.T
        greater = scores > true
        equal = scores == true
        if codes is not None and true_codes is not None:
            same = torch.from_numpy(np.asarray(true_codes[start:stop]))[:, None] == codes
            greater &= ~same
            equal = (equal | same) if identical == "keep" else (equal & ~same)
        ranks[start:stop] = (1 + greater.sum(1) + weight * equal.sum(1)).numpy()
    return ranks


def reciprocal_rank_and_hit(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row reciprocal rank and recall@1 (1 only when the rank is exactly 1)."""
    return 1.0 / ranks, (ranks == 1.0).astype(np.float64)
