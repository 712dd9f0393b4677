"""Start-up costs of the spec stage, each the median wall time of fresh processes.

Targets: ``import carpentry_kit`` ≤ 150 ms and imports no torch, pandas, matplotlib or codecarbon;
``carpentry --help`` ≤ 0.5 s; ``carpentry validate`` of each shipped example ≤ 0.5 s.
Wall times include the interpreter's own start (nothing is subtracted).
The commands are timed as users type them (the ``carpentry`` console script next to the interpreter).
Exits 1 when a target is missed. Run: ``.venv/bin/python benchmarks/bench_spec.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from figures import print_figures, verdict

REPO = Path(__file__).resolve().parents[1]
RUNS = 7
HEAVY = ("torch", "pandas", "matplotlib", "codecarbon")


def median_times_s(argv: list[str]) -> tuple[float, float]:
    """Median wall and CPU (user + system) time of ``RUNS`` fresh processes, after one untimed warm-up run.

    CPU time is shown because wall time on a busy machine also counts waiting for a core.
    """
    subprocess.run(argv, cwd=REPO, capture_output=True, check=True)
    walls, cpus = [], []
    for _ in range(RUNS):
        before = os.times()
        started = time.perf_counter()
        subprocess.run(argv, cwd=REPO, capture_output=True, check=True)
        walls.append(time.perf_counter() - started)
        after = os.times()
        cpus.append(
            after.children_user - before.children_user + after.children_system - before.children_system
        )
    return statistics.median(walls), statistics.median(cpus)


def heavy_modules_after_import() -> list[str]:
    code = f"import sys, carpentry_kit; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return [name for name in out.stdout.strip().split(",") if name]


def main() -> int:
    python = sys.executable
    carpentry = [str(Path(python).with_name("carpentry"))]  # the console script users type
    if not Path(carpentry[0]).is_file():
        carpentry = [python, "-m", "carpentry_kit"]
    checks = [
        ("import carpentry_kit (ms)", [python, "-c", "import carpentry_kit"], 0.150),
        ("carpentry --help (ms)", [*carpentry, "--help"], 0.5),
    ]
    for example in sorted((REPO / "carpentry_kit" / "examples").glob("*.yaml")):
        checks.append(
            (f"carpentry validate {example.name} (ms)", [*carpentry, "validate", str(example)], 0.5)
        )

    heavy = heavy_modules_after_import()
    rows, missed = [], [f"import carpentry_kit imports {name}" for name in heavy]
    for label, argv, target_s in checks:
        wall, cpu = median_times_s(argv)
        rows.append((label, round(wall * 1000, 1), f"<= {target_s * 1000:.0f} (cpu {cpu * 1000:.0f} ms)"))
        if wall > target_s:
            missed.append(f"{label} {wall * 1000:.0f} > {target_s * 1000:.0f}")
    bare, _ = median_times_s([python, "-c", "pass"])
    rows.append(("bare interpreter start (ms, for information)", round(bare * 1000, 1), "-"))
    rows.append(("heavy modules after import carpentry_kit", ", ".join(heavy) or "none", "none"))

    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {' '.join(carpentry)}")
    print_figures(f"spec stage start-up, median wall of {RUNS} fresh processes", rows, unit="wall ms")
    return verdict(not missed, "; ".join(missed))


if __name__ == "__main__":
    raise SystemExit(main())
