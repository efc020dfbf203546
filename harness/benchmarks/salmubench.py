"""The real SALMUBench: the gated Hugging Face model pair and evaluation dataset.

Weights come through ``huggingface_hub`` and the dataset's files through a snapshot read with
``datasets``, at pinned revisions by default. Every artefact can instead be given as a local
path, for clusters without internet. ``HF_TOKEN``, ``HF_HOME`` and ``HF_HUB_OFFLINE`` are
honoured by the hub library itself. No code from a repository is ever executed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from huggingface_hub import errors as hub_errors

from harness.benchmarks.assemble import assemble_benchmark
from harness.benchmarks.base import Benchmark, ModelSource
from harness.benchmarks.genknow import read_genknow
from harness.benchmarks.hub_layout import read_evaluation_dataset
from harness.errors import BenchmarkError

ARCHITECTURE = "ViT-B-16"
T = TypeVar("T")


@dataclass(frozen=True)
class HubArtefact:
    """A file or repository on the hub, at a pinned revision."""

    repo_id: str
    revision: str
    repo_type: str = "model"
    filename: str | None = None

    @property
    def url(self) -> str:
        """The repository's page, where its terms are accepted."""
        prefix = "datasets/" if self.repo_type == "dataset" else ""
        return f"https://huggingface.co/{prefix}{self.repo_id}"

    def download_command(self, revision: str) -> str:
        """The command that puts this artefact at ``revision`` into the hub cache."""
        kind = " --repo-type dataset" if self.repo_type == "dataset" else ""
        return f"hf download {self.repo_id} --revision {revision}{kind}"


DATASET = HubArtefact(
    "cvc-mmu/salmubench-512-redistributed", "b76aa3885a696969e51de4786c9f92e8064b4679", "dataset"
)
COMPROMISED = HubArtefact(
    "cvc-mmu/clip-vit-b-16-salmu-compromised",
    "230b1b4f7b84d1bb96927a0a47ac7a007ceba528",
    filename="open_clip_pytorch_model.bin",
)
CLEAN = HubArtefact(
    "cvc-mmu/clip-vit-b-16-salmu-clean",
    "1d3c0b01dceaf0e66b4d0abeefa3bc8a616f73f8",
    filename="open_clip_model.safetensors",
)
#: the stored splits' row counts on the dataset card (what disk needs are sized from before
#: the dataset is downloaded)
PUBLISHED_ROWS = {
    "forget": 30_468,
    "holdout_association": 14_943,
    "holdout_identity": 14_642,
    "retain_synth": 16_741,
}
#: the options of ``load_salmubench`` (``--benchmark-option KEY=VALUE``) and their help
OPTION_HELP = {
    "dataset": "a local snapshot folder of the evaluation dataset (hub layout)",
    "dataset_revision": "another revision of the evaluation dataset on the hub",
    "compromised": "a local weights file or local-dir: folder of the Compromised model",
    "compromised_revision": "another revision of the Compromised model on the hub",
    "clean": "a local weights file or local-dir: folder of the Clean model",
    "clean_revision": "another revision of the Clean model on the hub",
    "imagenet": "ImageNet-1k validation for GenKnow: an ImageFolder, save_to_disk, parquet or "
    "CLIP_benchmark webdataset folder, or hf:ID (see `salmu-harness genknow check --help`)",
}


def load_salmubench(options: Mapping[str, Any] | None = None) -> Benchmark:
    """Load SALMUBench from the hub (pinned revisions) or from the local paths in ``options``.

    Options: ``dataset`` (snapshot folder), ``compromised`` and ``clean`` (weights file or
    ``local-dir:`` folder), ``*_revision`` (override a pinned revision) and ``imagenet`` (an
    ImageNet-1k validation source for GenKnow, any form ``read_genknow`` reads; without it
    GenKnow is skipped).
    """
    options = dict(options or {})  # checked against OPTION_HELP by its BenchmarkLoader
    dataset_revision = options.get("dataset_revision", DATASET.revision)
    if options.get("dataset"):
        dataset_dir = Path(options["dataset"]).expanduser()
    else:
        dataset_dir = Path(
            _from_hub(DATASET, dataset_revision, "dataset", _download_dataset_snapshot)
        )
    stored, metadata = read_evaluation_dataset(dataset_dir)
    models = {
        role: _model_source(role, artefact, options)
        for role, artefact in (("compromised", COMPROMISED), ("clean", CLEAN))
    }
    imagenet = options.get("imagenet")
    return assemble_benchmark(
        "salmubench",
        dataset_revision if not options.get("dataset") else f"local:{dataset_dir}",
        stored,
        metadata,
        models,  # type: ignore[arg-type]
        genknow=read_genknow(imagenet) if imagenet else None,
        genknow_skip_reason=None
        if imagenet
        else ("no ImageNet-1k validation set given (--benchmark-option imagenet=SOURCE)"),
        details={"dataset_repo": DATASET.repo_id, "architecture": ARCHITECTURE},
    )


def _model_source(role: str, artefact: HubArtefact, options: Mapping[str, Any]) -> ModelSource:
    revision = options.get(f"{role}_revision", artefact.revision)
    if options.get(role):
        path = Path(str(options[role]).removeprefix("local-dir:")).expanduser()
        if not path.exists():
            raise BenchmarkError(f"{role} model path {path} does not exist")
        return ModelSource(role, f"local:{path}", None, path, ARCHITECTURE)  # type: ignore[arg-type]
    path = Path(_from_hub(artefact, revision, f"{role} model", _download_file))
    return ModelSource(role, artefact.repo_id, revision, path, ARCHITECTURE)  # type: ignore[arg-type]


def _download_dataset_snapshot(artefact: HubArtefact, revision: str) -> str:
    from huggingface_hub import snapshot_download

    return snapshot_download(
        artefact.repo_id,
        repo_type=artefact.repo_type,
        revision=revision,
        allow_patterns=["data/*.parquet", "*.json", "README.md"],
    )


def _download_file(artefact: HubArtefact, revision: str) -> str:
    from huggingface_hub import hf_hub_download

    assert artefact.filename is not None
    return hf_hub_download(
        artefact.repo_id, artefact.filename, repo_type=artefact.repo_type, revision=revision
    )


def _from_hub(
    artefact: HubArtefact, revision: str, what: str, fetch: Callable[[HubArtefact, str], T]
) -> T:
    """Run ``fetch`` and turn the hub's exceptions into one actionable message each."""
    where = f"{artefact.repo_id}@{revision}"
    url = artefact.url
    option = what.split()[0]
    try:
        return fetch(artefact, revision)
    except hub_errors.GatedRepoError as exc:
        raise BenchmarkError(
            f"the {what} {artefact.repo_id} is gated and this machine has no access to it",
            f"accept its terms at {url}, then set HF_TOKEN to a token of that account "
            "(or run `hf auth login`)",
        ) from exc
    except hub_errors.RevisionNotFoundError as exc:
        raise BenchmarkError(
            f"revision {revision!r} does not exist in {artefact.repo_id}",
            f"omit --benchmark-option {option}_revision to use the pinned one, or see {url}",
        ) from exc
    except hub_errors.RepositoryNotFoundError as exc:
        raise BenchmarkError(
            f"the {what} {artefact.repo_id} was not found, or it is gated and no token was sent",
            f"accept its terms at {url} and set HF_TOKEN",
        ) from exc
    except hub_errors.LocalEntryNotFoundError as exc:
        raise BenchmarkError(
            f"the {what} {where} is not in the local cache and the hub cannot be reached "
            "(offline, or HF_HUB_OFFLINE=1)",
            f"download it where there is internet (`{artefact.download_command(revision)}`)"
            f" into the same HF_HOME, or pass a local copy: --benchmark-option {option}=PATH",
        ) from exc
    except hub_errors.EntryNotFoundError as exc:
        raise BenchmarkError(f"{where} has no file {artefact.filename!r}: {exc}") from exc
    except hub_errors.HfHubHTTPError as exc:
        raise BenchmarkError(
            f"the hub refused the {what} {where}: {str(exc).splitlines()[0]}",
            "check HF_TOKEN and your network, or pass a local copy",
        ) from exc
    except OSError as exc:  # connection errors surface as OSError subclasses
        raise BenchmarkError(
            f"cannot download the {what} {where}: {type(exc).__name__}: {exc}",
            f"check your network, or pass a local copy: --benchmark-option {option}=PATH",
        ) from exc
