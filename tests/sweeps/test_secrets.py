"""Credentials never reach what a sweep writes; an unreachable cluster fails at once."""

from __future__ import annotations

import socket
import time

import pytest

from harness.errors import HarnessError
from harness.sweeps.ray_runner import _probe_authentication
from harness.sweeps.secrets import REDACTED, redact, secret_values


def test_tokens_from_the_environment_and_the_token_file_are_redacted(tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text("file-token-0123456789\n")
    monkeypatch.setenv("RAY_AUTH_TOKEN", "env-token-abcdefgh")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(token_file))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert set(secret_values()) == {"env-token-abcdefgh", "file-token-0123456789"}
    record = {"message": "auth env-token-abcdefgh failed", "trace": ["x file-token-0123456789"]}
    assert redact(record) == {
        "message": f"auth {REDACTED} failed",
        "trace": [f"x {REDACTED}"],
    }
    assert redact({"n": 3, "s": "plain"}) == {"n": 3, "s": "plain"}


def test_an_address_where_nothing_listens_fails_in_seconds() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    with pytest.raises(HarnessError, match=f"could not reach the Ray cluster at 127.0.0.1:{port}"):
        _probe_authentication(f"127.0.0.1:{port}")
    assert time.monotonic() - started < 5
    _probe_authentication("ray://head:10001")  # left to ray.init: nothing raised here
    _probe_authentication("auto")
