"""The model card written beside an unlearned model: a Hugging Face Hub ``README.md`` that says
what the weights are, how they were made and measured, and the conditions of their use.

Everything in it comes from the run's result document, so the card's numbers are the result's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tabulate import tabulate

from harness.storage import write_text_atomic

CARD_FILE = "README.md"
USE_CONDITIONS = (
    "These weights derive from the benchmark's Compromised model, which was trained on purpose "
    "to memorise fictitious personas' sensitive attributes (phone numbers, IBANs, addresses). "
    "They are for research on machine unlearning only: do not deploy them, do not use them to "
    "extract or infer personal data, and keep the benchmark's own licence and terms of use, "
    "which apply to the Compromised model and to everything derived from it."
)


def model_card(document: dict[str, Any]) -> str:
    """The card's Markdown (with Hub metadata front matter) for a ``run`` result."""
    method, models = document["method"], document["models"]
    base, benchmark = models["compromised"], document["benchmark"]
    protocol = document["evaluation"]["protocol"]
    budget = document.get("budget") or {}
    lines = [
        "---",
        "library_name: open_clip",
        "tags: [clip, machine-unlearning, salmubench, salmu-harness]",
        f"base_model: {base['id']}",
        "---",
        "",
        f"# {method['name']} unlearning of {base['id']}",
        "",
        f"CLIP weights produced by the unlearning method `{method['name']}` "
        f"({method['distribution']} {method['version']}) from the Compromised model of "
        f"{benchmark['name']}, and evaluated by salmu-harness {document['harness']['version']}.",
        "",
        "## Base model",
        "",
        f"- Compromised model: `{base['id']}` revision `{base['revision']}` "
        f"(sha256 `{base['sha256']}`)",
        f"- These weights: `{Path(models['evaluated']['path']).name}` "
        f"(sha256 `{models['evaluated']['sha256']}`)",
        "",
        "## Method",
        "",
        f"- Method: `{method['name']}` {method['version']} from `{method['distribution']}`",
        "- Parameters: " + ", ".join(f"`{k}={v}`" for k, v in sorted(method["parameters"].items())),
        f"- Run seed: {document['seeds']['run']}",
        f"- Budget: {budget.get('multiple', 0):g}x ({budget.get('rule', 'samples')} rule); "
        f"samples read: "
        + (", ".join(f"{n} {s}" for s, n in budget.get("samples_read", {}).items()) or "none")
        + f"; {budget.get('optimizer_steps', 0)} optimizer steps",
        "",
        "## Evaluation",
        "",
        f"- Benchmark: {benchmark['name']} revision `{benchmark['revision']}`",
        f"- Protocol: `{protocol['name']}` v{protocol['version']}",
        f"- Result: status {document['status']}, finished {document['finished_at']}",
        "",
        _metrics_table(document),
        "",
        *_diagnosis(document),
        "## Use conditions",
        "",
        USE_CONDITIONS,
        "",
        "## Loading",
        "",
        "```python",
        "import open_clip",
        'model, _, preprocess = open_clip.create_model_and_transforms("local-dir:PATH")',
        "```",
        "",
        "Publish the folder as it is with `hf upload YOUR-NAME/REPO PATH .` (nothing is uploaded",
        "by the harness).",
        "",
    ]
    return "\n".join(lines)


def write_model_card(folder: Path, document: dict[str, Any]) -> Path:
    """Write the card of ``document`` into the model ``folder`` (atomically)."""
    path = Path(folder) / CARD_FILE
    write_text_atomic(path, model_card(document))
    return path


def _metrics_table(document: dict[str, Any]) -> str:
    rows = []
    for key, entry in document["metrics"].items():
        if entry.get("status") != "ok":
            rows.append([key, entry["name"], entry.get("status"), "", "", "", ""])
            continue
        references = entry["references"]
        ci = entry.get("ci", {}).get("value")
        score = (entry.get("normalized") or {}).get("score")
        rows.append(
            [
                key,
                entry["name"],
                f"{entry['value']:.4f}",
                f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "",
                _reference(references["clean"]),
                _reference(references["compromised"]),
                ""
                if score is None
                else f"{score:.0%} {entry['normalized']['formula'].replace('_', ' ')}",
            ]
        )
    headers = ["key", "metric", "value", "95% CI", "Clean", "Compromised", "score"]
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def _reference(entry: dict[str, Any]) -> str:
    return f"{entry['value']:.4f}" if entry.get("status") == "ok" else "—"


def _diagnosis(document: dict[str, Any]) -> list[str]:
    findings = (document.get("diagnosis") or {}).get("findings", [])
    shown = [f for f in findings if f.get("shown")]
    if not findings:
        return []
    lines = [
        "**Diagnosis:** "
        + (
            "; ".join(f"{f['label']} ({f['rule']})" for f in shown)
            or "none of the failure modes shown"
        ),
        "",
    ]
    return lines
