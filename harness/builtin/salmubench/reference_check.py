"""The reference self-check: the Clean and Compromised models evaluated here against the values
the official evaluator wrote for them, metric by metric, each within a stated tolerance.

A setup that passes reproduces the official evaluator on the released pair, so its numbers
can sit next to the paper's. A metric that is off is named with the protocol choices that move
it (``protocol_sensitivity`` measures each one), read from the protocol's own basis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.builtin.salmubench.official_import import (
    OFFICIAL_KEYS,
    RELEASE_VALUES,
    official_record,
)
from harness.errors import ParameterError, ResultError
from harness.plugins import Registry, load_plugins
from harness.run.settings import RunOptions

TOLERANCES = Path(__file__).with_name("reference_tolerances.json")
ROLES = ("clean", "compromised")
RELEASED_BENCHMARK = "salmubench"
#: the one metric a setup may lack on purpose (it needs an ImageNet-1k source)
GENKNOW = "2.1"
Verdict = Literal["ok", "off", "not compared"]


@dataclass(frozen=True)
class Comparison:
    """One number of one reference model: ours, the official one, and whether they agree."""

    key: str
    name: str
    role: str
    value_name: str
    """``value`` (the headline) or a secondary value's name (``r_at_1``)."""
    ours: float | None
    official: float | None
    tolerance: float
    verdict: Verdict
    note: str | None = None

    @property
    def difference(self) -> float | None:
        if self.ours is None or self.official is None:
            return None
        return self.ours - self.official


@dataclass
class ReferenceCheck:
    """Every comparison, where the official values came from, and what moves each metric."""

    values_source: str
    protocol: str
    comparisons: list[Comparison] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What may make the comparison moot (e.g. another dataset revision than the values')."""
    moved_by: dict[str, list[str]] = field(default_factory=dict)
    """Metric key -> the protocol choices that move it, each with its basis."""
    why: dict[str, str] = field(default_factory=dict)
    """Metric key -> why its tolerance is what it is."""

    @property
    def off(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == "off"]

    @property
    def not_compared(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.verdict == "not compared"]

    @property
    def ok(self) -> bool:
        return not self.off and any(c.verdict == "ok" for c in self.comparisons)


def read_values(path: Path | None, benchmark: str) -> tuple[dict[str, Any], str]:
    """The official values of Clean and Compromised (``{"clean": <official file>, ...}``) and
    a description of their source."""
    if path is None:
        if benchmark != RELEASED_BENCHMARK:
            raise ParameterError(
                f"the shipped official values are those of {RELEASED_BENCHMARK}'s released "
                f"pair, not of {benchmark!r}",
                'give --reference-values FILE ({"clean": {...}, "compromised": {...}} in the '
                "official evaluator's format)",
            )
        path = RELEASE_VALUES
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParameterError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParameterError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not all(
        isinstance(document.get(role), dict) for role in ROLES
    ):
        raise ParameterError(
            f"{path} holds no 'clean' and 'compromised' sections",
            'write {"clean": <official result>, "compromised": <official result>}',
        )
    return document, str(document.get("source") or path)


def check_reference(
    options: RunOptions | None = None,
    values_path: Path | None = None,
    registry: Registry | None = None,
) -> ReferenceCheck:
    """Evaluate the benchmark's Clean and Compromised models under ``official`` and compare
    every metric the official values hold."""
    from harness.run.plan import load_for, prepare
    from harness.run.records import reference_hashes
    from harness.run.sections import make_evaluator

    options = options or RunOptions(benchmark=RELEASED_BENCHMARK)
    registry = registry or load_plugins()
    if options.protocol != "official":
        raise ParameterError(
            f"the official values were computed by the official evaluator; the self-check runs "
            f"under protocol 'official', not {options.protocol!r}",
            "leave --protocol out",
        )
    values, source = read_values(values_path, options.benchmark)
    for role in ROLES:
        read_official_sections(values[role], f"{source} ({role})")
    tolerances = json.loads(TOLERANCES.read_text(encoding="utf-8"))["metrics"]
    keys = [k for k in OFFICIAL_KEYS if k in registry.metrics and k in tolerances]
    if options.metrics:
        chosen = {m.key for m in registry.select_metrics(options.metrics)}
        keys = [k for k in keys if k in chosen]
        if not keys:
            raise ParameterError(
                f"--metrics {','.join(options.metrics)} holds none of the metrics the official "
                "values give",
                f"choose among {', '.join(OFFICIAL_KEYS)}, or leave --metrics out",
            )
    options = options.replace(metrics=keys)
    plan = prepare(options, registry, writes=False)
    benchmark = load_for(options, plan, registry)
    evaluator = make_evaluator(benchmark, options, plan, reference_hashes(benchmark))
    ours = evaluator.references()
    check = ReferenceCheck(source, plan.protocol.name)
    expected = (values.get("benchmark") or {}).get("revision")
    if expected and benchmark.revision != expected:
        check.warnings.append(
            f"the official values are for dataset revision {expected}; this benchmark is "
            f"{benchmark.revision}: a difference may come from the data, not the setup"
        )
    for key in keys:
        metric, spec = registry.metric(key), tolerances[key]
        check.why[key] = spec["why"]
        check.moved_by[key] = _choices(plan.protocol, spec["sections"])
        for role in ROLES:
            theirs = official_record(values[role], key, f"{source} ({role})")
            check.comparisons += _compare(key, metric.name, role, ours[role][key], theirs, spec)
    return check


def read_official_sections(document: dict[str, Any], where: str) -> None:
    """Refuse a values section that is not in the official evaluator's format."""
    if not {"efficacy", "utility"} & set(document):
        raise ResultError(
            f"{where} is not in the official evaluator's format (no 'efficacy' or 'utility')",
            'each role holds {"efficacy": {"1.1_RetFail": {...}, ...}, "utility": {...}}',
        )


def _compare(
    key: str,
    name: str,
    role: str,
    ours: dict[str, Any],
    theirs: dict[str, Any],
    spec: dict[str, Any],
) -> list[Comparison]:
    names = ["value"] + [n for n in spec if n not in ("value", "sections", "why")]
    found = []
    for value_name in names:
        tolerance = float(spec[value_name])
        mine = _number(ours, value_name)
        official = _number(theirs, value_name)
        if theirs.get("status") != "ok" or official is None:
            reason = theirs.get("reason") or "the official values do not hold it"
            found.append(
                Comparison(
                    key, name, role, value_name, mine, None, tolerance, "not compared", reason
                )
            )
            continue
        if ours.get("status") == "skipped" and key == GENKNOW:  # no ImageNet source given
            reason = f"skipped here: {ours.get('reason')}"
            found.append(
                Comparison(
                    key, name, role, value_name, None, official, tolerance, "not compared", reason
                )
            )
            continue
        if ours.get("status") != "ok" or mine is None:
            reason = ours.get("error") or ours.get("reason") or "not computed here"
            found.append(
                Comparison(key, name, role, value_name, None, official, tolerance, "off", reason)
            )
            continue
        verdict: Verdict = "ok" if abs(mine - official) <= tolerance else "off"
        found.append(Comparison(key, name, role, value_name, mine, official, tolerance, verdict))
    return found


def _number(record: dict[str, Any], value_name: str) -> float | None:
    raw = (
        record.get("value")
        if value_name == "value"
        else (record.get("values") or {}).get(value_name)
    )
    return float(raw) if isinstance(raw, int | float) else None


def _choices(protocol: Any, sections: list[str]) -> list[str]:
    """Each choice of ``sections`` with its value and basis, unknown and inferred ones first."""
    order = {"unknown": 0, "inferred": 1, "quoted": 2}
    basis = protocol.basis or {}
    found = []
    for section in sections:
        for choice, value in protocol.section(section).items():
            name = f"{section}.{choice}"
            status = (basis.get(name) or {}).get("status", "unstated")
            found.append((order.get(status, 3), f"{name}={value!r} ({status})"))
    return [text for _, text in sorted(found, key=lambda item: item[0])]
