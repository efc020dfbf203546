"""The real benchmark's size, rehearsed: `salmu-harness evaluate` against the official-style loop.

    python measurements/scale_rehearsal.py [--fraction 1.0] [--checkpoints 3] [--slope 0.25,0.5]
                                         [--json OUT.json] [--docs docs/performance.md]

On the rehearsal dataset of ``rehearsal_data.py`` (the evaluation dataset's real row counts,
identities, 512 px PNGs and metadata sizes, with a model pair of the tiny mini architecture),
in a fresh harness cache and a fresh datasets cache, each step its own process timed from start
to exit with the peak memory (PSS) of its whole process tree:

1. **load**: the benchmark is loaded once, which fills the datasets cache (parquet -> arrow);
2. **official-style**: one checkpoint, then the Clean and the Compromised model, in one
   process, each decoding every PNG through the model's transform (batch 256, 4 workers);
3. **harness**: one ``salmu-harness evaluate C1 C2 C3``: the first checkpoint decodes the
   images once (writing the image cache while it encodes) and computes the references, the
   later ones read both caches;
4. **harness, one checkpoint**: ``salmu-harness evaluate C2`` alone, on the warm caches; its
   metric values must equal C2's in step 3, or the script fails.

"First checkpoint" compares the official-style process (one checkpoint and the pair, as a fresh
official run does) with the harness's start-up, load and first checkpoint; "later checkpoints"
compares one official-style model evaluation with a later checkpoint's evaluation (``cost``
of its result). ``--slope`` repeats step 3 with two checkpoints at smaller fractions to measure
how peak memory grows with the number of rows.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_speed import official_style, save_perturbed
from process_tree import Measured, measure
from rehearsal_data import ensure_rehearsal

GIB = 2**30


def benchmark_options(folder: Path) -> dict[str, str]:
    """The ``--benchmark-option`` values that point salmubench at the rehearsal folder."""
    return {
        "dataset": str(folder / "dataset"),
        "compromised": f"local-dir:{folder / 'models' / 'compromised'}",
        "clean": f"local-dir:{folder / 'models' / 'clean'}",
    }


def perturbed_folders(folder: Path, work: Path, count: int) -> list[Path]:
    """``count`` checkpoints near the Compromised model (seeded noise), as local-dir folders."""
    from harness.run.models import load_clip

    compromised = folder / "models" / "compromised"
    state = load_clip(compromised).model.state_dict()
    paths = []
    for seed in range(1, count + 1):
        target = work / f"checkpoint-{seed}"
        target.mkdir()
        shutil.copy(compromised / "open_clip_config.json", target)
        save_perturbed(state, seed, target / "open_clip_model.safetensors")
        paths.append(target)
    return paths


def harness_command(checkpoints: list[Path], folder: Path, output: Path) -> list[str]:
    options = [
        part
        for key, value in benchmark_options(folder).items()
        for part in ("--benchmark-option", f"{key}={value}")
    ]
    return [
        *(sys.executable, "-m", "harness.cli", "evaluate"),
        *(str(c) for c in checkpoints),
        *("--benchmark", "salmubench", *options),
        *("--output", str(output), "--quiet", "--device", "cpu"),
    ]


def results_by_checkpoint(output: Path) -> dict[str, dict]:
    found = {}
    for path in output.glob("*/result.json"):
        document = json.loads(path.read_text())
        found[Path(document["models"]["evaluated"]["id"].removeprefix("local:")).name] = document
    return found


def checked(run: Measured, what: str) -> Measured:
    if run.returncode != 0:
        sys.exit(f"{what} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    return run


def rehearse(fraction: float, count: int, official: bool, single: bool) -> dict:
    """Every measurement at one fraction; figures in seconds and bytes."""
    from harness.evaluation.image_cache import folder_bytes

    folder = ensure_rehearsal(fraction)
    facts = json.loads((folder / "rehearsal.json").read_text())
    with tempfile.TemporaryDirectory(prefix="salmu-rehearsal-") as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "SALMU_HARNESS_CACHE": str(work / "cache"),
            "HF_DATASETS_CACHE": str(work / "datasets"),
            "SALMU_HARNESS_QUIET": "1",
        }
        checkpoints = perturbed_folders(folder, work, count)
        figures: dict = {"fraction": fraction, "rows": facts["rows"], "checkpoints": count}
        load = checked(measure([sys.executable, __file__, "--load", str(folder)], env), "load")
        figures["load"] = {"seconds": load.seconds, "peak_bytes": load.peak_bytes}
        figures["datasets_cache_bytes"] = folder_bytes(work / "datasets")
        if official:
            run = checked(
                measure(
                    [sys.executable, __file__, "--official", str(folder), str(checkpoints[0])], env
                ),
                "the official-style loop",
            )
            figures["official"] = {
                "seconds": run.seconds,
                "peak_bytes": run.peak_bytes,
                "peak_anon_bytes": run.peak_anon_bytes,
                "models": json.loads(run.stdout.strip().splitlines()[-1]),
            }
        many = checked(
            measure(harness_command(checkpoints, folder, work / "results"), env),
            "salmu-harness evaluate (many checkpoints)",
        )
        documents = results_by_checkpoint(work / "results")
        if len(documents) != count:
            sys.exit(f"the harness wrote {len(documents)} results for {count} checkpoints")
        ordered = [documents[c.name] for c in checkpoints]
        figures["harness"] = {
            "seconds": many.seconds,
            "peak_bytes": many.peak_bytes,
            "peak_anon_bytes": many.peak_anon_bytes,
            "checkpoints": [
                {"seconds": d["cost"]["wall_seconds"], "stages": d["cost"]["stages"]}
                for d in ordered
            ],
        }
        figures["image_cache_bytes"] = folder_bytes(work / "cache" / "images")
        if single:
            alone = checked(
                measure(harness_command([checkpoints[1]], folder, work / "single"), env),
                "salmu-harness evaluate (one checkpoint)",
            )
            (document,) = results_by_checkpoint(work / "single").values()
            identical = document["metrics"] == ordered[1]["metrics"]
            if not identical:
                sys.exit("metric values differ between one evaluate and the many-checkpoint path")
            figures["single"] = {
                "seconds": alone.seconds,
                "peak_bytes": alone.peak_bytes,
                "metrics_identical": identical,
            }
        validate = checked(
            measure([sys.executable, "-m", "harness.cli", "validate", str(work / "results")], env),
            "validate",
        )
        figures["validated"] = validate.stdout.strip().splitlines()[-1]
    return figures


def summary(figures: dict) -> tuple[list[list[str]], dict[str, float]]:
    """The comparison table and the speed-ups."""
    harness, official = figures["harness"], figures["official"]
    later = harness["checkpoints"][1:]
    later_s = sum(c["seconds"] for c in later) / len(later)
    first_s = harness["seconds"] - sum(c["seconds"] for c in later)
    models = official["models"]
    per_model = sum(m["seconds"] for m in models) / len(models)
    speedups = {"first": official["seconds"] / first_s, "later": per_model / later_s}
    rows = [
        [
            "first checkpoint (fresh process, cold caches)",
            f"{official['seconds']:.0f}",
            f"{first_s:.0f}",
            f"{speedups['first']:.1f}x",
        ],
        [
            "later checkpoint (same process)",
            f"{per_model:.0f}",
            f"{later_s:.1f}",
            f"{speedups['later']:.1f}x",
        ],
    ]
    return rows, speedups


def stage_rows(figures: dict) -> list[list[str]]:
    """Where the time goes, per model evaluation."""
    stage_names = ("decode", "image_encode", "text_encode", "metrics")
    model = figures["official"]["models"][0]["stages"]
    rows = [["official-style, one model", *(f"{model[s]:.1f}" for s in stage_names)]]
    for label, entry in (
        ("harness, first checkpoint (3 models encoded)", figures["harness"]["checkpoints"][0]),
        ("harness, later checkpoint", figures["harness"]["checkpoints"][1]),
    ):
        stages = entry["stages"]
        rows.append([label, *(f"{stages[f'{s}_seconds']:.1f}" for s in stage_names)])
    return rows


def slope(points: list[tuple[int, int]]) -> float:
    """Least-squares GiB of peak memory per 10k rows over (rows, peak bytes) points."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in points)
    den = sum((x - mean_x) ** 2 for x, _ in points)
    return num / den * 10_000 / GIB


def report(figures: dict, scaled: list[dict]) -> str:
    rows, _ = summary(figures)
    total_rows = sum(figures["rows"].values())
    lines = [
        f"Rehearsal at fraction {figures['fraction']:g}: {total_rows:,} rows "
        f"({', '.join(f'{k} {v:,}' for k, v in figures['rows'].items())}), "
        f"{os.cpu_count()} CPU cores, {figures['checkpoints']} checkpoints",
        "",
        tabulate(
            rows,
            ["evaluation", "official-style s", "harness s", "speed-up"],
            tablefmt="github",
        ),
        "",
        tabulate(
            stage_rows(figures),
            ["seconds by stage", "decode", "image encode", "text encode", "metrics + rest"],
            tablefmt="github",
        ),
        "",
        tabulate(
            [
                [
                    "load (fills the datasets cache)",
                    f"{figures['load']['seconds']:.0f}",
                    f"{figures['load']['peak_bytes'] / GIB:.2f}",
                ],
                [
                    "official-style process",
                    f"{figures['official']['seconds']:.0f}",
                    f"{figures['official']['peak_bytes'] / GIB:.2f}",
                ],
                [
                    "harness evaluate C1..CN",
                    f"{figures['harness']['seconds']:.0f}",
                    f"{figures['harness']['peak_bytes'] / GIB:.2f}",
                ],
                *(
                    [
                        [
                            "harness evaluate C2 alone (warm)",
                            f"{figures['single']['seconds']:.0f}",
                            f"{figures['single']['peak_bytes'] / GIB:.2f}",
                        ]
                    ]
                    if "single" in figures
                    else []
                ),
            ],
            ["process", "wall s", "peak GiB (PSS, process tree)"],
            tablefmt="github",
        ),
        "",
        f"disk: datasets cache {figures['datasets_cache_bytes'] / GIB:.2f} GiB, "
        f"image cache {figures['image_cache_bytes'] / GIB:.3f} GiB",
        f"validate: {figures['validated']}",
    ]
    if "single" in figures:
        lines.append("metric values, one evaluate vs the many-checkpoint path: identical")
    if scaled:
        lines += ["", slope_report([*scaled, figures])]
    return "\n".join(lines)


def slope_report(runs: list[dict]) -> str:
    """Peak memory against rows, with the least-squares slopes."""
    runs = sorted(runs, key=lambda f: sum(f["rows"].values()))
    rows = [sum(f["rows"].values()) for f in runs]
    total = [f["harness"]["peak_bytes"] for f in runs]
    anon = [f["harness"].get("peak_anon_bytes", 0) for f in runs]
    table = tabulate(
        [
            [f"{r:,}", f"{t / GIB:.2f}", f"{a / GIB:.2f}"]
            for r, t, a in zip(rows, total, anon, strict=True)
        ],
        ["rows", "harness peak GiB (PSS)", "of which anonymous GiB"],
        tablefmt="github",
    )
    total_slope = slope(list(zip(rows, total, strict=True)))
    anon_slope = slope(list(zip(rows, anon, strict=True)))
    return (
        f"{table}\npeak memory slope: {total_slope:.3f} GiB per 10k rows "
        f"(anonymous memory: {anon_slope:.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=1.0)
    parser.add_argument("--checkpoints", type=int, default=3)
    parser.add_argument("--slope", default="0.25,0.5", help="smaller fractions ('' for none)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--docs", type=Path, help="replace the rehearsal section of this page")
    parser.add_argument(
        "--only-slope",
        action="store_true",
        help="measure only the harness's peak memory at --slope fractions (include 1 there)",
    )
    parser.add_argument(
        "--from-json", type=Path, help="print (and --docs) the report of an earlier --json file"
    )
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--official", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        from harness.benchmarks import load_benchmark

        load_benchmark("salmubench", benchmark_options(Path(args.load)))
        return
    if args.official:
        folder = Path(args.official[0])
        print(
            json.dumps(official_style("salmubench", [args.official[1]], benchmark_options(folder)))
        )
        return
    if args.checkpoints < 2:
        parser.error("--checkpoints must be at least 2 (a first and a later checkpoint)")
    fractions = [float(f) for f in filter(None, args.slope.split(","))]
    if args.only_slope:
        runs = [rehearse(f, 2, official=False, single=False) for f in fractions]
        print(slope_report(runs))
        if args.json:
            args.json.write_text(json.dumps({"slope": runs}, indent=2))
        return
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        figures, scaled = saved["main"], saved["slope"]
    else:
        figures = rehearse(args.fraction, args.checkpoints, official=True, single=True)
        if args.json:
            args.json.write_text(json.dumps({"main": figures, "slope": []}, indent=2))
        scaled = [rehearse(f, 2, official=False, single=False) for f in fractions]
    text = report(figures, scaled)
    print(text)
    if args.json and not args.from_json:
        args.json.write_text(json.dumps({"main": figures, "slope": scaled}, indent=2))
    if args.docs:
        page = args.docs.read_text()
        block = f"<!-- scale-rehearsal -->\n```\n{text}\n```\n<!-- /scale-rehearsal -->"
        pattern = re.compile(r"<!-- scale-rehearsal -->.*?<!-- /scale-rehearsal -->", re.S)
        args.docs.write_text(
            pattern.sub(lambda _: block, page)
            if pattern.search(page)
            else page + "\n" + block + "\n"
        )


if __name__ == "__main__":
    main()
