"""Rendering a result document as a table: each metric beside its Clean and Compromised values."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from harness.protocol import recorded_identity

HEADERS = ("key", "metric", "better", "value", "95% CI", "Clean", "Compromised", "score")


def _number(entry: dict[str, Any]) -> str:
    status = entry.get("status")
    if status == "ok":
        return f"{entry['value']:.4f}"
    return "skipped" if status == "skipped" else "FAILED"


def metrics_rows(document: dict[str, Any]) -> list[list[str]]:
    """One row per metric, in key order."""
    rows = []
    for key, metric in document["metrics"].items():
        ci = metric.get("ci", {}).get("value")
        normalized = metric.get("normalized", {})
        score = normalized.get("score")
        label = "gap closed" if normalized.get("formula") == "gap_closed" else "retained"
        rows.append(
            [
                key,
                metric["name"],
                f"{metric['direction']} (→{metric['target']})",
                _number(metric),
                f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "",
                _number(metric["references"]["clean"]),
                _number(metric["references"]["compromised"]),
                f"{score:.0%} {label}" if score is not None else "",
            ]
        )
    return rows


def render(document: dict[str, Any], table_format: str = "simple") -> str:
    """The result as text: a header line, the metrics table, then notes on skips and failures."""
    method = document.get("method")
    title = (
        f"{method['name']} {method['version']}"
        if method
        else f"evaluation of {document['models']['evaluated']['id']}"
    )
    protocol = recorded_identity(document["evaluation"])
    lines = [
        f"{title} on {document['benchmark']['name']} ({document['benchmark']['revision']}), "
        f"protocol {protocol['name']} v{protocol['version']}  status: {document['status']}"
    ]
    if document["status"] == "failed":
        lines.append(f"error: {document['error']['message']}")
        return "\n".join(lines)
    lines.append(
        tabulate(
            metrics_rows(document), headers=HEADERS, tablefmt=table_format, disable_numparse=True
        )
    )
    for key, metric in document["metrics"].items():
        if metric.get("status") == "skipped":
            lines.append(f"{key} {metric['name']} skipped: {metric['reason']}")
        elif metric.get("status") == "failed":
            lines.append(f"{key} {metric['name']} FAILED: {metric['error']}")
    lines.extend(diagnosis_lines(document.get("diagnosis")))
    if document.get("schedule"):
        lines.extend(schedule_lines(document["schedule"], table_format))
    lines.extend(f"warning: {w['code']}: {w['message']}" for w in document.get("warnings", []))
    isolation = document["evaluation"].get("retain_isolation")
    if isolation and isolation["status"] != "guaranteed":
        lines.append(f"warning: retain isolation {isolation['status']}: {isolation['reason']}")
    budget = document.get("budget")
    rounds = (document.get("schedule") or {}).get("round_results")
    if budget and rounds:  # a schedule's: the budget of each request, the steps of them all
        steps = document["cost"].get("optimizer_steps")
        lines.append(f"last round's {budget_line(budget)}")
        if steps is not None:
            lines.append(f"all {len(rounds)} rounds: {steps} optimizer steps")
    elif budget:
        lines.append(budget_line(budget))
    if document["cost"].get("wall_seconds") is not None:
        lines.append(f"wall time {document['cost']['wall_seconds']:.1f} s")
    return "\n".join(lines)


ROUND_HEADERS = ("round", "personas", "requested", "earlier", "not yet", "utility")


def schedule_lines(section: dict[str, Any], table_format: str = "simple") -> list[str]:
    """A schedule's rounds: the forgetting metric's gap closed per persona group, the utility
    metric's value, and the schedule diagnosis; a round's result: its request."""
    if "round" in section:
        return [
            f"schedule {section['name']}: round {section['round']} of {section['of']}, "
            f"{len(section['request'])} personas requested (seed {section['seed']})"
        ]
    summary = section["summary"]
    sizes = [len(r) for r in section["requests"]]
    lines = [
        f"schedule {section['name']} (seed {section['seed']}): {len(sizes)} request(s) of "
        f"{', '.join(map(str, sizes))} personas; {summary['forgetting']} gap closed per "
        f"persona group after each round, {summary['utility']} value:"
    ]
    rows = [
        [
            r["round"],
            sizes[r["round"] - 1],
            *(_share(r[g]) for g in ("requested", "earlier", "not_yet")),
            "" if r["utility"] is None else f"{r['utility']:.4f}",
        ]
        for r in summary["rounds"]
    ]
    lines.append(
        tabulate(rows, headers=ROUND_HEADERS, tablefmt=table_format, disable_numparse=True)
    )
    diagnosis = section.get("diagnosis")
    if diagnosis:
        lines.extend(
            line.replace("diagnosis:", "schedule diagnosis:", 1)
            for line in diagnosis_lines(diagnosis)
        )
    return lines


def _share(score: float | None) -> str:
    return "" if score is None else f"{score:.0%}"


def diagnosis_lines(diagnosis: dict[str, Any] | None) -> list[str]:
    """The failure modes shown (with the rule that fired) and the worst-case identities."""
    if not diagnosis:
        return []
    lines = []
    for finding in diagnosis["findings"]:
        label = finding.get("label") or finding["mode"].replace("_", " ")
        if finding["shown"] is None:
            lines.append(f"diagnosis: {label} not assessed ({finding.get('reason', '')})")
        elif finding["shown"]:
            lines.append(f"diagnosis: {label.upper()} ({finding['rule']})")
    if not diagnosis["modes"] and all(f["shown"] is False for f in diagnosis["findings"]):
        lines.append(f"diagnosis: none of the {len(diagnosis['findings'])} failure modes")
    identities = diagnosis.get("identities")
    if identities and identities["most_retrievable"]:
        worst = ", ".join(
            f"{w['identity']} ({w.get('value', w.get('mrr')):.3f})"  # older results: "mrr"
            for w in identities["most_retrievable"][:3]
        )
        dist = identities["distribution"]
        metric = identities.get("metric", "value")
        lines.append(
            f"per-identity {metric}: median {dist['median']:.3f}, "
            f"p90 {dist['p90']:.3f}; most retrievable: {worst}"
        )
    return lines


def budget_line(budget: dict[str, Any]) -> str:
    """The budget as read: forget passes and samples per split (rule ``forget-passes``), or the
    shared sample count of a result written under the older ``samples`` rule."""
    steps = f"{budget['optimizer_steps']} optimizer steps"
    if budget.get("rule", "samples") == "samples":
        return (
            f"budget {budget['multiple']:g}x (samples rule): {budget['used_samples']}/"
            f"{budget['limit_samples']} samples, {steps}"
        )
    reads = ", ".join(f"{n} {split}" for split, n in budget["samples_read"].items()) or "nothing"
    if not budget["samples_read"].get("forget"):
        return f"budget {budget['multiple']:g}x: samples read: {reads} (no forget data), {steps}"
    return (
        f"budget {budget['multiple']:g}x: {budget['forget_passes']:.2f} forget passes "
        f"(samples read: {reads}), {steps}"
    )
