"""The budget rule: every method gets the same forget passes; retain reads are counted beside."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from harness import training
from harness.errors import BudgetExceededError
from harness.reports.result_text import budget_line
from harness.run.budget import RETAIN_PER_FORGET, Budget, rule_of


def test_each_split_has_its_own_limit() -> None:
    budget = Budget(2.0, 100)
    assert budget.limit == 200 and budget.retain_limit == RETAIN_PER_FORGET * 200
    budget.charge("retain", 1000)  # retain reads leave the forget passes untouched
    assert budget.remaining == 200 and budget.remaining_of("retain") == 600
    budget.charge("forget", 150)
    assert budget.forget_passes == 1.5
    assert budget.allows(50) and not budget.allows(51)
    with pytest.raises(BudgetExceededError, match="at most 200 forget samples"):
        budget.charge("forget", 51)
    assert budget.reads["forget"] == 150  # a refused read is not counted


def test_the_result_section_names_the_rule_and_the_passes() -> None:
    budget = Budget(5.0, 10)
    budget.charge("forget", 30)
    budget.charge("retain", 240)
    section = budget.to_json()
    assert section["rule"] == "forget-passes" and section["forget_passes"] == 3.0
    assert section["limit_samples"] == 50 and section["retain_limit_samples"] == 400
    assert section["used_samples"] == 270
    assert budget_line(section).startswith("budget 5x: 3.00 forget passes")
    assert rule_of(section) == "forget-passes" and rule_of(None) is None
    old = {k: v for k, v in section.items() if k != "rule"}
    assert rule_of(old) == "samples" and "(samples rule)" in budget_line(old)
    retain_only = {**section, "samples_read": {"retain": 50}, "forget_passes": 0.0}
    assert "samples read: 50 retain (no forget data)" in budget_line(retain_only)


class _Split:
    """A split view of ``rows`` rows whose batches are charged as SplitView charges them."""

    def __init__(self, name: str, rows: int, budget: Budget) -> None:
        self.name, self.rows, self.budget = name, rows, budget

    def batches(self, size: int, rng: np.random.Generator) -> Iterator[SimpleNamespace]:
        while True:
            for _ in range(self.rows // size):
                if not self.budget.allows(size, self.name):
                    return
                self.budget.charge(self.name, size)
                yield SimpleNamespace(images=torch.ones(size, 2), tokens=torch.ones(size, 2))


class _Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(2, 2))
        self.logit_scale = torch.nn.Parameter(torch.zeros(()))


def _loop(forget: bool, retain: bool, retain_batch: int | None = None) -> Budget:
    budget = Budget(3.0, 64)
    ctx = SimpleNamespace(
        model=_Model(),
        budget=budget,
        forget=_Split("forget", 64, budget),
        retain=_Split("retain", 500, budget),
        device=torch.device("cpu"),
        precision="fp32",
        compile=False,
        rng=lambda purpose: np.random.default_rng(0),
        progress=lambda total, desc: SimpleNamespace(
            set_postfix=lambda **k: None, update=lambda n: None, close=lambda: None
        ),
        step=lambda loss=None: None,
    )
    params = {"lr": 1e-3, "weight_decay": 0.0, "batch_size": 16, "max_grad_norm": 1.0}
    training.train_within_budget(
        ctx,  # type: ignore[arg-type]
        params,
        lambda m, f, r: (m.weight**2).sum(),
        forget=forget,
        retain=retain,
        retain_batch_size=retain_batch,
    )
    return budget


def test_retain_reading_methods_make_as_many_forget_passes_as_forget_only_ones() -> None:
    alone, beside = _loop(True, False), _loop(True, True)
    assert alone.forget_passes == beside.forget_passes == 3.0
    assert beside.reads["retain"] == beside.reads["forget"] == 192
    wide = _loop(True, True, retain_batch=16 * RETAIN_PER_FORGET)  # the fork's 16 + 128
    assert wide.forget_passes == 3.0 and wide.reads["retain"] == 192 * RETAIN_PER_FORGET


def test_a_retain_only_method_reads_as_many_retain_samples_as_the_budget_has_forget() -> None:
    budget = _loop(False, True)
    assert dict(budget.reads) == {"retain": 192}
