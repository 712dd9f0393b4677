"""NVIDIA GPU energy through NVML (package ``nvidia-ml-py``, module ``pynvml``).

Volta and newer GPUs keep a total-energy counter (``nvmlDeviceGetTotalEnergyConsumption``, mJ since the
driver loaded): a window is the difference of two reads. Older GPUs only report power
(``nvmlDeviceGetPowerUsage``, mW); for them a background thread samples it at 20 Hz and integrates with
the trapezoid rule. ``device="cuda"`` sums every visible GPU, ``"cuda:N"`` meters the one in use, with
``CUDA_VISIBLE_DEVICES`` (indices or UUIDs) mapped to NVML's numbering. (CUDA's default order is
fastest-first; set ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` so that it matches NVML's.)
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from carpentry_kit.energy.base import EnergyError, EnergyMeter, EnergyUnavailable

SAMPLE_INTERVAL_S = 0.05  # 20 Hz power sampling where there is no energy counter


class PowerIntegrator:
    """Integrate a power reading (watts) over time in a background thread (trapezoid rule).

    ``energy_j()`` is the energy since the thread started, up to *now*: the last interval is extended to
    the present at the last sampled power, so window edges need no extra sample.
    """

    def __init__(self, read_power_w: Callable[[], float], interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self._read_power_w = read_power_w
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last_t = time.perf_counter()
        self._last_w = read_power_w()
        self._energy_j = 0.0
        self.samples = 1
        self.failure: str | None = None  # why the sampler stopped early, if it did
        self._thread = threading.Thread(target=self._run, name="carpentry-power-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval_s):
                self.sample()
        except Exception as error:  # an NVML error: the reading must say so, never extrapolate silently
            self.failure = f"{type(error).__name__}: {error}"

    def sample(self) -> None:
        """Take one power sample and add the trapezoid since the previous one."""
        watts = self._read_power_w()
        now = time.perf_counter()
        with self._lock:
            self._energy_j += 0.5 * (watts + self._last_w) * (now - self._last_t)
            self._last_t, self._last_w = now, watts
            self.samples += 1

    def energy_j(self) -> float:
        """Joules since start, extrapolated from the last sample to now; ``EnergyError`` once the sampler died
        (a reading extrapolated from a dead sampler is not a measurement)."""
        if self.failure is not None:
            raise EnergyError(
                f"nvml: the power sampler stopped ({self.failure}) — the energy of this window is unknown"
            )
        with self._lock:
            return self._energy_j + self._last_w * (time.perf_counter() - self._last_t)

    def close(self) -> None:
        """Stop the sampling thread."""
        self._stop.set()
        self._thread.join()


def nvml_indices(device: str, visible: str | None, uuids: list[str]) -> list[int]:
    """NVML indices of the GPUs ``device`` means, given ``CUDA_VISIBLE_DEVICES`` and NVML's UUID list."""
    nvml_all = list(range(len(uuids)))
    if visible is not None and visible.strip() != "":
        nvml_all = [
            _visible_entry_index(entry.strip(), uuids) for entry in visible.split(",") if entry.strip()
        ]
    if device in ("cuda", "gpu"):
        return nvml_all
    if device.startswith("cuda:"):
        ordinal = int(device.split(":", 1)[1])
        if not 0 <= ordinal < len(nvml_all):
            raise EnergyUnavailable(
                f"device {device!r}: only {len(nvml_all)} GPU(s) are visible — use cuda:0..cuda:{len(nvml_all) - 1}"
            )
        return [nvml_all[ordinal]]
    raise EnergyUnavailable(f"device {device!r} is not a CUDA device — NVML meters 'cuda' or 'cuda:N'")


def _visible_entry_index(entry: str, uuids: list[str]) -> int:
    if entry.isdigit():
        if int(entry) >= len(uuids):
            raise EnergyUnavailable(
                f"CUDA_VISIBLE_DEVICES names GPU {entry} but NVML sees {len(uuids)} GPU(s)"
            )
        return int(entry)
    for index, uuid in enumerate(uuids):
        if uuid.startswith(entry) or uuid.startswith(f"GPU-{entry}"):
            return index
    raise EnergyUnavailable(f"CUDA_VISIBLE_DEVICES entry {entry!r} matches no GPU UUID NVML reports")


def _import_nvml() -> Any:
    try:
        import pynvml
    except ImportError as exc:
        raise EnergyUnavailable("nvidia-ml-py is not installed — pip install 'carpentry-kit[gpu]'") from exc
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:  # nvmlInit failed: nothing to shut down
        raise EnergyUnavailable(
            f"NVML did not start ({exc}) — no NVIDIA driver or GPU on this machine"
        ) from exc
    return pynvml


class _Gpu:
    """One GPU: its energy counter in joules, or a power integrator where there is none."""

    def __init__(self, pynvml: Any, index: int) -> None:
        self.index = index
        self._pynvml = pynvml
        self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        self.integrator: PowerIntegrator | None = None
        try:
            pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
        except pynvml.NVMLError_NotSupported:
            self.integrator = self._power_integrator()
        except pynvml.NVMLError as exc:
            raise EnergyUnavailable(f"GPU {index}: NVML energy counter unreadable ({exc})") from exc

    def _power_integrator(self) -> PowerIntegrator:
        try:
            return PowerIntegrator(self._power_w)
        except self._pynvml.NVMLError as exc:
            raise EnergyUnavailable(
                f"GPU {self.index}: neither an energy counter nor power readings through NVML ({exc})"
            ) from exc

    def _power_w(self) -> float:
        return self._pynvml.nvmlDeviceGetPowerUsage(self._handle) / 1000.0

    def energy_j(self) -> float:
        if self.integrator is not None:
            return self.integrator.energy_j()
        return self._pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle) / 1000.0


class NvmlMeter(EnergyMeter):
    """GPU energy from NVML: the hardware energy counter (measured) or 20 Hz power sampling (measured power)."""

    method = "nvml"
    measured = True

    def __init__(self, device: str = "cuda") -> None:
        super().__init__()
        self.gpus: list[_Gpu] = []
        self._pynvml = _import_nvml()
        try:
            self._open_gpus(device)
        except BaseException:  # NVML started but this meter cannot work: release it (nvmlShutdown once)
            self.close()
            raise

    def _open_gpus(self, device: str) -> None:
        count = self._pynvml.nvmlDeviceGetCount()
        if count == 0:
            raise EnergyUnavailable("NVML sees no GPU on this machine")
        uuids = [self._uuid(i) for i in range(count)]
        indices = nvml_indices(device, os.environ.get("CUDA_VISIBLE_DEVICES"), uuids)
        if not indices:
            raise EnergyUnavailable("CUDA_VISIBLE_DEVICES hides every GPU — nothing for NVML to meter")
        for index in indices:
            self.gpus.append(_Gpu(self._pynvml, index))

    def _uuid(self, index: int) -> str:
        uuid = self._pynvml.nvmlDeviceGetUUID(self._pynvml.nvmlDeviceGetHandleByIndex(index))
        return uuid.decode() if isinstance(uuid, bytes) else uuid

    def _snapshot(self) -> list[float]:
        return [gpu.energy_j() for gpu in self.gpus]

    def _components(self, start: list[float], stop: list[float], duration_s: float) -> dict[str, float]:
        total = 0.0
        for gpu, first, last in zip(self.gpus, start, stop, strict=True):
            if last < first:
                raise EnergyError(
                    f"nvml: GPU {gpu.index} energy counter went backwards ({first:.3f} J -> {last:.3f} J) — the "
                    "driver reloaded or the GPU was reset during the window; repeat the measurement"
                )
            total += last - first
        return {"gpu": total}

    def _notes(self) -> str:
        parts = [
            f"GPU {gpu.index}: "
            + (
                "its total-energy counter"
                if gpu.integrator is None
                else "its power read 20 times a second and added up over time (trapezoid rule)"
            )
            for gpu in self.gpus
        ]
        return "measured by the NVIDIA driver (NVML): " + "; ".join(parts)

    def close(self) -> None:
        if self._pynvml is None:
            return
        for gpu in self.gpus:
            if gpu.integrator is not None:
                gpu.integrator.close()
        self.gpus = []
        self._pynvml.nvmlShutdown()
        self._pynvml = None
