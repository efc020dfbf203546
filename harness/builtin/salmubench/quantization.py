"""3.2 Quantization: does rounding the weights bring the forgotten associations back?

Unlearning that moves weights by less than a quantization step can be undone by quantizing
the model: the rounded weights fall back on the Compromised grid. The evaluated model is
quantized weight-only, per output channel, symmetric round-to-nearest (``torch``'s
``fake_quantize_per_channel_affine``: scale = max |w| of the channel / (2^(bits-1) - 1), zero
point 0, values clamped to [-2^(bits-1), 2^(bits-1) - 1], then dequantized to float), at 8 and
4 bits. Quantized: every matrix a matmul uses (``nn.Linear`` weights, attention in-projections,
and the two embedding projections); kept in float: token, positional and patch embeddings,
norms and biases. RetFail and GenKnow are measured again on each quantized copy.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import numpy as np
import torch

from harness.builtin.salmubench.metrics import general_knowledge
from harness.builtin.salmubench.retfail import retrieval_failure
from harness.evaluation.context import EvaluationContext
from harness.metric import MetricOutcome, SkipMetric

BITS = (8, 4)
#: projections stored as [in, out] and applied as ``x @ P``: their channels are columns
PROJECTIONS = ("text_projection", "visual.proj")


def quantized_matrices(model: torch.nn.Module) -> Iterator[tuple[str, torch.Tensor, int]]:
    """(name, matrix, output-channel axis) of every matrix the quantization rounds."""
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            yield f"{name}.weight", module.weight, 0
        elif isinstance(module, torch.nn.MultiheadAttention) and module.in_proj_weight is not None:
            yield f"{name}.in_proj_weight", module.in_proj_weight, 0
    parameters = dict(model.named_parameters())
    for name in PROJECTIONS:
        if name in parameters and parameters[name].dim() == 2:
            yield name, parameters[name], 1


def quantize(model: torch.nn.Module, bits: int) -> tuple[torch.nn.Module, int]:
    """A copy of ``model`` with its matrices rounded to ``bits`` per output channel (RTN), and
    how many matrices were rounded."""
    quantized = copy.deepcopy(model).eval()
    high = 2 ** (bits - 1) - 1
    count = 0
    with torch.no_grad():
        for _, matrix, axis in quantized_matrices(quantized):
            reduce = 1 - axis
            scale = matrix.abs().amax(dim=reduce).float().clamp(min=1e-12) / high
            zero = torch.zeros_like(scale, dtype=torch.int32)
            rounded = torch.fake_quantize_per_channel_affine(
                matrix.float(), scale, zero, axis, -high - 1, high
            )
            matrix.copy_(rounded.to(matrix.dtype))
            count += 1
    return quantized, count


def quantization_attack(ctx: EvaluationContext) -> MetricOutcome:
    """3.2 Quantization: RetFail (headline: 4-bit) and GenKnow of weight-only quantized copies."""
    retfail: dict[int, np.ndarray] = {}
    genknow: dict[int, float] = {}
    rounded = 0
    genknow_skip = None
    for bits in BITS:
        model, rounded = quantize(ctx.model, bits)
        attacked = ctx.derived(model, f"int{bits}")
        retfail[bits] = np.asarray(retrieval_failure(attacked).per_row["value"], np.float64)
        try:
            genknow[bits] = general_knowledge(attacked).value
        except SkipMetric as skip:
            genknow_skip = skip.reason
    if not rounded:
        raise SkipMetric("the model has no matrix the quantization rounds")
    values = {"retfail_int8": float(retfail[8].mean())}
    values.update({f"genknow_int{bits}": value for bits, value in genknow.items()})
    details = {
        "scheme": "weight-only, per output channel, symmetric round-to-nearest",
        "bits": list(BITS),
        "matrices": rounded,
        "kept_in_float": "token, positional and patch embeddings, norms, biases",
    }
    if genknow_skip:
        details["genknow_skipped"] = genknow_skip
    return MetricOutcome(
        value=float(retfail[4].mean()),
        values=values,
        per_row={"value": retfail[4], "retfail_int8": retfail[8]},
        groups=ctx.benchmark.split("forget").identity_ids,
        details=details,
    )
