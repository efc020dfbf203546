"""The files the harness reads and writes: its caches, atomic writes (temp file + rename),
settings files (JSON or YAML) and the JSON Schemas it ships.

PyYAML (YAML 1.1) reads ``1e-5`` as a string: it wants a dot in a float's mantissa
(``1.0e-5``), and learning rates are written ``1e-5``. ``load_yaml`` is ``yaml.safe_load``
with YAML 1.2's float syntax added, nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs

from harness.errors import HarnessError, ParameterError

CACHE_ENV_VAR = "SALMU_HARNESS_CACHE"
RESULT_SCHEMA = "result.schema.json"
PROTOCOL_SCHEMA = "protocol.schema.json"
SWEEP_SCHEMA = "sweep.schema.json"


def cache_root() -> Path:
    """Where the harness cache is (``$SALMU_HARNESS_CACHE`` or the user cache dir); nothing
    is created."""
    root = os.environ.get(CACHE_ENV_VAR) or platformdirs.user_cache_dir("salmu-harness")
    return Path(root).expanduser()


def cache_dir(*parts: str) -> Path:
    """The harness cache (``cache_root()``), sub-folder created."""
    path = cache_root().joinpath(*parts)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HarnessError(
            f"the cache folder {path} cannot be created: {exc.strerror or exc}",
            f"set {CACHE_ENV_VAR} to a folder you can write to",
        ) from exc
    return path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, document: Any) -> None:
    """Write ``document`` as indented JSON, atomically; NaN and infinity are refused."""
    text = json.dumps(document, indent=2, sort_keys=False, allow_nan=False, ensure_ascii=False)
    write_bytes_atomic(path, (text + "\n").encode("utf-8"))


@contextlib.contextmanager
def staged_folder(destination: Path) -> Iterator[Path]:
    """A temporary folder beside ``destination`` that replaces it when the block succeeds.

    If the block raises (or the process dies), ``destination`` is left as it was and the
    temporary folder is removed (or, after a kill, left as a hidden ``.name.*`` folder).
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        yield staging
        if destination.exists():
            shutil.rmtree(destination)
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """The sha256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def writable_folder(path: Path, what: str = "output folder") -> Path:
    """``path``, created if needed, once a file could be written in it; a clear error
    otherwise (checked before any work, so nothing is computed for nothing)."""
    path = Path(path).expanduser()
    blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise ParameterError(
            f"{what} {path} cannot be created: {blocker} is a file, not a folder",
            "choose a folder you can create and write to",
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ParameterError(
            f"{what} {path} cannot be written: {exc.strerror or exc}",
            "choose a folder you can create and write to",
        ) from exc
    return path


def writable_file(path: Path, what: str = "output file") -> Path:
    """``path`` if it names a file that can be written (its folder is created if needed)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ParameterError(f"{what} {path} is a folder", "give the path of a file")
    writable_folder(path.parent, f"the folder of {what}")
    return path


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema file ``name`` from the installed package."""
    return json.loads(resources.files("harness.schemas").joinpath(name).read_text("utf-8"))


def first_schema_error(name: str, document: Any) -> tuple[list[str | int], str] | None:
    """Where ``document`` first breaks the schema file ``name`` (the path into the document
    and the validator's message), or None when it is valid."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema(name))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    return list(errors[0].absolute_path), errors[0].message


FLOAT_1_2 = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


def load_yaml(text: str) -> Any:
    """Parse ``text`` safely (no Python objects), reading ``1e-5`` as the number it is."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", FLOAT_1_2, list("-+0123456789."))
    return yaml.load(text, Loader=Loader)  # a SafeLoader subclass: no Python objects


def read_mapping_file(path: Path, what: str) -> dict[str, Any]:
    """The mapping in the JSON or YAML file ``path``; ``what`` names it in error messages."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        data = load_yaml(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except ImportError as exc:
        raise ParameterError(f"{path}: reading YAML needs PyYAML", "pip install pyyaml") from exc
    except Exception as exc:
        raise ParameterError(f"{what} {path} cannot be parsed: {exc}") from exc
    if not isinstance(data, dict):
        raise ParameterError(f"{what} {path} must hold a mapping of settings")
    return data
