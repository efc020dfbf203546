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


def pair_scores(image: torch.Tensor, true_text: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """[N, 1]: each image's similarity with its own caption."""
    return torch.cat(
        [
            (image[i : i + chunk] * true_text[i : i + chunk]).sum(dim=1, keepdim=True)
            for i in range(0, len(image), chunk)
        ]
    )


def distractor_counts(
    image: torch.Tensor,
    true: torch.Tensor,
    distractors: torch.Tensor,
    true_codes: np.ndarray | None = None,
    distractor_codes: np.ndarray | None = None,
    identical: str = "keep",
    ties: str = "strict",
    chunk: int = 4096,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image: how many of ``distractors`` score above its caption (``true``, from
    ``pair_scores``) and how many tie with it; ``ranks_from`` turns them into ranks.

    ``image`` is [N, D] normalised embeddings, ``true`` [N, 1], ``distractors`` [M, D]. With text
    codes (``text_codes``), a distractor whose text equals row i's caption is, by
    ``identical``, kept as an exact tie (``keep``: the same text has the same embedding, so it
    never scores higher, whatever the float rounding of the two products) or left out of row
    i's gallery (``exclude``). ``ties``: a distractor scoring exactly the true caption's
    similarity costs 0 (``strict``), half (``half``) or one (``pessimistic``) place.

    Counts add up over disjoint blocks of a gallery, so a block that several galleries share
    (RetFail's retain distractors) is counted once.
    """
    weighted = TIE_WEIGHTS[ties] != 0.0
    greater = torch.zeros(len(image), dtype=torch.long)
    equal = torch.zeros(len(image), dtype=torch.long)
    rows, cols = (
        same_text_pairs(np.asarray(true_codes), np.asarray(distractor_codes))
        if true_codes is not None and distractor_codes is not None
        else (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    )
    for start in range(0, len(image), chunk):
        stop = start + chunk
        own = true[start:stop]
        scores = image[start:stop] @ distractors.T
        greater[start:stop] = (scores > own).sum(1)
        if weighted:
            equal[start:stop] = (scores == own).sum(1)
        # distractors with row i's own text: never above it; a tie ("keep") or absent
        lo, hi = np.searchsorted(rows, [start, stop])
        if hi > lo:
            local = torch.from_numpy(rows[lo:hi] - start)
            paired = scores[local, torch.from_numpy(cols[lo:hi])]
            greater[start:stop].index_add_(0, local, -(paired > own[local, 0]).long())
            if weighted:
                tied = (paired == own[local, 0]).long()
                change = (1 - tied) if identical == "keep" else -tied
                equal[start:stop].index_add_(0, local, change)
    return greater, equal


def ranks_from(ties: str, *counts: tuple[torch.Tensor, torch.Tensor]) -> np.ndarray:
    """The rank (1 = best) of each image's true caption, from the ``distractor_counts`` of
    its gallery's blocks."""
    greater = torch.stack([g for g, _ in counts]).sum(0)
    equal = torch.stack([e for _, e in counts]).sum(0)
    return (1 + greater + TIE_WEIGHTS[ties] * equal).numpy().astype(np.float64)


def same_text_pairs(
    true_codes: np.ndarray, distractor_codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every (row, distractor) whose text codes are equal, sorted by row."""
    order = np.argsort(distractor_codes, kind="stable")
    sorted_codes = distractor_codes[order]
    lo = np.searchsorted(sorted_codes, true_codes, side="left")
    hi = np.searchsorted(sorted_codes, true_codes, side="right")
    counts = hi - lo
    rows = np.repeat(np.arange(len(true_codes)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, order[np.repeat(lo, counts) + offsets]


def reciprocal_rank_and_hit(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row reciprocal rank and recall@1 (1 only when the rank is exactly 1)."""
    return 1.0 / ranks, (ranks == 1.0).astype(np.float64)
