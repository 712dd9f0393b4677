"""A transparent energy *estimate*: a static (idle) part and a dynamic part, each labelled.

The CPU follows the linear power model of Fan, Weber and Barroso ("Power provisioning for a
warehouse-sized computer", ISCA 2007): ``P = P_idle + (P_rated - P_idle) × u``.

* **static** (``cpu_static``): ``P_idle × window`` — what the machine's CPUs draw doing nothing, paid for
  as long as the run lasts, whoever keeps them busy. A shorter run saves it; idle windows cost it in full.
  ``P_idle`` is ``CARPENTRY_CPU_IDLE_W`` (a figure you measured, e.g. RAPL's package power when idle), else a
  declared assumption, 30% of the rated power — not measured here; ``notes`` says which.
* **dynamic** (``cpu``): ``(P_rated - P_idle) × CPU seconds of this process ÷ logical CPUs`` — the share
  of the power above idle that this process's threads (not its children) kept busy.
* **DRAM** (``dram``): 0.375 W per GB (3 W per 8 GB of DDR3/DDR4, codecarbon's older per-GB figure) × this
  process's resident memory: an allocation of memory power by what the process holds. Memory draws that
  power (refresh, background) whether or not it is used, so it counts as static.

``P_rated`` comes from, in order: ``CARPENTRY_CPU_TDP_W`` (watts for all the machine's CPUs together), a
table of common CPU models (vendor TDP per socket × sockets), else codecarbon's default for an unknown CPU,
4 W per logical CPU. Always ``measured=False``; the reading's ``static_j`` is ``cpu_static + dram`` and
its ``dynamic_j`` the CPU power above idle.

What it cannot show: anything outside the model — clock-frequency changes, memory traffic, vector units,
the real idle power of this machine. Its joules are wall time and CPU time weighted by assumed powers, so
any ranking it gives is a ranking of those times.
"""

from __future__ import annotations

import math
import os
import re
import time

from carpentry_kit.energy.base import EnergyError, EnergyMeter

TDP_ENV_VAR = "CARPENTRY_CPU_TDP_W"
IDLE_ENV_VAR = "CARPENTRY_CPU_IDLE_W"
ASSUMED_IDLE_FRACTION = 0.3  # of the rated power, when no idle figure is given: an assumption, declared
DEFAULT_W_PER_LOGICAL_CPU = 4.0  # codecarbon.core.cpu.DEFAULT_POWER_PER_CORE
DRAM_W_PER_GB = 3.0 / 8.0  # codecarbon.external.ram: "3 watts of power for every 8GB of DDR3 or DDR4"

# Vendor TDP (base power) per socket in watts, matched as a whole token of the CPU model name.
KNOWN_CPU_TDP_W: dict[str, float] = {
    # Intel laptop and desktop
    "i5-8250U": 15, "i7-8550U": 15, "i7-8650U": 15, "i5-10210U": 15, "i7-10510U": 15,
    "i5-1135G7": 28, "i7-1165G7": 28, "i7-1185G7": 28, "i5-1235U": 15, "i7-1255U": 15, "i7-1260P": 28,
    "i7-10750H": 45, "i7-11800H": 45, "i7-12700H": 45, "i9-12900H": 45, "Core Ultra 7 155H": 28,
    "i7-9700K": 95, "i9-9900K": 95, "i9-10900K": 125, "i5-12600K": 125, "i7-12700K": 125,
    "i9-12900K": 125, "i5-13600K": 125, "i7-13700K": 125, "i9-13900K": 125, "i9-14900K": 125,
    # Intel Xeon
    "E5-2680 v4": 120, "E5-2690 v4": 135, "E5-2698 v4": 135, "Silver 4210": 85, "Silver 4214": 85,
    "Gold 6130": 125, "Gold 6148": 150, "Gold 6230": 125, "Gold 6248": 150, "Gold 6252": 150,
    "Gold 6338": 205, "Gold 6348": 235, "Platinum 8160": 150, "Platinum 8280": 205,
    "Platinum 8358": 250, "Platinum 8380": 270, "Platinum 8480+": 350,
    # AMD Ryzen, Threadripper, EPYC
    "Ryzen 5 3600": 65, "Ryzen 5 5600X": 65, "Ryzen 7 5800X": 105, "Ryzen 9 5900X": 105,
    "Ryzen 9 5950X": 105, "Ryzen 7 7700X": 105, "Ryzen 9 7950X": 170, "Ryzen 7 5800U": 15,
    "Threadripper 3990X": 280, "EPYC 7302": 155, "EPYC 7502": 180, "EPYC 7542": 225, "EPYC 7702": 200,
    "EPYC 7742": 225, "EPYC 7543": 225, "EPYC 7713": 225, "EPYC 7763": 280, "EPYC 9534": 280,
    "EPYC 9554": 360, "EPYC 9654": 360,
}  # fmt: skip


def known_cpu_tdp_w(model_name: str) -> tuple[str, float] | None:
    """The table entry whose name appears as a whole token in ``model_name``, or None."""
    for name, watts in KNOWN_CPU_TDP_W.items():
        if re.search(rf"(?<![\w]){re.escape(name)}(?![\w+])", model_name, flags=re.IGNORECASE):
            return name, float(watts)
    return None


def rated_cpu_power_w() -> tuple[float, str]:
    """The rated power of all this machine's CPUs in watts, and where that figure came from."""
    from carpentry_kit.system import cpu_model_name, cpu_socket_count

    override = os.environ.get(TDP_ENV_VAR)
    if override is not None:
        try:
            watts = float(override)
        except ValueError:
            watts = -1.0
        if not math.isfinite(watts) or watts <= 0:
            raise EnergyError(
                f"{TDP_ENV_VAR}={override!r} is not a positive, finite number of watts"
                " — set it to the CPU's rated power, e.g. 65"
            )
        return watts, f"{watts:g} W from {TDP_ENV_VAR}"
    model = cpu_model_name()
    match = known_cpu_tdp_w(model)
    if match is not None:
        sockets = cpu_socket_count()
        return (
            match[1] * sockets,
            f"{match[1] * sockets:g} W ({sockets} x {match[1]:g} W TDP of {match[0]}, built-in table)",
        )
    logical = os.cpu_count() or 1
    watts = DEFAULT_W_PER_LOGICAL_CPU * logical
    return watts, (
        f"{watts:g} W ({DEFAULT_W_PER_LOGICAL_CPU:g} W x {logical} logical CPUs, codecarbon's default for an "
        f"unknown CPU {model!r}; set {TDP_ENV_VAR} for a better figure)"
    )


def idle_cpu_power_w(rated_w: float) -> tuple[float, str]:
    """The machine's idle CPU power in watts and where that figure came from (at most ``rated_w``)."""
    override = os.environ.get(IDLE_ENV_VAR)
    if override is None:
        watts = ASSUMED_IDLE_FRACTION * rated_w
        return watts, (
            f"{watts:.3g} W assumed ({ASSUMED_IDLE_FRACTION:.0%} of rated; not measured here — set "
            f"{IDLE_ENV_VAR} to a measured idle power)"
        )
    try:
        watts = float(override)
    except ValueError:
        watts = -1.0
    if not 0 <= watts <= rated_w:
        raise EnergyError(
            f"{IDLE_ENV_VAR}={override!r} is not a number of watts between 0 and the rated {rated_w:g} W — "
            "set it to the measured idle power of this machine's CPUs"
        )
    return watts, f"{watts:g} W from {IDLE_ENV_VAR}"


class EstimateMeter(EnergyMeter):
    """Static idle CPU power, plus the dynamic share this process keeps busy, plus DRAM by resident memory."""

    method = "estimate"
    measured = False

    def __init__(self) -> None:
        import psutil

        super().__init__()
        self.rated_cpu_w, self.rated_source = rated_cpu_power_w()
        self.idle_cpu_w, self.idle_source = idle_cpu_power_w(self.rated_cpu_w)
        self.logical_cpus = os.cpu_count() or 1
        self._process = psutil.Process()

    def _snapshot(self) -> float:
        return time.process_time()

    def _components(self, start: float, stop: float, duration_s: float) -> dict[str, float]:
        cpu_seconds = max(stop - start, 0.0)
        utilisation = min(cpu_seconds / (duration_s * self.logical_cpus), 1.0) if duration_s > 0 else 0.0
        resident_gb = self._process.memory_info().rss / 1e9
        return {
            "cpu_static": self.idle_cpu_w * duration_s,
            "cpu": (self.rated_cpu_w - self.idle_cpu_w) * utilisation * duration_s,
            "dram": DRAM_W_PER_GB * resident_gb * duration_s,
        }

    def _static_j(self, components: dict[str, float]) -> float | None:
        return components.get("cpu_static", 0.0) + components.get("dram", 0.0)

    def _notes(self) -> str:
        return (
            f"estimate, not a measurement: a static part, the CPU's idle power ({self.idle_source}) for the"
            f" whole window plus {DRAM_W_PER_GB:g} W per GB of memory the process held, and a dynamic part,"
            f" the CPU's rated power above idle ({self.rated_source}) times the share of its"
            f" {self.logical_cpus} logical CPUs this process kept busy (its CPU time / wall time)"
        )
