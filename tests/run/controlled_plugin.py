"""A controlled method and metric for schedule tests: what the method forgets is exact.

``controlled`` forgets exactly the personas of the requests it was shown (or, with
``wipe=true``, every forget persona), and nothing else. It marks the model it returns by its
``logit_scale``, and remembers which personas each mark forgot. ``t.1 Remembered`` reads the
mark: 1 for a row whose persona is remembered, 0 for a forgotten one, plus a small
per-persona offset so that personas differ. Clean forgets every forget persona, Compromised
none. ``t.2 Kept`` is a utility that the wiping method lowers.
"""

from __future__ import annotations

import os

import numpy as np
import torch

import harness
from harness.builtin.salmubench.schedule_diagnosis import SCHEDULE_RULES, diagnose_schedule
from harness.run.kernel import model_args
from harness.run.models import load_clip

#: logit_scale mark -> the personas the marked model forgot
FORGOTTEN: dict[float, frozenset[str]] = {}
#: logit_scale mark -> how many requests the marked model has served
SERVED: dict[float, int] = {}
#: set to N: the method is interrupted (Ctrl-C) when asked for its N-th request
INTERRUPT_ENV = "CONTROLLED_INTERRUPT_ROUND"


def _mark(model: torch.nn.Module) -> float:
    return round(float(model.logit_scale.detach()), 5)


def _references(benchmark: harness.Benchmark) -> dict[float, frozenset[str]]:
    every = frozenset(benchmark.split("forget").identities)
    return {
        _mark(load_clip(*model_args(benchmark, "clean")).model): every,
        _mark(load_clip(*model_args(benchmark, "compromised")).model): frozenset(),
    }


def unlearn(ctx: harness.RunContext, params: dict) -> torch.nn.Module:
    start = _mark(ctx.model)
    served = SERVED.get(start, 0) + 1
    if os.environ.get(INTERRUPT_ENV) == str(served):
        raise KeyboardInterrupt
    shown = frozenset(i for i in ctx.forget.identity_ids if i is not None)
    before = FORGOTTEN.get(start, frozenset())
    forgotten = frozenset(params["everyone"]) if params["wipe"] else before | shown
    with torch.no_grad():
        ctx.model.logit_scale.fill_(1.0 + 0.01 * (len(FORGOTTEN) + 1))
    mark = _mark(ctx.model)
    FORGOTTEN[mark], SERVED[mark] = forgotten, served
    return ctx.model


def remembered(ctx: harness.EvaluationContext) -> harness.MetricOutcome:
    known = {**_references(ctx.benchmark), **FORGOTTEN}
    forgotten = known[_mark(ctx.model)]
    identities = ctx.benchmark.split("forget").identity_ids
    rows = np.array(
        [(0.0 if i in forgotten else 1.0) + int(i) % 7 / 100 for i in identities], dtype=float
    )
    return harness.MetricOutcome(
        value=float(rows.mean()), per_row={"value": rows}, groups=identities
    )


def kept(ctx: harness.EvaluationContext) -> harness.MetricOutcome:
    forgotten = {**_references(ctx.benchmark), **FORGOTTEN}[_mark(ctx.model)]
    return harness.MetricOutcome(value=1.0 - 0.02 * len(forgotten))


@harness.hookimpl
def register_methods(register):
    register(
        harness.Method(
            name="controlled",
            description="Forgets exactly what it is shown (or every persona, with wipe).",
            version="1",
            unlearn=unlearn,
            parameters=harness.training.training_free_schema(
                wipe={"type": "boolean", "default": False},
                everyone={"type": "array", "items": {"type": "string"}, "default": []},
            ),
        )
    )


@harness.hookimpl
def register_metrics(register):
    common = {"splits": ("forget",), "version": "1", "bounds": (0.0, 2.0)}
    register(
        harness.Metric(
            key="t.1",
            name="Remembered",
            description="1 per remembered forget row.",
            direction="lower",
            target="clean",
            compute=remembered,
            group="efficacy",
            **common,
        )
    )
    register(
        harness.Metric(
            key="t.2",
            name="Kept",
            description="A utility the wiping method lowers.",
            direction="higher",
            target="compromised",
            compute=kept,
            group="utility",
            **common,
        )
    )


@harness.hookimpl
def register_suites(register):
    register(
        harness.MetricSuite(
            name="controlled",
            description="The controlled metrics, with the schedule diagnosis.",
            forgetting="t.1",
            utility="t.2",
            per_identity="t.1",
            schedule_rules=SCHEDULE_RULES,
            diagnose_schedule=diagnose_schedule,
        )
    )
