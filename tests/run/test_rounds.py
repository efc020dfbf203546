"""Running schedules: rounds from the previous round's model, persona groups, the schedule
diagnosis, resuming after Ctrl-C, evaluating round checkpoints, and every report reading them."""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main as cli
from harness.plugins import PLUGINS_ENV_VAR, load_plugins
from harness.results.validation import validate_document, validate_file
from harness.run.pipeline import run_method
from harness.run.settings import RunOptions

sys.path.insert(0, str(Path(__file__).parent))
import controlled_plugin

CONTROLLED = ["--metrics", "t.1,t.2"]


class _Dist:
    name, version = "salmu-controlled", "1.0"


@pytest.fixture
def controlled(monkeypatch):
    """The built-ins plus the controlled plugin, as an installed distribution would be."""
    entry_point = metadata.EntryPoint("controlled", "controlled_plugin", "salmu_harness")
    object.__setattr__(entry_point, "dist", _Dist())
    monkeypatch.setattr(metadata, "entry_points", lambda group: [entry_point])
    monkeypatch.delenv(PLUGINS_ENV_VAR, raising=False)
    controlled_plugin.FORGOTTEN.clear()
    controlled_plugin.SERVED.clear()
    return load_plugins()


def _options(mini_root: Path, output: Path, schedule: str, **changes) -> RunOptions:
    return RunOptions(
        benchmark=str(mini_root),
        output_dir=output,
        show_progress=False,
        num_workers=0,
        metrics=["t.1", "t.2"],
        schedule=schedule,
        **changes,
    )


def _run(args: list[str], **env: str):
    return CliRunner().invoke(cli, args, env=env or None, catch_exceptions=False)


def test_a_method_that_forgets_only_what_it_is_shown_leaves_the_rest_at_compromised(
    mini_root, controlled, tmp_path
) -> None:
    outcome = run_method(
        "controlled", {}, _options(mini_root, tmp_path, "sequential-3"), controlled
    )
    document = outcome.document
    assert document["kind"] == "schedule" and validate_file(outcome.result_path) == []
    section = document["schedule"]
    assert [len(r) for r in section["requests"]] == [4, 3, 3]
    for number, result in enumerate(section["round_results"], 1):
        groups = result["schedule"]["groups"]["t.1"]
        assert result["schedule"]["round"] == number
        assert groups["requested"]["score"] == pytest.approx(1.0)  # forgot its request
        if number > 1:
            assert groups["earlier"]["score"] == pytest.approx(1.0)  # and kept it forgotten
        if number < 3:
            not_yet = groups["not_yet"]
            low, high = not_yet["ci"]
            assert low <= not_yet["compromised"] <= high  # at Compromised, within its CI
            assert not_yet["score"] == pytest.approx(0.0)
        else:
            assert groups["not_yet"] == {"personas": 0, "value": None}
    assert [r["not_yet"] for r in section["summary"]["rounds"]] == [0.0, 0.0, None]
    assert section["summary"]["relapse"]["drop"] == pytest.approx(0.0)
    findings = {f["mode"]: f["shown"] for f in section["diagnosis"]["findings"]}
    assert findings == {
        "relapse": False,
        "collateral_forgetting": False,
        "utility_erosion": True,  # Kept falls by 0.02 per persona forgotten: 0.92 to 0.80
    }
    # the model each round started from is the previous round's
    marks = [r["models"]["evaluated"]["sha256"] for r in section["round_results"]]
    assert len(set(marks)) == 3
    started = [r["schedule"]["started_from"] for r in section["round_results"]]
    assert started[0] == {
        "id": "compromised",
        "sha256": document["models"]["compromised"]["sha256"],
    }
    assert started[1:] == [
        {"id": "round-1", "sha256": marks[0]},
        {"id": "round-2", "sha256": marks[1]},
    ]
    assert (tmp_path / outcome.result_path.parent.name / "round-3" / "model").is_dir()


def test_a_method_that_wipes_every_persona_is_flagged_collateral(
    mini_root, mini_benchmark, controlled, tmp_path
) -> None:
    everyone = mini_benchmark.split("forget").identities
    outcome = run_method(
        "controlled",
        {"wipe": True, "everyone": everyone},
        _options(mini_root, tmp_path, "scaled-0.5"),
        controlled,
    )
    section = outcome.document["schedule"]
    (result,) = section["round_results"]
    assert result["schedule"]["groups"]["t.1"]["not_yet"]["score"] == pytest.approx(1.0)
    collateral = next(
        f for f in section["diagnosis"]["findings"] if f["mode"] == "collateral_forgetting"
    )
    assert collateral["shown"] is True and collateral["evidence"]["gap_closed"] == pytest.approx(1)
    assert section["diagnosis"]["modes"] == ["collateral_forgetting"]  # one round: no relapse


def test_one_request_of_every_persona_gives_the_plain_runs_numbers(
    finetune_outcome, mini_root, baselines_registry, tmp_path
) -> None:
    from tests.conftest import COMPARED_PARAMETERS

    options = RunOptions(
        benchmark=str(mini_root),
        output_dir=tmp_path,
        show_progress=False,
        num_workers=0,
        budget=1.0,
        schedule="scaled-1.0",
    )
    scheduled = run_method("finetune", COMPARED_PARAMETERS, options, baselines_registry).document
    plain = finetune_outcome.document
    assert scheduled["metrics"].keys() == plain["metrics"].keys()
    for key, entry in plain["metrics"].items():
        mine = scheduled["metrics"][key]
        for part in ("status", "value", "values", "ci", "per_identity", "per_row", "normalized"):
            assert mine.get(part) == entry.get(part), (key, part)
    assert scheduled["budget"] == plain["budget"]
    assert scheduled["diagnosis"] == plain["diagnosis"]


def test_ctrl_c_between_rounds_keeps_the_finished_rounds_and_a_rerun_resumes(
    mini_root, controlled, tmp_path
) -> None:
    command = ["run", "controlled", "--benchmark", str(mini_root), "--output", str(tmp_path)]
    command += [*CONTROLLED, "--schedule", "sequential-3", "--run-id", "seq", "--quiet"]
    interrupted = _run(command, **{controlled_plugin.INTERRUPT_ENV: "2"})
    assert interrupted.exit_code == 130
    assert "interrupted in round 2: round 1 is kept" in interrupted.output
    assert "--run-id seq" in interrupted.output
    folder = tmp_path / "seq"
    first = (folder / "round-1" / "result.json").read_bytes()
    assert not (folder / "result.json").exists() and not (folder / "round-2").exists()

    resumed = _run(command)
    assert resumed.exit_code == 0, resumed.output
    assert (folder / "round-1" / "result.json").read_bytes() == first  # not run again
    log = (folder / "run.log").read_text()
    assert "round 1 of 3: 4 personas" in log  # the interrupted part's records are kept
    assert "round 1: finished earlier" in log
    document = json.loads((folder / "result.json").read_text())
    assert [r["schedule"]["round"] for r in document["schedule"]["round_results"]] == [1, 2, 3]
    assert document["schedule"]["summary"]["rounds"][2]["requested"] == pytest.approx(1.0)

    changed = _run([*command, "--seed", "1"])
    assert changed.exit_code == 2
    assert "holds round 1 of a run with other settings (seed, the request's personas differ)" in (
        changed.output
    )

    # a round without its model runs again, and so does every round after it
    import shutil

    shutil.rmtree(folder / "round-2" / "model")
    third = (folder / "round-3" / "result.json").read_bytes()
    rerun = _run(command)
    assert rerun.exit_code == 0, rerun.output
    assert (folder / "round-1" / "result.json").read_bytes() == first
    assert (folder / "round-3" / "result.json").read_bytes() != third

    # --run-id never names another run's folder
    plain = _run([*command[:-5], "--run-id", "seq", "--quiet"])  # the same folder, no schedule
    assert plain.exit_code == 2
    assert "already holds a result, which this run would overwrite" in plain.output


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("scaled-0", "the fraction must lie in (0, 1], not 0"),
        ("scaled-1.5", "the fraction must lie in (0, 1], not 1.5"),
        ("scaled-0.01", "is an empty request"),
        ("sequential-11", "11 requests but only 10 forget personas"),
        ("sequentail-4", "did you mean"),
        ("overlap.json", "is in request 1 and in request 2"),
        ("empty.json", "request 2 is empty"),
    ],
)
def test_a_bad_schedule_ends_in_one_message_exit_2_and_nothing_written(
    schedule: str, message: str, mini_root, mini_benchmark, controlled, tmp_path
) -> None:
    one = mini_benchmark.split("forget").identities[0]
    (tmp_path / "overlap.json").write_text(json.dumps({"requests": [[one], [one]]}))
    (tmp_path / "empty.json").write_text(json.dumps({"requests": [[one], []]}))
    output = tmp_path / "out"
    spec = str(tmp_path / schedule) if schedule.endswith(".json") else schedule
    result = _run(
        [
            "run",
            "controlled",
            "--benchmark",
            str(mini_root),
            "--output",
            str(output),
            *CONTROLLED,
            "--schedule",
            spec,
            "--quiet",
        ]
    )
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert list(output.iterdir()) == []


def test_evaluate_reads_a_folder_of_round_checkpoints_into_the_same_groups(
    mini_root, controlled, tmp_path
) -> None:
    ran = run_method(
        "controlled", {}, _options(mini_root, tmp_path / "ran", "sequential-3"), controlled
    )
    result = _run(
        [
            "evaluate",
            str(ran.result_path.parent),
            "--schedule",
            "sequential-3",
            "--seed",
            "0",
            "--benchmark",
            str(mini_root),
            "--output",
            str(tmp_path / "ev"),
            "--run-id",
            "ev",
            *CONTROLLED,
            "--quiet",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "schedule sequential-3 (seed 0): 3 request(s) of 4, 3, 3 personas" in result.output
    evaluated = json.loads((tmp_path / "ev" / "ev" / "result.json").read_text())
    assert evaluated["kind"] == "schedule" and evaluated["method"] is None
    for mine, theirs in zip(
        evaluated["schedule"]["round_results"],
        ran.document["schedule"]["round_results"],
        strict=True,
    ):
        assert mine["schedule"]["groups"] == theirs["schedule"]["groups"]
    assert evaluated["schedule"]["summary"] == ran.document["schedule"]["summary"]

    wrong = _run(
        [
            "evaluate",
            str(ran.result_path.parent),
            "--schedule",
            "sequential-4",
            "--benchmark",
            str(mini_root),
            "--output",
            str(tmp_path / "ev2"),
            *CONTROLLED,
        ]
    )
    assert wrong.exit_code == 2
    assert "sequential-4 has 4 requests but 3 round checkpoints" in wrong.output


def test_reports_read_schedule_results(mini_root, mini_benchmark, controlled, tmp_path) -> None:
    from harness.reports.formats import render_table
    from harness.reports.leaderboard import build_leaderboard
    from harness.reports.plots import drawable
    from harness.results.loading import load_results

    sequential = run_method(
        "controlled", {}, _options(mini_root, tmp_path, "sequential-3"), controlled
    )
    everyone = mini_benchmark.split("forget").identities
    wiped = run_method(
        "controlled",
        {"wipe": True, "everyone": everyone},
        _options(mini_root, tmp_path, "scaled-0.5"),
        controlled,
    )
    shown = _run(["show", str(sequential.result_path)])
    assert shown.exit_code == 0
    assert "round    personas    requested    earlier    not yet    utility" in shown.output
    assert "schedule diagnosis: UTILITY EROSION" in shown.output
    assert "last round's budget 5x" in shown.output and "all 3 rounds: " in shown.output

    from harness.results.layout import result_files

    found = result_files([str(tmp_path)])  # the rounds' own results are the schedules' parts
    assert found == sorted([sequential.result_path, wiped.result_path])
    board = build_leaderboard(load_results(found))
    labels = {row.display: row for row in board.rows}
    assert set(labels) == {"controlled [sequential-3]", "controlled [scaled-0.5]"}
    assert labels["controlled [scaled-0.5]"].diagnosis == {"collateral_forgetting": 1}
    table = render_table(board)
    assert "requested 100% closed, not yet 0% closed, no relapse, t.2 -0.120" in table
    assert "requested 100% closed, not yet 100% closed" in table
    assert drawable(board)[-2:] == ["rounds", "fractions"]

    compared = _run(["compare", str(sequential.result_path), str(wiped.result_path)])
    assert compared.exit_code == 0, compared.output
    assert "schedule sequential-3 (after its last round)" in compared.output

    from harness.results.bundle import verify_bundle, write_bundle

    folder = write_bundle(sequential.result_path.parent, sequential.document, ["salmu-harness"])
    verified = verify_bundle(folder, show_progress=False, num_workers=0)
    assert verified.ok and verified.evaluated and verified.numbers_compared > 0  # last round's

    tampered = json.loads(sequential.result_path.read_text())
    tampered["schedule"]["round_results"].pop()
    problems = validate_document(tampered)
    assert [p.message for p in problems] == ["2 round results for 3 requests"]


def test_schedules_are_a_sweep_dimension_and_one_shot_keys_do_not_change(
    baselines_registry, tmp_path
) -> None:
    from harness.errors import UnknownNameError
    from harness.sweeps.spec import expand_trials, load_sweep

    registry = baselines_registry
    registry_methods = {"methods": {"finetune": {"parameters": {"lr": {"grid": [1e-5, 1e-4]}}}}}
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(registry_methods))
    scheduled = tmp_path / "scheduled.json"
    scheduled.write_text(
        json.dumps({**registry_methods, "schedules": [None, "scaled-0.5", "sequential-4"]})
    )
    one_shot = expand_trials(load_sweep(plain), registry)
    swept = expand_trials(load_sweep(scheduled), registry)
    assert len(swept) == 3 * len(one_shot)
    assert {t.key for t in one_shot} == {t.key for t in swept if t.schedule is None}
    assert {t.schedule for t in swept} == {None, "scaled-0.5", "sequential-4"}
    assert len({t.setting for t in swept}) == 6  # a schedule is its own setting
    (tmp_path / "bad.json").write_text(
        json.dumps({**registry_methods, "schedules": ["sequentail-4"]})
    )
    with pytest.raises(UnknownNameError, match="did you mean"):
        load_sweep(tmp_path / "bad.json")
