"""`carpentry report` of 100, 1,000 and 10,000 real-sized runs: wall time and peak memory (issue 17).

Targets: the report of 10,000 runs in at most 60 s wall and 1 GiB peak resident memory, with time growing
about linearly in the number of runs (10,000 runs at most 1.5x the 1,000-run time scaled by 10).

The records are real-sized: one real run (matmul, size 32, 1,600 timed repeats, energy estimate) is the
template (~110 KB with its samples, like a sweep's point); the others are copies with fresh run ids and
times, 10 configurations (5 sizes x 2 dtypes, the spec's params set to match), and their own samples (the
template's, scaled by the configuration, a per-run factor drawn from a lognormal — run-to-run variation —
and per-sample noise). Stores of each size are written to a temporary directory and ``carpentry report``
(the real CLI path, ``python -m carpentry_kit report``) runs in a subprocess; its peak RSS is
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a fresh child per size.
Exits 1 when a target is missed. Run: ``.venv/bin/python benchmarks/bench_report_scale.py [--sizes 100,1000]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from figures import print_figures, verdict

from carpentry_kit.stats import summarize

TARGET_S = 60.0
TARGET_MIB = 1024.0
LINEAR_SLACK = 1.5  # t(10 k) <= 1.5 x 10 x t(1 k)
SIZES = (100, 1_000, 10_000)
CONFIGURATIONS = [(size, dtype) for size in (32, 64, 128, 256, 512) for dtype in ("float32", "float64")]
TEMPLATE_SETTINGS = {
    "task.params.size": 32,
    "protocol.repeats": 1600,
    "protocol.warmup": 2,
    "protocol.min_duration_s": 0,
}
ROOT = Path(__file__).resolve().parent.parent


def template_record(scratch: Path) -> dict[str, Any]:
    """One real run of matmul (``carpentry run``), the template of every generated record."""
    out = scratch / "template"
    command = [sys.executable, "-m", "carpentry_kit", "run", str(ROOT / "carpentry_kit/examples/matmul.yaml")]
    for path, value in TEMPLATE_SETTINGS.items():
        command += ["--set", f"{path}={value}"]
    command += ["--energy", "estimate", "--quiet", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True, env=_env())
    return json.loads((out / "runs.jsonl").read_text(encoding="utf-8").splitlines()[0])


def generated(template: dict[str, Any], index: int, rng: np.random.Generator) -> dict[str, Any]:
    """Record ``index``: the template in configuration ``index % 10`` with its own samples."""
    size, dtype = CONFIGURATIONS[index % len(CONFIGURATIONS)]
    record = {key: value for key, value in template.items() if key not in ("metrics", "spec")}
    record["run_id"] = f"{index:08x}" + template["run_id"][8:]
    record["started_at"] = (
        f"2026-01-{1 + index // 1000 % 28:02d}T{index // 60 % 24:02d}:{index % 60:02d}:00+00:00"
    )
    record["finished_at"] = record["started_at"]
    record["overrides"] = {"task.params.size": size, "task.params.dtype": dtype}
    spec = copy.deepcopy(template["spec"])
    spec["task"]["params"].update(size=size, dtype=dtype)
    record["spec"] = spec
    record["spec_hash"] = f"{hash((size, dtype)) & (2**64 - 1):016x}" * 4
    work = (size / 32) ** 3 * (2.0 if dtype == "float64" else 1.0)  # slower for larger, float64
    run_factor = float(rng.lognormal(0.0, 0.05))  # run-to-run variation
    record["metrics"] = {}
    for name, metric in template["metrics"].items():
        samples = np.asarray(metric["samples"], dtype=float)
        noise = rng.lognormal(0.0, 0.02, samples.size)
        speed = 0.5 if dtype == "float64" else 1.0  # GFLOP/s: float64 at half the rate
        factor = work * run_factor if name != "gflops" else speed / run_factor
        values = samples * factor * noise
        stats = summarize(values).to_dict()
        record["metrics"][name] = dict(metric, value=stats["median"], stats=stats, samples=values.tolist())
    return record


def write_store(template: dict[str, Any], directory: Path, runs: int) -> int:
    """Write ``runs`` generated records to ``directory/runs.jsonl``; returns its size in bytes."""
    directory.mkdir(parents=True)
    rng = np.random.default_rng(runs)
    with open(directory / "runs.jsonl", "w", encoding="utf-8") as handle:
        for index in range(runs):
            handle.write(json.dumps(generated(template, index, rng), allow_nan=False) + "\n")
    return (directory / "runs.jsonl").stat().st_size


def measure_report(directory: Path, output: Path) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MiB) of ``carpentry report`` in a fresh child; its stderr."""
    code = (
        "import resource, subprocess, sys, time\n"
        "started = time.perf_counter()\n"
        "done = subprocess.run([sys.executable, '-m', 'carpentry_kit', 'report', sys.argv[1], '-o', sys.argv[2],"
        " '--md', sys.argv[2] + '.md'], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - started\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(wall, peak, done.returncode, repr(done.stderr.strip()[-300:]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(directory), str(output)],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    )
    wall, peak, returncode, stderr = result.stdout.split(maxsplit=3)
    if returncode != "0":
        raise SystemExit(f"carpentry report failed ({returncode}): {stderr}")
    return float(wall), float(peak), stderr


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="store sizes, comma-separated")
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]
    rows: list[tuple[str, object, str]] = []
    figures: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as name:
        scratch = Path(name)
        template = template_record(scratch)
        template_kib = len(json.dumps(template)) / 1024
        rows.append(("template record (real matmul run), KiB", f"{template_kib:.0f}", "~110"))
        for runs in sizes:
            started = time.perf_counter()
            size = write_store(template, scratch / f"runs{runs}", runs)
            generate_s = time.perf_counter() - started
            wall, peak, _ = measure_report(scratch / f"runs{runs}", scratch / f"report{runs}.html")
            html_mib = (scratch / f"report{runs}.html").stat().st_size / 2**20
            figures[runs] = (wall, peak)
            target = f"<= {TARGET_S:g} s, <= {TARGET_MIB:g} MiB" if runs == 10_000 else "info"
            rows += [
                (
                    f"{runs:,} runs: runs.jsonl, MiB (written in {generate_s:.0f} s)",
                    f"{size / 2**20:.0f}",
                    "info",
                ),
                (f"{runs:,} runs: carpentry report wall, s", f"{wall:.1f}", target),
                (f"{runs:,} runs: peak RSS, MiB", f"{peak:.0f}", target),
                (f"{runs:,} runs: wall per run, ms", f"{wall / runs * 1000:.2f}", "~flat"),
                (f"{runs:,} runs: HTML, MiB", f"{html_mib:.1f}", "info"),
            ]
            print(f"{runs} runs: {wall:.1f} s, {peak:.0f} MiB", file=sys.stderr, flush=True)
    print_figures("carpentry report at scale", rows)
    ok = all(
        wall <= TARGET_S and peak <= TARGET_MIB for runs, (wall, peak) in figures.items() if runs >= 10_000
    )
    if 1_000 in figures and 10_000 in figures:
        linear = figures[10_000][0] <= LINEAR_SLACK * 10 * figures[1_000][0]
        marginal = (figures[10_000][0] - figures[1_000][0]) / 9_000 * 1000
        print(f"time 10 k / 1 k: {figures[10_000][0] / figures[1_000][0]:.1f}x (linear: at most 10x)")
        print(f"marginal time per run from 1 k to 10 k: {marginal:.2f} ms (the rest is a fixed start-up)")
        ok &= linear
    return verdict(ok, "10,000 runs over 60 s or 1 GiB, or time growing faster than linearly")


if __name__ == "__main__":
    sys.exit(main())
