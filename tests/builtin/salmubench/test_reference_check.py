"""The reference self-check end to end on a hub-layout fixture (SALMU-mini's folders read as
SALMUBench) with its own official-format values file: within tolerance it passes, a value moved
beyond its tolerance fails naming the metric and the protocol choices that move it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.builtin.salmubench.official_import import OFFICIAL_KEYS
from harness.builtin.salmubench.reference_check import TOLERANCES, check_reference
from harness.cli import main
from harness.errors import ParameterError
from harness.run.settings import RunOptions


def options_of(mini_root: Path) -> dict[str, str]:
    return {
        "dataset": str(mini_root / "dataset"),
        "compromised": str(mini_root / "models" / "compromised"),
        "clean": str(mini_root / "models" / "clean"),
        "imagenet": str(mini_root / "genknow"),  # GenKnow is compared too
    }


def official_file(path: Path, numbers: dict, source: str = "a test's values") -> Path:
    """An official-format values file from role -> key -> value name -> number."""
    document: dict = {"source": source}
    for role, by_key in numbers.items():
        sections: dict = {"efficacy": {}, "utility": {}}
        for key, values in by_key.items():
            spec = OFFICIAL_KEYS[key]
            entry = {spec.value: values["value"]}
            entry.update(
                {theirs: values[ours] for ours, theirs in spec.secondary if ours in values}
            )
            sections[spec.group][spec.name] = entry
        document[role] = sections
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(scope="module")
def computed(mini_root: Path, tmp_path_factory) -> dict:
    """This setup's own reference numbers (found by checking against impossible values)."""
    zeros = {
        role: {key: {"value": -0.5, "r_at_1": -0.5} for key in OFFICIAL_KEYS}
        for role in ("clean", "compromised")
    }
    path = official_file(tmp_path_factory.mktemp("values") / "zeros.json", zeros)
    options = RunOptions(
        benchmark="salmubench", benchmark_options=options_of(mini_root), show_progress=False
    )
    check = check_reference(options, path)
    assert not check.ok and len(check.off) == len(check.comparisons) == 2 * 11
    found: dict = {"clean": {}, "compromised": {}}
    for c in check.comparisons:
        found[c.role].setdefault(c.key, {})[c.value_name] = c.ours
    return found


def run_check(mini_root: Path, values: Path):
    args = ["evaluate", "--check-reference", "--benchmark", "salmubench", "--quiet"]
    for key, value in options_of(mini_root).items():
        args += ["--benchmark-option", f"{key}={value}"]
    return CliRunner().invoke(main, [*args, "--reference-values", str(values)])


def test_values_within_tolerance_pass(mini_root: Path, computed: dict, tmp_path: Path) -> None:
    tolerances = json.loads(TOLERANCES.read_text())["metrics"]
    nudged = {
        role: {
            key: {name: v + 0.5 * tolerances[key][name] for name, v in values.items()}
            for key, values in by_key.items()
        }
        for role, by_key in computed.items()
    }
    nudged["clean"]["2.1"]["value"] = -1  # the official evaluator's "GenKnow not run"
    result = run_check(mini_root, official_file(tmp_path / "values.json", nudged))
    assert result.exit_code == 0, result.output
    assert "this setup reproduces the official values: 21 numbers within tolerance" in result.output
    assert "not compared" in result.output and "the official evaluator wrote -1" in result.output


def test_a_value_beyond_its_tolerance_fails_naming_the_metric(
    mini_root: Path, computed: dict, tmp_path: Path
) -> None:
    moved = json.loads(json.dumps(computed))
    moved["compromised"]["1.4"]["value"] += 2 * 3.3e-4
    result = run_check(mini_root, official_file(tmp_path / "values.json", moved))
    assert result.exit_code == 1
    assert "1 numbers off:" in result.output
    assert "- 1.4 (compromised value)" in result.output
    assert "idzsc.candidates='forget_identity' (unknown)" in result.output
    assert "comparing-with-the-paper.md" in result.output
    moved = json.loads(json.dumps(computed))
    moved["clean"]["2.3"]["value"] -= 1e-3
    result = run_check(mini_root, official_file(tmp_path / "values.json", moved))
    assert "- 2.3 (clean value)" in result.output
    assert "no protocol choice moves it" in result.output


def test_the_shipped_values_are_salmubench_s_and_the_protocol_official(mini_root: Path) -> None:
    with pytest.raises(ParameterError, match="not of 'mini'"):
        check_reference(RunOptions(benchmark="mini"))
    with pytest.raises(ParameterError, match="under protocol 'official'"):
        check_reference(RunOptions(benchmark="salmubench", protocol="salmu-harness"))


def test_check_reference_takes_no_checkpoint(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate", "--check-reference", str(tmp_path)])
    assert result.exit_code == 2 and "give no CHECKPOINT" in result.output
    assert "at least one CHECKPOINT" in CliRunner().invoke(main, ["evaluate"]).output


def test_every_tolerance_names_real_protocol_sections() -> None:
    from harness.plugins import load_plugins

    protocol = load_plugins().protocol("official")
    tolerances = json.loads(TOLERANCES.read_text())["metrics"]
    assert set(tolerances) == set(OFFICIAL_KEYS)
    for key, spec in tolerances.items():
        assert spec["why"] and spec["value"] > 0
        for section in spec["sections"]:
            assert protocol.section(section), (key, section)


def test_values_of_another_dataset_revision_are_flagged(
    mini_root: Path, computed: dict, tmp_path: Path
) -> None:
    values = official_file(tmp_path / "values.json", computed)
    document = json.loads(values.read_text())
    document["benchmark"] = {"name": "salmubench", "revision": "b76aa388"}
    values.write_text(json.dumps(document))
    options = RunOptions(
        benchmark="salmubench",
        benchmark_options=options_of(mini_root),
        show_progress=False,
        metrics=["RetFail", "efficacy"],  # names and groups, as --metrics takes them
    )
    check = check_reference(options, values)
    assert {c.key for c in check.comparisons} == {"1.1", "1.2", "1.3", "1.4", "1.5"}
    assert check.ok
    (warning,) = check.warnings
    assert "official values are for dataset revision b76aa388" in warning
    with pytest.raises(ParameterError, match="holds none of the metrics"):
        check_reference(options.replace(metrics=["robustness"]), values)
