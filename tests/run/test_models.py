"""Loading and saving OpenCLIP models, and the errors for bad weights files."""

from __future__ import annotations

from pathlib import Path

import open_clip
import pytest
import torch
from safetensors.torch import save_file

from harness.builtin.mini.training import MODEL_NAME, model_config, register_config
from harness.errors import CheckpointError
from harness.run.models import create_architecture, load_clip, save_local_dir


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[torch.nn.Module, Path]:
    register_config()
    torch.manual_seed(0)
    model, _, _, _ = create_architecture(MODEL_NAME)
    folder = save_local_dir(model, model_config(), tmp_path_factory.mktemp("m") / "tiny")
    return model.eval(), folder


def embeddings(model: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    images = torch.randn(4, 3, 32, 32)
    tokens = open_clip.get_tokenizer(MODEL_NAME)(["a red circle", "Ana Bell lives in Lyon"])
    with torch.no_grad():
        return model.encode_image(images), model.encode_text(tokens)


def test_saved_folder_reloads_through_open_clip_local_dir(tiny) -> None:
    model, folder = tiny
    assert {p.name for p in folder.iterdir()} == {
        "open_clip_config.json",
        "open_clip_model.safetensors",
    }
    reloaded, _, _ = open_clip.create_model_and_transforms(f"local-dir:{folder}")
    for a, b in zip(embeddings(model), embeddings(reloaded.eval()), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("wrap", ["plain", "state_dict", "module", "safetensors"])
def test_state_dict_files_load_bit_identically(tiny, tmp_path: Path, wrap: str) -> None:
    model, _ = tiny
    state = model.state_dict()
    path = tmp_path / ("w.safetensors" if wrap == "safetensors" else "w.pt")
    if wrap == "safetensors":
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        payload = {
            "plain": state,
            "state_dict": {"state_dict": state},
            "module": {f"module.{k}": v for k, v in state.items()},
        }[wrap]
        torch.save(payload, path)
    loaded = load_clip(path, architecture=MODEL_NAME)
    assert loaded.sha256 and loaded.weights_path == path
    for a, b in zip(embeddings(model), embeddings(loaded.model), strict=True):
        assert torch.equal(a, b)


def test_weights_of_another_architecture_name_the_keys(tiny, tmp_path: Path) -> None:
    model, _ = tiny
    path = tmp_path / "w.pt"
    torch.save(model.state_dict(), path)
    with pytest.raises(CheckpointError) as error:
        load_clip(path, architecture="ViT-B-16")
    message = error.value.message
    assert "does not match architecture ViT-B-16" in message
    assert "missing: transformer.resblocks.10" in message
    assert "positional_embedding (32, 128) != (77, 512)" in message


def test_truncated_and_pickled_files_are_refused(tiny, tmp_path: Path) -> None:
    model, folder = tiny
    truncated = tmp_path / "t.safetensors"
    truncated.write_bytes((folder / "open_clip_model.safetensors").read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_clip(truncated, architecture=MODEL_NAME)
    pickled = tmp_path / "whole.pt"
    torch.save(model, pickled)
    with pytest.raises(CheckpointError, match="not a plain state dict"):
        load_clip(pickled, architecture=MODEL_NAME)


def test_missing_paths_and_bare_files_without_architecture(tiny, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_clip(tmp_path / "nope")
    with pytest.raises(CheckpointError, match=r"without open_clip_config\.json"):
        load_clip(tmp_path)
    weights = tiny[1] / "open_clip_model.safetensors"
    with pytest.raises(CheckpointError, match="architecture must be given"):
        load_clip(weights)
