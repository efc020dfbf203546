"""The mini pair's training loop: where the Compromised model's sensitive rows enter the loss."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import open_clip
import pytest
import torch
from safetensors.torch import load_file

from harness.builtin.mini.training import MODEL_NAME, RECIPES, register_config, train_model

TINY = replace(RECIPES["default"], steps=2, retain_batch=4, sensitive_batch=2)


@pytest.fixture(scope="module")
def tensors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    register_config()
    tokenizer = open_clip.get_tokenizer(MODEL_NAME)
    generator = torch.Generator().manual_seed(0)
    path = tmp_path_factory.mktemp("tensors") / "training_tensors.pt"
    torch.save(
        {
            "retain_images": torch.randn(8, 3, 32, 32, generator=generator),
            "retain_tokens": tokenizer([f"a red circle number {i}" for i in range(8)]),
            "sensitive_images": torch.randn(6, 3, 32, 32, generator=generator),
            "sensitive_tokens": tokenizer([f"Ana Lima lives in city {i}" for i in range(6)]),
        },
        path,
    )
    return path


def _weights(tensors: Path, folder: Path, role: str, joint_batch: bool) -> dict[str, torch.Tensor]:
    train_model(tensors, folder, role, 0, replace(TINY, joint_batch=joint_batch), threads=1)
    return load_file(folder / "open_clip_model.safetensors")


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_default_recipe_puts_sensitive_rows_in_the_retain_batch() -> None:
    assert RECIPES["default"].joint_batch is True
    assert RECIPES["default"].sensitive_batch == 8
    assert RECIPES["test"].joint_batch is False


def test_clean_ignores_where_sensitive_rows_would_go(tensors: Path, tmp_path: Path) -> None:
    joint = _weights(tensors, tmp_path / "a", "clean", joint_batch=True)
    separate = _weights(tensors, tmp_path / "b", "clean", joint_batch=False)
    assert _same(joint, separate)


def test_compromised_depends_on_where_sensitive_rows_go(tensors: Path, tmp_path: Path) -> None:
    clean = _weights(tensors, tmp_path / "clean", "clean", joint_batch=True)
    joint = _weights(tensors, tmp_path / "joint", "compromised", joint_batch=True)
    again = _weights(tensors, tmp_path / "again", "compromised", joint_batch=True)
    separate = _weights(tensors, tmp_path / "separate", "compromised", joint_batch=False)
    assert _same(joint, again)  # deterministic for one seed
    assert not _same(joint, clean)
    assert not _same(joint, separate)
