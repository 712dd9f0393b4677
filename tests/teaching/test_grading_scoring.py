"""The trusted parent's scoring rules and test-cell restoring, without running a notebook (fast)."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from pathlib import Path

import pytest

from carpentry_kit.teaching import grading
from carpentry_kit.teaching.sandbox import Limits, sandbox_problem
from carpentry_kit.teaching.scoring import ScoringError, cell_score, check_executed, restore, trusted_cells

ROOT = Path(__file__).resolve().parents[2]


def _ran(*outputs: dict) -> dict:
    return {"cell_type": "code", "execution_count": 1, "outputs": list(outputs), "source": ""}


def _result(text) -> dict:
    return {
        "output_type": "execute_result",
        "data": {"text/plain": text},
        "metadata": {},
        "execution_count": 1,
    }


@pytest.mark.parametrize(
    ("cell", "score"),
    [
        (_ran(), 2.0),  # ran to the end, no output: full points
        (_ran({"output_type": "stream", "name": "stdout", "text": "ok\n"}), 2.0),
        (_ran({"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}), 0.0),
        (_ran({"output_type": "stream", "name": "stderr", "text": "warning\n"}), 0.0),
        (_ran(_result("1.5")), 1.5),  # partial credit
        (_ran(_result(["0.5"])), 0.5),
        (_ran(_result("7")), 2.0),  # more than the points: the points
        (_ran(_result("-1")), 0.0),
        (_ran(_result("nan")), 0.0),
        (_ran(_result("inf")), 0.0),
        (_ran(_result("'done'")), 2.0),  # not a number: full points
        ({"cell_type": "code", "execution_count": None, "outputs": [], "source": ""}, 0.0),  # never ran
    ],
)
def test_cell_score_follows_nbgrader_partial_credit(cell, score):
    assert cell_score(cell, 2.0) == score


@pytest.fixture(scope="module")
def lesson01_cells():
    with tempfile.TemporaryDirectory() as tmp:
        course = grading._trusted_course(ROOT, Path(tmp), ["lesson01"])
        release = course / "exercises" / "lesson01" / "lesson01.ipynb"
        yield trusted_cells(release, grading._sqlite_url(course), grading.COURSE_ID, "lesson01")


def test_restore_puts_back_hidden_tests_and_ignores_forged_metadata(lesson01_cells):
    notebook = json.loads((ROOT / "exercises" / "lesson01" / "lesson01.ipynb").read_text())
    test = next(
        c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "test-gflops"
    )
    test["source"] = "pass\n"
    test["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "forged"}]
    test["execution_count"] = 3
    forged = {"cell_type": "code", "source": "x = 1", "outputs": [], "execution_count": None, "id": "forged"}
    forged["metadata"] = {"nbgrader": {"grade": True, "grade_id": "bonus", "points": 100, "locked": True}}
    notebook["cells"].insert(0, forged)
    sent, where = restore(notebook, lesson01_cells)
    restored = sent.cells[where["test-gflops"]]
    assert (
        "### BEGIN HIDDEN TESTS" in restored.source
        and restored.outputs == []
        and restored.execution_count is None
    )
    assert "bonus" not in where and "nbgrader" not in sent.cells[0].metadata
    check_executed(sent, json.loads(json.dumps(sent)))
    tampered = json.loads(json.dumps(sent))
    tampered["cells"][where["test-gflops"]]["source"] = "pass"
    with pytest.raises(ScoringError, match="not the one sent"):
        check_executed(sent, tampered)


def test_restore_refuses_what_is_not_a_notebook(lesson01_cells):
    for bad in ({"cells": [7]}, {"nbformat": 4}):
        with pytest.raises(ScoringError):
            restore(bad, lesson01_cells)


@pytest.mark.parametrize("value", [-5, 0, math.nan, math.inf])
def test_bad_limits_are_named_by_their_option(value):
    problems = Limits(wall_s=value).problems(grading.LIMIT_OPTIONS)
    assert problems == [f"--timeout must be a number above 0, not {value!r}"]


def test_cli_refuses_a_negative_timeout_in_one_line(capsys):
    from carpentry_kit.cli.main import main

    assert main(["grade", "lesson01", "--course", str(ROOT), "--cell-timeout", "-5"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "carpentry grade: --cell-timeout must be a number above 0, not -5.0"
    )


def _cell(kind: str, source: str, **nbgrader) -> dict:
    meta = {"nbgrader": {"schema_version": 3, **nbgrader}}
    cell = {"cell_type": kind, "id": nbgrader["grade_id"], "metadata": meta, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def _tiny_course(root: Path) -> Path:
    """A course with one small assignment whose test cells show each scoring rule."""
    shutil.copy(ROOT / "nbgrader_config.py", root)
    answer = "### BEGIN SOLUTION\ndef double(x):\n    return 2 * x\n### END SOLUTION\n"
    cells = [
        _cell("code", answer, grade=False, solution=True, locked=False, grade_id="answer"),
        _cell(
            "code",
            "assert double(2) == 4",
            grade=True,
            solution=False,
            locked=True,
            grade_id="t-pass",
            points=2,
        ),
        _cell(
            "code",
            "assert double(2) == 5",
            grade=True,
            solution=False,
            locked=True,
            grade_id="t-fail",
            points=2,
        ),
        _cell(
            "code", "double(0.75)", grade=True, solution=False, locked=True, grade_id="t-partial", points=2
        ),
        _cell(
            "code",
            "import sys\nsys.stderr.write('no')",
            grade=True,
            solution=False,
            locked=True,
            grade_id="t-err",
            points=1,
        ),
    ]
    notebook = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}  # fmt: skip
    (root / "solutions" / "tiny").mkdir(parents=True)
    (root / "solutions" / "tiny" / "tiny.ipynb").write_text(json.dumps(notebook))
    grading.generate_exercises(root, root / "exercises", register=False)
    submitted = root / "submitted" / "sue" / "tiny"
    submitted.mkdir(parents=True)
    shutil.copy(root / "solutions" / "tiny" / "tiny.ipynb", submitted)
    return root


@pytest.mark.slow
@pytest.mark.skipif(bool(sandbox_problem()), reason="no grading sandbox here")
def test_sandboxed_run_scores_partial_credit_errors_and_stderr(tmp_path):
    course = _tiny_course(tmp_path)
    (grade,) = grading.grade_assignment(course, "tiny", limits=Limits(wall_s=120, cell_s=30))
    assert grade.status == "graded", grade.error
    assert {c.grade_id: c.score for c in grade.cells} == {
        "t-pass": 2,
        "t-fail": 0,
        "t-partial": 1.5,
        "t-err": 0,
    }
