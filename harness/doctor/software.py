"""Checks of the Python stack and the hardware a run will use: versions, torch build, GPU, cores."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

from packaging.requirements import Requirement

from harness.doctor.record import Check

#: distributions whose version decides whether numbers match (and that users install themselves)
CHECKED_DISTRIBUTIONS = ("torch", "torchvision", "open_clip_torch", "datasets", "huggingface_hub")
MIN_PYTHON = (3, 10)


def python_check(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Check:
    """The running Python against the one the harness supports."""
    shown = ".".join(str(n) for n in version)
    if tuple(version[:2]) < MIN_PYTHON:
        wanted = ".".join(str(n) for n in MIN_PYTHON)
        return Check("software", "python", "problem", f"Python {shown}", f"use Python >= {wanted}")
    return Check("software", "python", "ok", f"Python {shown} ({platform.python_implementation()})")


def declared_requirements() -> dict[str, Requirement]:
    """The harness's own (non-optional) requirements, by normalised distribution name."""
    found: dict[str, Requirement] = {}
    try:
        lines = metadata.requires("salmu-harness") or []
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return found
    for line in lines:
        requirement = Requirement(line)
        if requirement.marker is None or "extra" not in str(requirement.marker):
            found[_normalised(requirement.name)] = requirement
    return found


def library_checks(
    installed: dict[str, str | None] | None = None,
    declared: dict[str, Requirement] | None = None,
) -> list[Check]:
    """Each checked distribution's installed version against the range the harness declares."""
    declared = declared if declared is not None else declared_requirements()
    installed = installed if installed is not None else _installed_versions()
    checks = []
    for name in CHECKED_DISTRIBUTIONS:
        version = installed.get(name)
        requirement = declared.get(_normalised(name))
        specifier = str(requirement.specifier) if requirement and requirement.specifier else ""
        wanted = specifier or "any"
        if version is None:
            checks.append(
                Check(
                    "software", name, "problem", "not installed", f"pip install '{name}{specifier}'"
                )
            )
        elif requirement is not None and not requirement.specifier.contains(
            version, prereleases=True
        ):
            checks.append(
                Check(
                    "software",
                    name,
                    "problem",
                    f"{version}, outside the supported range {wanted}",
                    f"pip install '{name}{specifier}'",
                )
            )
        else:
            checks.append(Check("software", name, "ok", f"{version} (supported: {wanted})"))
    return checks


def torch_build_check() -> Check:
    """Whether the installed torch was built for a GPU (CUDA or ROCm) or for the CPU only."""
    import torch

    if torch.version.cuda:
        return Check("hardware", "torch build", "ok", f"CUDA {torch.version.cuda} build")
    if getattr(torch.version, "hip", None):
        return Check("hardware", "torch build", "ok", f"ROCm {torch.version.hip} build")
    return Check(
        "hardware",
        "torch build",
        "warning",
        f"CPU-only build ({torch.__version__}): no GPU can be used",
        "install a CUDA build of torch (see pytorch.org for the command for your CUDA version)",
    )


def gpu_checks() -> list[Check]:
    """Each visible GPU with its memory and bf16 support, or why none is used."""
    import torch

    if not torch.cuda.is_available():
        return [
            Check(
                "hardware",
                "GPU",
                "warning",
                "no GPU visible to torch: runs use the CPU (a ViT-B-16 encodes a few images "
                "a second per core there, hours per evaluation)",
                "run on a machine with a GPU (and a CUDA build of torch); check "
                "CUDA_VISIBLE_DEVICES",
            )
        ]
    checks = []
    for index in range(torch.cuda.device_count()):
        try:
            properties = torch.cuda.get_device_properties(index)
            with torch.cuda.device(index):
                bf16 = torch.cuda.is_bf16_supported()
        except RuntimeError as exc:  # a driver older than the build, a GPU in a bad state
            checks.append(
                Check(
                    "hardware",
                    f"GPU {index}",
                    "problem",
                    f"torch sees the GPU but cannot use it: {str(exc).splitlines()[0]}",
                    "check the driver against this torch build's CUDA version (nvidia-smi)",
                )
            )
            continue
        memory = properties.total_memory / 2**30
        detail = f"{properties.name}, {memory:.1f} GiB"
        if bf16:
            checks.append(Check("hardware", f"GPU {index}", "ok", f"{detail}, bf16 supported"))
        else:
            checks.append(
                Check(
                    "hardware",
                    f"GPU {index}",
                    "warning",
                    f"{detail}, no bf16",
                    "use --precision fp32 or fp16 on this GPU",
                )
            )
    return checks


def cpu_check(usable: int | None = None) -> Check:
    """The CPU cores this process may use, and the decoding workers the data path will start."""
    from harness.evaluation.embeddings import default_workers

    usable = usable if usable is not None else len(_usable_cores())
    workers = default_workers()
    detail = f"{usable} usable cores; image decoding uses {workers} worker processes"
    if usable < 4:
        return Check(
            "hardware",
            "CPU cores",
            "warning",
            detail + ": decoding PNGs may keep a GPU waiting until the image caches are warm",
            "give the job more cores (e.g. --cpus-per-task 8), or warm the caches once: "
            "later runs read decoded images",
        )
    return Check("hardware", "CPU cores", "ok", detail)


def _usable_cores() -> set[int]:
    try:
        return os.sched_getaffinity(0)
    except AttributeError:  # not on Linux
        return set(range(os.cpu_count() or 1))


def _installed_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in CHECKED_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _normalised(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")
