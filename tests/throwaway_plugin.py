"""A throwaway plugin: a method that reads one forget batch (and misbehaves on request), a
metric and a benchmark. Installed as a distribution by the plugin-package tests, and imported
in-process by the conformance tests."""

import os
import time
from pathlib import Path

import torch

import harness

MISBEHAVIOURS = ["none", "overrun", "holdout", "tamper", "random", "nan"]


def unlearn(ctx, params):
    ctx.logger.info("throwaway reads %d forget rows", params["rows"])
    ctx.forget.rows(range(params["rows"]))
    ctx.step()
    marker = os.environ.get("THROWAWAY_MARKER")
    if marker:
        Path(marker).write_text("started")
        time.sleep(params["sleep"])
    misbehave = params["misbehave"]
    if misbehave == "overrun":  # reads the whole forget split until the budget refuses
        while True:
            ctx.forget.rows(range(len(ctx.forget)))
    if misbehave == "holdout":
        holdout = harness.load_benchmark("mini", {"scale": "test"}).split("holdout_identity")
        ctx.logger.info("read %d holdout captions", len(holdout.texts))
    if misbehave == "tamper":  # writes into the Compromised checkpoint (one mantissa bit)
        path = Path(os.environ["THROWAWAY_COMPROMISED"])
        data = bytearray(path.read_bytes())
        data[-4] ^= 1
        path.write_bytes(bytes(data))
    with torch.no_grad():
        first = next(p for p in ctx.model.parameters() if p.dim() == 2)
        if params["nudge"]:  # a deterministic change: noise from the run's own generator
            noise = ctx.rng("nudge").standard_normal(tuple(first.shape)).astype("float32")
            first.add_(params["nudge"] * torch.from_numpy(noise))
        if misbehave == "random":  # noise from an unseeded generator: differs between runs
            unseeded = torch.Generator().manual_seed(time.time_ns() % 2**31)
            first.add_(1e-3 * torch.rand(first.shape, generator=unseeded))
        if misbehave == "nan":
            first.fill_(float("nan"))
    return ctx.model


def forget_similarity(ctx):
    sims = ctx.embeddings("forget").pair_similarities()
    return harness.MetricOutcome(value=float(sims.max()), details={"what": "max similarity"})


@harness.hookimpl
def register_methods(register):
    register(
        harness.Method(
            name="throwaway",
            description="Reads a few rows; nudges one weight matrix, or misbehaves on request.",
            version="0.0.1",
            unlearn=unlearn,
            parameters=harness.training.training_free_schema(
                rows={"type": "integer", "minimum": 1, "default": 4},
                sleep={"type": "number", "minimum": 0, "default": 0},
                nudge={"type": "number", "minimum": 0, "default": 0},
                misbehave={"enum": MISBEHAVIOURS, "default": "none"},
            ),
        )
    )


@harness.hookimpl
def register_metrics(register):
    register(
        harness.Metric(
            key="throwaway.max-sim",
            name="MaxSim",
            description="Largest forget pair similarity.",
            splits=("forget",),
            direction="lower",
            target="clean",
            version="1",
            compute=forget_similarity,
            group="efficacy",
            bounds=(-1.0, 1.0),
        )
    )
    if os.environ.get("THROWAWAY_BAD_METRICS"):  # metrics that fail, on request
        for key, compute in BAD_METRICS.items():
            register(
                harness.Metric(
                    key=key,
                    name=key,
                    description="Fails on purpose.",
                    splits=("forget",),
                    direction="lower",
                    target="clean",
                    version="1",
                    compute=compute,
                    bounds=(0.0, 1.0),
                )
            )


def _raises(ctx):
    raise RuntimeError("this metric is broken on purpose")


def _not_a_number(ctx):
    return harness.MetricOutcome(value=float("nan"))


def _out_of_bounds(ctx):
    return harness.MetricOutcome(value=2.0)


BAD_METRICS = {"bad.raises": _raises, "bad.nan": _not_a_number, "bad.bounds": _out_of_bounds}


def load_copy(options):
    import dataclasses

    benchmark = harness.load_benchmark(options["root"])
    return dataclasses.replace(benchmark, name="tiny-copy")


@harness.hookimpl
def register_benchmarks(register):
    register(
        harness.BenchmarkLoader(
            name="tiny-copy",
            description="A benchmark folder under another name.",
            load=load_copy,
            options={"root": "the benchmark folder to copy"},
        )
    )
