"""Start-up costs of the spec stage, each the median wall time of fresh processes.

Targets: ``import carpentry_kit`` ≤ 150 ms and imports no torch, pandas, matplotlib or codecarbon;
``carpentry --help`` ≤ 0.5 s; ``carpentry validate`` of each shipped example ≤ 0.5 s.
Wall times include the interpreter's own start (nothing is subtracted).
Exits 1 when a target is missed. Run: ``.venv/bin/python benchmarks/bench_spec.py``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

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
    carpentry = [python, "-m", "carpentry_kit"]
    rows = [
        ("python -c 'import carpentry_kit'", [python, "-c", "import carpentry_kit"], 0.150),
        ("carpentry --help", [*carpentry, "--help"], 0.5),
    ]
    for example in sorted((REPO / "carpentry_kit" / "examples").glob("*.yaml")):
        rows.append((f"carpentry validate {example.name}", [*carpentry, "validate", str(example)], 0.5))
    rows.append(("bare interpreter (for information)", [python, "-c", "pass"], None))

    heavy = heavy_modules_after_import()
    failed = bool(heavy)
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'measurement':<44} {'wall ms':>8} {'cpu ms':>8} {'target':>8}  ok")
    for label, argv, target in rows:
        wall, cpu = median_times_s(argv)
        ok = target is None or wall <= target
        failed |= not ok
        target_text = f"{target * 1000:.0f}" if target else "-"
        print(f"{label:<44} {wall * 1000:>8.1f} {cpu * 1000:>8.1f} {target_text:>8}  {'yes' if ok else 'NO'}")
    print(f"heavy modules imported by `import carpentry_kit`: {', '.join(heavy) or 'none'}")
    print(f"(medians of {RUNS} fresh processes each; the targets are on wall time; {python})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
