"""The hub checks, each failure faked where the check reads it: the token lookup, the hub's file
metadata (gated 401/403, missing repository or revision, no network), offline mode, the cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import errors as hub_errors

from harness.benchmarks.salmubench import CLEAN, COMPROMISED, DATASET
from harness.doctor import hub_access
from tests.benchmarks.test_salmubench import hub_error


def raising(error):
    def read(*args, **kwargs):
        raise error

    return read


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setattr("huggingface_hub.is_offline_mode", lambda: False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: "hf_abcdefgh1234")
    monkeypatch.setattr(hub_access, "_in_cache", lambda *a: None)


def rows(options=None):
    found = hub_access.hub_checks(options or {})
    return {c.name.split(" ")[0]: c for c in found.checks}


def test_no_token_is_a_problem_naming_where_to_accept_the_terms(monkeypatch, online) -> None:
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    monkeypatch.setattr(
        "huggingface_hub.get_hf_file_metadata",
        raising(hub_error(hub_errors.RepositoryNotFoundError)),
    )
    found = rows()
    assert found["token"].status == "problem"
    assert (
        "https://huggingface.co/datasets/cvc-mmu/salmubench-512-redistributed" in found["token"].fix
    )
    assert "HF_TOKEN" in found["token"].fix
    assert found["clean"].status == "problem"
    assert "gated and the token was refused" in found["clean"].detail


@pytest.mark.parametrize("status", [401, 403])
def test_gated_access_not_granted(monkeypatch, online, status) -> None:
    error = hub_error(hub_errors.GatedRepoError)
    error.response.status_code = status
    monkeypatch.setattr("huggingface_hub.get_hf_file_metadata", raising(error))
    found = rows()
    assert found["token"].status == "ok"
    for option, artefact in (("dataset", DATASET), ("compromised", COMPROMISED), ("clean", CLEAN)):
        assert found[option].status == "problem"
        assert (
            found[option].detail
            == f"gated: this token's account has no access to {artefact.repo_id}"
        )
        assert artefact.url in found[option].fix


def test_access_granted_reads_metadata_at_the_pinned_revision(monkeypatch, online) -> None:
    asked = []

    def metadata(url, token=None, timeout=None):
        asked.append((url, token))
        return type("Meta", (), {"size": 598_641_023})()

    monkeypatch.setattr("huggingface_hub.get_hf_file_metadata", metadata)
    found = hub_access.hub_checks({})
    assert [c.status for c in found.checks] == ["ok"] * 4
    assert {url.split("/resolve/")[1].split("/")[0] for url, _ in asked} == {
        DATASET.revision,
        COMPROMISED.revision,
        CLEAN.revision,
    }
    assert all(token == "hf_abcdefgh1234" for _, token in asked)
    assert found.downloads == {"dataset": None, "compromised": 598_641_023, "clean": 598_641_023}
    assert "571 MiB" in {c.name.split(" ")[0]: c for c in found.checks}["clean"].detail


def test_a_missing_revision_and_no_network(monkeypatch, online) -> None:
    monkeypatch.setattr(
        "huggingface_hub.get_hf_file_metadata", raising(hub_error(hub_errors.RevisionNotFoundError))
    )
    assert "does not exist" in rows({"clean_revision": "abc"})["clean"].detail
    monkeypatch.setattr(
        "huggingface_hub.get_hf_file_metadata",
        raising(ConnectionError("Name or service not known")),
    )
    row = rows()["dataset"]
    assert row.detail.startswith("the hub cannot be reached (ConnectionError")
    assert "HF_HUB_OFFLINE=1" in row.fix


def test_offline_without_local_copies_names_the_download_command(monkeypatch) -> None:
    monkeypatch.setattr("huggingface_hub.is_offline_mode", lambda: True)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    monkeypatch.setattr(
        "huggingface_hub.get_hf_file_metadata", raising(AssertionError("no request offline"))
    )
    found = rows()
    assert found["token"].status == "warning"  # offline is a way of working
    assert found["dataset"].status == "problem"
    assert "not in the local hub cache" in found["dataset"].detail
    assert (
        f"hf download {DATASET.repo_id} --revision {DATASET.revision} --repo-type dataset"
        in found["dataset"].fix
    )


def test_offline_with_local_copies_is_ready(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr("huggingface_hub.is_offline_mode", lambda: True)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    for name in ("dataset", "compromised", "clean"):
        (tmp_path / name).mkdir()
    found = hub_access.hub_checks(
        {name: str(tmp_path / name) for name in ("dataset", "compromised", "clean")}
    )
    assert [c.status for c in found.checks] == ["ok"] * 4
    assert (
        found.checks[0].detail
        == "none set; not needed: every artefact is here (a local copy or in the hub cache)"
    )
    assert found.downloads == {}
    missing = hub_access.hub_checks({"clean": str(tmp_path / "nowhere")})
    row = next(c for c in missing.checks if c.name.startswith("clean"))
    assert row.status == "problem" and row.fix == "fix --benchmark-option clean=PATH"


def test_offline_with_the_pinned_file_in_the_hub_cache(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr("huggingface_hub.is_offline_mode", lambda: True)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    repo = tmp_path / "models--cvc-mmu--clip-vit-b-16-salmu-clean"
    snapshot = repo / "snapshots" / CLEAN.revision
    snapshot.mkdir(parents=True)
    (snapshot / CLEAN.filename).write_bytes(b"weights")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(CLEAN.revision)
    found = rows()
    assert found["clean"].status == "ok"
    assert found["clean"].detail == f"offline; in the local hub cache at {CLEAN.revision[:12]}"
    assert found["compromised"].status == "problem"


def test_gated_without_a_token_says_no_token_was_sent(monkeypatch, online) -> None:
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    monkeypatch.setattr(
        "huggingface_hub.get_hf_file_metadata", raising(hub_error(hub_errors.GatedRepoError))
    )
    row = rows()["compromised"]
    assert row.detail == f"gated, and no token was sent for {COMPROMISED.repo_id}"
    assert "HF_TOKEN" in row.fix


def test_pinned_files_in_the_hub_cache_are_ready_online_too(monkeypatch, online) -> None:
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    monkeypatch.setattr(hub_access, "_in_cache", lambda repo_id, *a: "/cache/file")
    monkeypatch.setattr(
        "huggingface_hub.get_hf_file_metadata", raising(AssertionError("no request needed"))
    )
    found = hub_access.hub_checks({})
    assert [c.status for c in found.checks] == ["ok"] * 4
    assert (
        found.checks[0].detail
        == "none set; not needed: every artefact is here (a local copy or in the hub cache)"
    )
    assert found.downloads == {}


def test_an_interrupted_dataset_download_is_not_in_the_cache(monkeypatch, tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot"
    (snapshot / "data").mkdir(parents=True)
    (snapshot / "identities_metadata.json").write_text("{}")
    (snapshot / "data" / "forget-00000-of-00001.parquet").write_bytes(b"x")
    monkeypatch.setattr(
        "huggingface_hub.try_to_load_from_cache",
        lambda *a, **k: str(snapshot / "identities_metadata.json"),
    )
    args = (DATASET.repo_id, "identities_metadata.json", "dataset", DATASET.revision)
    assert hub_access._in_cache(*args) is None  # three splits have no shard yet
    for split in ("holdout_association", "holdout_identity", "retain_synth"):
        (snapshot / "data" / f"{split}-00000-of-00001.parquet").write_bytes(b"x")
    assert hub_access._in_cache(*args) == str(snapshot / "identities_metadata.json")
