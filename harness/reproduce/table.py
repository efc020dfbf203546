"""The reproduction table: each method's selected setting on the report identities, beside the
paper's numbers and failure modes, with whether the verdicts agree."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.errors import UnknownNameError
from harness.evaluation.scoring import normalised_score
from harness.plugins import Registry, load_plugins
from harness.reports.leaderboard import parameters_label
from harness.reproduce.spec import Reproduction
from harness.reproduce.verdicts import agreement, describe, majority_modes
from harness.sweeps import state
from harness.sweeps.selection import sweep_report


def reproduction_table(
    root: Path,
    reproduction: Reproduction,
    scale: str,
    rules: Mapping[str, float] | None = None,
    registry: Registry | None = None,
    objective: str | None = None,
) -> dict[str, Any]:
    """The table of the sweep in ``root`` (a sweep of ``reproduction`` at ``scale``).

    The paper's class of a method with public numbers is what the suite's diagnosis rules give
    on those numbers (with the default rules, exactly the modes the paper names), so that
    ``rules`` (threshold overrides) judge the paper's rows and ours alike; ``objective``
    selects with another objective than the sweep's."""
    registry = registry or load_plugins()
    chosen, board, split = sweep_report(root, registry, rules, objective)
    columns = {name: c["key"] for name, c in reproduction.data["columns"].items()}
    rows_by_method = {row.method: row for row in board.rows}
    selected = {c.method: c for c in chosen}
    sweep, trials = state.read_sweep(root)
    swept = {
        m: [k for k, v in s["parameters"].items() if isinstance(v, dict)]
        for m, s in sweep.methods.items()
    }
    statuses = state.statuses(root, trials)
    finished = [state.load_result(root, t) for t in trials if statuses[t.key] == "done"]
    known = (finished[0].get("diagnosis") or {}).get("rules", {})
    unknown = sorted(set(rules or {}) - set(known))
    if unknown:
        raise UnknownNameError("diagnosis rule", unknown[0], known)
    paper_class = _paper_classifier(reproduction, finished[0], registry, rules or {})
    rows = []
    for method, entry in reproduction.methods.items():
        row, choice = rows_by_method.get(method), selected.get(method)
        ours = (
            {
                name: (row.cells[key].mean if key in row.cells else None)
                for name, key in columns.items()
            }
            if row
            else None
        )
        modes = majority_modes(row.diagnosis, len(row.seeds)) if row else None
        paper_modes = paper_class(entry)
        rows.append(
            {
                "method": method,
                "paper_name": entry["paper_name"],
                "paper": entry["paper"],
                "paper_failure": paper_modes,
                "ours": ours,
                "our_failure": modes,
                "parameters": choice.parameters if choice else None,
                "selected": (
                    {k: v for k, v in choice.parameters.items() if k in swept[method]}
                    if choice and choice.parameters
                    else None
                ),
                "seeds": len(row.seeds) if row else 0,
                "agrees": agreement(modes, paper_modes) if modes is not None else None,
            }
        )
    counts = {v: sum(r["agrees"] == v for r in rows) for v in ("yes", "partly", "no")}
    findings = finished[0].get("diagnosis", {}).get("findings", [])
    span = datetime.fromisoformat(max(d["finished_at"] for d in finished)) - datetime.fromisoformat(
        min(d["started_at"] for d in finished)
    )
    seconds = [d["cost"]["wall_seconds"] for d in finished]
    return {
        "reproduction": reproduction.name,
        "title": reproduction.data.get("title", reproduction.name),
        "scale": scale,
        "sweep": sweep.name,
        "grid": {m: s["parameters"] for m, s in sweep.methods.items()},
        "seeds": sweep.seeds,
        "budget": sweep.budgets[0],
        "selection": {**sweep.selection, **split},
        "references": {
            role: {
                "paper": reproduction.data["references"][role],
                "ours": {name: board.references[role].get(key) for name, key in columns.items()},
            }
            for role in ("clean", "compromised")
        },
        "rules": dict(rules or {}),
        "columns": reproduction.data["columns"],
        "mode_labels": {f["mode"]: f["label"] for f in findings},
        "rows": rows,
        "agreement": counts,
        "trial_seconds": {
            "total": round(sum(seconds), 1),
            "mean": round(statistics.fmean(seconds), 1),
            "trials": len(seconds),
            "first_start_to_last_finish": round(span.total_seconds(), 1),
        },
    }


def _paper_classifier(
    reproduction: Reproduction,
    document: dict[str, Any],
    registry: Registry,
    rules: Mapping[str, float],
) -> Callable[[dict[str, Any]], list[str]]:
    """A function from a method's reproduction entry to the paper's class under ``rules``."""
    suite = registry.suites.get((document.get("suite") or {}).get("name", ""))
    diagnose = suite[0].diagnose if suite else None
    given = {**(document.get("diagnosis") or {}).get("rules", {}), **rules}
    references = reproduction.data["references"]

    def classify(entry: dict[str, Any]) -> list[str]:
        if entry["paper"] is None or diagnose is None:
            return sorted(entry["failure"])
        metrics = {}
        for name, column in reproduction.data["columns"].items():
            template = document["metrics"][column["key"]]
            clean, compromised = references["clean"][name], references["compromised"][name]
            value = entry["paper"][name]
            metrics[column["key"]] = {
                "name": template["name"],
                "status": "ok",
                "value": value,
                "references": {
                    "clean": {"status": "ok", "value": clean},
                    "compromised": {"status": "ok", "value": compromised},
                },
                "normalized": normalised_score(template["target"], value, clean, compromised),
            }
        return sorted(diagnose(metrics, given)["modes"])

    return classify


def render_markdown(table: dict[str, Any]) -> str:
    """The table as Markdown: references, then one row per method."""
    from tabulate import tabulate

    columns, labels = table["columns"], table["mode_labels"]

    def values(found: dict[str, Any] | None) -> str:
        if not found:
            return "—"
        return " / ".join("—" if found[k] is None else f"{found[k]:.3f}" for k in columns)

    body = [
        [f"**{role.capitalize()}**", values(ref["paper"]), "", values(ref["ours"]), "", "", ""]
        for role, ref in table["references"].items()
    ]
    for row in table["rows"]:
        body.append(
            [
                f"{row['paper_name']} (`{row['method']}`)",
                values(row["paper"]),
                describe(row["paper_failure"], labels),
                values(row["ours"]),
                "—" if row["our_failure"] is None else describe(row["our_failure"], labels),
                "—" if row["selected"] is None else parameters_label(row["selected"]),
                row["agrees"] or "—",
            ]
        )
    metrics = " / ".join(c["header"] for c in columns.values())
    headers = [
        "method",
        f"paper: {metrics}",
        "paper's failure",
        f"ours: {metrics}",
        "our diagnosis",
        "selected",
        "agrees?",
    ]
    counts = table["agreement"]
    return (
        tabulate(body, headers, tablefmt="github", disable_numparse=True)
        + f"\n\nagrees: {counts['yes']} yes, {counts['partly']} partly, {counts['no']} no "
        f"(of {len(table['rows'])} methods; settings selected by objective "
        f"`{table['selection']['objective']}`)\n"
    )
