"""Autograding speed: each assignment's solution graded once, isolated, as `carpentry grade` does it.

Targets: one submission <= 10 s on average; all eight solutions <= 120 s. Exits 1 if a target is missed.
Reproduce: `.venv/bin/python benchmarks/bench_grading.py`
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from carpentry_kit.grading import assignments, grade_assignment

ROOT = Path(__file__).resolve().parents[1]
MEAN_TARGET_S = 10.0
TOTAL_TARGET_S = 120.0


def grade_solution(course: Path, name: str) -> tuple[float, float, float]:
    """Seconds to autograde the solution of ``name`` as a submission; its score and maximum."""
    submission = course / "submitted" / "solution" / name
    shutil.copytree(ROOT / "solutions" / name, submission)
    start = time.perf_counter()
    (grade,) = grade_assignment(course, name, ["solution"])
    return time.perf_counter() - start, grade.auto_score, grade.auto_max_score


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        course = Path(tmp)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "solutions", course / "solutions")
        rows = [(name, *grade_solution(course, name)) for name in assignments(ROOT)]
    print(f"{'assignment':<12}{'seconds':>9}{'score':>9}")
    for name, seconds, score, maximum in rows:
        print(f"{name:<12}{seconds:>9.1f}{f'{score:g}/{maximum:g}':>9}")
    total = sum(row[1] for row in rows)
    mean = total / len(rows)
    print(f"{'mean':<12}{mean:>9.1f}   target <= {MEAN_TARGET_S:g} s")
    print(f"{'total':<12}{total:>9.1f}   target <= {TOTAL_TARGET_S:g} s")
    full = all(score == maximum for _, _, score, maximum in rows)
    if not full:
        print("a solution did not score full marks")
    return 0 if mean <= MEAN_TARGET_S and total <= TOTAL_TARGET_S and full else 1


if __name__ == "__main__":
    sys.exit(main())
