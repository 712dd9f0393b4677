"""A first run that starts fast: ``carpentry validate`` and a first ``carpentry run`` of matmul, wall time.

Targets (issue 17): ``carpentry validate carpentry_kit/examples/matmul.yaml`` ≤ 0.3 s wall; the first
``carpentry run`` of matmul (a fresh process, a fresh results directory, the spec as shipped, ``--energy``
auto) ≤ 2.5 s wall. Each figure is the median of fresh processes after one untimed warm-up run (the
operating system's file cache is warm, as on any run after the first). matmul multiplies with torch, so a
run cannot start faster than ``import torch``: that floor, and the run's own timed seconds (warm-up and
repeats until ``min_duration_s``), are printed beside it, measured side by side, with a run refused by the
infrastructure check (too much memory asked), which needs no torch.
Exits 1 when a target is missed. Run: ``.venv/bin/python benchmarks/bench_first_run.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import print_figures, verdict

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "carpentry_kit" / "examples" / "matmul.yaml"
RUNS = 5
VALIDATE_TARGET_S = 0.3
RUN_TARGET_S = 2.5


def wall_s(
    argv: list[str], runs: int = RUNS, fresh_out: bool = False, exit_code: int = 0
) -> tuple[float, list[dict]]:
    """Median wall time of ``runs`` fresh processes (after one untimed one) and the records they wrote."""
    walls, records = [], []
    for index in range(runs + 1):
        with tempfile.TemporaryDirectory() as out:
            extra = ["--out", out] if fresh_out else []
            started = time.perf_counter()
            done = subprocess.run([*argv, *extra], cwd=ROOT, capture_output=True, text=True)
            wall = time.perf_counter() - started
            if done.returncode != exit_code:
                sys.exit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-1000:]}")
            if index:
                walls.append(wall)
                store = Path(out) / "runs.jsonl"
                if store.exists():
                    records.append(json.loads(store.read_text(encoding="utf-8").splitlines()[-1]))
    return statistics.median(walls), records


def timed_s(record: dict) -> float:
    """The run's timed seconds: the sum of its timed steps (``latency_s`` is per step; warm-up not included)."""
    return sum(record["metrics"]["latency_s"]["samples"])


def main() -> int:
    python = sys.executable
    carpentry = [str(Path(python).with_name("carpentry"))]
    if not Path(carpentry[0]).is_file():
        carpentry = [python, "-m", "carpentry_kit"]
    validate, _ = wall_s([*carpentry, "validate", str(SPEC)], runs=7)
    run, records = wall_s([*carpentry, "run", str(SPEC), "--quiet"], fresh_out=True)
    refused, _ = wall_s(  # bad input found by the infrastructure check, before any workload is built
        [*carpentry, "run", str(SPEC), "--set", "infrastructure.memory_gb=100000"],
        fresh_out=True,
        exit_code=2,
    )
    torch_floor, _ = wall_s([python, "-c", "import torch"])
    bare, _ = wall_s([python, "-c", "pass"], runs=7)
    timed = statistics.median(timed_s(record) for record in records)
    method = records[0]["energy"]["method"]
    rows = [
        ("carpentry validate matmul.yaml", validate, f"<= {VALIDATE_TARGET_S:g} s"),
        ("first carpentry run of matmul", run, f"<= {RUN_TARGET_S:g} s"),
        ("  of which the run's timed repeats (median)", timed, "info (protocol.min_duration_s 0.5)"),
        ("  floor: python -c 'import torch'", torch_floor, "info (matmul needs torch)"),
        ("  the rest: run - import torch - timed repeats", run - torch_floor - timed, "info"),
        ("a run refused by the infrastructure check", refused, "info (no torch import)"),
        ("bare interpreter start", bare, "info"),
        ("energy method of the run", method, "info"),
    ]
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {' '.join(carpentry)}")
    print_figures(f"first run, median wall of fresh processes (s; validate 7, others {RUNS})", rows)
    missed = [
        f"{label} {value:.2f} s > {target:g} s"
        for label, value, target in (("validate", validate, VALIDATE_TARGET_S), ("run", run, RUN_TARGET_S))
        if value > target
    ]
    return verdict(not missed, "; ".join(missed))


if __name__ == "__main__":
    sys.exit(main())
