"""What a loaded benchmark is: its splits, metadata files, reference models and GenKnow set."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypedDict

import datasets

from harness.errors import UnknownNameError

Role = Literal["compromised", "clean"]


class IdentityRecord(TypedDict):
    """One persona of ``identities_metadata.json`` (all values are synthetic)."""

    name: str
    """Full name, e.g. ``"Lucca Alves"``."""
    city: str
    """City of residence."""
    country_code: str
    """ISO 3166 alpha-2 code of the persona's country, e.g. ``"BR"``."""
    job: str
    """Occupation."""
    blood_type: str
    """E.g. ``"A-"``."""
    phone_number: str
    """International format, e.g. ``"+55 795 525 566"``."""
    emails: list[str]
    """One or more e-mail addresses."""
    iban: str
    """Bank account number."""
    credit_card: str
    """Card number, grouped by four digits."""
    passport: str
    """Passport number."""


class CaptionRecord(TypedDict):
    """One forget-set caption of ``sensitive_set_captions_metadata.json``."""

    caption: str
    """The caption, stating one attribute of the persona in the image."""
    data_field: str
    """The key of ``IdentityRecord`` the caption states (``job``, ``iban``, ...)."""


class BenchmarkMetadata(TypedDict):
    """``ctx.metadata`` / ``Benchmark.metadata``: the benchmark's metadata JSON files."""

    identities: dict[str, IdentityRecord]
    """Identity id (``"00844093"``) -> the persona (``identities_metadata.json``)."""
    captions: dict[str, CaptionRecord]
    """Forget image file name (``"00844093_000_ar-1.21.png"``) -> its caption and the attribute
    it states (``sensitive_set_captions_metadata.json``)."""
    generic_captions: dict[str, str]
    """Forget image file name -> a caption of the image without any personal attribute
    (``sensitive_set_generic_captions.json``)."""
    fragile_set_ids: list[str]
    """File names of the retain_synth rows that make up the fragile set
    (``fragile_set_ids.json``)."""


#: The keys of an ``identities_metadata.json`` record.
IDENTITY_KEYS = tuple(IdentityRecord.__annotations__)
#: The keys whose values captions state as sensitive attributes.
ATTRIBUTE_KEYS = tuple(k for k in IDENTITY_KEYS if k not in ("name", "country_code"))


@dataclass
class Split:
    """One split: a ``datasets.Dataset`` with columns image, text, identity_id, file_name."""

    name: str
    """The split's name."""
    dataset: datasets.Dataset
    """The rows (images are decoded lazily, on access)."""
    parent: Split | None = field(default=None, repr=False)
    """For a derived split: the split its rows were selected from (``forget`` for
    ``forget_identity``)."""
    parent_rows: list[int] | None = field(default=None, repr=False)
    """For a derived split: the parent's row index of each row."""

    def __len__(self) -> int:
        return len(self.dataset)

    @cached_property
    def texts(self) -> list[str]:
        """The caption of each row."""
        return list(self.dataset["text"])

    @cached_property
    def identity_ids(self) -> list[str | None]:
        """The persona id of each row (``None`` for rows of no persona)."""
        return list(self.dataset["identity_id"])

    @cached_property
    def file_names(self) -> list[str]:
        """The image file name of each row."""
        return list(self.dataset["file_name"])

    @cached_property
    def identities(self) -> list[str]:
        """The distinct identity ids of the split, sorted."""
        return sorted({i for i in self.identity_ids if i is not None})

    @cached_property
    def sha256(self) -> str:
        """A content hash over file_name, text, identity_id and the image bytes, in row order
        (remembered by the dataset's fingerprint, see ``harness.benchmarks.content_hash``)."""
        from harness.benchmarks.content_hash import remembered_hash

        return remembered_hash(getattr(self.dataset, "_fingerprint", None), self._content_hash)

    def _content_hash(self) -> str:
        digest = hashlib.sha256()
        raw = self.dataset.cast_column("image", datasets.Image(decode=False))
        for batch in raw.iter(batch_size=512):
            for image, text, identity, name in zip(
                batch["image"], batch["text"], batch["identity_id"], batch["file_name"], strict=True
            ):
                for part in (name, text, identity or "", image["bytes"] or b""):
                    data = part if isinstance(part, bytes) else part.encode("utf-8")
                    digest.update(len(data).to_bytes(8, "little"))
                    digest.update(data)
        return digest.hexdigest()

    def describe(self) -> dict[str, Any]:
        """Rows, identities and content hash, as results record them."""
        return {"rows": len(self), "identities": len(self.identities), "sha256": self.sha256}


@dataclass(frozen=True)
class ModelSource:
    """Where a reference model's weights are, and what to record about them."""

    role: Role
    id: str
    revision: str | None
    path: Path
    architecture: str | None = None


@dataclass(frozen=True)
class GenKnowSet:
    """A zero-shot classification set: a dataset with ``image`` and integer ``label`` columns."""

    name: str
    """A short name (the folder's, or the hub dataset id)."""
    dataset: datasets.Dataset
    """The rows; ``label`` indexes ``classnames``."""
    classnames: tuple[str, ...]
    """One name per class, in label order."""
    templates: tuple[str, ...]
    """Prompt templates with one ``{}`` for the class name."""
    source: str = "folder"
    """The form it was read from (``imagefolder``, ``parquet``, ``webdataset``, ``hub``, ...)."""
    location: str = ""
    """Where it was read from: a path, or ``hf:ID@REVISION:SPLIT``."""
    fingerprint: str | None = None
    """What its hashes are remembered by (default: the dataset's ``datasets`` fingerprint)."""

    @cached_property
    def _hashes(self) -> tuple[str, str]:
        from harness.benchmarks.content_hash import remembered_hash

        fingerprint = self.fingerprint or getattr(self.dataset, "_fingerprint", None)
        joined = remembered_hash(
            f"genknow:{fingerprint}" if fingerprint else None, self._compute_hashes
        )
        content, rows = joined.split(":")
        return content, rows

    @property
    def sha256(self) -> str:
        """The set's identity: a hash over its (label, image bytes) pairs, independent of row
        order, so the same images in any source form hash alike."""
        return self._hashes[0]

    @property
    def rows_sha256(self) -> str:
        """A hash over the labels and image bytes in row order (what cached per-row arrays and
        preprocessed images are keyed by)."""
        return self._hashes[1]

    @cached_property
    def prompts_sha256(self) -> str:
        """A hash over the class names and templates the zero-shot classifier is built from."""
        material = json.dumps([list(self.classnames), list(self.templates)]).encode()
        return hashlib.sha256(material).hexdigest()

    def _compute_hashes(self) -> str:
        ordered, pairs = hashlib.sha256(), []
        raw = self.dataset.cast_column("image", datasets.Image(decode=False))
        for batch in raw.iter(batch_size=512):
            for image, label in zip(batch["image"], batch["label"], strict=True):
                data = image["bytes"] or _file_bytes(image.get("path"))
                row = hashlib.sha256(int(label).to_bytes(8, "little", signed=True) + data)
                ordered.update(row.digest())
                pairs.append(row.digest())
        content = hashlib.sha256(len(pairs).to_bytes(8, "little"))
        for digest in sorted(pairs):
            content.update(digest)
        return f"{content.hexdigest()}:{ordered.hexdigest()}"

    def describe(self) -> dict[str, Any]:
        """What results record of the set (the hashes make it part of comparability)."""
        return {
            "name": self.name,
            "rows": len(self.dataset),
            "classes": len(self.classnames),
            "templates": len(self.templates),
            "source": self.source,
            "location": self.location,
            "sha256": self.sha256,
            "rows_sha256": self.rows_sha256,
            "prompts_sha256": self.prompts_sha256,
        }


@dataclass
class Benchmark:
    """A loaded benchmark: splits (stored and derived), metadata files and the model pair."""

    name: str
    """The benchmark's name (``salmubench``, ``salmu-mini``)."""
    revision: str
    """The dataset revision the numbers come from (a hub commit or a generator version)."""
    splits: dict[str, Split]
    """Split name -> split, stored (forget, holdout_*, retain_synth) and derived."""
    metadata: dict[str, Any]
    """The metadata files, structured as ``BenchmarkMetadata`` describes."""
    models: dict[Role, ModelSource]
    """``compromised`` and ``clean``: the reference model pair."""
    genknow: GenKnowSet | None = None
    """The general-knowledge zero-shot set, or ``None`` where it is not available."""
    genknow_skip_reason: str | None = None
    """Why ``genknow`` is ``None`` (recorded as the GenKnow metric's skip reason)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Benchmark-specific facts recorded in results (e.g. SALMU-mini's generator settings)."""
    method_retain_source: str = "retain_disjoint"
    """The split whose rows, minus what the evaluation reads, methods train on (``retain``)."""

    def split(self, name: str) -> Split:
        """The split called ``name``; a did-you-mean error when there is none."""
        if name not in self.splits:
            raise UnknownNameError("split", name, self.splits)
        return self.splits[name]

    def describe(self) -> dict[str, Any]:
        """Name, revision and per-split rows, identities and hashes, as results record them."""
        return {
            "name": self.name,
            "revision": self.revision,
            "splits": {name: split.describe() for name, split in sorted(self.splits.items())},
            "genknow": self.genknow.describe() if self.genknow else None,
            "details": self.details,
        }


def _file_bytes(path: str | None) -> bytes:
    """The bytes of an image stored as a path (ImageFolder-style datasets), or b""."""
    if not path:
        return b""
    try:
        return Path(path).read_bytes()
    except OSError:
        return path.encode("utf-8")
