"""``reproduce``: the paper's data, the verdict rules, the test-scale reproduction end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.builtin.salmubench.diagnosis import DEFAULT_RULES
from harness.errors import ParameterError, UnknownNameError
from harness.reproduce.spec import load_reproduction, sweep_for
from harness.reproduce.verdicts import agreement, describe, majority_modes

PLUGINS = "salmu-baselines,salmu-literature"


def cli(*args: str) -> Any:
    """``salmu-harness ARGS`` in this process with the first-party plugins: the commands'
    behaviour is the subject here, not a fresh interpreter. Click's result has the
    ``exit_code``, ``stdout`` and ``stderr`` a subprocess would give."""
    from click.testing import CliRunner

    from harness.cli import main

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SALMU_HARNESS_PLUGINS", PLUGINS)
        return CliRunner().invoke(main, list(args))


def docs_writer(*args: str) -> tuple[int, str]:
    """``scripts/reproduction_docs.py ARGS`` in this process: (exit code, stderr)."""
    import contextlib
    import importlib.util
    import io

    path = Path(__file__).resolve().parents[2] / "scripts" / "reproduction_docs.py"
    spec = importlib.util.spec_from_file_location("reproduction_docs", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            module.main(list(args))
    except SystemExit as exc:
        print(exc.code, file=stderr)
        return 1, stderr.getvalue()
    return 0, stderr.getvalue()


def _modes_from_numbers(values: dict, clean: dict, compromised: dict) -> list[str]:
    """The suite's diagnosis rules applied to a row of the paper's table."""
    modes = []
    if values["genknow"] < compromised["genknow"] - DEFAULT_RULES["genknow_drop"]:
        modes.append("catastrophic_damage")
    if min(values["inter"] - clean["inter"], values["intra"] - clean["intra"]) < 0:
        modes.append("over_generalised_forgetting")
    closed = (compromised["retfail"] - values["retfail"]) / (
        compromised["retfail"] - clean["retfail"]
    )
    if closed < DEFAULT_RULES["min_gap_closed"]:
        modes.append("ineffective_forgetting")
    return modes


def test_the_papers_failure_classes_follow_from_its_numbers_by_our_rules() -> None:
    paper = load_reproduction("paper")
    references = paper.data["references"]
    with_numbers = {m: e for m, e in paper.methods.items() if e["paper"] is not None}
    assert len(with_numbers) == 7  # Generic Captions is named ineffective, without numbers
    for method, entry in with_numbers.items():
        found = _modes_from_numbers(entry["paper"], references["clean"], references["compromised"])
        assert found == entry["failure"], method
    assert paper.methods["generic-captions"]["failure"] == ["ineffective_forgetting"]


def test_the_default_grid_spans_1e_6_to_1e_4_with_two_seeds_at_5x(baselines_registry) -> None:
    sweep = sweep_for(load_reproduction("paper"), "default")
    assert sweep.budgets == [5.0] and sweep.seeds == [0, 1]
    for space in sweep.methods.values():
        grid = space["parameters"]["lr"]["grid"]
        assert min(grid) == 1e-6 and max(grid) == 1e-4 and len(grid) == 7
        assert 1.78e-5 in grid and 5.62e-5 in grid  # quarter decades where forgetting sets in
    assert sweep.methods["neggrad"]["parameters"]["retain_weight"] == {"grid": [0.0, 0.95]}
    assert sweep.methods["delete"]["parameters"]["form"] == {"grid": ["paper", "fork"]}
    test = sweep_for(load_reproduction("paper"), "test")
    assert all(set(s["parameters"]) == {"lr", "batch_size"} for s in test.methods.values())
    assert test.seeds == [0] and test.budgets == [0.25]


def test_the_plan_of_a_new_reproduction_waits_for_measured_trials(tmp_path: Path) -> None:
    planned = cli("reproduce", "paper", "--plan", "--output", str(tmp_path / "new"))
    assert planned.exit_code == 0, planned.output[-3000:]
    assert "0 done, 0 failed (run again), 168 pending" in planned.stdout
    assert "the time estimate needs a finished trial" in planned.stdout  # no machine's pace
    assert not (tmp_path / "new").exists()  # a plan runs and writes nothing


def test_majority_and_agreement() -> None:
    assert majority_modes({"catastrophic_damage": 2, "ineffective_forgetting": 1}, 2) == [
        "catastrophic_damage"
    ]
    assert majority_modes({"b": 2, "a": 3}, 3) == ["a", "b"]
    assert majority_modes({}, 2) == []
    assert agreement([], []) == "yes"
    assert agreement(["catastrophic_damage"], []) == "no"
    assert (
        agreement(
            ["catastrophic_damage", "over_generalised_forgetting"], ["over_generalised_forgetting"]
        )
        == "partly"
    )
    labels = {"over_generalised_forgetting": "over-generalised forgetting"}
    assert describe([], labels) == "forgets with utility kept"
    assert describe(["over_generalised_forgetting"], labels) == "over-generalised forgetting"
    assert describe(["ineffective_forgetting"], labels) == "ineffective forgetting"


def test_bad_reproductions_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'paper'"):
        load_reproduction("papr")
    data = json.loads(json.dumps(load_reproduction("paper").data))
    data["methods"]["finetune"]["failure"] = ["sad"]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ParameterError, match="invalid at methods/finetune/failure/0"):
        load_reproduction(str(path))
    with pytest.raises(UnknownNameError, match="scale"):
        load_reproduction("paper").scale("huge")


@pytest.fixture(scope="module")
def reproduced(mini_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """One test-scale reproduction: (its folder, the command, its result)."""
    out = tmp_path_factory.mktemp("reproduce") / "repro"
    command = ["reproduce", "paper", "--scale", "test", "--output", str(out)]
    first = cli(*command)
    assert first.exit_code == 0, first.output[-3000:]
    return out, command, first


def test_the_test_scale_reproduction_runs_resumes_and_agrees_with_its_sweep(
    reproduced, tmp_path: Path
) -> None:
    out, command, first = reproduced
    assert "8 trials run (8 ok, 0 failed), 0 already done" in first.stdout
    table = json.loads((out / "reproduction.json").read_text())
    assert [r["method"] for r in table["rows"]] == list(load_reproduction("paper").methods)
    assert sum(table["agreement"].values()) == 8 and table["trial_seconds"]["trials"] == 8
    report = cli("sweep-report", str(out), "--format", "json")
    board = {r["method"]: r for r in json.loads(report.stdout)["leaderboard"]["rows"]}
    for row in table["rows"]:
        assert row["seeds"] == 1 and row["agrees"] in ("yes", "partly", "no")
        assert row["ours"]["retfail"] == board[row["method"]]["metrics"]["1.1"]["mean"]
        assert row["ours"]["genknow"] == board[row["method"]]["metrics"]["2.1"]["mean"]
    assert table["mode_labels"]["over_generalised_forgetting"] == "over-generalised forgetting"
    markdown = (out / "reproduction.md").read_text()
    assert "| CLIPErase (`clip-erase`)" in markdown and "agrees:" in markdown
    page = tmp_path / "page.md"
    page.write_text("intro\n")
    code, stderr = docs_writer(str(out), str(page))
    assert code == 1 and "no <!-- reproduction:paper --> ... " in stderr
    assert "Traceback" not in stderr and page.read_text() == "intro\n"
    page.write_text(
        "intro\n<!-- reproduction:paper -->\nSTALE-BLOCK\n<!-- /reproduction:paper -->\nend\n"
    )
    assert docs_writer(str(out), str(page)) == (0, "")
    text = page.read_text()
    assert text.startswith("intro\n<!-- reproduction:paper -->\nProduced by `salmu-harness")
    assert text.endswith("<!-- /reproduction:paper -->\nend\n") and "STALE-BLOCK" not in text
    assert "| CLIPErase (`clip-erase`)" in text and "8 trials" in text
    again = cli(*command)
    assert again.exit_code == 0 and "0 trials run (0 ok, 0 failed), 8 already done" in again.stdout
    assert json.loads((out / "reproduction.json").read_text())["rows"] == table["rows"]


def test_rules_rejudge_the_papers_rows_and_ours_without_rerunning(reproduced) -> None:
    out, command, _ = reproduced
    lenient = cli(*command, "--rule", "genknow_drop=0.5")
    assert lenient.exit_code == 0 and "0 trials run" in lenient.stdout, lenient.output[-2000:]
    table = json.loads((out / "reproduction-genknow_drop=0.5.json").read_text())
    assert table["rules"] == {"genknow_drop": 0.5}
    rows = {r["method"]: r for r in table["rows"]}
    assert rows["shuffled-captions"]["paper_failure"] == []  # GenKnow -0.09 is within 0.5
    assert rows["direct-sim-min"]["paper_failure"] == ["over_generalised_forgetting"]
    assert all("catastrophic_damage" not in r["our_failure"] for r in rows.values())
    default = json.loads((out / "reproduction.json").read_text())
    assert {r["method"]: r["paper_failure"] for r in default["rows"]} == {
        m: sorted(e["failure"]) for m, e in load_reproduction("paper").methods.items()
    }
    unknown = cli(*command, "--rule", "genknow_dorp=0.5")
    assert unknown.exit_code == 2 and "did you mean 'genknow_drop'" in unknown.stderr


def test_another_objective_reselects_without_rerunning(reproduced) -> None:
    out, command, _ = reproduced
    run = cli(*command, "--objective", "hmean")
    assert run.exit_code == 0 and "0 trials run" in run.stdout, run.output[-2000:]
    table = json.loads((out / "reproduction-objective=hmean.json").read_text())
    assert table["selection"]["objective"] == "hmean"
    default = json.loads((out / "reproduction.json").read_text())
    assert default["selection"]["objective"] == "forget-first"  # the paper's reading
    assert [r["method"] for r in table["rows"]] == [r["method"] for r in default["rows"]]
    assert "objective `hmean`" in (out / "reproduction-objective=hmean.md").read_text()
    wrong = cli(*command, "--objective", "forget-frist")
    assert wrong.exit_code == 2 and "--objective" in wrong.stderr
    assert "Traceback" not in wrong.stderr
