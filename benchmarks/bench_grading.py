"""Autograding speed, as `carpentry grade` does it: every submission isolated in its own sandbox.

1. A class per assignment: ``CLASS_SIZE`` submissions of each of the eight assignments (solutions, an
   untouched release, two with one answer left undone), graded in one `grade_assignment` run per assignment.
   Per-submission time = the run's wall time (trusted gradebook generation and gradebook merges included)
   divided by the number of submissions. Target: mean over the assignments <= 10 s.
2. The solutions of all eight assignments, one run each (one submission per run). Target: total <= 120 s.

Exits 1 if a target is missed or a solution does not score full marks.
Reproduce: `.venv/bin/python benchmarks/bench_grading.py`
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from figures import print_figures, verdict

from carpentry_kit.teaching.grading import assignments, grade_assignment

ROOT = Path(__file__).resolve().parents[1]
MEAN_TARGET_S = 10.0
TOTAL_TARGET_S = 120.0
CLASS_SIZE = 6  # 3 solutions, 1 untouched release, 2 with one answer left undone


def _one_unanswered(name: str, which: int) -> dict:
    """The solution with its ``which``-th answer cell left as released (``raise NotImplementedError()``)."""
    notebook = json.loads((ROOT / "solutions" / name / f"{name}.ipynb").read_text())
    release = json.loads((ROOT / "exercises" / name / f"{name}.ipynb").read_text())
    stubs = {c["id"]: c["source"] for c in release["cells"]}
    answers = [c for c in notebook["cells"] if c["cell_type"] == "code" and _meta(c).get("solution")]
    cell = answers[which % len(answers)]
    cell["source"] = stubs[cell["id"]]
    return notebook


def _meta(cell: dict) -> dict:
    return cell["metadata"].get("nbgrader", {})


def _submit(course: Path, name: str, student: str, notebook: dict | Path) -> None:
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True)
    target = folder / f"{name}.ipynb"
    if isinstance(notebook, Path):
        shutil.copyfile(notebook, target)
    else:
        target.write_text(json.dumps(notebook))


def _new_course(tmp: str) -> Path:
    course = Path(tmp)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    return course


def grade_class(name: str) -> tuple[float, int]:
    """Seconds per submission of a class of ``CLASS_SIZE``; how many solutions scored full marks."""
    source = ROOT / "solutions" / name / f"{name}.ipynb"
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        course = _new_course(tmp)
        for student in ("sol-1", "sol-2", "sol-3"):
            _submit(course, name, student, source)
        _submit(course, name, "untouched", ROOT / "exercises" / name / f"{name}.ipynb")
        for which in (0, 1):
            _submit(course, name, f"wrong-{which}", _one_unanswered(name, which))
        start = time.perf_counter()
        grades = grade_assignment(course, name)
        seconds = (time.perf_counter() - start) / len(grades)
    full = sum(g.auto_score == g.auto_max_score > 0 for g in grades if g.student.startswith("sol-"))
    return seconds, full


def grade_solutions() -> tuple[float, bool]:
    """Seconds to grade the eight solutions, one `grade_assignment` run each; whether all scored full."""
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        course = _new_course(tmp)
        start, full = time.perf_counter(), True
        for name in assignments(ROOT):
            _submit(course, name, "solution", ROOT / "solutions" / name / f"{name}.ipynb")
            (grade,) = grade_assignment(course, name, ["solution"])
            full &= grade.auto_score == grade.auto_max_score
        return time.perf_counter() - start, full


def main() -> int:
    names = assignments(ROOT)
    per_class = {name: grade_class(name) for name in names}
    total, solutions_full = grade_solutions()
    mean = sum(seconds for seconds, _ in per_class.values()) / len(per_class)
    rows = [
        (f"{name} (s per submission)", s, f"{full}/3 solutions full") for name, (s, full) in per_class.items()
    ]
    rows += [
        ("mean per submission (s)", mean, f"<= {MEAN_TARGET_S:g}"),
        ("all eight solutions (s)", total, f"<= {TOTAL_TARGET_S:g}"),
    ]
    print_figures(f"autograding, isolated, class of {CLASS_SIZE}", rows, unit="seconds")
    all_full = solutions_full and all(full == 3 for _, full in per_class.values())
    ok = mean <= MEAN_TARGET_S and total <= TOTAL_TARGET_S and all_full
    return verdict(ok, f"mean {mean:.1f} s, total {total:.1f} s, every solution full marks: {all_full}")


if __name__ == "__main__":
    sys.exit(main())
