"""Energy from codecarbon's ``OfflineEmissionsTracker`` (no network), one tracker per process.

Starting a tracker probes the hardware (about a second), so the first codecarbon meter in a process
starts one tracker and every later meter and window reuses it. The periodic measurement thread is
stopped; at each window edge we ask the tracker to measure (``_measure_power_and_energy``, the method
its own scheduler calls) and read its cumulative CPU, RAM and GPU energy. Its 1 Hz utilisation monitor
keeps running, so load-based CPU figures average over the window.

codecarbon falls back to models where it cannot read counters: CPU power from TDP × load, and RAM
power from the *whole machine's* installed memory (tracking_mode "machine"; about 5 W per estimated DIMM
in codecarbon 3.x), charged in full to the run — so ``auto`` never picks codecarbon. A reading is
``measured`` only if every part came from a counter (RAPL, NVML, ...); ``notes`` lists how each part was
obtained.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
from typing import Any

from carpentry_kit.energy.base import EnergyMeter, EnergyUnavailable

COUNTRY_ENV_VAR = "CARPENTRY_COUNTRY_ISO_CODE"
DEFAULT_COUNTRY = "USA"
_MEASURED_CPU_MODES = {"intel_rapl", "intel_power_gadget", "apple_powermetrics", "windows_emi"}
_TRACKERS: dict[str, Any] = {}
_TRACKERS_LOCK = threading.Lock()
_TOTALS = {"cpu": "_total_cpu_energy", "dram": "_total_ram_energy", "gpu": "_total_gpu_energy"}


def default_country() -> str:
    """The 3-letter ISO country code for grid carbon figures: ``CARPENTRY_COUNTRY_ISO_CODE`` or USA."""
    return os.environ.get(COUNTRY_ENV_VAR, DEFAULT_COUNTRY).upper()


def _quiet_codecarbon() -> None:
    logging.getLogger("codecarbon").setLevel(logging.ERROR)


def _parameters(tracker_class: type) -> set[str]:
    """Keyword parameters the tracker class accepts, through its base classes' ``**kwargs``."""
    return {name for cls in tracker_class.__mro__ for name in inspect.signature(cls.__init__).parameters}


def _start_tracker(country: str) -> Any:
    try:
        from codecarbon import OfflineEmissionsTracker
    except ImportError as exc:
        raise EnergyUnavailable("codecarbon is not installed — pip install codecarbon") from exc
    _quiet_codecarbon()  # importing codecarbon resets its logger to INFO
    # codecarbon >= 3.3 deprecates save_to_file=False in favour of output_methods=[] (write nothing)
    no_output = {"output_methods": []} if "output_methods" in _parameters(OfflineEmissionsTracker) else {}
    tracker = OfflineEmissionsTracker(
        country_iso_code=country,
        log_level="error",
        **(no_output or {"save_to_file": False}),
        tracking_mode="machine",
        allow_multiple_runs=True,
        measure_power_secs=3600,
    )
    tracker.start()  # codecarbon swallows its own errors here; check that it really started
    if getattr(tracker, "_start_time", None) is None or not hasattr(tracker, "_measure_power_and_energy"):
        raise EnergyUnavailable(
            "codecarbon's tracker did not start — run with CODECARBON_LOG_LEVEL=info to see why"
        )
    tracker._scheduler.stop()  # we measure at window edges instead
    return tracker


def shared_tracker(country: str) -> Any:
    """The process's one started tracker for ``country``, started on first use."""
    with _TRACKERS_LOCK:
        if country not in _TRACKERS:
            _TRACKERS[country] = _start_tracker(country)
        return _TRACKERS[country]


def _part_description(hardware: Any) -> tuple[str, bool]:
    """How codecarbon gets one hardware part's energy, and whether that is a measurement."""
    kind = type(hardware).__name__
    mode = getattr(hardware, "_mode", None)
    if kind == "CPU":
        if mode in _MEASURED_CPU_MODES:
            return f"CPU: {mode} counters", True
        generic = " (generic value for an unknown CPU)" if getattr(hardware, "_is_generic_tdp", False) else ""
        tdp = getattr(hardware, "_tdp", "?")
        return (
            f"CPU: its rated power, {tdp} W TDP{generic}, times how busy it was (codecarbon's {mode} model)",
            False,
        )
    if kind == "RAM":
        return (
            "RAM: codecarbon's model of the whole machine's installed RAM (about 5 W per estimated DIMM "
            "in codecarbon 3.x), charged in full to this run whatever memory it uses — on a machine with "
            "much RAM it can outweigh the CPU",
            False,
        )
    if kind == "GPU":
        return "GPU: NVML", True
    return f"{kind}: {mode or 'unknown method'}", False


class CodecarbonMeter(EnergyMeter):
    """CPU, RAM and GPU energy as codecarbon sees them (whole machine)."""

    method = "codecarbon"

    def __init__(self, country_iso_code: str | None = None) -> None:
        super().__init__()
        self.country = (country_iso_code or default_country()).upper()
        self.tracker = shared_tracker(self.country)
        parts = [_part_description(hardware) for hardware in self.tracker._hardware]
        self.measured = bool(parts) and all(measured for _, measured in parts)
        self._parts_text = "; ".join(text for text, _ in parts)
        has_gpu = any(type(hardware).__name__ == "GPU" for hardware in self.tracker._hardware)
        self._tracked = {name: attr for name, attr in _TOTALS.items() if has_gpu or name != "gpu"}

    def _snapshot(self) -> dict[str, float]:
        self.tracker._measure_power_and_energy()
        joules = {name: getattr(self.tracker, attr).kWh * 3.6e6 for name, attr in self._tracked.items()}
        return {**joules, "_measured_at": self.tracker._last_measured_time}

    def _duration(self, start: dict[str, float], stop: dict[str, float], wall_s: float) -> float:
        """The time between codecarbon's two measurements: exactly what its energy figures cover."""
        return stop["_measured_at"] - start["_measured_at"]

    def _components(
        self, start: dict[str, float], stop: dict[str, float], duration_s: float
    ) -> dict[str, float]:
        return {name: stop[name] - start[name] for name in self._tracked}

    def _notes(self) -> str:
        if self.measured:
            return f"measured by codecarbon for the whole machine: {self._parts_text}"
        return (
            "estimate, not a measurement: codecarbon found no energy counter it could read here and fell back "
            f"to a model of the whole machine — {self._parts_text}"
        )
