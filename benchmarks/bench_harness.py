"""Harness overhead per timed repeat, measured with a workload whose step does nothing.

Target: at most 50 µs of harness time per timed repeat (offline loop, no meter, no adaptive stopping).
Also shown, for information: the same loop with adaptive stopping and with the energy estimate meter.
Exits 1 when the target is missed. Run: ``.venv/bin/python benchmarks/bench_harness.py``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from figures import print_figures, verdict

from carpentry_kit.measure.harness import Harness
from carpentry_kit.spec.model import Protocol
from carpentry_kit.workloads import Workload

TARGET_US = 50.0
REPEATS = 20_000


class NoOp(Workload):
    """A workload whose timed work is nothing: all the time measured is the harness's own."""

    name = "no-op"
    summary = "does nothing"
    scenarios = ("offline",)
    defaults: dict[str, Any] = {}
    quality_metrics: dict[str, str] = {}

    def setup(self) -> None:
        pass

    def step(self) -> int:
        return 1

    def evaluate(self) -> dict[str, float]:
        return {}

    def reset(self, seed: int) -> None:
        pass


def overhead_us(protocol: Protocol, meter: Any = None) -> float:
    """Best of three: wall time of the loop per timed repeat, in microseconds."""
    best = float("inf")
    for _ in range(3):
        workload = NoOp({}, {})
        started = time.perf_counter()
        measurement = Harness(workload, protocol, meter=meter).run()
        best = min(best, (time.perf_counter() - started) / measurement.repeats * 1e6)
    return best


def estimate_meter() -> Any:
    try:
        from carpentry_kit.energy import make_meter

        return make_meter("estimate")
    except ImportError:
        return None


def main() -> int:
    plain = overhead_us(Protocol(warmup=0, repeats=REPEATS))
    adaptive = overhead_us(
        Protocol(warmup=0, repeats=10, adaptive={"enabled": True, "rel_ci_width": 1e-9, "max_repeats": 2000})
    )
    meter = estimate_meter()
    metered = overhead_us(Protocol(warmup=0, repeats=2000), meter) if meter else float("nan")
    rows = [
        ("offline loop, no meter (target)", plain, f"<= {TARGET_US:g}"),
        ("offline loop, adaptive stopping", adaptive, "info"),
        ("offline loop, estimate meter", metered, "info"),
    ]
    print_figures("harness overhead per timed repeat", rows, unit="µs")
    return verdict(plain <= TARGET_US, f"{plain:.1f} µs > {TARGET_US:g} µs")


if __name__ == "__main__":
    sys.exit(main())
