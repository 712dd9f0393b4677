"""A sweep at scale on Dask: 4 workers, 200 points, the client killed mid-sweep and run again.

The sweep's client is the store's only writer however many workers there are; this proves nothing is lost
or written twice, and that the same sweep run again after a SIGKILL completes exactly the missing points.
The client runs in a subprocess against a scheduler this test owns (as on a cluster, where the workers
outlive a killed client). Points are tiny matmuls: the bookkeeping is what is tested, not the timings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from collections import Counter
from pathlib import Path

from carpentry_kit.results.store import ResultStore
from carpentry_kit.spec.load import apply_overrides, example_spec_path, load_spec
from carpentry_kit.spec.model import spec_hash

ROOT = Path(__file__).resolve().parents[2]
POINTS, WORKERS, KILL_AFTER = 200, 4, 40
FAST = {
    "protocol.warmup": 0,
    "protocol.min_duration_s": 0.0,
    "protocol.repeats": 1,
    "task.params.multiplies": 1,
}
CLIENT = textwrap.dedent(
    """
    import sys
    from carpentry_kit.explore.sweep import sweep

    address, out = sys.argv[1:]
    sweep({spec!r}, {{"task.params.size": list(range(1, {points} + 1))}}, overrides={fast!r}, out=out,
          energy="estimate", dask=address, log=lambda line: print(line, flush=True))
    """
)


def _client(address: str, out: Path) -> subprocess.Popen:
    code = CLIENT.format(spec=str(example_spec_path("matmul")), points=POINTS, fast=FAST)
    return subprocess.Popen(
        [sys.executable, "-c", code, address, str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )


def _records(out: Path) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the killed client's runs are recovered with a warning each
        return ResultStore(out).records()


def test_200_points_on_4_workers_survive_a_killed_client_and_resume(tmp_path):
    from distributed import LocalCluster

    base = load_spec(example_spec_path("matmul"))
    expected = {
        spec_hash(apply_overrides(base, {**FAST, "task.params.size": size})) for size in range(1, POINTS + 1)
    }
    out = tmp_path / "results"
    with LocalCluster(
        n_workers=WORKERS, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        first = _client(cluster.scheduler_address, out)
        completed, started = 0, time.monotonic()
        for line in first.stdout:
            completed += ": completed" in line
            if completed >= KILL_AFTER or time.monotonic() - started > 240:
                break
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert completed >= KILL_AFTER

        killed = _records(out)  # recovers the runs the dead client had in flight, as interrupted
        done = [r for r in killed if r["status"] == "completed"]
        assert len(done) >= KILL_AFTER and len({r["spec_hash"] for r in done}) == len(done)  # no duplicates
        interrupted = [r for r in killed if r["status"] == "interrupted"]
        assert len(interrupted) <= WORKERS  # only the points that were running, not the queued ones
        assert not any((out / "running").glob("*.json"))

        second = _client(cluster.scheduler_address, out)
        lines = second.stdout.read().splitlines()
        assert second.wait(timeout=300) == 0

    records = _records(out)
    done = [r for r in records if r["status"] == "completed"]
    assert Counter(r["spec_hash"] for r in done).most_common(1)[0][1] == 1  # nothing written twice
    assert {r["spec_hash"] for r in done} == expected  # nothing lost: exactly the 200 points
    assert len(records) == POINTS + len(interrupted)  # plus the killed runs, recorded as such
    points = [line for line in lines if line.startswith("[")]  # one line a point, then the summary
    skipped = sum(line.endswith(": skipped (already completed)") for line in points)
    ran = sum(": completed" in line for line in points)
    assert skipped == len({r["spec_hash"] for r in killed if r["status"] == "completed"})
    assert skipped + ran == POINTS
    assert lines[-1].startswith(f"{POINTS} points: {ran} done, {skipped} skipped")
