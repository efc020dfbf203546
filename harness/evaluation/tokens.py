"""Token rows shared across models: a text is tokenised once per process, not once per model.

Every checkpoint of one architecture tokenises the same captions and prompts the same way, and
tokenising is a sizeable share of encoding short texts on a CPU. A ``TokenCache`` keeps each
text's token row under the tokenizer's signature (class and settings), so an engine of another
model with an equal tokenizer reuses it. Tokenizers it cannot describe are not shared.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

import torch

#: open_clip's tokenizer classes, whose settings fully describe what they produce
KNOWN_TOKENIZERS = ("open_clip.tokenizer.SimpleTokenizer", "open_clip.tokenizer.HFTokenizer")


def tokenizer_signature(tokenizer: Callable[..., torch.Tensor]) -> str | None:
    """A description of what ``tokenizer`` produces, or None when it cannot be told."""
    kind = f"{type(tokenizer).__module__}.{type(tokenizer).__qualname__}"
    if kind not in KNOWN_TOKENIZERS:
        return None
    settings: dict[str, Any] = {}
    for name, value in sorted(vars(tokenizer).items()):
        if value is None or isinstance(value, bool | int | float | str):
            settings[name] = value
        elif isinstance(value, functools.partial):
            settings[name] = [_qualified(value.func), repr(value.args), repr(value.keywords)]
        elif callable(value):
            settings[name] = _qualified(value)
    inner = getattr(tokenizer, "tokenizer", None)  # HFTokenizer: the transformers tokenizer
    if inner is not None:
        settings["name_or_path"] = str(getattr(inner, "name_or_path", type(inner).__qualname__))
    return json.dumps([kind, settings], sort_keys=True)


def _qualified(function: Any) -> str:
    name = getattr(function, "__qualname__", repr(function))
    return f"{getattr(function, '__module__', '')}.{name}"


class TokenCache:
    """Token rows by tokenizer signature and text."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, torch.Tensor]] = {}
        self.hits = 0
        self.misses = 0

    def tokenize(
        self, tokenizer: Callable[..., torch.Tensor], texts: Sequence[str]
    ) -> torch.Tensor:
        """``tokenizer(texts)``, each row computed once per signature and text."""
        signature = tokenizer_signature(tokenizer)
        if signature is None:
            return tokenizer(list(texts))
        rows = self._rows.setdefault(signature, {})
        missing = list(dict.fromkeys(t for t in texts if t not in rows))
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            rows.update(zip(missing, tokenizer(missing), strict=True))
        return torch.stack([rows[t] for t in texts])
