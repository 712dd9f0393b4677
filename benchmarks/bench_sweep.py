"""Sweep bookkeeping overhead per point: the sweep's wall time minus the time spent inside ``run()``.

Target: at most 50 ms of sweep bookkeeping per point (validating the point, the resume check, the private
scratch store, copying the record and MLLOG file into the results store with an fsynced append).
Measured on a real sweep of small matmul runs; ``run()`` is wrapped with a timer, nothing else changes.
Also shown, for information: the cost per point of a re-run where every point is skipped (resume).
Exits 1 when the target is missed. Run: ``.venv/bin/python benchmarks/bench_sweep.py``.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
import time
from typing import Any

from figures import print_figures, verdict

import carpentry_kit.measure.runner as runner
from carpentry_kit.explore.sweep import sweep
from carpentry_kit.spec.load import example_spec_path

sweep_module = importlib.import_module("carpentry_kit.explore.sweep")  # the module, not the public function

TARGET_MS = 50.0
GRID = {"task.params.size": [8, 16], "task.seed": list(range(10))}  # 20 points
FIXED = {"protocol.warmup": 0, "protocol.min_duration_s": 0.0, "protocol.repeats": 2}


class Timed:
    """A function with the wall time of every call added up."""

    def __init__(self, function: Any) -> None:
        self.original, self.total_s, self.calls = function, 0.0, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.original(*args, **kwargs)
        finally:
            self.total_s += time.perf_counter() - started
            self.calls += 1


def main() -> int:
    spec = example_spec_path("matmul")
    timed, validation = Timed(runner.run), Timed(sweep_module._prepare_points)
    runner.run = timed
    with tempfile.TemporaryDirectory() as out:
        # warm the imports (torch, the workload) so the first point's import time is not counted as overhead
        sweep(
            spec, {"task.params.size": [8]}, overrides=FIXED, out=f"{out}/warm", energy="estimate", log=None
        )
        timed.total_s, timed.calls = 0.0, 0
        sweep_module._prepare_points = validation  # validating every point up front
        started = time.perf_counter()
        result = sweep(spec, GRID, overrides=FIXED, out=out, energy="estimate", log=None)
        wall = time.perf_counter() - started
        sweep_module._prepare_points = validation.original
        started = time.perf_counter()
        resumed = sweep(spec, GRID, overrides=FIXED, out=out, energy="estimate", log=None)
        resume_wall = time.perf_counter() - started
    runner.run = timed.original
    points = len(result.points)
    per_point_ms = (wall - timed.total_s) / points * 1e3
    rows = [
        ("points (all completed)", f"{len(result.done)}/{points}", ""),
        ("sweep wall time, s", f"{wall:.3f}", ""),
        ("time inside run(), s", f"{timed.total_s:.3f}", ""),
        ("bookkeeping per point, ms", f"{per_point_ms:.2f}", f"<= {TARGET_MS:g}"),
        ("  of which validating the points, ms", f"{validation.total_s / points * 1e3:.2f}", "info"),
        ("re-run, all skipped: per point, ms", f"{resume_wall / points * 1e3:.2f}", "info"),
    ]
    print_figures("sweep overhead", rows, unit="value")
    return verdict(
        per_point_ms <= TARGET_MS and len(result.done) == points and len(resumed.skipped) == points,
        f"{per_point_ms:.1f} ms per point (target {TARGET_MS:g} ms) or points missing",
    )


if __name__ == "__main__":
    sys.exit(main())
