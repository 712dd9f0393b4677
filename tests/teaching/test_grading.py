"""`carpentry grade`: real nbgrader autograding of lesson01, including hostile and broken submissions.

Each submission runs in its own sandbox and is scored by the parent; none may crash the run, change another
student's grade or touch the course. The attacks on the sandbox itself are in test_grading_hostile.py.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from carpentry_kit.teaching.grading import COURSE_ID, grade_assignment, write_csv
from carpentry_kit.teaching.sandbox import Limits

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
FULL = 10.0  # autograded points of lesson01
TESTS = (
    "test-matmul-flop",
    "test-gflops",
    "test-time-matmul",
    "test-first-result",
    "test-run-matmul",
    "test-provenance",
)


def _notebook(kind: str) -> dict:
    folder = "solutions" if kind == "solution" else "exercises"
    return json.loads((ROOT / folder / "lesson01" / "lesson01.ipynb").read_text())


def _edit(notebook: dict, grade_id: str, source: str) -> dict:
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            cell["source"] = source
    return notebook


def _submissions(course: Path) -> dict[str, dict]:
    solution = _notebook
    wrong_gflops = "def gflops(n, seconds):\n    return matmul_flop(n) / seconds\n"  # forgot 1e9
    carol = _edit(solution("solution"), "gflops", wrong_gflops)
    provenance = "".join(next(c for c in carol["cells"] if c.get("id") == "provenance")["source"])
    # the validity verdict is the record's text (VALID/INVALID), not RunResult.valid (a bool)
    _edit(carol, "provenance", provenance.replace('record["validity"]', "result.valid"))
    course_files = f"{course}/solutions/lesson01/lesson01.ipynb"
    tampered = _edit(solution("solution"), "gflops", wrong_gflops)
    _edit(tampered, "test-gflops", "pass\n")  # a learner "fixes" a failing test
    tampered["cells"] = [c for c in tampered["cells"] if c.get("id") != "test-time-matmul"]
    return {
        "alice": solution("solution"),
        "bob": solution("release"),
        "carol": carol,
        "dave": _edit(
            solution("solution"), "time-matmul", "def time_matmul(n):\n    while True:\n        pass\n"
        ),
        "erin": _edit(solution("solution"), "gflops", "import os\nos._exit(1)\n"),
        "frank": _edit(solution("solution"), "first-result", "import os, signal\nos.kill(os.getpid(), 9)\n"),
        "grace": _edit(
            solution("solution"),
            "matmul-flop",
            "print('x' * 3_000_000)\nfor i in range(100_000):\n    print(i)\n"
            "def matmul_flop(n):\n    return 2 * n**3\n",
        ),
        "heidi": _edit(
            solution("solution"),
            "matmul-flop",
            "import shutil\nshutil.rmtree('../..', ignore_errors=True)\n"  # its home, working directory included
            f"shutil.rmtree({str(course / 'submitted')!r}, ignore_errors=True)\n"
            f"try:\n    open({course_files!r}, 'w').write('gone')\nexcept OSError:\n    pass\n"
            "def matmul_flop(n):\n    return 2 * n**3\n",
        ),
        "ivan": tampered,
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / "lesson01", course / "solutions" / "lesson01")
    for student, notebook in _submissions(course).items():
        folder = course / "submitted" / student / "lesson01"
        folder.mkdir(parents=True)
        (folder / "lesson01.ipynb").write_text(json.dumps(notebook))
    before = {p: p.read_bytes() for p in course.rglob("*") if p.is_file()}
    grades = grade_assignment(course, "lesson01", limits=Limits(wall_s=240, cell_s=15))
    return course, {g.student: g for g in grades}, before


def test_solution_scores_full_and_release_scores_zero(graded):
    _, grades, _ = graded
    assert (grades["alice"].status, grades["alice"].auto_score) == ("graded", FULL)
    assert _cell_scores(grades["alice"]) == _full()
    assert grades["alice"].auto_max_score == FULL and grades["alice"].manual_max_score == 2
    assert grades["bob"].auto_score == 0


def test_realistic_wrong_answers_score_partial(graded):
    _, grades, _ = graded
    # per-case partial credit: the gflops without 1e9 and without a check of the time fails all four cases
    # of its test, the bool validity one of the four provenance cases; nothing else
    assert _cell_scores(grades["carol"]) == {**_full(), "test-gflops": 0, "test-provenance": 1.5}
    assert grades["carol"].auto_score == FULL - 2.5


def test_failed_test_tells_the_learner_what_to_fix(graded):
    course, _, _ = graded
    notebook = json.loads((course / "autograded" / "carol" / "lesson01" / "lesson01.ipynb").read_text())
    cell = next(c for c in notebook["cells"] if c.get("id") == "test-provenance")
    seen = "".join("".join(o.get("text", "")) for o in cell["outputs"] if o["output_type"] == "stream")
    assert "3 of 4 checks pass: 1.5 of 2 points" in seen
    assert "`provenance['validity']` is True but the record says 'VALID' — copy record['validity']" in seen
    assert not [o for o in cell["outputs"] if o["output_type"] == "error"]  # every case ran


def test_infinite_loop_and_crashes_fail_only_what_they_reach(graded):
    _, grades, _ = graded
    # time_matmul and first_result time out; the cells after them still run and score
    assert _cell_scores(grades["dave"]) == {**_full(), "test-time-matmul": 0, "test-first-result": 0}
    assert grades["erin"].auto_score == 1  # only matmul_flop ran before the kernel died
    # killed in task 4: the tasks before it keep their points; the restarted kernel has lost the imports
    # of the set-up cell, so task 4 and the two tasks after it score zero
    assert _cell_scores(grades["frank"]) == {
        **_full(),
        **dict.fromkeys(("test-first-result", "test-run-matmul", "test-provenance"), 0),
    }
    assert grades["grace"].auto_score == FULL  # megabytes of output are cut, not fatal


def test_output_flood_is_truncated(graded):
    course, _, _ = graded
    assert (course / "autograded" / "grace" / "lesson01" / "lesson01.ipynb").stat().st_size < 2 * 2**20


def _cell_scores(grade) -> dict[str, float]:
    return {cell.grade_id: cell.score for cell in grade.cells if not cell.manual}


def _full() -> dict[str, float]:
    """The score of each test cell of a full-marks submission."""
    points = {}
    for cell in _notebook("solution")["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            points[meta["grade_id"]] = meta["points"]
    assert tuple(points) == TESTS and sum(points.values()) == FULL
    return points


def test_edited_and_deleted_test_cells_do_not_help(graded):
    _, grades, _ = graded
    # test-gflops (replaced by `pass`) is restored from the source and fails on the wrong gflops;
    # the deleted test-time-matmul scores zero
    assert _cell_scores(grades["ivan"]) == {**_full(), "test-gflops": 0, "test-time-matmul": 0}


def test_destructive_submission_touches_nothing_outside_its_sandbox(graded):
    course, grades, before = graded
    # deleting "everything" reaches only the sandbox's own memory-backed home: nothing else is writable.
    # Its own working directory gone, the benchmark run (os.getcwd) fails, and the two tests after it
    assert grades["heidi"].status == "graded"
    assert _cell_scores(grades["heidi"]) == {**_full(), "test-run-matmul": 0, "test-provenance": 0}
    for path, content in before.items():
        assert path.read_bytes() == content, f"{path} was changed by grading"
    assert grades["alice"].auto_score == FULL


def test_scores_merged_into_course_gradebook_and_csv(graded, tmp_path):
    from nbgrader.api import Gradebook

    course, grades, _ = graded
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions("lesson01")}
    assert scores["alice"] == FULL and scores["carol"] == FULL - 2.5 and scores["bob"] == 0
    path = tmp_path / "grades.csv"
    write_csv(grades.values(), path)
    rows = {row["student_id"]: row for row in csv.DictReader(path.open())}
    assert rows["alice"]["auto_score"] == "10" and rows["alice"]["needs_manual_grade"] == "true"
    assert rows["carol"]["auto_score"] == "7.5" and rows["bob"]["max_score"] == "12"


def test_cli_rejects_unknown_assignment_in_one_line(capsys):
    from carpentry_kit.cli.main import main

    assert main(["grade", "lesson99", "--course", str(ROOT)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no assignment 'lesson99'" in err and "\n" not in err


def test_cli_with_no_submissions_says_where_it_looked_and_exits_non_zero(tmp_path, capsys):
    from carpentry_kit.cli.main import main

    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "solutions" / "lesson03", tmp_path / "solutions" / "lesson03")
    csv = tmp_path / "grades.csv"
    assert main(["grade", "lesson03", "--course", str(tmp_path), "--csv", str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"looked for {tmp_path / 'submitted'}/*/lesson03/" in err and "\n" not in err
    assert not csv.exists()  # no header-only CSV that looks like an empty gradebook
