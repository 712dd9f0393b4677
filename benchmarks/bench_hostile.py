"""Hostile specs are refused fast and in little memory, before YAML composes them (issue 18).

Targets: ``carpentry validate`` of a spec with a 45 MB list, one nested 800 deep and one holding 30,000
values each exits 2 with one line in at most 3 s wall and at most 300 MiB peak memory (the 45 MB list took
612 s and 3.3 GB before the limits). Wall time includes the interpreter's start; peak memory is the child's
maximum resident set. Exits 1 when a target is missed. Run: ``.venv/bin/python benchmarks/bench_hostile.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import print_figures, verdict

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 3.0
TARGET_MIB = 300
TAILS = {
    "45 MB list": "x:\n" + "- 1\n" * 11_250_000,
    "nested 800 deep": "x: " + "[" * 800 + "]" * 800 + "\n",
    "30,000 values": "x: [" + "1, " * 30_000 + "]\n",
}


def refuse(path: Path) -> tuple[float, float, float, int, str]:
    """Wall and CPU seconds, peak MiB, exit code and stderr of ``carpentry validate path`` in a fresh process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "carpentry_kit", "validate", str(path)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak resident set (KiB on Linux)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode, err


def main() -> int:
    base = (REPO / "carpentry_kit" / "examples" / "matmul.yaml").read_text(encoding="utf-8")
    rows, missed = [], []
    with tempfile.TemporaryDirectory() as folder:
        for name, tail in TAILS.items():
            path = Path(folder) / "hostile.yaml"
            path.write_text(base + tail, encoding="utf-8")
            wall, cpu, peak, code, err = refuse(path)
            lines = err.strip().splitlines()
            shown = f"{wall:.2f} / {peak:.0f}"
            rows.append(
                (f"{name}: wall s / peak MiB", shown, f"<= {TARGET_S:g} / {TARGET_MIB} (cpu {cpu:.2f} s)")
            )
            if wall > TARGET_S or peak > TARGET_MIB:
                missed.append(f"{name}: {wall:.2f} s, {peak:.0f} MiB")
            if code != 2 or len(lines) != 1 or "Traceback" in err:
                missed.append(f"{name}: exit {code}, {len(lines)} lines on stderr")
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print_figures("hostile specs refused by carpentry validate", rows, unit="wall / peak")
    return verdict(not missed, "; ".join(missed))


if __name__ == "__main__":
    raise SystemExit(main())
