"""RetFail's ranking arithmetic on hand-built embeddings with known answers."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from harness.builtin.retrieval import gallery_ranks, reciprocal_rank_and_hit


def unit(rows: list[list[float]]) -> torch.Tensor:
    return F.normalize(torch.tensor(rows, dtype=torch.float32), dim=1)


def test_perfect_retrieval_ranks_first() -> None:
    eye = torch.eye(4)
    ranks = gallery_ranks(eye, eye, unit([[0, 0, 0, 1]] * 3))
    rr, hit = reciprocal_rank_and_hit(ranks)
    assert ranks.tolist() == [1.0, 1.0, 1.0, 2.5]  # row 3 ties with all 3 distractors
    assert rr[:3].tolist() == [1.0, 1.0, 1.0] and hit.tolist() == [1, 1, 1, 0]


def test_worst_case_ranks_last() -> None:
    image, text = unit([[1, 0]]), unit([[-1, 0]])
    distractors = unit([[1, 0], [1, 1], [0, 1]])
    assert gallery_ranks(image, text, distractors).tolist() == [4.0]


def test_ties_share_the_average_rank() -> None:
    image = unit([[1, 0]])
    same = unit([[1, 0]])
    ranks = gallery_ranks(image, same, same.repeat(4, 1))
    assert ranks.tolist() == [1 + 0.5 * 4]
    rr, hit = reciprocal_rank_and_hit(ranks)
    assert rr.tolist() == [1 / 3] and hit.tolist() == [0.0]


def test_excluded_distractors_do_not_count() -> None:
    image, text = unit([[1, 0]]), unit([[0, 1]])
    distractors = unit([[1, 0], [1, 0.1], [-1, 0]])
    excluded = torch.tensor([[True, False, False]])
    assert gallery_ranks(image, text, distractors).tolist() == [3.0]
    assert gallery_ranks(image, text, distractors, excluded).tolist() == [2.0]


def test_random_embeddings_give_chance_level_mrr() -> None:
    generator = torch.Generator().manual_seed(0)
    image = F.normalize(torch.randn(400, 64, generator=generator), dim=1)
    text = F.normalize(torch.randn(400, 64, generator=generator), dim=1)
    distractors = F.normalize(torch.randn(99, 64, generator=generator), dim=1)
    rr, _ = reciprocal_rank_and_hit(gallery_ranks(image, text, distractors, chunk=64))
    expected = np.mean(1 / np.arange(1, 101))  # uniform rank over 100 places
    assert abs(rr.mean() - expected) < 0.02
