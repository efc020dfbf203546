"""Encoding texts without their padding: a causal text tower never looks past a text's end.

OpenCLIP's text towers pad every text to the context length, and most captions fill a fraction
of it. In a causal tower, the position the embedding is pooled from (the end-of-text token, or
the first one) attends only to positions before it, so the padding after the end contributes
nothing but compute (results record the choice as ``evaluation.text_padding``).
``ShortTextEncoder`` runs such a tower on token rows cut to a length that
depends only on the text itself (its token count rounded up to ``LENGTH_STEP``), which keeps a
text's embedding independent of the other texts encoded with it.

Only towers whose arithmetic is known are shortened: open_clip's ``CLIP`` and a
``CustomTextCLIP`` with a ``TextTransformer``, causal mask, no padding mask, no class token,
pooled at the end-of-text token or the first token, with ``encode_text`` not overridden. Before
it is trusted, the first batch is encoded both ways and must agree; otherwise every text is
encoded at full length, as the model's own ``encode_text`` does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

logger = logging.getLogger(__name__)

#: token rows are cut to a multiple of this many positions
LENGTH_STEP = 8
#: largest difference tolerated between shortened and full-length normalised embeddings, by
#: the dtype they come out in (half precisions round products of other shapes far more)
AGREEMENT = {torch.float32: 1e-4, torch.float16: 2e-2, torch.bfloat16: 5e-2}
POOLS_BEFORE_PADDING = ("argmax", "eos", "first")


def text_lengths(tokens: torch.Tensor, step: int = LENGTH_STEP) -> list[int]:
    """Per token row: its last non-padding position + 1, rounded up to ``step``, at most the
    row's length."""
    filled = tokens != 0
    last = torch.where(
        filled.any(dim=1),
        tokens.shape[1] - filled.flip(dims=[1]).int().argmax(dim=1),
        torch.ones(len(tokens), dtype=torch.long),
    )
    return [min(tokens.shape[1], -(-int(n) // step) * step) for n in last]


def _tower(model: torch.nn.Module) -> tuple[Any, str, int | None] | None:
    """The module holding the text tower's parts, its pool type and end-of-text id."""
    import open_clip
    from open_clip.transformer import TextTransformer

    method = getattr(type(model), "encode_text", None)
    if method is open_clip.model.CLIP.encode_text:
        return model, getattr(model, "text_pool_type", ""), getattr(model, "text_eos_id", None)
    if method is open_clip.model.CustomTextCLIP.encode_text:
        text: Any = getattr(model, "text", None)
        if type(text) is not TextTransformer:
            return None
        if text.cls_emb is not None or text.use_pad_mask or text.output_tokens:
            return None
        return text, text.pool_type, getattr(text, "eos_id", None)
    return None


def _is_causal(mask: Any) -> bool:
    if not isinstance(mask, torch.Tensor) or mask.dim() != 2 or mask.shape[0] != mask.shape[1]:
        return False
    above = torch.ones_like(mask, dtype=torch.bool).triu(1)
    return bool(torch.isinf(mask[above]).all()) and bool((mask[~above] == 0).all())


class ShortTextEncoder:
    """``encode(tokens)``: the model's text embeddings of token rows of one shortened length."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        found = _tower(model)
        self._tower = None
        if found is not None and found[1] in POOLS_BEFORE_PADDING:
            self._tower = found if _is_causal(found[0].attn_mask) else None
        self._checked = False

    @property
    def shortens(self) -> bool:
        """Whether texts are encoded without their padding."""
        return self._tower is not None

    def encode(self, tokens: torch.Tensor, length: int) -> torch.Tensor:
        """Embeddings of ``tokens`` (full context rows) read through their first ``length``
        positions, or through all of them when the tower cannot be shortened."""
        full: Callable[[torch.Tensor], torch.Tensor] = self.model.encode_text  # type: ignore[assignment]
        if self._tower is None or length >= tokens.shape[1]:
            return full(tokens)
        short = self._short(tokens[:, :length])
        if not self._checked:
            self._checked = True
            reference = full(tokens)
            difference = float(
                (F.normalize(short.float(), dim=-1) - F.normalize(reference.float(), dim=-1))
                .abs()
                .max()
            )
            if difference > AGREEMENT.get(reference.dtype, AGREEMENT[torch.float32]):
                logger.warning(
                    "shortened text encoding differs from the model's by %.2g; "
                    "encoding texts at full length",
                    difference,
                )
                self._tower = None
                return reference
        return short

    def _short(self, tokens: torch.Tensor) -> torch.Tensor:
        from open_clip.transformer import text_global_pool

        assert self._tower is not None
        tower, pool_type, eos_id = self._tower
        length = tokens.shape[1]
        cast_dtype = tower.transformer.get_cast_dtype()
        x = tower.token_embedding(tokens).to(cast_dtype)
        x = x + tower.positional_embedding[:length].to(cast_dtype)
        x = tower.transformer(x, attn_mask=tower.attn_mask[:length, :length])
        x = tower.ln_final(x)
        pooled = text_global_pool(x, tokens, pool_type, eos_token_id=eos_id)
        projection = tower.text_projection
        if projection is None:
            return pooled
        if isinstance(projection, torch.nn.Linear):
            return projection(pooled)
        return pooled @ projection
