"""How fast `salmu-harness validate` checks a results repository: N SALMU-mini results.

    python measurements/validate_speed.py [--source RESULT.json] [--count 1000] [--strict]

Without ``--source`` the script evaluates SALMU-mini's Compromised model once (building the
mini on first use) to get a real result. It writes ``--count`` copies, each with its own
run id and slightly different numbers, into a temp folder and times the CLI on that folder
from process start to exit, as a CI job would run it. Target: 1,000 files in under 10 s.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate


def source_result(work: Path) -> Path:
    from harness.benchmarks import load_benchmark

    checkpoint = load_benchmark("mini").models["compromised"].path
    out = work / "source"
    command = [sys.executable, "-m", "harness.cli", "evaluate", str(checkpoint)]
    subprocess.run([*command, "--output", str(out), "--quiet"], check=True, capture_output=True)
    return next(out.glob("*/result.json"))


def write_copies(source: Path, folder: Path, count: int) -> int:
    document = json.loads(source.read_text())
    rng = random.Random(0)
    total = 0
    for index in range(count):
        document["run_id"] = f"copy-{index:05d}"
        document["cost"]["wall_seconds"] = round(rng.uniform(10, 1000), 3)
        path = folder / f"{index // 100:02d}" / f"result-{index:05d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(document)
        path.write_text(text)
        total += len(text)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="a result.json to copy (default: evaluate)")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--strict", action="store_true", help="time validate --strict")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="salmu-validate-") as tmp:
        work = Path(tmp)
        source = args.source or source_result(work)
        folder = work / "results"
        size = write_copies(source, folder, args.count)
        command = [sys.executable, "-m", "harness.cli", "validate", str(folder)]
        command += ["--strict"] if args.strict else []
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    summary = completed.stdout.strip().splitlines()
    rows = [
        ["files", args.count],
        ["bytes per file", size // args.count],
        ["command", " ".join(["salmu-harness", *command[3:4], "DIR", *command[5:]])],
        ["exit code", completed.returncode],
        ["output", summary[0] if summary else completed.stderr.strip()[-200:]],
        ["wall seconds", f"{seconds:.2f}"],
        ["files per second", f"{args.count / seconds:.0f}"],
        ["target", "< 10 s for 1,000 files"],
    ]
    print(tabulate(rows, ["measure", "value"], tablefmt="github"))
    sys.exit(0 if completed.returncode == 0 else 1)


if __name__ == "__main__":
    main()
