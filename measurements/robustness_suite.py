"""Every first-party method on SALMU-mini under the robustness attacks, and the suite's cost.

    python measurements/robustness_suite.py [--budget 5] [--seed 0] [--lr 1e-4]
                                          [--output salmu-results/robustness]
                                          [--docs docs/robustness.md]

Two phases, both through the CLI exactly as a user runs it:

1. ``salmu-harness run METHOD --metrics efficacy,utility,robustness`` for each method (default
   parameters except the learning rate); the table puts the forgetting, utility and
   robustness metrics beside Clean's and Compromised's, with the diagnosis.
2. The cost: ``salmu-harness evaluate MODEL --metrics robustness`` on each saved model, the
   references already cached, so each figure is what one more model costs; the first
   evaluation of the session (references computed for Clean and Compromised) is reported
   apart. Wall time of the whole process and the evaluation time the result records.

With ``--docs``, the table and the timings replace what is between the
``<!-- robustness-table -->`` markers of that page.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_baselines import METHODS

SCORED = ("1.1", "2.1", "3.1", "3.2", "3.4")
MEMBERSHIP = "3.3"
MARKERS = ("<!-- robustness-table -->", "<!-- /robustness-table -->")


def cli(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args, "--quiet"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    if done.returncode != 0:
        sys.exit(f"salmu-harness {' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - started, done


def newest_result(folder: Path) -> tuple[Path, dict]:
    path = sorted(folder.glob("*/result.json"), key=lambda p: p.stat().st_mtime)[-1]
    return path, json.loads(path.read_text())


def run_method(method: str, args: argparse.Namespace) -> dict:
    out = args.output / "runs" / method
    cli(
        "run",
        method,
        "--set",
        f"lr={args.lr:g}",
        "--budget",
        f"{args.budget:g}",
        "--seed",
        str(args.seed),
        "--metrics",
        "efficacy,utility,robustness",
        "--output",
        str(out),
    )
    return newest_result(out)[1]


def time_suite(model: Path, out: Path, metrics: str = "robustness") -> tuple[float, float]:
    wall, _ = cli("evaluate", str(model), "--metrics", metrics, "--output", str(out))
    return wall, newest_result(out)[1]["cost"]["evaluation_seconds"]


def cell(metric: dict) -> str:
    if metric.get("status") != "ok":
        return metric.get("status", "-")
    score = (metric.get("normalized") or {}).get("score")
    value = f"{metric['value']:.4f}" if metric["value"] < 0.1 else f"{metric['value']:.3f}"
    return f"{value} ({score:.0%})" if score is not None else value


def table(results: dict[str, dict]) -> str:
    first = next(iter(results.values()))["metrics"]
    keys = (*SCORED, MEMBERSHIP)
    headers = ["", *(f"{k} {first[k]['name']}" for k in keys), "diagnosis"]
    rows = []
    for role in ("clean", "compromised"):
        values = [first[k]["references"][role] for k in keys]
        rows.append([role.capitalize(), *(cell({**v, "normalized": None}) for v in values), ""])
    for method, document in results.items():
        metrics = document["metrics"]
        modes = ", ".join(m.replace("_", " ") for m in document["diagnosis"]["modes"]) or "none"
        rows.append([method, *(cell(metrics[k]) for k in keys), modes])
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def write_docs(page: Path, text: str) -> None:
    start, end = MARKERS
    content = page.read_text()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(content):
        sys.exit(f"{page} has no {start} ... {end} markers")
    page.write_text(pattern.sub(lambda _: f"{start}\n{text}\n{end}", content))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--output", type=Path, default=Path("salmu-results/robustness"))
    parser.add_argument("--docs", type=Path, default=None)
    args = parser.parse_args()
    methods = args.methods.split(",")
    results = {}
    for method in methods:
        started = time.perf_counter()
        results[method] = run_method(method, args)
        print(f"run {method}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    text = table(results)
    print(text)

    timings = {}
    for method in methods:
        model = args.output / "runs" / method
        (folder,) = [p.parent for p in sorted(model.glob("*/result.json"))][-1:]
        timings[method] = time_suite(folder / "model", args.output / "timing" / method)
        wall, evaluation = timings[method]
        print(
            f"suite on {method}: {wall:.1f} s wall, {evaluation:.1f} s evaluating", file=sys.stderr
        )
    walls = sorted(wall for wall, _ in timings.values())
    evaluations = sorted(e for _, e in timings.values())
    summary = (
        f"Robustness suite per model (`evaluate MODEL --metrics robustness`, references "
        f"cached, 2 CPU cores): median {walls[len(walls) // 2]:.0f} s wall "
        f"({walls[0]:.0f}-{walls[-1]:.0f} s), of which {evaluations[len(evaluations) // 2]:.0f}"
        f" s evaluating; per model: "
        + ", ".join(f"{m} {w:.0f} s" for m, (w, _) in timings.items())
        + "."
    )
    print(summary)
    first = methods[0]
    (folder,) = [p.parent for p in sorted((args.output / "runs" / first).glob("*/result.json"))][
        -1:
    ]
    alone = []
    for key in ("3.1", "3.2", "3.3", "3.4"):
        wall, evaluation = time_suite(folder / "model", args.output / "alone" / key, key)
        alone.append([key, f"{wall:.1f}", f"{evaluation:.1f}"])
    costs = tabulate(
        alone,
        headers=["key", "wall s (whole process)", "evaluation s"],
        tablefmt="github",
        disable_numparse=True,
    )
    summary += f"\n\nEach metric alone on the {first} model, references cached:\n\n{costs}"
    print(costs)
    if args.docs:
        revision = next(iter(results.values()))["benchmark"]["revision"]
        command = (
            f"python measurements/robustness_suite.py --budget {args.budget:g} --seed {args.seed}"
            f" --lr {args.lr:g}"
        )
        write_docs(
            args.docs,
            f"Made by `{command}` on {revision}. Cells: value (share of the "
            f"Compromised-to-Clean gap closed, each attack's references attacked alike)."
            f"\n\n{text}\n\n{summary}",
        )


if __name__ == "__main__":
    main()
