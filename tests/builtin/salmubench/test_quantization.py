"""3.2 Quantization: the rounding itself, and the attack on the test SALMU-mini."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from harness.builtin.salmubench.quantization import quantize, quantized_matrices
from harness.run.checkpoints import evaluate_checkpoint
from harness.run.models import load_clip, save_local_dir
from harness.run.settings import RunOptions


def tiny_model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.LayerNorm(4))
    model.text_projection = torch.nn.Parameter(torch.randn(4, 3))
    return model


@pytest.mark.parametrize("bits", [8, 4])
def test_rounding_is_per_channel_symmetric_round_to_nearest(bits: int) -> None:
    model = tiny_model()
    quantized, count = quantize(model, bits)
    assert count == 2  # the Linear weight and the [in, out] projection
    high = 2 ** (bits - 1) - 1
    for (name, original, axis), (_, rounded, _) in zip(
        quantized_matrices(model), quantized_matrices(quantized), strict=True
    ):
        channels = original.movedim(axis, 0).flatten(1)
        levels = rounded.movedim(axis, 0).flatten(1)
        scale = channels.abs().amax(dim=1, keepdim=True) / high
        steps = levels / scale
        assert torch.allclose(steps, steps.round(), atol=1e-4), name  # on the grid
        assert steps.abs().max() <= high + 1e-4
        assert ((levels - channels).abs() <= scale / 2 + 1e-6).all(), name  # nearest level
        # each channel's largest weight is exactly representable
        assert torch.allclose(levels.abs().amax(dim=1), channels.abs().amax(dim=1))
    # norms and biases stay in float, and the original is untouched
    assert torch.equal(quantized[0].bias, model[0].bias)
    assert torch.equal(quantized[1].weight, model[1].weight)
    assert not torch.equal(quantized[0].weight, model[0].weight)
    assert quantized[0].weight.data_ptr() != model[0].weight.data_ptr()


def test_four_bits_round_coarser_than_eight() -> None:
    model = tiny_model()
    error = {
        bits: (quantize(model, bits)[0].text_projection - model.text_projection).abs().max()
        for bits in (8, 4)
    }
    assert 0 < error[8] < error[4]


def evaluate(checkpoint: Path, mini_root: Path, out: Path) -> dict:
    options = RunOptions(
        benchmark=str(mini_root),
        metrics=["3.2"],
        output_dir=out,
        show_progress=False,
        num_workers=0,
    )
    return evaluate_checkpoint(checkpoint, options).document


def test_weights_within_half_a_step_quantize_to_compromised(
    mini_root: Path, tmp_path: Path
) -> None:
    """A model that differs from Compromised's 4-bit grid by less than half a step (every
    channel's largest weight kept) is Compromised once quantized: the attack says so."""
    loaded = load_clip(mini_root / "models" / "compromised")
    grid, _ = quantize(loaded.model, 4)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for (_, matrix, axis), (_, original, _) in zip(
            quantized_matrices(grid), quantized_matrices(loaded.model), strict=True
        ):
            reduce = 1 - axis
            step = original.abs().amax(dim=reduce, keepdim=True) / 7
            noise = (torch.rand(matrix.shape, generator=generator) - 0.5) * 0.8 * step
            keep = matrix.abs() == matrix.abs().amax(dim=reduce, keepdim=True)
            matrix.add_(torch.where(keep, torch.zeros_like(noise), noise))
    checkpoint = save_local_dir(grid, loaded.config, tmp_path / "near-grid")
    document = evaluate(checkpoint, mini_root, tmp_path / "out")
    metric = document["metrics"]["3.2"]
    assert metric["status"] == "ok"
    assert metric["value"] == pytest.approx(metric["references"]["compromised"]["value"], abs=1e-9)
    assert metric["normalized"]["score"] == pytest.approx(0.0, abs=1e-6)
    assert metric["details"]["matrices"] > 0
    clean = metric["references"]["clean"]
    assert clean["value"] < metric["value"]  # the attack does not make Clean remember
