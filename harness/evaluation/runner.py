"""Running metrics on one model's context, and turning outcomes into result records."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from harness.evaluation.context import EvaluationContext
from harness.evaluation.settings import EvaluationSettings
from harness.evaluation.statistics import bootstrap_ci, per_group_means
from harness.metric import Metric, MetricOutcome, SkipMetric
from harness.tracking.events import report_stage


def evaluate_metrics(
    context: EvaluationContext, metrics: Sequence[Metric]
) -> dict[str, dict[str, Any]]:
    """Each metric's record for this model: values and CIs, or why it was skipped or failed."""
    records: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        clock = time.perf_counter()
        try:
            outcome = metric.compute(context)
            records[metric.key] = outcome_record(metric, outcome, context.settings)
        except SkipMetric as skip:
            records[metric.key] = {"status": "skipped", "reason": skip.reason}
        except Exception as exc:  # a metric's bug is reported, not fatal to the others
            records[metric.key] = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        report_stage(
            "metric",
            model=context.role,
            key=metric.key,
            status=records[metric.key]["status"],
            value=records[metric.key].get("value"),
            seconds=round(time.perf_counter() - clock, 3),
        )
    return records


def outcome_record(
    metric: Metric, outcome: MetricOutcome, settings: EvaluationSettings
) -> dict[str, Any]:
    """The JSON record of an outcome, with bootstrap CIs for values that have per-row data."""
    numbers = {"value": outcome.value, **outcome.values}
    bad = [name for name, v in numbers.items() if not _finite(v)]
    if bad:
        return {
            "status": "failed",
            "error": f"{metric.key} computed a non-finite {bad[0]} ({numbers[bad[0]]!r}): "
            "the model's embeddings are probably NaN or infinite",
        }
    outside = [name for name, v in numbers.items() if metric.out_of_bounds(v)]
    if outside:
        return {
            "status": "failed",
            "error": f"{metric.key} computed {outside[0]} = {numbers[outside[0]]!r}, outside "
            f"its declared bounds {list(metric.bounds or ())}: a bug in the metric",
        }
    record: dict[str, Any] = {
        "status": "ok",
        "value": float(outcome.value),
        "values": {k: float(v) for k, v in outcome.values.items()},
        "details": outcome.details,
    }
    if outcome.per_row or outcome.intervals:
        record["ci"] = {
            name: list(
                bootstrap_ci(rows, outcome.groups, settings.bootstrap, f"{metric.key}/{name}")
            )
            for name, rows in outcome.per_row.items()
        }
        record["ci"].update({name: list(ci) for name, ci in outcome.intervals.items()})
    if outcome.per_row:
        headline = outcome.per_row.get("value")
        if headline is not None and outcome.groups is not None:
            record["per_identity"] = {
                k: round(v, 6) for k, v in per_group_means(list(headline), outcome.groups).items()
            }
        if settings.keep_per_row:
            record["per_row"] = {
                name: [round(float(x), 6) for x in rows] for name, rows in outcome.per_row.items()
            }
    return record


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
