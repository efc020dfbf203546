"""Checks of the Hugging Face side of SALMUBench: the token, and each gated repository's access
at its pinned revision, read from one file's metadata (nothing is downloaded).

Offline (``HF_HUB_OFFLINE=1``) is a way of working, not a failure: an artefact is then ready
when a local copy is given or the hub cache already holds it at the pinned revision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import errors as hub_errors

from harness.benchmarks.salmubench import CLEAN, COMPROMISED, DATASET, HubArtefact
from harness.doctor.record import Check

#: benchmark option -> (artefact, a file whose metadata proves access to it)
ARTEFACTS: dict[str, tuple[HubArtefact, str]] = {
    "dataset": (DATASET, "identities_metadata.json"),
    "compromised": (COMPROMISED, COMPROMISED.filename or ""),
    "clean": (CLEAN, CLEAN.filename or ""),
}
TIMEOUT_SECONDS = 5.0
#: reads one file's metadata: (repo_id, filename, repo_type, revision, token) -> size in bytes
MetadataReader = Callable[[str, str, str, str, "str | None"], "int | None"]
#: finds a file in the local hub cache: (repo_id, filename, repo_type, revision) -> path or None
CacheLookup = Callable[[str, str, str, str], "str | None"]


def token_check(token: str | None, all_here: bool, offline: bool) -> Check:
    """A Hugging Face token, needed for the gated repositories unless every artefact is local."""
    if token:
        return Check("hub", "token", "ok", f"a token is set (hf_...{token[-4:]})")
    if all_here:
        return Check(
            "hub",
            "token",
            "ok",
            "none set; not needed: every artefact is here (a local copy or in the hub cache)",
        )
    if offline:
        return Check(
            "hub",
            "token",
            "warning",
            "none set (offline: only the local hub cache is read)",
            "to download later: accept the terms of the three repositories, then set HF_TOKEN "
            "or run `hf auth login`",
        )
    return Check(
        "hub",
        "token",
        "problem",
        "no Hugging Face token: the models and the dataset are gated",
        f"accept the terms at {DATASET.url} and both model pages, then set HF_TOKEN or "
        "run `hf auth login`",
    )


def artefact_check(
    option: str,
    artefact: HubArtefact,
    filename: str,
    revision: str,
    *,
    local: str | None,
    offline: bool,
    token: str | None,
    read_metadata: MetadataReader,
    in_cache: CacheLookup,
) -> Check:
    """Whether one artefact (a model or the dataset) can be had at its revision."""
    name = (
        f"{option} ({artefact.repo_id})" if option != "dataset" else f"dataset ({artefact.repo_id})"
    )
    where = f"{artefact.repo_id}@{revision[:12]}"
    if local:
        # the loader reads ``local-dir:`` folders for the models only
        path = Path(str(local) if option == "dataset" else str(local).removeprefix("local-dir:"))
        path = path.expanduser()
        if path.exists():
            return Check("hub", name, "ok", f"local copy: {path}")
        return Check(
            "hub",
            name,
            "problem",
            f"the local copy {path} does not exist",
            f"fix --benchmark-option {option}=PATH",
        )
    if in_cache(artefact.repo_id, filename, artefact.repo_type, revision):
        # the loader reads a pinned revision from the cache without asking the hub
        found = f"in the local hub cache at {revision[:12]}"
        return Check("hub", name, "ok", f"offline; {found}" if offline else found)
    if offline:
        return Check(
            "hub",
            name,
            "problem",
            f"offline (HF_HUB_OFFLINE) and {where} is not in the local hub cache",
            f"download it where there is internet (`{artefact.download_command(revision)}`) "
            f"into the same HF_HOME, or give a local copy: --benchmark-option {option}=PATH",
        )
    try:
        size = read_metadata(artefact.repo_id, filename, artefact.repo_type, revision, token)
    except hub_errors.GatedRepoError:
        if not token:
            return Check(
                "hub",
                name,
                "problem",
                f"gated, and no token was sent for {artefact.repo_id}",
                f"accept the terms at {artefact.url}, then set HF_TOKEN or run `hf auth login`",
            )
        return Check(
            "hub",
            name,
            "problem",
            f"gated: this token's account has no access to {artefact.repo_id}",
            f"accept the terms at {artefact.url} with the account the token belongs to",
        )
    except hub_errors.RevisionNotFoundError:
        return Check(
            "hub",
            name,
            "problem",
            f"revision {revision} does not exist in {artefact.repo_id}",
            f"omit --benchmark-option {option}_revision to use the pinned one",
        )
    except hub_errors.RepositoryNotFoundError:
        return Check(
            "hub",
            name,
            "problem",
            f"{artefact.repo_id} not found, or gated and the token was refused",
            f"check HF_TOKEN, and accept the terms at {artefact.url}",
        )
    except hub_errors.EntryNotFoundError:
        return Check(
            "hub",
            name,
            "problem",
            f"{where} has no file {filename!r}",
            "report this: the pinned revision should hold it",
        )
    except hub_errors.HfHubHTTPError as exc:
        return Check(
            "hub",
            name,
            "problem",
            f"the hub refused {where}: {str(exc).splitlines()[0]}",
            "check HF_TOKEN and your network",
        )
    except Exception as exc:  # connection errors come from the HTTP library, not as OSError
        return Check(
            "hub",
            name,
            "problem",
            f"the hub cannot be reached ({type(exc).__name__}: {exc})",
            "check your network or proxy; or work offline: HF_HUB_OFFLINE=1 with local copies "
            f"(--benchmark-option {option}=PATH)",
        )
    shown = f", {size / 2**20:,.0f} MiB" if size and option != "dataset" else ""
    return Check("hub", name, "ok", f"access granted at {revision[:12]}{shown}")


@dataclass
class HubFindings:
    """The hub rows, and what a run would still download (bytes by option, ``None`` when
    unknown); artefacts given locally or already in the hub cache are left out."""

    checks: list[Check]
    offline: bool
    token: str | None
    downloads: dict[str, int | None] = field(default_factory=dict)


def hub_checks(
    options: Mapping[str, Any],
    *,
    token: str | None = None,
    offline: bool | None = None,
    read_metadata: MetadataReader | None = None,
    in_cache: CacheLookup | None = None,
) -> HubFindings:
    """The token, then the dataset and both models (checked at once, each with a timeout)."""
    import huggingface_hub

    token = token if token is not None else huggingface_hub.get_token()
    offline = offline if offline is not None else _offline_mode()
    reader = read_metadata or _read_metadata
    in_cache = in_cache or _in_cache

    def revision_of(option: str) -> str:
        return str(options.get(f"{option}_revision") or ARTEFACTS[option][0].revision)

    here = {
        option
        for option, (artefact, filename) in ARTEFACTS.items()
        if options.get(option)
        or in_cache(artefact.repo_id, filename, artefact.repo_type, revision_of(option))
    }
    findings = HubFindings([token_check(token, here == set(ARTEFACTS), offline)], offline, token)
    sizes: dict[str, int | None] = {}

    def remembering(
        repo_id: str, filename: str, repo_type: str, revision: str, token: str | None
    ) -> int | None:
        option = next(o for o, (a, _) in ARTEFACTS.items() if a.repo_id == repo_id)
        sizes[option] = reader(repo_id, filename, repo_type, revision, token)
        return sizes[option]

    def check(option: str) -> Check:
        artefact, filename = ARTEFACTS[option]
        return artefact_check(
            option,
            artefact,
            filename,
            revision_of(option),
            local=options.get(option),
            offline=offline,
            token=token,
            read_metadata=remembering,
            in_cache=in_cache,
        )

    with ThreadPoolExecutor(len(ARTEFACTS)) as pool:
        findings.checks.extend(pool.map(check, ARTEFACTS))
    for option in ARTEFACTS:
        if option not in here:
            findings.downloads[option] = sizes.get(option) if option != "dataset" else None
    return findings


def cached_snapshot(options: Mapping[str, Any]) -> Path | None:
    """The evaluation dataset's folder when it is here: given, or in the hub cache."""
    if options.get("dataset"):
        folder = Path(str(options["dataset"])).expanduser()
        return folder if folder.is_dir() else None
    artefact, filename = ARTEFACTS["dataset"]
    revision = str(options.get("dataset_revision") or artefact.revision)
    found = _in_cache(artefact.repo_id, filename, artefact.repo_type, revision)
    return Path(found).parent if found else None


def remote_parquet_bytes(revision: str, token: str | None) -> int | None:
    """The evaluation dataset's parquet shards' total size, from the hub's file list."""
    from huggingface_hub import HfApi

    try:
        info = HfApi().dataset_info(
            DATASET.repo_id,
            revision=revision,
            files_metadata=True,
            token=token or None,
            timeout=TIMEOUT_SECONDS,
        )
    except Exception:  # the access row already says why the hub cannot be read
        return None
    sizes = [s.size for s in info.siblings or [] if s.rfilename.startswith("data/") and s.size]
    return sum(sizes) if sizes else None


def _read_metadata(
    repo_id: str, filename: str, repo_type: str, revision: str, token: str | None
) -> int | None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repo_id, filename, repo_type=repo_type, revision=revision)
    return get_hf_file_metadata(url, token=token or None, timeout=TIMEOUT_SECONDS).size


def _in_cache(repo_id: str, filename: str, repo_type: str, revision: str) -> str | None:
    """The cached file's path; for the dataset, only when its snapshot also holds parquet
    shards of every stored split (an interrupted download is not a dataset)."""
    from huggingface_hub import try_to_load_from_cache

    from harness.benchmarks.salmubench import PUBLISHED_ROWS

    found = try_to_load_from_cache(repo_id, filename, revision=revision, repo_type=repo_type)
    if not isinstance(found, str):  # None, or the sentinel of a file known to be missing
        return None
    if repo_type == "dataset":
        data = Path(found).parent / "data"
        if not all(any(data.glob(f"{split}-*.parquet")) for split in PUBLISHED_ROWS):
            return None
    return found


def _offline_mode() -> bool:
    import huggingface_hub
    from huggingface_hub import constants

    is_offline = getattr(huggingface_hub, "is_offline_mode", None)  # newer releases
    return bool(is_offline() if is_offline else constants.HF_HUB_OFFLINE)
