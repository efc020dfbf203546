"""Keeping credentials out of what a sweep writes: Ray's token and hub tokens are redacted from
every error, log line and state file before it is written.

Ray's token authentication (``RAY_AUTH_MODE=token``) reads the token from ``RAY_AUTH_TOKEN`` or
from the file ``RAY_AUTH_TOKEN_PATH`` (default ``~/.ray/auth_token``). The harness never copies
either into a trial's environment, a result or the sweep folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: variables that carry or locate a credential: never forwarded, never recorded
SECRET_VARIABLES = ("RAY_AUTH_TOKEN", "HF_TOKEN")
TOKEN_PATH_VARIABLE = "RAY_AUTH_TOKEN_PATH"
REDACTED = "[redacted]"


def secret_values() -> list[str]:
    """The credentials this process can see (environment values and Ray's token file)."""
    values = [os.environ[name] for name in SECRET_VARIABLES if os.environ.get(name)]
    path = Path(os.environ.get(TOKEN_PATH_VARIABLE) or Path.home() / ".ray" / "auth_token")
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        token = ""
    if token:
        values.append(token)
    return sorted({v for v in values if len(v) >= 8}, key=len, reverse=True)


def redact(value: Any, secrets: list[str] | None = None) -> Any:
    """``value`` (strings, lists and mappings, recursively) with every credential replaced."""
    secrets = secret_values() if secrets is None else secrets
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {k: redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    return value
