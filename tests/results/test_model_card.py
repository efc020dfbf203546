"""The model card beside a run's model: its sections, and numbers equal to the result's."""

from __future__ import annotations

import open_clip
import torch

from harness.results.model_card import USE_CONDITIONS


def test_the_card_is_beside_the_weights_and_states_the_results_numbers(finetune_outcome) -> None:
    document, folder = finetune_outcome.document, finetune_outcome.model_path
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: open_clip\n")
    assert f"base_model: {document['models']['compromised']['id']}" in card
    for section in ("## Base model", "## Method", "## Evaluation", "## Use conditions"):
        assert section in card
    assert USE_CONDITIONS in card
    assert document["models"]["compromised"]["sha256"] in card
    assert document["models"]["evaluated"]["sha256"] in card
    assert "`lr=0.0001`" in card and "`batch_size=16`" in card
    assert "Budget: 1x (forget-passes rule)" in card
    assert f"Protocol: `{document['evaluation']['protocol']['name']}`" in card
    for key, entry in document["metrics"].items():
        clean = entry["references"]["clean"]["value"]
        row = next(line for line in card.splitlines() if line.startswith(f"| {key} "))
        assert f"{entry['value']:.4f}" in row and f"{clean:.4f}" in row
    labels = [f["label"] for f in document["diagnosis"]["findings"] if f["shown"]]
    assert all(label in card for label in labels)


def test_the_folder_loads_back_with_open_clip_as_a_local_dir(finetune_outcome) -> None:
    folder = finetune_outcome.model_path
    model, _, _ = open_clip.create_model_and_transforms(f"local-dir:{folder}")
    loaded = dict(model.state_dict())
    from safetensors.torch import load_file

    saved = load_file(str(folder / "open_clip_model.safetensors"))
    assert set(saved) == set(loaded)
    assert all(torch.equal(saved[k], loaded[k]) for k in saved)
