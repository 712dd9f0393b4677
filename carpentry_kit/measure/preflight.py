"""Before a run: the machine has what the spec requires, and the datasets load and verify."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.errors import SpecError, UsageError

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Spec


def check_infrastructure(spec: Spec, device: str | None = None) -> str:
    """The device to run on; a ``SpecError`` naming every required thing this machine lacks."""
    problems = _machine_problems(spec) + _software_problems(spec)
    device, device_problems = _resolve_device(spec, device)
    raise_problems(spec, problems + device_problems)
    return device


def _machine_problems(spec: Spec) -> list[tuple[tuple, str, str]]:
    import psutil

    needs, problems = spec.infrastructure, []
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if cores < needs.cpu_cores:
        message = f"needs {needs.cpu_cores} CPU cores, this machine gives {cores}"
        problems.append((("infrastructure", "cpu_cores"), message, "run on a bigger machine or lower it"))
    available_gb = psutil.virtual_memory().available / 2**30
    if available_gb < needs.memory_gb:
        message = (
            f"needs {needs.memory_gb:g} GiB of memory available, this machine has {available_gb:.1f} GiB"
        )
        problems.append((("infrastructure", "memory_gb"), message, "close other programs or lower it"))
    return problems


def _software_problems(spec: Spec) -> list[tuple[tuple, str, str]]:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from packaging.specifiers import SpecifierSet

    software, problems = spec.infrastructure.software, []
    python = platform.python_version()
    if not SpecifierSet(software.python).contains(python, prereleases=True):
        message = f"needs Python {software.python}, this is Python {python}"
        problems.append((("infrastructure", "software", "python"), message, "use a matching Python"))
    for package, specifier in software.packages.items():
        loc = ("infrastructure", "software", "packages", package)
        try:
            installed = version(package)
        except PackageNotFoundError:
            problems.append(
                (loc, f"package '{package}' is not installed", f"pip install '{package}{specifier}'")
            )
            continue
        if not SpecifierSet(specifier).contains(installed, prereleases=True):
            message = f"needs {package}{specifier}, {installed} is installed"
            problems.append((loc, message, f"pip install '{package}{specifier}'"))
    return problems


def _resolve_device(spec: Spec, device: str | None) -> tuple[str, list[tuple[tuple, str, str]]]:
    use = spec.infrastructure.accelerator.use
    if device is not None:
        return check_device_option(device), []
    if use == "none":
        return "cpu", []
    has_cuda = not no_cuda_possible() and _torch_sees_cuda()  # torch only where a GPU driver could be
    if use == "required" and not has_cuda:
        loc = ("infrastructure", "accelerator", "use")
        return "cpu", [(loc, "requires a CUDA accelerator, none is usable here", "run on a GPU node")]
    return ("cuda" if has_cuda else "cpu"), []


# What a CUDA (or ROCm, which torch.cuda also drives) device needs on Linux: the NVIDIA driver's files, AMD's
# kernel fusion driver, or WSL's GPU paravirtualisation device.
_GPU_DRIVER_PATHS = ("/proc/driver/nvidia", "/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")


def no_cuda_possible() -> bool:
    """True when torch certainly sees no CUDA device here, known without importing torch (about a second):
    torch is not installed, or this is macOS, or Linux without any GPU driver's device files. False means
    "ask torch"."""
    import importlib.util
    import sys

    if importlib.util.find_spec("torch") is None or sys.platform == "darwin":
        return True
    if sys.platform.startswith("linux"):
        return not any(os.path.exists(path) for path in _GPU_DRIVER_PATHS)
    return False


def _torch_sees_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def check_device_option(device: str) -> str:
    """``--device``: ``cpu``, ``cuda`` or ``cuda:N`` that torch can use here; a one-line ``UsageError`` otherwise.
    The one check for every command that takes ``--device``."""
    if device == "cpu":
        return device
    if not re.fullmatch(r"cuda(:\d+)?", device):
        raise UsageError(f"--device {device}: not a device — use cpu, cuda or cuda:N")
    if no_cuda_possible() or not _torch_sees_cuda():
        raise UsageError(f"--device {device}: torch sees no CUDA device here — use --device cpu")
    import torch

    index = int(device.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise UsageError(
            f"--device {device}: this machine has {count} CUDA device(s) — use cuda:0 to cuda:{count - 1}"
        )
    return device


def check_memory(spec: Spec, workload: Any) -> None:
    """A ``SpecError`` when the workload's own estimate (``memory_bytes()``) cannot fit the spec's
    ``constraints.peak_memory_mib`` or this machine's available memory: refused before ``setup`` runs."""
    import psutil

    need = workload.memory_bytes()
    if need is None:
        return
    problems, limit = [], spec.constraints.peak_memory_mib
    what = f"task.params need about {need / 2**20:,.0f} MiB ({workload.name}'s estimate)"
    if limit is not None and need / 2**20 > limit:
        hint = "lower the size in task.params, or raise the limit"
        problems.append(
            (("constraints", "peak_memory_mib"), f"{what}, over the limit of {limit:g} MiB", hint)
        )
    available = psutil.virtual_memory().available
    if need > available:
        message = f"{what}, this machine has {available / 2**20:,.0f} MiB available"
        problems.append((("task", "params"), message, "lower the size, or run on a bigger machine"))
    raise_problems(spec, problems)


def load_datasets(spec: Spec, spec_path: str | None) -> dict[str, Any]:
    """Every spec dataset, loaded, verified and split; a ``SpecError`` at the dataset's line otherwise."""
    from carpentry_kit.data.datasets import DatasetError, load_dataset

    spec_dir = Path(spec_path).parent if spec_path else Path.cwd()
    loaded = {}
    for index, dataset in enumerate(spec.datasets):
        try:
            loaded[dataset.name] = load_dataset(dataset, spec_dir, seed=spec.task.seed)
        except DatasetError as error:
            raise_problems(spec, [(("datasets", index, *error.key.split(".")), error.message, error.hint)])
    return loaded


def raise_problems(spec: Spec, problems: list[tuple[tuple, str, str]]) -> None:
    """Raise a ``SpecError`` with each ``(loc, message, hint)`` placed where the spec set it."""
    if problems:
        raise SpecError([spec.problem_at(loc, message, hint) for loc, message, hint in problems])
