"""How long one bootstrap interval takes over GenKnow-sized per-row data.

    python measurements/bootstrap_speed.py [--rows 48000] [--resamples 1000] [--repeat 5]

GenKnow's per-row values are 1 (correct) or 0 (wrong) and carry no identity, so
``bootstrap_ci`` resamples them by counting; a real-valued column of the same length takes
the row-resampling path. The script times both, in this process, and prints the intervals
(the binary one must have the binomial width, about 2 x 1.96 x sqrt(p(1-p)/n)).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tabulate import tabulate

from harness.evaluation.statistics import BootstrapSettings, bootstrap_ci


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=48_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    columns = {
        "binary (GenKnow)": (rng.random(args.rows) < 0.49).astype(float),
        "real-valued": rng.normal(size=args.rows),
    }
    settings = BootstrapSettings(resamples=args.resamples)
    rows = []
    for name, values in columns.items():
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            low, high = bootstrap_ci(values, None, settings)
            times.append(time.perf_counter() - start)
        rows.append([name, args.rows, f"{np.median(times) * 1000:.1f}", f"[{low:.4f}, {high:.4f}]"])
    print(tabulate(rows, headers=["rows", "count", "median ms", "95% interval"]))


if __name__ == "__main__":
    main()
