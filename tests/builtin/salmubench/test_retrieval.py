"""RetFail's ranking arithmetic on hand-built embeddings with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from harness.builtin.salmubench.retrieval import (
    distractor_counts,
    pair_scores,
    ranks_from,
    reciprocal_rank_and_hit,
    text_codes,
)


def gallery_ranks(
    image: torch.Tensor,
    true_text: torch.Tensor,
    distractors: torch.Tensor,
    true_codes: np.ndarray | None = None,
    codes: np.ndarray | None = None,
    identical: str = "keep",
    ties: str = "strict",
    chunk: int = 4096,
) -> np.ndarray:
    """Ranks in one gallery of ``distractors``, composed as RetFail composes them."""
    true = pair_scores(image, true_text, chunk)
    counts = distractor_counts(image, true, distractors, true_codes, codes, identical, ties, chunk)
    return ranks_from(ties, counts)


def unit(rows: list[list[float]]) -> torch.Tensor:
    return F.normalize(torch.tensor(rows, dtype=torch.float32), dim=1)


def test_perfect_retrieval_ranks_first() -> None:
    eye = torch.eye(4)
    distractors = unit([[0, 0, 0, 1]] * 3)
    # row 3 ties with all 3 distractors: 0, half or one place each, by the tie rule
    assert gallery_ranks(eye, eye, distractors).tolist() == [1.0, 1.0, 1.0, 1.0]
    half = gallery_ranks(eye, eye, distractors, ties="half")
    assert half.tolist() == [1.0, 1.0, 1.0, 2.5]
    assert gallery_ranks(eye, eye, distractors, ties="pessimistic").tolist() == [1, 1, 1, 4]
    rr, hit = reciprocal_rank_and_hit(half)
    assert rr[:3].tolist() == [1.0, 1.0, 1.0] and hit.tolist() == [1, 1, 1, 0]


def test_worst_case_ranks_last() -> None:
    image, text = unit([[1, 0]]), unit([[-1, 0]])
    distractors = unit([[1, 0], [1, 1], [0, 1]])
    for ties in ("strict", "half", "pessimistic"):
        assert gallery_ranks(image, text, distractors, ties=ties).tolist() == [4.0]


def test_ties_by_rule() -> None:
    image = unit([[1, 0]])
    same = unit([[1, 0]])
    assert gallery_ranks(image, same, same.repeat(4, 1), ties="strict").tolist() == [1.0]
    ranks = gallery_ranks(image, same, same.repeat(4, 1), ties="half")
    assert ranks.tolist() == [1 + 0.5 * 4]
    rr, hit = reciprocal_rank_and_hit(ranks)
    assert rr.tolist() == [1 / 3] and hit.tolist() == [0.0]
    assert gallery_ranks(image, same, same.repeat(4, 1), ties="pessimistic").tolist() == [5.0]


def test_identical_distractors_kept_as_ties_or_excluded() -> None:
    image, text = unit([[1, 0]]), unit([[0, 1]])
    # distractor 0 has the true caption's text but (as float noise would) scores higher
    distractors = unit([[1, 0], [1, 0.1], [-1, 0]])
    true_codes, distractor_codes = text_codes(["mine"], ["mine", "other", "third"])
    assert gallery_ranks(image, text, distractors).tolist() == [3.0]
    kept = gallery_ranks(image, text, distractors, true_codes, distractor_codes, "keep")
    assert kept.tolist() == [2.0]  # a tie: strict ranks do not count it
    pessimistic = gallery_ranks(
        image, text, distractors, true_codes, distractor_codes, "keep", "pessimistic"
    )
    assert pessimistic.tolist() == [3.0]  # the tie costs a place
    excluded = gallery_ranks(
        image, text, distractors, true_codes, distractor_codes, "exclude", "pessimistic"
    )
    assert excluded.tolist() == [2.0]  # left out: no place whatever the tie rule


def test_text_codes_are_shared_across_sequences() -> None:
    a, b = text_codes(["x", "y", "x"], ["y", "z"])
    assert a.tolist() == [0, 1, 0] and b.tolist() == [1, 2]


@pytest.mark.parametrize("ties", ["strict", "half"])
def test_random_embeddings_give_chance_level_mrr(ties: str) -> None:
    generator = torch.Generator().manual_seed(0)
    image = F.normalize(torch.randn(400, 64, generator=generator), dim=1)
    text = F.normalize(torch.randn(400, 64, generator=generator), dim=1)
    distractors = F.normalize(torch.randn(99, 64, generator=generator), dim=1)
    ranks = gallery_ranks(image, text, distractors, ties=ties, chunk=64)
    rr, _ = reciprocal_rank_and_hit(ranks)
    expected = np.mean(1 / np.arange(1, 101))  # uniform rank over 100 places
    assert abs(rr.mean() - expected) < 0.02


@pytest.mark.parametrize("ties", ["strict", "half", "pessimistic"])
@pytest.mark.parametrize("identical", ["keep", "exclude"])
def test_ranks_equal_a_row_by_row_count_with_repeated_texts(ties: str, identical: str) -> None:
    generator = torch.Generator().manual_seed(3)
    image = torch.nn.functional.normalize(torch.randn(50, 8, generator=generator), dim=1)
    text = torch.nn.functional.normalize(torch.randn(50, 8, generator=generator), dim=1)
    true_codes = torch.randint(0, 12, (50,), generator=generator).numpy()
    distractor_rows = torch.randint(0, 50, (30,), generator=generator).numpy()
    distractors = text[distractor_rows].clone()
    distractors[::3] = 2 * image[:10:1][: len(distractors[::3])]  # some score above every row
    distractor_codes = np.where(np.arange(30) % 3 == 0, 100, true_codes[distractor_rows])
    ranks = gallery_ranks(
        image,
        text,
        distractors,
        true_codes,
        distractor_codes,
        identical=identical,
        ties=ties,
        chunk=7,
    )
    weight = {"strict": 0.0, "half": 0.5, "pessimistic": 1.0}[ties]
    for i in range(50):
        true = float(image[i] @ text[i])
        expected = 1.0
        for j in range(30):
            score = float(image[i] @ distractors[j])
            if distractor_codes[j] == true_codes[i]:
                expected += weight if identical == "keep" else 0.0
            elif score > true:
                expected += 1
            elif score == true:
                expected += weight
        assert ranks[i] == pytest.approx(expected), i


@pytest.mark.parametrize("ties", ["strict", "half", "pessimistic"])
@pytest.mark.parametrize("identical", ["keep", "exclude"])
def test_counts_of_a_gallerys_blocks_add_up_to_its_ranks(ties: str, identical: str) -> None:
    """RetFail counts the retain half once for all its galleries: blocks must add up exactly."""
    generator = torch.Generator().manual_seed(5)
    image = F.normalize(torch.randn(40, 8, generator=generator), dim=1)
    text = F.normalize(torch.randn(40, 8, generator=generator), dim=1)
    true_codes = torch.randint(0, 10, (40,), generator=generator).numpy()
    rows = torch.randint(0, 40, (24,), generator=generator).numpy()
    distractors, codes = text[rows].clone(), true_codes[rows].copy()
    distractors[::4] = image[:6]  # ties and wins beside the same-text distractors
    codes[::4] = 100
    whole = gallery_ranks(image, text, distractors, true_codes, codes, identical, ties, chunk=9)
    true = pair_scores(image, text, chunk=9)
    blocks = [
        distractor_counts(image, true, distractors[a:b], true_codes, codes[a:b], identical, ties, 9)
        for a, b in ((0, 7), (7, 24))
    ]
    assert np.array_equal(ranks_from(ties, *blocks), whole)
    assert whole.max() > 1.0
