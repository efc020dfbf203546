"""N checkpoints in one process: `salmu-harness evaluate C1 ... CN` against an official-style
loop that also evaluates all its models in one process, on SALMU-mini.

    python benchmarks/many_checkpoints.py [--count 5] [--scale default] [--seed 0]

Both evaluate the same N checkpoints (the Compromised weights with seeded perturbations) with
the same ten metrics on the same data, each in one process timed from start to exit with the
peak RSS of its process tree:

- **official-style**: load the benchmark once, then evaluate the N checkpoints and the Clean
  and Compromised models in turn, each decoding every PNG through the model's transform
  (batch 256, 4 DataLoader workers) and encoding every split;
- **harness**: one `salmu-harness evaluate C1 ... CN` in a fresh cache: the benchmark, the image
  cache and the references are loaded or built once.

Per-checkpoint figures are the process's wall time divided by N.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_speed import official_style, perturbed_checkpoints
from process_tree import measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--scale", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--official", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.official:
        official_style(args.official[0], args.official[1:])
        return

    from harness.benchmarks.local import load_local_benchmark
    from harness.builtin.mini.build import ensure_mini

    mini = ensure_mini({"scale": args.scale, "seed": args.seed}, show_progress=False)
    with tempfile.TemporaryDirectory(prefix="salmu-many-checkpoints-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "SALMU_HARNESS_CACHE": str(work / "cache"), "SALMU_HARNESS_QUIET": "1"}
        benchmark = load_local_benchmark(mini)
        checkpoints = [str(p) for p in perturbed_checkpoints(benchmark, work, args.count)]
        official = measure([sys.executable, __file__, "--official", str(mini), *checkpoints], env)
        harness = measure(
            [
                *(sys.executable, "-m", "harness.cli", "evaluate", *checkpoints),
                *("--benchmark", str(mini), "--output", str(work / "results")),
                *("--quiet", "--device", "cpu"),
            ],
            env,
        )
        for run in (official, harness):
            if run.returncode != 0:
                sys.exit(f"a measured command failed:\n{run.stderr[-2000:]}")
        written = len(list((work / "results").glob("*/result.json")))
    if written != args.count:
        sys.exit(f"the harness wrote {written} results for {args.count} checkpoints")
    n = args.count
    print(f"SALMU-mini {benchmark.revision}, {os.cpu_count()} CPU cores, {n} checkpoints\n")
    print(
        tabulate(
            [
                [
                    "official-style, one process",
                    f"{official.seconds:.1f}",
                    f"{official.seconds / n:.1f}",
                    f"{official.peak_bytes / 2**30:.2f}",
                ],
                [
                    "salmu-harness evaluate C1..CN",
                    f"{harness.seconds:.1f}",
                    f"{harness.seconds / n:.1f}",
                    f"{harness.peak_bytes / 2**30:.2f}",
                ],
            ],
            ["", "total s", "s per checkpoint", "peak GiB"],
            tablefmt="github",
        )
    )
    print(f"\nper checkpoint: {official.seconds / harness.seconds:.2f}x faster")


if __name__ == "__main__":
    main()
