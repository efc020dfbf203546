"""Sweeps: sweep files, trial keys, fair selection, and a real sweep on a local Ray instance."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.errors import HarnessError, ParameterError, UnknownNameError
from harness.storage import cache_dir
from harness.sweeps import state
from harness.sweeps.selection import identity_split, objective, restrict, sweep_report
from harness.sweeps.spec import Sweep, Trial, expand_trials, load_sweep, settings_of

SWEEP = {
    "name": "ci",
    "benchmark": "mini",
    "benchmark_options": {"scale": "test"},
    "seeds": [0, 1],
    "budgets": [0.5],
    "resources": {"cpus": 1},
    "methods": {
        name: {"parameters": {"lr": {"grid": [1e-5, 1e-4]}, "batch_size": 16}}
        for name in ("finetune", "neggrad", "generic-captions")
    },
}


def write(tmp_path: Path, data: dict, name: str = "sweep.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_trials_are_the_product_and_their_keys_are_stable(tmp_path, baselines_registry) -> None:
    sweep = load_sweep(write(tmp_path, SWEEP))
    trials = expand_trials(sweep, baselines_registry)
    assert len(trials) == 3 * 2 * 2 and len({t.key for t in trials}) == 12
    assert len({t.setting for t in trials}) == 6
    assert trials[0].parameters == {
        "lr": 1e-5,
        "batch_size": 16,
        "weight_decay": 0.0,
        "max_grad_norm": 1.0,
    }
    again = expand_trials(load_sweep(write(tmp_path, SWEEP)), baselines_registry)
    assert [t.key for t in again] == [t.key for t in trials]
    changed = json.loads(json.dumps(SWEEP))
    changed["benchmark_options"] = {"scale": "default"}
    other = expand_trials(load_sweep(write(tmp_path, changed)), baselines_registry)
    assert not {t.key for t in other} & {t.key for t in trials}
    assert sweep.protocol == "official" and sweep.run_settings()["protocol"] == "official"
    harness_protocol = expand_trials(
        load_sweep(write(tmp_path, {**SWEEP, "protocol": "salmu-harness"})), baselines_registry
    )
    assert not {t.key for t in harness_protocol} & {t.key for t in trials}


def test_invalid_sweep_files_say_where(tmp_path, baselines_registry) -> None:
    bad = {**SWEEP, "budgets": [0]}
    with pytest.raises(ParameterError, match=r"invalid at \[.budgets.\]\[0\]"):
        load_sweep(write(tmp_path, bad))
    with pytest.raises(ParameterError, match="'typo' was unexpected"):
        load_sweep(write(tmp_path, {**SWEEP, "typo": 1}))
    with pytest.raises(UnknownNameError, match="did you mean 'finetune'"):
        expand_trials(
            load_sweep(write(tmp_path, {**SWEEP, "methods": {"finetun": {}}})), baselines_registry
        )
    wrong = {**SWEEP, "methods": {"finetune": {"parameters": {"lr": {"grid": [-1]}}}}}
    with pytest.raises(ParameterError, match="parameter 'lr'"):
        expand_trials(load_sweep(write(tmp_path, wrong)), baselines_registry)


def test_yaml_sweeps_and_random_spaces(tmp_path) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "methods:\n  finetune:\n    samples: 3\n    parameters:\n"
        "      lr: {random: {low: 1.0e-6, high: 1.0e-3, log: true}}\n"
        "      batch_size: {grid: [16, 32]}\n"
    )
    sweep = load_sweep(path)
    assert sweep.seeds == [0] and sweep.budgets == [5.0]
    first = settings_of(sweep.methods["finetune"], "0:finetune")
    assert len(first) == 6 and {s["batch_size"] for s in first} == {16, 32}
    assert all(1e-6 <= s["lr"] <= 1e-3 for s in first)
    assert first == settings_of(sweep.methods["finetune"], "0:finetune")


def test_identity_split_is_disjoint_seeded_and_never_empty() -> None:
    identities = [f"{i:08d}" for i in range(90)]
    validation, report = identity_split(identities, 0.5, seed=0)
    assert (
        len(validation) == 45 and not validation & report and validation | report == set(identities)
    )
    assert identity_split(identities, 0.5, seed=0) == (validation, report)
    assert identity_split(identities, 0.5, seed=1) != (validation, report)
    assert all(identity_split(identities[:2], f, 0)[1] for f in (0.01, 0.99))


def _metric(per_identity: dict, clean: dict, compromised: dict, target: str = "clean") -> dict:
    def entry(values: dict) -> dict:
        return {"status": "ok", "value": sum(values.values()) / len(values), "per_identity": values}

    return {
        **entry(per_identity),
        "target": target,
        "direction": "lower",
        "references": {"clean": entry(clean), "compromised": entry(compromised)},
    }


SUITE = {"name": "salmubench", "forgetting": "1.1", "utility": "2.1", "per_identity": "1.1"}


def test_selection_sees_only_validation_identities_and_reports_the_others() -> None:
    document = {
        "suite": SUITE,
        "metrics": {
            # forgets identity a (validation) completely, identity b (report) not at all
            "1.1": _metric({"a": 0.0, "b": 1.0}, {"a": 0.0, "b": 0.0}, {"a": 1.0, "b": 1.0}),
            "2.1": {
                "status": "ok",
                "value": 0.5,
                "target": "compromised",
                "direction": "higher",
                "normalized": {"score": 0.5, "formula": "retained"},
                "references": {
                    "clean": {"status": "ok", "value": 0.5},
                    "compromised": {"status": "ok", "value": 1.0},
                },
            },
        },
    }
    # objective(document, report): selection is blind to the report identities
    assert objective(document, {"b"}) == pytest.approx(2 * 1.0 * 0.5 / 1.5)  # gap closed 1 on a
    assert objective(document, {"a"}) == 0.0  # nothing forgotten on b
    assert objective(document, {"b"}, "1.1") == pytest.approx(1.0)
    reported = restrict(document, drop={"a"})["metrics"]["1.1"]
    assert reported["value"] == 1.0 and reported["normalized"]["score"] == 0.0
    with pytest.raises(HarnessError, match="neither 'hmean' nor a metric key"):
        objective(document, {"b"}, "9.9")
    swapped = {**document, "suite": {**SUITE, "forgetting": "2.1", "utility": "1.1"}}
    assert objective(swapped, {"a"}) == 0.0  # the suite decides which key is which
    with pytest.raises(HarnessError, match="needs results that declare a metric suite"):
        objective({"metrics": document["metrics"]}, {"b"})


def test_forget_first_ranks_every_setting_that_forgets_above_any_that_does_not() -> None:
    def document(gap: float, kept: float) -> dict:
        # per-identity RetFail gives ``gap`` closed on identity a (validation), 0 on b (report)
        retfail = _metric({"a": 1.0 - gap, "b": 1.0}, {"a": 0.0, "b": 0.0}, {"a": 1.0, "b": 1.0})
        genknow = {
            "status": "ok",
            "value": kept,
            "target": "compromised",
            "direction": "higher",
            "normalized": {"score": kept, "formula": "retained"},
            "references": {
                "clean": {"status": "ok", "value": 0.5},
                "compromised": {"status": "ok", "value": 1.0},
            },
        }
        return {"suite": SUITE, "metrics": {"1.1": retfail, "2.1": genknow}}

    forgets_with_damage = document(gap=0.95, kept=0.6)
    forgets_cleanly = document(gap=0.92, kept=0.99)
    almost = document(gap=0.89, kept=1.0)
    scores = {
        name: objective(d, {"b"}, "forget-first")
        for name, d in [
            ("damage", forgets_with_damage),
            ("clean", forgets_cleanly),
            ("almost", almost),
        ]
    }
    assert scores["damage"] == pytest.approx(1.6) and scores["clean"] == pytest.approx(1.99)
    # short of 0.9: ranked by hmean, below every setting that forgets
    assert (
        scores["almost"]
        == pytest.approx(objective(almost, {"b"}))
        == pytest.approx(2 * 0.89 / 1.89)
    )
    assert scores["clean"] > scores["damage"] > scores["almost"]
    # hmean alone prefers the setting that keeps everything but forgets 89%
    assert objective(almost, {"b"}) > objective(forgets_with_damage, {"b"})
    with pytest.raises(HarnessError, match="forget-first objective needs results that declare"):
        objective({"metrics": almost["metrics"]}, {"b"}, "forget-first")


def test_holdout_metrics_are_selected_on_all_their_identities_as_they_are_reported() -> None:
    # identities h1, h2 are holdout identities: neither validation nor report forget identities
    holdout = _metric({"h1": 0.0, "h2": 1.0}, {"h1": 0.0, "h2": 0.0}, {"h1": 1.0, "h2": 1.0})
    holdout["normalized"] = {"score": 0.5, "formula": "gap_closed"}  # as the run recorded it
    document = {"suite": SUITE, "metrics": {"3.1": holdout}}
    assert objective(document, {"b"}, "3.1") == pytest.approx(0.5)  # both identities count
    reported = restrict(document, drop={"a"})["metrics"]["3.1"]
    assert reported["per_identity"] == {"h1": 0.0, "h2": 1.0} and reported["value"] == 0.5


@pytest.mark.slow
def test_a_sweep_on_local_ray_computes_references_once_and_records_a_failed_trial(
    mini_root, tmp_path, monkeypatch
) -> None:
    """Interrupting and resuming a local Ray sweep is the subject of the Ctrl-C test below (a
    real SIGINT to the command, then a rerun that reads the references from the cache)."""
    from harness.plugins import load_plugins
    from harness.sweeps.ray_runner import run_sweep

    monkeypatch.setenv("SALMU_HARNESS_PLUGINS", "salmu-baselines")
    shutil.rmtree(cache_dir("references"))  # so that the count below starts from zero
    sweep = load_sweep(
        write(tmp_path, {**SWEEP, "benchmark": str(mini_root), "benchmark_options": {}})
    )
    trials = expand_trials(sweep, load_plugins())
    # a trial that fails inside its worker (a parameter the sweep file could not have given)
    broken = Trial("f" * 64, "finetune", {"lr": -1.0}, 0, 0.5, "broken-setting")
    trials.append(broken)
    root = tmp_path / "out"
    summary = run_sweep(sweep, trials, root, max_concurrent=2)
    assert (summary.skipped, summary.ran, summary.succeeded, summary.failed) == (0, 13, 12, 1)
    assert summary.references == {"hits": 0, "misses": 20}
    references = json.loads((root / state.REFERENCES_FILE).read_text())
    assert references == {"computed": 20, "read_from_cache": 0, "records": 20}
    assert not list(root.rglob("*.tmp"))
    placed = state.nodes(root, trials)
    assert len(placed) == len(trials) and len(summary.nodes) == 1
    assert set(summary.nodes) == {p["id"] for p in placed.values()}
    statuses = state.statuses(root, trials)
    assert statuses.pop(broken.key) == "failed" and set(statuses.values()) == {"done"}
    error = json.loads((state.trial_dir(root, broken) / "error.json").read_text())
    assert "parameter 'lr' = -1.0 is invalid" in error["error"]["message"]
    assert "Traceback" in error["error"]["traceback"]
    trials.remove(broken)
    for trial in trials:  # every trial got the driver's references: none computed its own
        document = state.load_result(root, trial)
        assert document["evaluation"]["reference_cache"] == {"hits": 20, "misses": 0}
        assert document["method"]["parameters"] == trial.parameters
        assert document["seeds"]["run"] == trial.seed

    chosen, board, split = sweep_report(root)
    assert [(c.method, c.settings_tried, c.trials, c.trials_failed, c.seeds) for c in chosen] == [
        ("finetune", 3, 5, 1, 2),  # the broken setting counts as tried
        ("neggrad", 2, 4, 0, 2),
        ("generic-captions", 2, 4, 0, 2),
    ]
    assert split["validation_identities"] + split["report_identities"] == 10
    assert sorted(r.label for r in board.rows) == ["finetune", "generic-captions", "neggrad"]
    assert all(len(r.seeds) == 2 for r in board.rows)


def test_a_failed_trial_is_recorded_and_retried(tmp_path, baselines_registry) -> None:
    sweep = load_sweep(write(tmp_path, SWEEP))
    trial = expand_trials(sweep, baselines_registry)[0]
    state.record_failure(tmp_path, trial, {"type": "X", "message": "boom", "hint": None})
    assert state.status(tmp_path, trial) == "failed"
    (state.trial_dir(tmp_path, trial) / "result.json").write_text("{")  # torn: not done
    assert state.status(tmp_path, trial) == "failed"


def test_sweep_plan_lists_trials_without_running(tmp_path, baselines_registry, monkeypatch) -> None:
    from click.testing import CliRunner

    from harness.cli import main

    monkeypatch.setenv("SALMU_HARNESS_PLUGINS", "salmu-baselines")
    result = CliRunner().invoke(
        main, ["sweep", str(write(tmp_path, SWEEP)), "--plan", "--output", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "12 trials" in result.output and "12 pending: 12 trials to run" in result.output
    assert result.output.count("0:pending  1:pending") == 6
    assert not (tmp_path / "out").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    bad = CliRunner().invoke(
        main, ["sweep", str(write(tmp_path, SWEEP)), "--output", str(blocker / "out")]
    )
    assert bad.exit_code == 2, bad.output
    assert "Invalid value for '--output'" in bad.output
    assert f"{blocker} is a file, not a folder" in bad.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "sweep.json"]


def test_the_core_never_imports_ray() -> None:
    import subprocess
    import sys

    code = (
        "import sys, harness, harness.run.pipeline, harness.cli, harness.sweeps.spec, "
        "harness.sweeps.selection; print('ray' in sys.modules)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
        == "False"
    )


def test_sweep_is_a_dataclass_with_defaults() -> None:
    sweep = Sweep(methods={"finetune": {}})
    assert sweep.resources == {"cpus": 1, "gpus": 0} and sweep.selection["objective"] == "hmean"


@pytest.mark.slow
def test_ctrl_c_on_the_cli_keeps_finished_trials_and_a_rerun_completes_the_rest(
    mini_root, tmp_path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    small = {**SWEEP, "benchmark": str(mini_root), "benchmark_options": {}}
    small["methods"] = {"finetune": SWEEP["methods"]["finetune"]}  # 2 settings x 2 seeds
    path, out = write(tmp_path, small), tmp_path / "out"
    env = {**os.environ, "SALMU_HARNESS_PLUGINS": "salmu-baselines"}
    command = [sys.executable, "-m", "harness.cli", "sweep", str(path), "--output", str(out)]
    process = subprocess.Popen(
        [*command, "--max-concurrent", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # as from a terminal: a job started in the background (CI) inherits SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 300
    while not list(out.glob("trials/*/result.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 130, output
    assert "sweep stopped" in output and "finished trials are kept" in output
    kept = list(out.glob("trials/*/result.json"))
    assert 1 <= len(kept) < 4 and not list(out.rglob("*.tmp"))

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert (
        f"{4 - len(kept)} trials run ({4 - len(kept)} ok, 0 failed), {len(kept)} already done"
        in rerun.stdout
    )
    assert len(list(out.glob("trials/*/result.json"))) == 4
    # the rerun read the first run's references from the cache: computed once in all
    references = json.loads((out / state.REFERENCES_FILE).read_text())
    assert references["computed"] == 0 and references["read_from_cache"] > 0


def test_without_ray_the_sweep_says_how_to_install_it(monkeypatch) -> None:
    import sys

    from harness.sweeps.ray_runner import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray looks like
    with pytest.raises(HarnessError, match="not installed") as raised:
        import_ray()
    assert raised.value.hint == "pip install 'salmu-harness[ray]'"


def test_random_draws_survive_a_new_grid_value_and_duplicates_run_once(
    tmp_path, baselines_registry
) -> None:
    space = {
        "samples": 2,
        "parameters": {
            "lr": {"random": {"low": 1e-6, "high": 1e-3, "log": True}},
            "batch_size": {"grid": [16, 32]},
        },
    }
    before = settings_of(space, "0:finetune")
    space["parameters"]["batch_size"]["grid"] = [16, 32, 64]
    after = settings_of(space, "0:finetune")
    assert after[:4] == before  # earlier draws unchanged: their finished trials stay valid
    repeated = {**SWEEP, "methods": {"finetune": {"parameters": {"lr": {"grid": [1e-4, 1e-4]}}}}}
    trials = expand_trials(load_sweep(write(tmp_path, repeated)), baselines_registry)
    assert len(trials) == 2  # one setting x two seeds, not two identical settings


def test_yaml_reads_1e_minus_5_as_a_number_and_seeds_as_integers(tmp_path) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "seeds: [1.0]\nmethods:\n  finetune:\n    parameters:\n"
        "      lr: {grid: [1e-5, 3e-4]}\n      batch_size: 16\n"
    )
    sweep = load_sweep(path)
    assert sweep.methods["finetune"]["parameters"]["lr"]["grid"] == [1e-5, 3e-4]
    assert sweep.methods["finetune"]["parameters"]["batch_size"] == 16
    assert sweep.seeds == [1] and isinstance(sweep.seeds[0], int)


def test_the_objective_must_be_among_the_swept_metrics(tmp_path, baselines_registry) -> None:
    with pytest.raises(ParameterError, match=r"needs metric\(s\) 2\.1"):
        expand_trials(
            load_sweep(write(tmp_path, {**SWEEP, "metrics": ["RetFail", "1.3"]})),
            baselines_registry,
        )
    ok = load_sweep(write(tmp_path, {**SWEEP, "metrics": ["retfail", "GenKnow"]}))
    assert ok.metrics == ["retfail", "GenKnow"] and expand_trials(ok, baselines_registry)
    with pytest.raises(ParameterError, match=r"needs metric\(s\) 1\.4"):
        expand_trials(
            load_sweep(
                write(tmp_path, {**SWEEP, "metrics": ["1.1"], "selection": {"objective": "1.4"}})
            ),
            baselines_registry,
        )
    with pytest.raises(ParameterError, match=r"\['name'\].*does not match"):
        load_sweep(write(tmp_path, {**SWEEP, "name": "../elsewhere"}))


def test_a_sweep_that_cannot_be_placed_is_refused_locally() -> None:
    from harness.sweeps.ray_runner import _check_feasible

    class FakeRay:
        @staticmethod
        def cluster_resources() -> dict:
            return {"CPU": 2.0}

    with pytest.raises(HarnessError, match="asks for 1 gpus, but the Ray cluster has 2 CPUs"):
        _check_feasible(FakeRay, {"cpus": 1, "gpus": 1}, local=True)
    _check_feasible(FakeRay, {"cpus": 1, "gpus": 1}, local=False)  # a cluster may scale up
    _check_feasible(FakeRay, {"cpus": 2, "gpus": 0}, local=True)


def test_metrics_without_identities_on_the_report_side_are_skipped_not_leaked() -> None:
    document = {"metrics": {"1.4": _metric({"a": 0.0}, {"a": 0.0}, {"a": 1.0})}}
    reported = restrict(document, drop={"a"})["metrics"]["1.4"]
    assert reported["status"] == "skipped" and "value" not in reported
    assert objective(document, {"a"}, "1.4") is None  # only report identities: no score
