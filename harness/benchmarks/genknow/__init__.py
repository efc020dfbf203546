"""Reading a zero-shot classification set for GenKnow: SALMU-mini's, or ImageNet-1k val in the
forms users keep it in.

A source is a folder (``FORMS``: SALMU-mini's zero-shot folder, a ``save_to_disk`` folder, a
CLIP_benchmark webdataset, parquet files, an ImageFolder) or a hub dataset
(``hf:ID[@REVISION][:SPLIT]``). Every form gives a ``GenKnowSet`` whose ``sha256`` depends only
on its images and labels, so the same images read from two forms are the same set.
"""

from __future__ import annotations

from pathlib import Path

from harness.benchmarks.base import GenKnowSet
from harness.benchmarks.genknow.forms import FORMS, SourceForm
from harness.benchmarks.genknow.hub_form import PREFIX as HUB_PREFIX
from harness.benchmarks.genknow.hub_form import read_hub_dataset
from harness.benchmarks.hub_layout import quiet_datasets
from harness.errors import BenchmarkError

__all__ = ["FORMS", "HUB_PREFIX", "SourceForm", "form_of", "read_genknow"]


def read_genknow(source: str | Path) -> GenKnowSet:
    """The zero-shot set at ``source``: a folder in one of ``FORMS``, or ``hf:ID``."""
    text = str(source)
    if text.startswith(HUB_PREFIX):
        try:
            with quiet_datasets():
                return read_hub_dataset(text)
        except BenchmarkError:
            raise
        except Exception as exc:  # e.g. a hub dataset without image and label columns
            raise BenchmarkError(
                f"cannot read the hub dataset {text}: {type(exc).__name__}: {exc}",
                "check `salmu-harness genknow check --help` for what a GenKnow set needs",
            ) from exc
    path = Path(text).expanduser()
    if not path.is_dir():
        hint = "give a folder in one of the forms `salmu-harness genknow check --help` lists"
        if not path.exists() and text.count("/") == 1 and not text.startswith((".", "/", "~")):
            hint = f"for a dataset on the hub write hf:{text}"
        raise BenchmarkError(f"zero-shot set {path} does not exist or is not a folder", hint)
    form = form_of(path)
    try:
        with quiet_datasets():
            return form.read(path)
    except BenchmarkError:
        raise
    except Exception as exc:
        raise BenchmarkError(
            f"cannot read the zero-shot set at {path} as {form.name} ({form.layout}): "
            f"{type(exc).__name__}: {exc}",
            "check the folder against that layout (`salmu-harness genknow check PATH`)",
        ) from exc


def form_of(path: Path) -> SourceForm:
    """The first form in ``FORMS`` whose files ``path`` has."""
    for form in FORMS:
        if form.matches(path):
            return form
    layouts = "; ".join(f"{f.name}: {f.layout}" for f in FORMS)
    raise BenchmarkError(
        f"cannot read the zero-shot set at {path}: it is in none of the known forms",
        f"give one of these: {layouts}; or hf:ID for a hub dataset",
    )
