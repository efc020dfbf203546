"""How far can our numbers be from the paper's? Every unknown choice point, measured.

    python measurements/protocol_sensitivity.py [--benchmark mini] [--benchmark-option K=V ...]
        [--json OUT.json] [--docs docs/comparing-with-the-paper.md]

Evaluates the benchmark's Clean and Compromised models under the ``official`` protocol, then
under every alternative of every choice point the public record leaves open (or quotes only in
part), one choice changed at a time, and reports each affected metric's value for both models
and its change against the official protocol. It also reports the spread of RetFail and ACS
over ten further evaluation seeds (other galleries, other ACS negatives and splits) and the
``salmu-harness`` protocol as a whole. Each model's embeddings are computed once; every variant
re-runs only the metric it affects. With ``--docs`` the tables are written into that page
between its ``<!-- sensitivity:begin -->`` / ``<!-- sensitivity:end -->`` markers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tabulate import tabulate

#: (section, choice, alternatives, metric keys affected)
CHOICE_POINTS: list[tuple[str, str, list[Any], list[str]]] = [
    ("retfail", "gallery_rng", ["dedicated"], ["1.1"]),
    ("retfail", "draw_order", ["retain-first"], ["1.1"]),
    ("retfail", "identical_distractors", ["exclude"], ["1.1"]),
    ("retfail", "ties", ["half", "pessimistic"], ["1.1"]),
    ("acs", "negatives", ["derangement"], ["1.3"]),
    ("acs", "permute", ["images"], ["1.3"]),
    ("acs", "negatives_rng", ["dedicated"], ["1.3"]),
    ("acs", "split", ["group-kfold"], ["1.3"]),
    ("acs", "features", ["cosine", "concat", "product+concat"], ["1.3"]),
    ("acs", "standardize", [False], ["1.3"]),
    ("acs", "C", [0.1, 10.0], ["1.3"]),
    ("idzsc", "candidates", ["forget", "all"], ["1.4"]),
    ("idzsc", "template", ["{name}", "a photo of a person named {name}."], ["1.4"]),
    ("coreassoc", "value_lookup", ["quoted"], ["1.5"]),
    ("coreassoc", "list_values", ["first"], ["1.5"]),
    ("genknow", "templates", ["single"], ["2.1"]),
]
SEED_METRICS = ("1.1", "1.3")
EXTRA_SEEDS = range(43, 53)
ROLES = ("clean", "compromised")
BEGIN, END = "<!-- sensitivity:begin -->", "<!-- sensitivity:end -->"


def parse_options(items: list[str]) -> dict[str, str]:
    options = {}
    for item in items:
        key, _, value = item.partition("=")
        options[key] = value
    return options


def engines(benchmark: Any, device: Any) -> dict[str, Any]:
    """One embedding engine per reference model (embeddings computed once, shared)."""
    from harness.evaluation.embeddings import EmbeddingEngine
    from harness.evaluation.image_cache import ImageCache
    from harness.run.models import load_clip

    out = {}
    images = ImageCache()
    for role in ROLES:
        source = benchmark.models[role]
        loaded = load_clip(source.path, source.architecture)
        out[role] = EmbeddingEngine(
            loaded.model,
            loaded.tokenizer,
            loaded.preprocess_eval,
            device,
            show_progress=False,
            label=role,
            image_cache=images,
            cache_scope=f"{benchmark.name}@{benchmark.revision}",
        )
    return out


def measure_all(benchmark: Any, protocol: Any, registry: Any, device: Any) -> dict[str, Any]:
    from harness.evaluation.context import EvaluationContext
    from harness.evaluation.settings import EvaluationSettings
    from harness.metric import SkipMetric

    by_key = {m.key: m for m in registry.select_metrics()}
    models = engines(benchmark, device)

    def value(key: str, variant: Any, seed: int = 42) -> dict[str, float | None]:
        settings = EvaluationSettings(seed=seed, protocol=variant)
        out: dict[str, float | None] = {}
        for role, engine in models.items():
            try:
                out[role] = (
                    by_key[key].compute(EvaluationContext(benchmark, engine, settings)).value
                )
            except SkipMetric:
                out[role] = None
        return out

    official = {key: value(key, protocol) for key in by_key}
    rows = []
    for section, choice, alternatives, keys in CHOICE_POINTS:
        for alternative in alternatives:
            variant = protocol.variant(section, choice, alternative)
            for key in keys:
                rows.append(
                    {
                        "choice": f"{section}.{choice}",
                        "official": protocol.section(section)[choice],
                        "alternative": alternative,
                        "basis": protocol.basis.get(f"{section}.{choice}", {}).get("status", ""),
                        "metric": key,
                        "name": by_key[key].name,
                        "values": value(key, variant),
                        "official_values": official[key],
                    }
                )
    seeds = {key: [value(key, protocol, seed) for seed in EXTRA_SEEDS] for key in SEED_METRICS}
    harness_protocol = registry.protocol("salmu-harness")
    whole = {key: value(key, harness_protocol) for key in by_key}
    return {
        "names": {key: m.name for key, m in by_key.items()},
        "official": official,
        "rows": rows,
        "seeds": seeds,
        "salmu-harness": whole,
    }


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _fmt(number: float | None) -> str:
    return "skipped" if number is None else f"{number:.4f}"


def _delta(number: float | None, base: float | None) -> str:
    if number is None or base is None:
        return ""
    return f"{number - base:+.4f}"


def tables(result: dict[str, Any]) -> str:
    """The Markdown tables of a measurement."""
    names, official = result["names"], result["official"]
    head = ["metric", "Clean", "Compromised"]
    base = [
        [f"{k} {names[k]}", _fmt(v["clean"]), _fmt(v["compromised"])] for k, v in official.items()
    ]
    choice_rows = [
        [
            f"`{row['choice']}`",
            row["basis"],
            f"`{_shown(row['official'])}` → `{_shown(row['alternative'])}`",
            f"{row['metric']} {row['name']}",
            _fmt(row["values"]["clean"]),
            _delta(row["values"]["clean"], row["official_values"]["clean"]),
            _fmt(row["values"]["compromised"]),
            _delta(row["values"]["compromised"], row["official_values"]["compromised"]),
        ]
        for row in result["rows"]
    ]
    seed_rows = []
    for key, draws in result["seeds"].items():
        cells = [f"{key} {names[key]}"]
        for role in ROLES:
            values = [d[role] for d in draws]
            cells.append(
                f"{statistics.fmean(values):.4f} ± {statistics.stdev(values):.4f} "
                f"[{min(values):.4f}, {max(values):.4f}]"
            )
        seed_rows.append(cells)
    whole = [
        [
            f"{k} {names[k]}",
            _fmt(v["clean"]),
            _delta(v["clean"], official[k]["clean"]),
            _fmt(v["compromised"]),
            _delta(v["compromised"], official[k]["compromised"]),
        ]
        for k, v in result["salmu-harness"].items()
    ]
    return "\n\n".join(
        [
            "**Under the `official` protocol:**",
            tabulate(base, headers=head, tablefmt="github", disable_numparse=True),
            "**One choice changed at a time** (change against the `official` protocol):",
            tabulate(
                choice_rows,
                headers=[
                    "choice",
                    "basis",
                    "official → alternative",
                    "metric",
                    "Clean",
                    "Δ",
                    "Compromised",
                    "Δ",
                ],
                tablefmt="github",
                disable_numparse=True,
            ),
            f"**Ten further evaluation seeds** ({EXTRA_SEEDS.start}-{EXTRA_SEEDS.stop - 1}: other "
            "RetFail galleries, other ACS negatives and splits; mean ± std [min, max]):",
            tabulate(
                seed_rows,
                headers=["metric", "Clean", "Compromised"],
                tablefmt="github",
                disable_numparse=True,
            ),
            "**The `salmu-harness` protocol as a whole:**",
            tabulate(
                whole,
                headers=["metric", "Clean", "Δ", "Compromised", "Δ"],
                tablefmt="github",
                disable_numparse=True,
            ),
        ]
    )


def write_docs(page: Path, block: str) -> None:
    text = page.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{page} has no {BEGIN} ... {END} markers")
    before, rest = text.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    page.write_text(f"{before}{BEGIN}\n{block}\n{END}{after}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", default="mini")
    parser.add_argument("--benchmark-option", action="append", default=[])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--docs", type=Path, default=None)
    args = parser.parse_args()

    from harness.benchmarks import load_benchmark
    from harness.plugins import load_plugins
    from harness.run.devices import resolve_device

    started = time.perf_counter()
    registry = load_plugins(third_party=False)
    benchmark = load_benchmark(args.benchmark, parse_options(args.benchmark_option))
    result = measure_all(
        benchmark, registry.protocol("official"), registry, resolve_device(args.device)
    )
    seconds = time.perf_counter() - started
    command = "python measurements/protocol_sensitivity.py " + " ".join(sys.argv[1:])
    block = (
        f"Measured on {time.strftime('%Y-%m-%d', time.gmtime())} on {benchmark.name} "
        f"({benchmark.revision}), CPU fp32, in {seconds:.0f} s, with\n`{command.strip()}`.\n\n"
        + tables(result)
    )
    print(block)
    if args.json:
        args.json.write_text(json.dumps({**result, "seconds": seconds}, indent=2))
    if args.docs:
        write_docs(args.docs, block)


if __name__ == "__main__":
    main()
