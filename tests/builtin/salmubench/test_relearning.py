"""3.1 and 3.4, relearning attacks: on a model that only masks the forget signal in its final
text projection, a few steps of relearning bring it back; on Clean they do not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from harness import training
from harness.benchmarks.local import load_local_benchmark
from harness.builtin.salmubench.relearning import PUBLIC_FIELDS, identity_halves
from harness.metric import SkipMetric
from harness.run.checkpoints import evaluate_checkpoint
from harness.run.models import load_clip, save_local_dir
from harness.run.settings import RunOptions


def test_identity_halves_are_seeded_disjoint_and_cover_forget() -> None:
    identities = [f"id{i}" for i in range(11)]
    attack, evaluation = identity_halves(identities, seed=42)
    assert attack | evaluation == set(identities) and not attack & evaluation
    assert len(attack) == 5 and len(evaluation) == 6
    assert identity_halves(list(reversed(identities)), seed=42) == (attack, evaluation)
    assert identity_halves(identities, seed=7) != (attack, evaluation)
    with pytest.raises(SkipMetric, match="two forget identities"):
        identity_halves(["only"], seed=0)


@pytest.fixture(scope="module")
def masked_model(mini_root: Path, tmp_path_factory) -> Path:
    """Compromised with only its text projection moved by gradient ascent on the forget pairs:
    the rest of the network still holds the associations."""
    forget = load_local_benchmark(mini_root).split("forget")
    loaded = load_clip(mini_root / "models" / "compromised")
    model = loaded.model
    images = torch.stack(
        [loaded.preprocess_eval(r["image"].convert("RGB")) for r in forget.dataset]
    )
    tokens = loaded.tokenizer(forget.texts)
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name == "text_projection")
    optimizer = torch.optim.SGD([model.text_projection], lr=0.05)
    model.train()
    for _ in range(10):
        image, text = training.encode_pair(model, images, tokens)
        loss = -training.clip_loss(image, text, training.logit_scale_of(model))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return save_local_dir(model.eval(), loaded.config, tmp_path_factory.mktemp("masked") / "m")


def evaluate(checkpoint: Path, mini_root: Path, out: Path, image_cache: bool = True) -> dict:
    options = RunOptions(
        image_cache=image_cache,
        benchmark=str(mini_root),
        metrics=["1.1", "3.1", "3.4"],
        output_dir=out,
        show_progress=False,
        num_workers=0,
        rules={"min_gap_closed": 0.4},  # the masked model closes about half the test gap
    )
    return evaluate_checkpoint(checkpoint, options).document


def test_relearning_restores_a_masked_model_and_not_clean(
    masked_model: Path, mini_root: Path, tmp_path: Path
) -> None:
    document = evaluate(masked_model, mini_root, tmp_path)
    retfail, relearn = document["metrics"]["1.1"], document["metrics"]["3.1"]
    assert retfail["normalized"]["score"] >= 0.4  # the mask hides the signal
    # relearning on the attack half brings the evaluation half back to Compromised's level
    assert relearn["values"]["retfail_before"] < relearn["value"]
    assert relearn["normalized"]["score"] < 0.2
    assert relearn["values"]["assocstr"] > relearn["values"]["assocstr_before"]
    clean, compromised = relearn["references"]["clean"], relearn["references"]["compromised"]
    # what an attacker teaches Clean about the attack half does not carry to the other half
    assert clean["value"] - clean["values"]["retfail_before"] < 0.003
    assert compromised["value"] > 5 * clean["value"]
    finding = next(
        f for f in document["diagnosis"]["findings"] if f["mode"] == "shallow_forgetting"
    )
    assert finding["shown"] is True
    assert finding["evidence"]["reopened"]["Relearn"] > 0.8
    # the attack trained a copy: before it, the evaluation half scores what 1.1 measured
    forget = load_local_benchmark(mini_root).split("forget")
    measured = set(relearn["per_identity"])
    assert measured < set(retfail["per_identity"])
    assert len(measured) == relearn["details"]["evaluation_identities"]
    rows = [i for i, identity in enumerate(forget.identity_ids) if identity in measured]
    before = np.asarray(retfail["per_row"]["value"])[rows].mean()
    # per-row values are stored rounded
    assert relearn["values"]["retfail_before"] == pytest.approx(before, abs=1e-6)
    assert len(relearn["per_row"]["value"]) == len(rows)
    attack = relearn["details"]["attack"]
    assert attack["steps"] >= 1 and attack["samples"] == attack["steps"] * attack["batch_size"]
    assert attack["attack_rows"] + len(rows) == len(forget.identity_ids)


def test_attribute_relearning_measures_only_private_attributes(
    masked_model: Path, mini_root: Path, tmp_path: Path
) -> None:
    metric = evaluate(masked_model, mini_root, tmp_path)["metrics"]["3.4"]
    assert metric["status"] == "ok"
    details = metric["details"]
    assert details["attack_fields"] == list(PUBLIC_FIELDS)
    assert not set(details["measured_fields"]) & set(PUBLIC_FIELDS)
    forget_rows = load_local_benchmark(mini_root).split("forget").dataset.num_rows
    assert details["measured_rows"] + details["attack"]["attack_rows"] == forget_rows
    assert metric["value"] > metric["values"]["retfail_before"]


def test_the_attack_reads_cached_pixels_with_the_decoded_values(
    masked_model: Path, mini_root: Path, tmp_path: Path
) -> None:
    """The attack's images come from the evaluation image cache when it is on: the same
    pixels as decoding each image, so the same attack and the same values."""
    cached = evaluate(masked_model, mini_root, tmp_path / "cached")["metrics"]
    decoded = evaluate(masked_model, mini_root, tmp_path / "decoded", image_cache=False)["metrics"]
    for key in ("3.1", "3.4"):
        assert cached[key]["value"] == decoded[key]["value"]
        assert cached[key]["details"]["attack"] == decoded[key]["details"]["attack"]
        assert cached[key]["references"] == decoded[key]["references"]
