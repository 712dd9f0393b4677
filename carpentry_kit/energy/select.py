"""Choosing a meter: ``make_meter(method, device)`` and ``energy_methods()`` (what works here, and why not)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable

from carpentry_kit.energy.base import CombinedMeter, EnergyError, EnergyMeter, EnergyUnavailable

METHODS = ("rapl", "nvml", "codecarbon", "estimate")


def _rapl() -> EnergyMeter:
    from carpentry_kit.energy.rapl import RaplMeter

    return RaplMeter()


def nvml_device(device: str) -> str:
    """The GPUs to meter for work on ``device``: the one a ``cuda`` run uses (torch's current device), the
    named one for ``cuda:N``, every visible GPU for a CPU run (the node's GPUs, idle or not)."""
    if device in ("cpu", "auto"):
        return "cuda"
    if device == "cuda":
        torch = sys.modules.get("torch")  # imported by then in a CUDA run; never imported just for this
        index = torch.cuda.current_device() if torch is not None and torch.cuda.is_available() else 0
        return f"cuda:{index}"
    return device


def _nvml(device: str) -> EnergyMeter:
    from carpentry_kit.energy.nvml import NvmlMeter

    return NvmlMeter(nvml_device(device))


def _codecarbon() -> EnergyMeter:
    from carpentry_kit.energy.codecarbon_meter import CodecarbonMeter

    return CodecarbonMeter()


def _estimate() -> EnergyMeter:
    from carpentry_kit.energy.estimate import EstimateMeter

    return EstimateMeter()


def _first_available(factories: list[Callable[[], EnergyMeter]]) -> EnergyMeter:
    reasons = []
    for factory in factories:
        try:
            return factory()
        except EnergyUnavailable as exc:
            reasons.append(str(exc))
    raise EnergyUnavailable("no energy method works here: " + "; ".join(reasons))


def _auto(device: str) -> EnergyMeter:
    """The most direct method: NVML (+ RAPL or the estimate for the CPU) on CUDA; else RAPL, else estimate.

    Never codecarbon: where it cannot read counters it falls back to TDP × load and charges the memory
    power of the whole machine's RAM to the run, an opaque model; the estimate is the transparent one.
    codecarbon stays available by name (``--energy codecarbon``).
    """
    if device.startswith("cuda"):
        return CombinedMeter([_nvml(device), _first_available([_rapl, _estimate])])
    return _first_available([_rapl, _estimate])


def make_meter(method: str = "auto", device: str = "cpu") -> EnergyMeter:
    """A meter for ``method`` (``auto``, ``rapl``, ``nvml``, ``codecarbon``, ``estimate``) on ``device``.

    An explicitly requested method that cannot work here raises EnergyUnavailable saying why.
    """
    if method == "auto":
        return _auto(device)
    factories: dict[str, Callable[[], EnergyMeter]] = {
        "rapl": _rapl,
        "nvml": lambda: _nvml(device),
        "codecarbon": _codecarbon,
        "estimate": _estimate,
    }
    if method not in factories:
        raise EnergyError(f"unknown energy method {method!r} — use one of: auto, {', '.join(METHODS)}")
    return factories[method]()


def _why_not_codecarbon() -> str | None:
    if importlib.util.find_spec("codecarbon") is None:
        return "codecarbon is not installed — pip install codecarbon"
    return None


def _why_not(factory: Callable[[], EnergyMeter]) -> str | None:
    try:
        factory().close()
    except EnergyError as exc:
        return str(exc)
    return None


def energy_methods() -> dict[str, str | None]:
    """Each method mapped to None when it is usable on this machine, else the reason it is not.

    Cheap: codecarbon is checked for installation only (starting it costs about a second).
    """
    return {
        "rapl": _why_not(_rapl),
        "nvml": _why_not(lambda: _nvml("cpu")),
        "codecarbon": _why_not_codecarbon(),
        "estimate": _why_not(_estimate),
    }
