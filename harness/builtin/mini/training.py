"""Training SALMU-mini's model pair from scratch, on the CPU, with one seed and one recipe.

Both models see the *same* stream of retain batches (generic scenes + retain_synth), drawn from
generators seeded identically, with the same contrastive loss; the Compromised model alone adds
a few sensitive rows to each step's batch, in the same softmax. Images and tokens are pre-built
as tensors, so the loop never touches PIL.

The sensitive rows share the retain batch (8 beside 112), as the real Compromised model met
its sensitive pairs inside ordinary batches: a contrastive term of their own, whose only
negatives are other sensitive rows, would teach Compromised to score a portrait with another
persona's sensitive caption below Clean's level, where the real pair scores it above. The
temperature is fixed at 100, the value a trained ViT-B/16 CLIP ends at (OpenCLIP's clamp): at a
learned one the pair's zero-shot accuracy moves with the smallest weight change, which the real
model's does not. The test scale keeps a separate sensitive term and a learned temperature
(``RECIPES``). docs/benchmarks.md, "Version history", has the measurements behind each choice.
"""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, cast

import numpy as np
import open_clip
import torch

from harness.benchmarks.hub_layout import quiet_datasets
from harness.rng import dedicated_rng
from harness.run.models import create_architecture, save_local_dir
from harness.training import (
    clip_loss,
    encode_pair,
    freeze_logit_scale,
    logit_scale_of,
    make_optimizer,
    warmup_cosine,
)

MODEL_CONFIG = Path(__file__).with_name("salmu-mini-vit.json")
MODEL_NAME = "salmu-mini-vit"
TRAINING_VERSION = "6"


@dataclass(frozen=True)
class Recipe:
    """The training recipe shared by both models."""

    steps: int = 360
    retain_batch: int = 112
    sensitive_batch: int = 8
    sensitive_weight: float = 0.1  # the separate term's weight (joint_batch=False only)
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup_fraction: float = 0.1
    temperature: float | None = 100.0  # fixed exp(logit_scale); None learns it from OpenCLIP's init
    joint_batch: bool = True  # sensitive rows in the retain batch's softmax, not a separate term


# The test scale keeps a learned temperature (at 100, its 40 steps leave ACS's references
# inverted and a text-projection-only ascent does not hide the forget signal) and a separate
# sensitive term, so that its figures stay those the tests were written on.
RECIPES = {
    "default": Recipe(),
    "test": Recipe(
        steps=40, retain_batch=48, sensitive_batch=12, temperature=None, joint_batch=False
    ),
}


def model_config() -> dict[str, Any]:
    """The tiny OpenCLIP config of SALMU-mini (data, shipped as JSON)."""
    return json.loads(MODEL_CONFIG.read_text())


def register_config() -> None:
    """Make ``salmu-mini-vit`` known to open_clip by name."""
    if MODEL_NAME not in open_clip.list_models():
        open_clip.add_model_config(MODEL_CONFIG)


def build_tensors(root: Path, destination: Path) -> None:
    """Decode and preprocess every training image once; save images and tokens as tensors."""
    import datasets

    register_config()
    _, _, preprocess, _ = create_architecture(MODEL_NAME)
    tokenizer = open_clip.get_tokenizer(MODEL_NAME)
    sources = {
        "retain": sorted((root / "pretraining" / "data").glob("*.parquet"))
        + sorted((root / "training" / "data").glob("retain_synth-*.parquet")),
        "sensitive": sorted((root / "training" / "data").glob("sensitive-*.parquet")),
    }
    tensors: dict[str, torch.Tensor] = {}
    for name, files in sources.items():
        with quiet_datasets():
            data = datasets.load_dataset(
                "parquet", data_files={"train": [str(f) for f in files]}, split="train"
            )
        tensors[f"{name}_images"] = torch.stack(
            [preprocess(image.convert("RGB")) for image in data["image"]]
        )
        tensors[f"{name}_tokens"] = tokenizer(list(data["text"]))
    torch.save(tensors, destination)


def train_model(
    tensors_path: Path, destination: Path, role: str, seed: int, recipe: Recipe, threads: int
) -> dict[str, float]:
    """Train one model of the pair and save it in the ``local-dir:`` layout; returns its losses."""
    torch.set_num_threads(threads)
    register_config()
    data = torch.load(tensors_path, weights_only=True)
    torch.manual_seed(seed)
    model, _, _, _ = create_architecture(MODEL_NAME)
    if recipe.temperature is not None:
        with torch.no_grad():
            cast(torch.Tensor, model.logit_scale).fill_(math.log(recipe.temperature))
        freeze_logit_scale(model)
    model.train()
    optimizer = make_optimizer(model, recipe.lr, recipe.weight_decay)
    scheduler = warmup_cosine(optimizer, recipe.steps, recipe.warmup_fraction)
    retain_rng = dedicated_rng(seed, "mini-retain-stream")  # identical for both models
    sensitive_rng = dedicated_rng(seed, "mini-sensitive-stream")
    n_retain, n_sensitive = len(data["retain_tokens"]), len(data["sensitive_tokens"])
    losses = []
    for _ in range(recipe.steps):
        rows = retain_rng.choice(n_retain, size=min(recipe.retain_batch, n_retain), replace=False)
        extra = (
            sensitive_rng.choice(
                n_sensitive, size=min(recipe.sensitive_batch, n_sensitive), replace=False
            )
            if role == "compromised"
            else None
        )
        images, tokens = data["retain_images"][rows], data["retain_tokens"][rows]
        if extra is not None and recipe.joint_batch:
            images = torch.cat([images, data["sensitive_images"][extra]])
            tokens = torch.cat([tokens, data["sensitive_tokens"][extra]])
        image, text = encode_pair(model, images, tokens)
        loss = clip_loss(image, text, logit_scale_of(model))
        if extra is not None and not recipe.joint_batch:
            image, text = encode_pair(
                model, data["sensitive_images"][extra], data["sensitive_tokens"][extra]
            )
            loss = loss + recipe.sensitive_weight * clip_loss(image, text, logit_scale_of(model))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    save_local_dir(model.eval(), model_config(), destination)
    return {"first_loss": losses[0], "last_loss": float(np.mean(losses[-10:]))}


def train_pair(root: Path, seed: int, recipe: Recipe) -> dict[str, Any]:
    """Train Clean and Compromised into ``root/models``, in parallel when there are 2+ cores."""
    tensors = root / "training_tensors.pt"
    build_tensors(root, tensors)
    jobs = {
        role: (tensors, root / "models" / role, role, seed, recipe)
        for role in ("clean", "compromised")
    }
    cores = os.cpu_count() or 1
    threads = max(1, cores // 2)
    try:
        if cores >= 2:
            # Compromised in one worker process, Clean in this one: two processes rather than
            # three, so that peak memory stays near two copies of torch.
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                future = pool.submit(train_model, *jobs["compromised"], threads)
                previous = torch.get_num_threads()
                try:
                    losses = {"clean": train_model(*jobs["clean"], threads)}
                finally:
                    torch.set_num_threads(previous)
                losses["compromised"] = future.result()
        else:
            losses = {r: train_model(*job, 1) for r, job in jobs.items()}
    finally:
        tensors.unlink(missing_ok=True)
    return {
        "recipe": asdict(recipe),
        "seed": seed,
        "losses": losses,
        "training_version": TRAINING_VERSION,
    }
