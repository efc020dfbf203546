"""Loading and saving OpenCLIP models: ``local-dir:`` folders and state-dict files.

Weights are read with safetensors or ``torch.load(weights_only=True)`` and checked key by key
against the architecture, so a file of another model, a pickled module or a truncated file ends
in a ``CheckpointError`` that says what is wrong.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import open_clip
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from harness.errors import CheckpointError
from harness.storage import file_sha256, staged_folder

CONFIG_FILE = "open_clip_config.json"
WEIGHTS_FILE = "open_clip_model.safetensors"
WEIGHTS_IN_DIR = (
    WEIGHTS_FILE,
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
)
STATE_DICT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
LOCAL_DIR = "local-dir:"


@dataclass
class LoadedModel:
    """A model with everything needed to run it and to say where it came from."""

    model: torch.nn.Module
    tokenizer: Callable[..., torch.Tensor]
    preprocess_train: Callable[..., torch.Tensor]
    preprocess_eval: Callable[..., torch.Tensor]
    architecture: str
    config: dict[str, Any]
    weights_path: Path
    sha256: str


def load_clip(source: str | os.PathLike[str], architecture: str | None = None) -> LoadedModel:
    """Load a CLIP model from a ``local-dir:`` folder or from a state-dict file.

    ``architecture`` (an OpenCLIP model name or ``local-dir:PATH`` of a config folder) is needed
    for a bare state-dict file; a folder carries its own ``open_clip_config.json``.
    """
    path = Path(str(source).removeprefix(LOCAL_DIR)).expanduser()
    if path.is_dir():
        if not (path / CONFIG_FILE).is_file():
            raise CheckpointError(
                f"{path} is a folder without {CONFIG_FILE}",
                "give a saved model folder (open_clip local-dir: layout) or a weights file",
            )
        architecture = f"{LOCAL_DIR}{path}"
        weights = next((path / n for n in WEIGHTS_IN_DIR if (path / n).is_file()), None)
        if weights is None:
            raise CheckpointError(f"{path} holds no weights file (expected {WEIGHTS_FILE})")
    elif path.is_file():
        if path.suffix not in STATE_DICT_SUFFIXES:
            raise CheckpointError(
                f"{path}: unsupported weights file type {path.suffix!r}",
                f"use one of {', '.join(STATE_DICT_SUFFIXES)} or a local-dir: folder",
            )
        if architecture is None:
            raise CheckpointError(f"{path} is a bare state dict: its architecture must be given")
        weights = path
    else:
        raise CheckpointError(f"model path {path} does not exist")
    model, preprocess_train, preprocess_eval, config = create_architecture(architecture)
    state_dict = read_state_dict(weights)
    load_checked(model, state_dict, weights, architecture)
    model.eval()
    return LoadedModel(
        model=model,
        tokenizer=open_clip.get_tokenizer(architecture),
        preprocess_train=preprocess_train,
        preprocess_eval=preprocess_eval,
        architecture=architecture,
        config=config,
        weights_path=weights,
        sha256=file_sha256(weights),
    )


def create_architecture(architecture: str) -> tuple[torch.nn.Module, Any, Any, dict[str, Any]]:
    """A randomly initialised model of this architecture, its transforms and its config."""
    try:
        with _quiet_open_clip():
            model, train, evaluate = open_clip.create_model_and_transforms(
                architecture, pretrained=None, load_weights=False
            )
    except (RuntimeError, ValueError, FileNotFoundError, KeyError) as exc:
        raise CheckpointError(f"cannot build architecture {architecture!r}: {exc}") from exc
    config = open_clip.get_model_config(architecture) or {}
    return model, train, evaluate, dict(config)


@contextlib.contextmanager
def _quiet_open_clip() -> Iterator[None]:
    """Hide open_clip's root-logger warning that a skeleton is "initialized randomly"."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, unwrapped from ``{"state_dict": ...}`` and ``module.``."""
    try:
        if path.suffix == ".safetensors":
            checkpoint: Any = load_file(str(path))
        else:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (SafetensorError, OSError, RuntimeError, EOFError, ValueError) as exc:
        raise CheckpointError(
            f"{path} is corrupt or truncated: {str(exc).splitlines()[0]}",
            "download or copy the file again and compare its sha256",
        ) from exc
    except Exception as exc:  # pickle.UnpicklingError for a pickled module, among others
        raise CheckpointError(
            f"{path} is not a plain state dict ({type(exc).__name__}): "
            f"{str(exc).splitlines()[0] if str(exc) else ''}",
            "save model.state_dict(), not the model object; pickled code is never executed",
        ) from exc
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict):
        checkpoint = checkpoint["state_dict"]
    if not isinstance(checkpoint, dict) or not all(
        isinstance(v, torch.Tensor) for v in checkpoint.values()
    ):
        raise CheckpointError(f"{path} does not hold a state dict of tensors")
    if checkpoint and all(k.startswith("module.") for k in checkpoint):
        checkpoint = {k.removeprefix("module."): v for k, v in checkpoint.items()}
    return checkpoint


def load_checked(
    model: torch.nn.Module, state_dict: dict[str, torch.Tensor], path: Path, architecture: str
) -> None:
    """Load ``state_dict`` into ``model``, naming any missing, unexpected or mis-shaped keys."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mis_shaped = sorted(
        f"{k} {tuple(state_dict[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state_dict and state_dict[k].shape != v.shape
    )
    problems = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape", mis_shaped)):
        if keys:
            shown = ", ".join(keys[:5]) + (f" (+{len(keys) - 5} more)" if len(keys) > 5 else "")
            problems.append(f"{label}: {shown}")
    if problems:
        raise CheckpointError(
            f"{path} does not match architecture {architecture}: " + "; ".join(problems),
            "check that the weights belong to this model (the benchmark's architecture)",
        )
    model.load_state_dict(state_dict, strict=True)


def save_local_dir(
    model: torch.nn.Module,
    config: dict[str, Any],
    destination: Path,
    extra_files: Mapping[str, str] | None = None,
) -> Path:
    """Save ``model`` as an OpenCLIP ``local-dir:`` folder, atomically (temp folder + rename),
    with ``extra_files`` (name -> text) beside the weights."""
    with staged_folder(Path(destination)) as staging:
        for name, text in (extra_files or {}).items():
            (staging / name).write_text(text)
        visual = getattr(model, "visual", None)
        preprocess = {
            "mean": list(getattr(visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN),
            "std": list(getattr(visual, "image_std", None) or open_clip.OPENAI_DATASET_STD),
        }
        (staging / CONFIG_FILE).write_text(
            json.dumps(
                {"model_cfg": config, "preprocess_cfg": preprocess}, indent=2, sort_keys=True
            )
        )
        tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(tensors, str(staging / WEIGHTS_FILE))
    return destination


def parameter_shapes(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in the model's state dict: its architecture, in effect."""
    return {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}


def differing_tensors(
    expected: dict[str, tuple[int, ...]], actual: dict[str, tuple[int, ...]]
) -> list[str]:
    """Names present in only one of two ``parameter_shapes`` maps or shaped differently."""
    return sorted(set(expected) ^ set(actual)) + sorted(
        k for k in expected if k in actual and expected[k] != actual[k]
    )


def assert_same_architecture(
    expected: dict[str, tuple[int, ...]], candidate: torch.nn.Module
) -> None:
    """Raise ``CheckpointError`` unless ``candidate`` has exactly the ``expected`` shapes."""
    differing = differing_tensors(expected, parameter_shapes(candidate))
    if differing:
        raise CheckpointError(
            "the method returned a model of another architecture; differing parameters: "
            + ", ".join(differing[:5])
        )
