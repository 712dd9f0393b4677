"""Harness overhead per timed repeat, measured with a workload whose step does nothing.

Target: at most 50 µs of harness time per timed repeat (offline loop, no meter, no adaptive stopping).
Also shown, for information: the same loop with adaptive stopping and with the energy estimate meter.

Scale (issue 17): the cost per repeat must not grow with the number of repeats. For 1 k, 10 k and 100 k
repeats it prints the cost per repeat above the floor — a bare loop that reads ``time.perf_counter`` twice
and appends the difference, the least any timing loop does — of the fixed-repeat loop, of the loop with
MLLOG events (samples so far at every block), and of adaptive stopping with ``min_duration_s`` (the timed
total read and the CI checked on their schedule at every repeat; the CI never narrows enough, so every run
goes to its ``max_repeats``). Flat means the 100 k figure is within 1.5x + 0.5 µs of the 1 k one.
Exits 1 when a target is missed. Run: ``.venv/bin/python benchmarks/bench_harness.py``.
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
SCALES = (1_000, 10_000, 100_000)
FLAT_RATIO, FLAT_SLACK_US = 1.5, 0.5  # the 100 k cost per repeat may be at most 1.5x the 1 k one + 0.5 µs


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


def overhead_us(protocol: Protocol, meter: Any = None, on_event: Any = None, tries: int = 3) -> float:
    """Best of ``tries``: wall time of the loop per timed repeat, in microseconds."""
    best = float("inf")
    for _ in range(tries):
        workload = NoOp({}, {})
        started = time.perf_counter()
        measurement = Harness(workload, protocol, meter=meter, on_event=on_event).run()
        best = min(best, (time.perf_counter() - started) / measurement.repeats * 1e6)
    return best


def floor_us(repeats: int, tries: int = 3) -> float:
    """Best of ``tries``: a bare timing loop (two perf_counter reads, one append) per repeat, µs."""
    best = float("inf")
    for _ in range(tries):
        clock, times = time.perf_counter, []
        started = clock()
        for _ in range(repeats):
            begin = clock()
            times.append(clock() - begin)
        best = min(best, (clock() - started) / repeats * 1e6)
    return best


def scale_rows() -> tuple[list[tuple[str, object, str]], bool]:
    """Cost per repeat above the floor at each scale; ok when every variant stays flat."""
    variants = {
        "fixed repeats": lambda n: (Protocol(warmup=0, repeats=n), None),
        "fixed repeats + MLLOG events": lambda n: (Protocol(warmup=0, repeats=n), lambda *event: None),
        "adaptive + min_duration_s": lambda n: (
            Protocol(
                warmup=0,
                repeats=1,
                min_duration_s=1e-12,
                adaptive={"enabled": True, "rel_ci_width": 1e-12, "max_repeats": n},
            ),
            None,
        ),
    }
    rows: list[tuple[str, object, str]] = []
    ok = True
    floors = {n: floor_us(n) for n in SCALES}
    rows += [(f"floor (bare perf_counter loop), {n:,} repeats", floors[n], "info") for n in SCALES]
    for name, make in variants.items():
        costs = {}
        for n in SCALES:
            protocol, on_event = make(n)
            costs[n] = overhead_us(protocol, on_event=on_event, tries=3 if n < 100_000 else 2) - floors[n]
            rows.append((f"{name}, {n:,} repeats, above floor", costs[n], "flat"))
        flat = costs[SCALES[-1]] <= FLAT_RATIO * max(costs[SCALES[0]], 0.0) + FLAT_SLACK_US
        ok &= flat
        rows.append(
            (
                f"{name}: 100 k / 1 k",
                costs[SCALES[-1]] / max(costs[SCALES[0]], 1e-9),
                "flat" if flat else "GROWS",
            )
        )
    return rows, ok


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
    scaled, flat = scale_rows()
    print()
    print_figures("cost per repeat as repeats grow (issue 17)", scaled, unit="µs")
    return verdict(
        plain <= TARGET_US and flat,
        f"{plain:.1f} µs (target {TARGET_US:g} µs), or a cost per repeat that grows with the repeats",
    )


if __name__ == "__main__":
    sys.exit(main())
