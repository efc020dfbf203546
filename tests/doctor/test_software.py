"""The software and hardware checks: versions against the declared ranges, torch, GPU, cores."""

from __future__ import annotations

from packaging.requirements import Requirement

from harness.doctor import software


def test_python_below_the_supported_version_is_a_problem() -> None:
    assert software.python_check((3, 11, 7)).status == "ok"
    old = software.python_check((3, 9, 18))
    assert old.status == "problem"
    assert old.fix == "use Python >= 3.10"


def test_each_library_is_held_to_the_range_the_harness_declares() -> None:
    declared = {
        "torch": Requirement("torch>=2.1"),
        "open_clip_torch": Requirement("open_clip_torch>=2.24"),
    }
    installed = {
        "torch": "2.0.1",
        "torchvision": None,
        "open_clip_torch": "3.3.0",
        "datasets": "5.2.0",
        "huggingface_hub": "2.4.0",
    }
    rows = {c.name: c for c in software.library_checks(installed, declared)}
    assert rows["torch"].status == "problem"
    assert rows["torch"].detail == "2.0.1, outside the supported range >=2.1"
    assert rows["torch"].fix == "pip install 'torch>=2.1'"
    assert rows["torchvision"].status == "problem"
    assert rows["torchvision"].detail == "not installed"
    assert rows["open_clip_torch"].status == "ok"
    assert rows["datasets"].detail == "5.2.0 (supported: any)"


def test_the_declared_ranges_are_the_installed_distributions() -> None:
    declared = software.declared_requirements()
    assert str(declared["torch"].specifier) == ">=2.1"
    assert "mlflow" not in declared  # an extra, not a requirement


def test_no_gpu_is_a_warning_with_the_fix(monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    (row,) = software.gpu_checks()
    assert (row.group, row.status) == ("hardware", "warning")
    assert "CUDA_VISIBLE_DEVICES" in row.fix


def test_a_gpu_is_listed_with_memory_and_bf16(monkeypatch) -> None:
    import types

    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(
        torch.cuda,
        "get_device_properties",
        lambda i: types.SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=80 * 2**30),
    )
    monkeypatch.setattr(torch.cuda, "device", lambda i: __import__("contextlib").nullcontext())
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    (row,) = software.gpu_checks()
    assert row.detail == "NVIDIA H100 80GB HBM3, 80.0 GiB, no bf16"
    assert row.status == "warning" and "--precision fp32" in row.fix


def test_a_cpu_build_of_torch_is_said(monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.version, "hip", None, raising=False)
    row = software.torch_build_check()
    assert row.status == "warning" and row.detail.startswith("CPU-only build")


def test_few_cores_warn_that_decoding_may_starve_a_gpu() -> None:
    assert software.cpu_check(2).status == "warning"
    assert software.cpu_check(16).status == "ok"
    assert "16 usable cores" in software.cpu_check(16).detail


def test_a_gpu_torch_cannot_use_is_a_problem_not_a_traceback(monkeypatch) -> None:
    import torch

    def broken(index):
        raise RuntimeError("The NVIDIA driver on your system is too old (found version 11040).")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_properties", broken)
    (row,) = software.gpu_checks()
    assert row.status == "problem"
    assert "The NVIDIA driver on your system is too old" in row.detail and "nvidia-smi" in row.fix
