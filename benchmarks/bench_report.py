"""Report rendering time for 100 real runs: ``write_report`` (HTML with embedded plots + Markdown).

Target: the report of a results directory holding 100 runs renders in at most 5 s (first call in a fresh
process, so matplotlib's import and font cache are counted). The 100 runs are real: a sweep of small matmul
runs (size 32, 3 repeats, energy estimate) over 100 grid points, generated once into a temporary directory.
Exits 1 when the target is missed. Run: ``.venv/bin/python benchmarks/bench_report.py``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from figures import print_figures, verdict

from carpentry_kit.explore.sweep import sweep
from carpentry_kit.spec.load import example_spec_path

TARGET_S = 5.0
GRID = {"task.params.multiplies": [1, 2, 3, 4, 5], "task.seed": list(range(20))}  # 100 points
FIXED = {"task.params.size": 32, "protocol.warmup": 0, "protocol.min_duration_s": 0.0, "protocol.repeats": 3}


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "results"
        started = time.perf_counter()
        result = sweep(
            example_spec_path("matmul"), GRID, overrides=FIXED, out=out, energy="estimate", log=None
        )
        generate_s = time.perf_counter() - started
        from carpentry_kit.explore.report import write_report

        started = time.perf_counter()
        html = write_report(out, Path(scratch) / "report.html", markdown=Path(scratch) / "results.md")
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        write_report(out, Path(scratch) / "again.html")
        second_s = time.perf_counter() - started
        size_kib = html.stat().st_size / 1024
    rows = [
        ("runs in the results directory", f"{len(result.records)}", ""),
        ("generating them (sweep), s", f"{generate_s:.1f}", "info"),
        ("write_report, first call, s", f"{first_s:.2f}", f"<= {TARGET_S:g}"),
        ("write_report, second call, s", f"{second_s:.2f}", "info"),
        ("HTML size, KiB", f"{size_kib:.0f}", "info"),
    ]
    print_figures("report for 100 runs", rows, unit="value")
    return verdict(
        first_s <= TARGET_S and len(result.done) == 100,
        f"{first_s:.2f} s (target {TARGET_S:g} s) or not 100 completed runs",
    )


if __name__ == "__main__":
    sys.exit(main())
