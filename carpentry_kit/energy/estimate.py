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

``P_rated`` comes from, in order (``energy/cpu_power.py`` says what is tried and why): ``CARPENTRY_CPU_TDP_W``
(watts for all the machine's CPUs together); the CPU's own data where the OS exposes it (RAPL's long-term
power limit, AMD's ``fam15h_power`` hwmon); ``cpu_power.csv``, vendor TDPs of exact parts and of model
families (EPYC, Xeon, Core, Ryzen, Apple M, Arm server parts) matched on the CPU's model string — a family
row is a typical-TDP estimate; else, a fallback the notes call one and which names the CPU string no row
matched, codecarbon's default for an unknown CPU, 4 W per logical CPU. The reading's ``notes`` say which.
(The ``codecarbon`` method is separate: codecarbon matches its own TDP table and says so in its notes.) Always ``measured=False``; the reading's ``static_j`` is ``cpu_static + dram`` and
its ``dynamic_j`` the CPU power above idle.

What it cannot show: anything outside the model — clock-frequency changes, memory traffic, vector units,
the real idle power of this machine. Its joules are wall time and CPU time weighted by assumed powers, so
any ranking it gives is a ranking of those times.
"""

from __future__ import annotations

import math
import os
import time

from carpentry_kit.energy import rapl
from carpentry_kit.energy.base import EnergyError, EnergyMeter

TDP_ENV_VAR = "CARPENTRY_CPU_TDP_W"
IDLE_ENV_VAR = "CARPENTRY_CPU_IDLE_W"
ASSUMED_IDLE_FRACTION = 0.3  # of the rated power, when no idle figure is given: an assumption, declared
DEFAULT_W_PER_LOGICAL_CPU = 4.0  # codecarbon.core.cpu.DEFAULT_POWER_PER_CORE
DRAM_W_PER_GB = 3.0 / 8.0  # codecarbon.external.ram: "3 watts of power for every 8GB of DDR3 or DDR4"

FALLBACK_NOTE = (
    "{watts:g} W ({per:g} W x {logical} logical CPUs, codecarbon's default for an unknown CPU — a FALLBACK:"
    " no row of cpu_power.csv matched the CPU string {model!r} and the OS exposes no rated power here (no"
    " RAPL power limit, no fam15h_power hwmon); set {env} to the CPU's rated power for a better figure)"
)


def rated_cpu_power_w() -> tuple[float, str]:
    """The rated power of all this machine's CPUs in watts, and where that figure came from."""
    from carpentry_kit.energy.cpu_power import os_rated_power_w, table_rated_power_w
    from carpentry_kit.system import cpu_core_count, cpu_model_name, cpu_socket_count

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
    found = os_rated_power_w(rapl.POWERCAP_ROOT) or table_rated_power_w(
        model, cpu_socket_count(), cpu_core_count()
    )
    if found is not None:
        return found
    logical = os.cpu_count() or 1
    watts = DEFAULT_W_PER_LOGICAL_CPU * logical
    note = FALLBACK_NOTE.format(
        watts=watts, per=DEFAULT_W_PER_LOGICAL_CPU, logical=logical, model=model, env=TDP_ENV_VAR
    )
    return watts, note


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
