"""Zero-shot sets on the Hugging Face Hub: ``hf:ID[@REVISION][:SPLIT]``, e.g.
``hf:ILSVRC/imagenet-1k`` (gated: accept its terms and set ``HF_TOKEN``), loaded with
``datasets.load_dataset`` (the ``validation`` split unless another is named). Offline, a copy
already in the ``datasets`` cache loads; otherwise the error says how to get one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import datasets

from harness.benchmarks.base import GenKnowSet
from harness.errors import BenchmarkError

PREFIX = "hf:"
_SPEC = re.compile(r"^(?P<id>[\w.-]+/[\w.-]+)(@(?P<revision>[\w./-]+?))?(:(?P<split>[\w.-]+))?$")


@dataclass(frozen=True)
class HubSource:
    """A hub dataset id, its revision (None: the default branch) and split."""

    id: str
    revision: str | None
    split: str

    def __str__(self) -> str:
        return f"{PREFIX}{self.id}@{self.revision or 'main'}:{self.split}"


def parse_hub_source(text: str) -> HubSource:
    """``hf:ID[@REVISION][:SPLIT]`` as its parts."""
    match = _SPEC.match(text.removeprefix(PREFIX))
    if not match:
        raise BenchmarkError(
            f"{text!r} is not a hub dataset source",
            "write hf:OWNER/NAME, optionally with @REVISION and :SPLIT "
            "(e.g. hf:ILSVRC/imagenet-1k:validation)",
        )
    return HubSource(match["id"], match["revision"], match["split"] or "validation")


def read_hub_dataset(text: str) -> GenKnowSet:
    """The zero-shot set of a hub dataset (the actionable errors of the model pair's)."""
    from harness.benchmarks.genknow.forms import labelled_set

    source = parse_hub_source(text)
    url = f"https://huggingface.co/datasets/{source.id}"
    offline_fix = (
        f"download it where there is internet (`hf download {source.id} --repo-type dataset`) "
        "and pass the folder: --benchmark-option imagenet=PATH (its parquet files are read "
        "as they are)"
    )
    try:
        dataset = datasets.load_dataset(source.id, revision=source.revision, split=source.split)
    except datasets.exceptions.DatasetNotFoundError as exc:
        if "gated" in str(exc):
            raise BenchmarkError(
                f"the dataset {source.id} is gated and this machine has no access to it",
                f"accept its terms at {url}, then set HF_TOKEN to a token of that account "
                "(or run `hf auth login`)",
            ) from exc
        raise BenchmarkError(
            f"the dataset {source.id} was not found on the hub, or it is gated and no token "
            "was sent",
            f"check the id at {url}, accept its terms and set HF_TOKEN",
        ) from exc
    except ValueError as exc:
        if "split" in str(exc).lower():
            raise BenchmarkError(
                f"the dataset {source.id} has no split {source.split!r}: {exc}",
                f"name one of its splits: hf:{source.id}:SPLIT",
            ) from exc
        raise
    except (ConnectionError, OSError) as exc:
        raise BenchmarkError(
            f"the dataset {source.id} is not in the local datasets cache and the hub cannot "
            f"be reached ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
            offline_fix,
        ) from exc
    return labelled_set(dataset, source.id, "hub", str(source))
