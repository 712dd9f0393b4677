"""The shared part of every energy meter: the reading, the begin/end window, errors, combining meters.

A meter measures *windows*: ``begin()`` notes the time and the counters, ``end()`` returns an
:class:`EnergyReading` for the work in between. Units are always joules and seconds.
"""

from __future__ import annotations

import abc
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from carpentry_kit.errors import UsageError


class EnergyError(UsageError):
    """A meter cannot give a trustworthy reading; the message is one line saying why and what to do.

    A ``spec.UsageError``, so the CLI prints the line and exits 2 instead of showing a traceback.
    """


class EnergyUnavailable(EnergyError):
    """An energy method cannot be used on this machine; the message says why and how to enable it."""


@dataclass(frozen=True)
class EnergyReading:
    """Energy used during one window.

    ``components_j`` maps a part of the machine (``cpu``, ``dram``, ``gpu``) to joules, ``total_j`` is
    their sum and ``duration_s`` the window's wall-clock length in seconds. ``measured`` is False for
    anything modelled rather than read from a hardware counter; ``notes`` says where the numbers came from.
    ``static_j`` is the part of ``total_j`` that is static (idle) power — spent whether or not the work runs
    — where the method can tell (the estimate models it); None where it cannot (a counter reads the sum).
    """

    method: str
    measured: bool
    components_j: dict[str, float]
    total_j: float
    duration_s: float
    layer: str = "device"
    notes: str = ""
    static_j: float | None = None

    def __post_init__(self) -> None:
        if self.duration_s < 0:
            raise EnergyError(
                f"{self.method}: negative window duration {self.duration_s} s — end() came before begin()"
            )
        negative = {name: j for name, j in self.components_j.items() if j < 0}
        if negative:
            raise EnergyError(
                f"{self.method}: negative energy {negative} J — a counter went backwards; repeat the measurement"
            )

    @property
    def avg_power_w(self) -> float:
        """Mean power over the window in watts; NaN for a zero-length window, which has no average."""
        if self.duration_s <= 0:
            return math.nan
        return self.total_j / self.duration_s

    def as_dict(self) -> dict[str, Any]:
        """The reading as plain JSON-ready data, with ``avg_power_w`` (None when undefined)."""
        power = self.avg_power_w
        return {
            "method": self.method,
            "measured": self.measured,
            "layer": self.layer,
            "components_j": dict(self.components_j),
            "total_j": self.total_j,
            "duration_s": self.duration_s,
            "avg_power_w": None if math.isnan(power) else power,
            "notes": self.notes,
            "static_j": self.static_j,
            "dynamic_j": self.dynamic_j,
        }

    @property
    def dynamic_j(self) -> float | None:
        """The energy above idle: ``total_j - static_j``; None when the static part is unknown."""
        return None if self.static_j is None else self.total_j - self.static_j


@dataclass
class EnergyWindow:
    """What ``EnergyMeter.window()`` yields; ``reading`` is filled in when the ``with`` block ends."""

    reading: EnergyReading | None = field(default=None)


class EnergyMeter(abc.ABC):
    """One energy method. Subclasses read cumulative counters; this class turns two reads into a reading."""

    method: ClassVar[str]
    measured: bool = False
    layer: str = "device"

    def __init__(self) -> None:
        self._started_at: float | None = None
        self._start_state: Any = None

    @abc.abstractmethod
    def _snapshot(self) -> Any:
        """Read the counters now (cheap: this runs at both edges of every window)."""

    @abc.abstractmethod
    def _components(self, start: Any, stop: Any, duration_s: float) -> dict[str, float]:
        """Joules per component between two snapshots."""

    def _notes(self) -> str:
        """Where this meter's numbers come from."""
        return ""

    def begin(self) -> None:
        """Start a window. A window already open is an error."""
        if self._started_at is not None:
            raise EnergyError(
                f"{self.method}: begin() called twice — call end() before starting another window"
            )
        started_at = time.perf_counter()  # before the read: the duration covers the whole read
        self._start_state = self._snapshot()
        self._started_at = started_at

    def end(self) -> EnergyReading:
        """Close the window and return the energy used since ``begin()``.

        The duration spans both counter reads, so it covers all the time the energy figure covers.
        """
        if self._started_at is None:
            raise EnergyError(f"{self.method}: end() called without begin() — start a window first")
        stop_state = self._snapshot()
        wall_s = time.perf_counter() - self._started_at
        start_state, self._started_at, self._start_state = self._start_state, None, None
        duration_s = self._duration(start_state, stop_state, wall_s)
        components = self._components(start_state, stop_state, duration_s)
        return make_reading(
            self.method, self.measured, components, duration_s, self._notes(), self.layer,
            self._static_j(components),
        )  # fmt: skip

    def _static_j(self, components: dict[str, float]) -> float | None:
        """The static (idle) part of a window's components; None: this method cannot tell."""
        return None

    def _duration(self, start: Any, stop: Any, wall_s: float) -> float:
        """Seconds the energy figure covers; meters whose counters carry their own clock override this."""
        return wall_s

    @contextmanager
    def window(self) -> Iterator[EnergyWindow]:
        """``with meter.window() as w: work()`` then ``w.reading``; the window closes even on error."""
        holder = EnergyWindow()
        self.begin()
        try:
            yield holder
        finally:
            holder.reading = self.end()

    def close(self) -> None:  # noqa: B027 - optional hook: most meters hold nothing
        """Release what the meter holds (threads, library handles). Safe to call twice."""

    def __enter__(self) -> EnergyMeter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} method={self.method!r} measured={self.measured}>"


def make_reading(
    method: str,
    measured: bool,
    components: dict[str, float],
    duration_s: float,
    notes: str,
    layer: str = "device",
    static_j: float | None = None,
) -> EnergyReading:
    """Build a reading, noting a zero-length window instead of dividing by zero."""
    if duration_s <= 0:
        notes = f"{notes}; zero-length window: no average power".lstrip("; ")
    return EnergyReading(
        method=method,
        measured=measured,
        components_j=components,
        total_j=sum(components.values()),
        duration_s=duration_s,
        layer=layer,
        notes=notes,
        static_j=static_j,
    )


class CombinedMeter(EnergyMeter):
    """Several meters over the same window, e.g. NVML for the GPU plus RAPL for the CPU.

    Components with the same name are added. ``method`` joins the parts with ``+`` and the reading is
    ``measured`` only when every part is.
    """

    method = "combined"

    def __init__(self, meters: Sequence[EnergyMeter]) -> None:
        super().__init__()
        if not meters:
            raise EnergyError("CombinedMeter needs at least one meter")
        self.meters = list(meters)
        self.method = "+".join(m.method for m in self.meters)  # type: ignore[misc]
        self.measured = all(m.measured for m in self.meters)
        self.layer = self.meters[0].layer if len({m.layer for m in self.meters}) == 1 else "device"

    def _snapshot(self) -> list[Any]:
        return [meter._snapshot() for meter in self.meters]

    def _components(self, start: list[Any], stop: list[Any], duration_s: float) -> dict[str, float]:
        total: dict[str, float] = {}
        for meter, first, last in zip(self.meters, start, stop, strict=True):
            for name, joules in meter._components(first, last, duration_s).items():
                total[name] = total.get(name, 0.0) + joules
        return total

    def _notes(self) -> str:
        return "; ".join(f"{m.method}: {m._notes()}" for m in self.meters)

    def _static_j(self, components: dict[str, float]) -> float | None:
        """Known only when every part knows its own (components of the parts are merged by name)."""
        parts = [meter._static_j(components) for meter in self.meters]
        return None if any(part is None for part in parts) else sum(parts)  # type: ignore[arg-type]

    def close(self) -> None:
        for meter in self.meters:
            meter.close()
