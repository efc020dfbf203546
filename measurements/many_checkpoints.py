"""N checkpoints in one process: `salmu-harness evaluate C1 ... CN` against an official-style
loop that also evaluates all its models in one process, on SALMU-mini.

    python measurements/many_checkpoints.py [--count 5] [--scale default] [--seed 0]

Both evaluate the same N checkpoints (the Compromised weights with seeded perturbations) with
the same ten metrics on the same data, each in one process timed from start to exit with the
peak RSS of its process tree:

- **official-style**: load the benchmark once, then evaluate the N checkpoints and the Clean
  and Compromised models in turn, each decoding every PNG through the model's transform
  (batch 256, 4 DataLoader workers) and encoding every split;
- **harness**: one `salmu-harness evaluate C1 ... CN` in a fresh cache: the benchmark, the image
  cache and the references are loaded or built once.

Per-checkpoint figures are the process's wall time divided by N. A second table says where
each side's time per model went; both must run every model's encoders over every split (the
checkpoints differ in every weight), so the encoding seconds bound the speed-up any cache can
give, and the script prints that bound.
"""

from __future__ import annotations

import argparse
import json
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
        print(json.dumps(official_style(args.official[0], args.official[1:])))
        return

    from harness.benchmarks.local import load_local_benchmark
    from harness.builtin.mini.build import ensure_mini

    mini = ensure_mini(args.scale, args.seed, show_progress=False)
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
        documents = [json.loads(p.read_text()) for p in (work / "results").glob("*/result.json")]
    if len(documents) != args.count:
        sys.exit(f"the harness wrote {len(documents)} results for {args.count} checkpoints")
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
    print(f"\nper checkpoint: {official.seconds / harness.seconds:.2f}x faster\n")
    print(stage_table(json.loads(official.stdout.strip().splitlines()[-1]), documents))


def stage_table(official: list[dict], documents: list[dict]) -> str:
    """Mean seconds per model by stage, official-style against the harness's later
    checkpoints, and the speed-up bound set by encoding alone."""
    later = [d["cost"] for d in documents if d["cost"]["stages"]["references_seconds"] < 0.5]
    stages = ("decode", "image_encode", "text_encode")

    def mean(values: list[float]) -> float:
        return sum(values) / max(1, len(values))

    ours = {k: mean([c["stages"][f"{k}_seconds"] for c in later]) for k in stages}
    ours["total"] = mean([c["wall_seconds"] for c in later])
    theirs = {k: mean([m["stages"].get(k, 0.0) for m in official]) for k in stages}
    theirs["total"] = mean([m["seconds"] for m in official])
    rows = [
        [
            who,
            *(f"{f[k]:.2f}" for k in stages),
            f"{f['total'] - sum(f[k] for k in stages):.2f}",
            f"{f['total']:.2f}",
        ]
        for who, f in (("official-style, per model", theirs), ("harness, later checkpoint", ours))
    ]
    table = tabulate(
        rows,
        ["seconds", "decode", "image encode", "text encode", "metrics + rest", "total"],
        tablefmt="github",
    )
    encoding = ours["image_encode"] + ours["text_encode"]
    return (
        f"{table}\n\nencoding alone, which no cache can save for a checkpoint whose weights all "
        f"changed: {encoding:.2f} s per model, so at most "
        f"{theirs['total'] / encoding:.2f}x per model against the official-style loop"
    )


if __name__ == "__main__":
    main()
