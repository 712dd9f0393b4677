"""Sweep throughput on Dask: 200 tiny matmul points on a LocalCluster of 4 single-threaded workers.

For information (issue 17 sets no target): points per second with 4 workers — as threads of one process and
as 4 processes — beside the same sweep run sequentially, measured one after another on this machine. Each
sweep writes a fresh store; the script checks that each holds exactly the 200 points, once each, and exits 1
otherwise. The points are tiny, so this measures the sweep's bookkeeping and Dask's round trips, not
matmul; on a 2-core machine 4 workers share 2 cores. Run: ``.venv/bin/python benchmarks/bench_sweep_dask.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from figures import print_figures, verdict

from carpentry_kit.explore.sweep import sweep
from carpentry_kit.results.store import ResultStore
from carpentry_kit.spec.load import example_spec_path

POINTS, WORKERS = 200, 4
GRID = {"task.params.size": list(range(1, POINTS + 1))}
FAST = {
    "protocol.warmup": 0,
    "protocol.min_duration_s": 0.0,
    "protocol.repeats": 1,
    "task.params.multiplies": 1,
}


def timed_sweep(**where: object) -> tuple[float, int]:
    """Wall seconds of one sweep of the grid, and how many distinct points its store holds once each."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        sweep(
            example_spec_path("matmul"), GRID, overrides=FAST, out=out, energy="estimate", log=None, **where
        )
        wall = time.perf_counter() - started
        hashes = [r["spec_hash"] for r in ResultStore(out).records() if r["status"] == "completed"]
    return wall, len(set(hashes)) if len(set(hashes)) == len(hashes) else -1


def main() -> int:
    from distributed import Client, LocalCluster

    results = {"sequential": timed_sweep()}
    for label, processes in (("4 thread workers", False), ("4 process workers", True)):
        with (
            LocalCluster(
                n_workers=WORKERS, threads_per_worker=1, processes=processes, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            results[label] = timed_sweep(dask=client)
    rows = [
        (f"{label}: points/s ({wall:.1f} s for {POINTS})", POINTS / wall, f"{stored} of {POINTS} stored once")
        for label, (wall, stored) in results.items()
    ]
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print_figures(f"sweep of {POINTS} tiny matmul points", rows, unit="points/s")
    lost = [label for label, (_, stored) in results.items() if stored != POINTS]
    return verdict(not lost, f"points lost or stored twice: {', '.join(lost)}")


if __name__ == "__main__":
    sys.exit(main())
