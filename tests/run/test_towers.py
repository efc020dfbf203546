"""Combining one model's image tower with another's text tower."""

from __future__ import annotations

import json
from pathlib import Path

import open_clip
import pytest
import torch
from click.testing import CliRunner

from harness.builtin.mini.training import MODEL_NAME, model_config, register_config
from harness.cli import main
from harness.errors import CheckpointError
from harness.run.models import create_architecture, load_clip, save_local_dir
from harness.run.towers import combine_towers
from harness.storage import file_sha256


def tiny(folder: Path, seed: int) -> Path:
    register_config()
    torch.manual_seed(seed)
    model, _, _, _ = create_architecture(MODEL_NAME)
    return save_local_dir(model, model_config(), folder)


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("towers")
    return tiny(root / "a", seed=0), tiny(root / "b", seed=1)


def embed(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    model = load_clip(folder).model
    torch.manual_seed(2)
    images = torch.randn(3, 3, 32, 32)
    tokens = open_clip.get_tokenizer(MODEL_NAME)(["a red circle", "Ana Bell lives in Lyon"])
    with torch.no_grad():
        return model.encode_image(images), model.encode_text(tokens)


def test_image_tower_from_one_model_everything_else_from_the_other(pair, tmp_path) -> None:
    a, b = pair
    out = combine_towers(a, b, tmp_path / "ab")
    images, texts = embed(out)
    assert torch.equal(images, embed(a)[0])
    assert torch.equal(texts, embed(b)[1])
    assert not torch.equal(images, embed(b)[0])
    state = load_clip(out).model.state_dict()
    from_b = load_clip(b).model.state_dict()
    text_side = [k for k in state if not k.startswith("visual.")]
    assert "logit_scale" in text_side and "token_embedding.weight" in text_side
    assert all(torch.equal(state[k], from_b[k]) for k in text_side)


def test_provenance_names_both_sources_and_their_hashes(pair, tmp_path) -> None:
    a, b = pair
    out = combine_towers(a, b, tmp_path / "ab")
    provenance = json.loads((out / "towers.json").read_text())
    assert provenance["image_tower"]["source"] == str(a)
    assert provenance["image_tower"]["sha256"] == file_sha256(a / "open_clip_model.safetensors")
    assert provenance["text_tower"]["sha256"] == file_sha256(b / "open_clip_model.safetensors")


def test_models_of_two_architectures_are_refused_and_nothing_is_written(pair, tmp_path) -> None:
    a, _ = pair
    wider = dict(model_config(), embed_dim=64)
    model = open_clip.CLIP(**wider)
    other = save_local_dir(model, wider, tmp_path / "wider")
    with pytest.raises(CheckpointError, match=r"different architectures.*text_projection"):
        combine_towers(a, other, tmp_path / "mixed")
    assert not (tmp_path / "mixed").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["wider"]


def test_an_existing_output_folder_is_never_overwritten(pair, tmp_path) -> None:
    a, b = pair
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="already exists"):
        combine_towers(a, b, tmp_path / "taken")
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"


def test_command_writes_the_folder_and_fails_cleanly_on_a_missing_model(pair, tmp_path) -> None:
    a, b = pair
    result = CliRunner().invoke(
        main, ["combine-towers", "--image", str(a), "--text", str(b), str(tmp_path / "ab")]
    )
    assert result.exit_code == 0, result.output
    assert f"image tower from {a}" in result.output
    assert torch.equal(embed(tmp_path / "ab")[1], embed(b)[1])
    result = CliRunner().invoke(
        main,
        [
            "combine-towers",
            "--image",
            str(tmp_path / "nope"),
            "--text",
            str(b),
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x").exists()
