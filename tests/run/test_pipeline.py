"""The run pipeline on the test-scale SALMU-mini: results, saved models, early failures."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import open_clip
import pytest
import torch

from harness import Method
from harness.errors import NonFiniteModelError, ParameterError, UnknownNameError
from harness.results.validation import validate_file
from harness.run.checkpoints import evaluate_checkpoint
from harness.run.pipeline import run_method
from harness.run.settings import RunOptions


def options(mini_root: Path, tmp_path: Path, **kwargs) -> RunOptions:
    return RunOptions(
        benchmark=str(mini_root), output_dir=tmp_path, show_progress=False, num_workers=0, **kwargs
    )


def test_run_records_provenance_budget_and_every_metric(finetune_outcome, mini_benchmark) -> None:
    document = finetune_outcome.document
    assert document["status"] == "ok" and document["kind"] == "run"
    assert document["method"]["name"] == "finetune"
    assert document["method"]["parameters"] == {
        "lr": 1e-4,
        "batch_size": 16,
        "weight_decay": 0.0,
        "max_grad_norm": 1.0,
    }
    assert document["method"]["distribution"] == "salmu-baselines"
    assert sorted(document["metrics"]) == [
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "1.5",
        "2.1",
        "2.2",
        "2.3",
        "2.4",
        "2.5",
    ]
    forget_rows = len(mini_benchmark.split("forget"))
    budget = document["budget"]
    assert budget["limit_samples"] == forget_rows  # budget 1x
    assert budget["samples_read"] == {"retain": budget["optimizer_steps"] * 16}
    assert budget["used_samples"] <= forget_rows
    assert (
        document["benchmark"]["splits"]["forget"]["sha256"] == mini_benchmark.split("forget").sha256
    )
    assert document["models"]["evaluated"]["sha256"] != document["models"]["compromised"]["sha256"]
    for metric in document["metrics"].values():
        assert metric["status"] == "ok"
        assert metric["references"]["clean"]["status"] == "ok"
        assert metric["ci"]["value"][0] <= metric["value"] <= metric["ci"]["value"][1]


def test_saved_model_reloads_with_the_same_embeddings(finetune_outcome, tmp_path: Path) -> None:
    folder = finetune_outcome.model_path
    model, _, _ = open_clip.create_model_and_transforms(f"local-dir:{folder}")
    tokenizer = open_clip.get_tokenizer(f"local-dir:{folder}")
    from harness.run.models import load_clip

    ours = load_clip(folder)
    images = torch.randn(3, 3, 32, 32)
    tokens = tokenizer(["Ana lives in Lyon", "a red circle"])
    with torch.no_grad():
        assert torch.equal(model.eval().encode_image(images), ours.model.encode_image(images))
        assert torch.equal(model.encode_text(tokens), ours.model.encode_text(tokens))


def test_evaluating_the_saved_model_reproduces_the_run(
    finetune_outcome, mini_root: Path, tmp_path: Path
) -> None:
    outcome = evaluate_checkpoint(finetune_outcome.model_path, options(mini_root, tmp_path))
    assert validate_file(outcome.result_path) == []
    for key, metric in finetune_outcome.document["metrics"].items():
        assert outcome.document["metrics"][key]["value"] == pytest.approx(metric["value"], abs=1e-6)
    assert outcome.document["evaluation"]["reference_cache"] == {"hits": 20, "misses": 0}


def test_bad_parameters_fail_before_any_loading(
    baselines_registry, tmp_path: Path, monkeypatch
) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("the benchmark was loaded")

    monkeypatch.setattr("harness.run.plan.load_benchmark", forbidden)
    monkeypatch.setattr("harness.run.unlearning.load_clip", forbidden)
    monkeypatch.setattr("harness.run.sections.load_clip", forbidden)
    monkeypatch.setattr("harness.run.kernel.load_clip", forbidden)
    for overrides in ({"nope": 1}, {"lr": "x"}, {"lr": -1.0}):
        with pytest.raises(ParameterError):
            run_method("finetune", overrides, options(tmp_path, tmp_path), baselines_registry)
    with pytest.raises(UnknownNameError, match="did you mean 'finetune'"):
        run_method("finetun", {}, options(tmp_path, tmp_path), baselines_registry)
    for schedule, error in (("scaled-2", ParameterError), ("sequentail-4", UnknownNameError)):
        with pytest.raises(error):
            run_method(
                "finetune", {}, options(tmp_path, tmp_path, schedule=schedule), baselines_registry
            )
    with pytest.raises(ParameterError):
        scheduled = options(tmp_path, tmp_path, schedule="scaled-0.5")
        run_method("finetune", {"lr": -1.0}, scheduled, baselines_registry)
    with pytest.raises(UnknownNameError, match="unknown metric"):
        run_method("finetune", {}, options(tmp_path, tmp_path, metrics=["9.9"]), baselines_registry)
    with pytest.raises(ParameterError, match="there is no diagnosis rule 'typo'"):
        run_method(
            "finetune", {}, options(tmp_path, tmp_path, rules={"typo": 1}), baselines_registry
        )
    with pytest.raises(UnknownNameError, match="unknown protocol 'oficial'"):
        run_method(
            "finetune", {}, options(tmp_path, tmp_path, protocol="oficial"), baselines_registry
        )
    with pytest.raises(ParameterError, match="needs a CUDA device"):
        run_method(
            "finetune",
            {},
            options(tmp_path, tmp_path, precision="bf16", device="cpu"),
            baselines_registry,
        )
    assert list(tmp_path.iterdir()) == []


def test_nan_model_is_refused_with_a_failed_result_and_no_model(
    mini_root: Path, baselines_registry, tmp_path: Path
) -> None:
    def poison(ctx, params):
        with torch.no_grad():
            next(ctx.model.parameters()).fill_(float("nan"))
        return ctx.model

    record = baselines_registry.plugin_of("method", "finetune")
    registry = copy.copy(baselines_registry)
    registry.methods = {
        **baselines_registry.methods,
        "poison": (Method(name="poison", description="NaN.", version="1", unlearn=poison), record),
    }
    with pytest.raises(NonFiniteModelError, match="has NaN or infinite weights"):
        run_method("poison", {}, options(mini_root, tmp_path, metrics=["1.2"]), registry)
    (run_dir,) = tmp_path.iterdir()
    assert not (run_dir / "model").exists()
    document = json.loads((run_dir / "result.json").read_text())
    assert document["status"] == "failed" and document["error"]["type"] == "NonFiniteModelError"
    assert validate_file(run_dir / "result.json") == []


def test_compile_is_opt_in_and_reaches_the_training_loop(
    mini_root: Path, baselines_registry, tmp_path: Path, monkeypatch
) -> None:
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda model: compiled.append(model) or model)
    outcome = run_method(
        "finetune",
        {"batch_size": 16},
        options(mini_root, tmp_path / "a", budget=0.5, metrics=["1.2"]),
        baselines_registry,
    )
    assert compiled == [] and outcome.document["config"]["compile"] is False
    outcome = run_method(
        "finetune",
        {"batch_size": 16},
        options(mini_root, tmp_path / "b", budget=0.5, metrics=["1.2"], compile=True),
        baselines_registry,
    )
    assert outcome.document["config"]["compile"] is True
    # the training loop's model, then the evaluated model's image encoder
    assert isinstance(compiled[0], torch.nn.Module)
    assert [getattr(c, "__name__", None) for c in compiled[1:]] == ["encode_image"]


def test_results_and_models_record_the_protocol_and_the_isolation(finetune_outcome) -> None:
    document = finetune_outcome.document
    assert document["evaluation"]["protocol"]["name"] == "official"
    assert document["config"]["protocol"] == "official"
    assert document["evaluation"]["retain_isolation"]["status"] == "guaranteed"
    record = json.loads((finetune_outcome.model_path / "salmu_training.json").read_text())
    assert record["protocol"] == document["evaluation"]["protocol"]
    assert record["evaluation_seed"] == 42
    assert record["retain"] == document["benchmark"]["splits"]["retain"]
    rows = document["benchmark"]["splits"]["retain"]["rows"]
    assert f": {rows} of " in document["benchmark"]["details"]["method_retain_split"]


def test_evaluate_says_whether_the_gallery_was_withheld_from_the_method(
    finetune_outcome, mini_root: Path, tmp_path: Path
) -> None:
    from harness.evaluation.settings import EvaluationSettings
    from harness.reports.result_text import render

    model = finetune_outcome.model_path
    same = evaluate_checkpoint(model, options(mini_root, tmp_path))
    assert same.document["evaluation"]["retain_isolation"]["status"] == "guaranteed"
    other = evaluate_checkpoint(
        model, options(mini_root, tmp_path, evaluation=EvaluationSettings(seed=7))
    )
    isolation = other.document["evaluation"]["retain_isolation"]
    assert isolation["status"] == "overlap" and isolation["overlapping_captions"] > 0
    assert isolation["trained_with"]["evaluation_seed"] == 42
    assert "warning: retain isolation overlap" in render(other.document)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    for name in ("open_clip_config.json", "open_clip_model.safetensors"):
        (foreign / name).write_bytes((model / name).read_bytes())
    unknown = evaluate_checkpoint(foreign, options(mini_root, tmp_path))
    assert unknown.document["evaluation"]["retain_isolation"]["status"] == "unknown"
    assert "no training record" in render(unknown.document)
    # the same weights give the same numbers, whatever is known of their training
    assert unknown.document["metrics"]["1.1"]["value"] == same.document["metrics"]["1.1"]["value"]


def test_the_protocol_changes_the_numbers_and_is_recorded(
    finetune_outcome, mini_root: Path, tmp_path: Path
) -> None:
    model = finetune_outcome.model_path
    harness_protocol = evaluate_checkpoint(
        model, options(mini_root, tmp_path, protocol="salmu-harness")
    ).document
    assert harness_protocol["evaluation"]["protocol"]["version"] == "2"
    details = harness_protocol["metrics"]["1.3"]["details"]
    assert details["protocol"].startswith("out-of-fold over GroupKFold")
    official = finetune_outcome.document
    assert official["metrics"]["1.3"]["details"]["protocol"].startswith("stratified 50/50")
    assert harness_protocol["metrics"]["1.2"]["value"] == official["metrics"]["1.2"]["value"]
    with pytest.raises(UnknownNameError, match="did you mean 'official'"):
        evaluate_checkpoint(model, options(mini_root, tmp_path, protocol="oficial"))
