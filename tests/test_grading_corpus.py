"""The wrong-answer corpus (tests/grading_corpus/): each realistic wrong submission, graded by `carpentry grade`,
loses exactly the points its mistake costs and gets the message that names the mistake; beside them the
solution scores full marks and the untouched release zero."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from carpentry_kit.teaching import answers

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "grading_corpus"
ASSIGNMENTS = [f"lesson{n:02d}" for n in (*range(1, 9), 10, 11)]  # lesson09 has no corpus yet
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _notebook(folder: str, assignment: str) -> dict:
    return json.loads((ROOT / folder / assignment / f"{assignment}.ipynb").read_text())


def corpus(assignment: str) -> list[dict[str, Any]]:
    return yaml.safe_load((CORPUS / f"{assignment}.yaml").read_text())


def points_of_test_cells(assignment: str) -> dict[str, float]:
    """grade_id -> points of the autograded test cells of an assignment."""
    cells = {}
    for cell in _notebook("solutions", assignment)["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            cells[meta["grade_id"]] = float(meta["points"])
    return cells


def submission(assignment: str, entry: dict[str, Any]) -> dict:
    """The solution notebook with the corpus entry's answer cells replaced (full text, or text replacements
    of the solution's answer without its solution markers)."""
    notebook = _notebook("solutions", assignment)
    cells = {cell["id"]: cell for cell in notebook["cells"]}
    for cell_id, edit in entry["edits"].items():
        assert cell_id in cells and cells[cell_id]["metadata"]["nbgrader"].get("solution"), (
            f"{assignment}/{entry['student']}: {cell_id!r} is not an answer cell"
        )
        if isinstance(edit, str):
            source = edit
        else:
            lines = "".join(cells[cell_id]["source"]).splitlines(keepends=True)
            source = "".join(line for line in lines if not any(m in line for m in MARKERS))
            for old, new in edit["replace"]:
                assert old in source, f"{assignment}/{entry['student']}: {old!r} is not in {cell_id}"
                source = source.replace(old, new)
        cells[cell_id]["source"] = source
    return notebook


def expected_message(text: str) -> str:
    """A message named by a constant of ``carpentry_kit.teaching.answers`` (up to its first ``{``), or text."""
    if re.fullmatch(r"[A-Z][A-Z0-9_]+", text):
        return getattr(answers, text).split("{")[0]
    return text


def test_corpus_has_enough_realistic_wrong_submissions():
    entries = {name: corpus(name) for name in ASSIGNMENTS}
    assert all(len(found) >= 4 for found in entries.values()) and sum(map(len, entries.values())) >= 35
    for name, found in entries.items():
        cells = points_of_test_cells(name)
        assert len({entry["student"] for entry in found}) == len(found), f"{name}: student ids repeat"
        for entry in found:
            submission(name, entry)  # every edit applies
            assert set(entry["scores"]) <= set(cells) and set(entry["messages"]) <= set(cells)
            assert any(entry["scores"][cell] < cells[cell] for cell in entry["scores"]), "a mistake costs"
            for texts in entry["messages"].values():
                assert all(expected_message(text) for text in texts)


def test_every_test_cell_scores_out_of_its_points():
    """`Cases(points)` in each test cell equals the cell's nbgrader points (the partial score's scale)."""
    for name in ASSIGNMENTS:
        for cell in _notebook("solutions", name)["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                source = "".join(cell["source"])
                match = re.search(r"^cases = Cases\((\d+(?:\.\d+)?), needs=TASKS\)$", source, re.M)
                assert match and float(match[1]) == meta["points"], f"{name}/{meta['grade_id']}"
                assert source.rstrip().endswith("cases.score()"), f"{name}/{meta['grade_id']}: last line"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade an assignment's corpus (with the solution and the untouched release) once, on first use."""
    done: dict[str, tuple[Path, dict[str, dict[str, float]]]] = {}

    def grade(assignment: str) -> tuple[Path, dict[str, dict[str, float]]]:
        if assignment not in done:
            done[assignment] = _grade_corpus(tmp_path_factory.mktemp(assignment), assignment)
        return done[assignment]

    return grade


def _grade_corpus(course: Path, assignment: str) -> tuple[Path, dict[str, dict[str, float]]]:
    from nbgrader.api import Gradebook

    from carpentry_kit.cli.main import main

    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    notebooks = {
        "solution": _notebook("solutions", assignment),
        "untouched": _notebook("exercises", assignment),
    }
    notebooks |= {entry["student"]: submission(assignment, entry) for entry in corpus(assignment)}
    for student, notebook in notebooks.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        (folder / f"{assignment}.ipynb").write_text(json.dumps(notebook))
    assert main(["grade", assignment, "--course", str(course), "--csv", str(course / "grades.csv")]) == 0
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "carpentry-kit") as gb:
        for student in notebooks:
            scores[student] = {
                cell: gb.find_grade(cell, assignment, assignment, student).score
                for cell in points_of_test_cells(assignment)
            }
    return course, scores


def feedback(course: Path, assignment: str, student: str, grade_id: str) -> str:
    """What the learner sees under a graded test cell of their autograded notebook."""
    path = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    cell = next(c for c in json.loads(path.read_text())["cells"] if c.get("id") == grade_id)
    parts = []
    for output in cell["outputs"]:
        text = output.get("text") or output.get("evalue") or output.get("data", {}).get("text/plain", "")
        parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_wrong_answers_lose_exactly_their_points_and_get_their_message(assignment, graded):
    course, scores = graded(assignment)
    full = points_of_test_cells(assignment)
    assert scores["solution"] == full
    assert scores["untouched"] == dict.fromkeys(full, 0.0)
    for entry in corpus(assignment):
        student = entry["student"]
        expected = {
            cell: pytest.approx(points, abs=1e-3) for cell, points in {**full, **entry["scores"]}.items()
        }
        assert scores[student] == expected, f"{assignment}/{student}"
        for cell, texts in entry["messages"].items():
            seen = feedback(course, assignment, student, cell)
            for text in texts:
                assert expected_message(text) in seen, (
                    f"{assignment}/{student}/{cell}: {text!r} not in:\n{seen}"
                )


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_an_unfinished_task_says_which_task_to_finish(assignment, graded):
    course, _ = graded(assignment)
    for cell in points_of_test_cells(assignment):
        seen = feedback(course, assignment, "untouched", cell)
        assert re.search(r"finish task \d", seen) and "Traceback" not in seen, f"{assignment}/{cell}:\n{seen}"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["lesson02", "lesson08"])
def test_graders_see_the_rubric_above_each_written_answer(assignment, graded):
    """formgrader shows the autograded notebook: its question cells carry the rubric again (restored from the
    gradebook), though the learner's copy had none."""
    course, _ = graded(assignment)
    path = course / "autograded" / "untouched" / assignment / f"{assignment}.ipynb"
    text = "".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])
    assert "### BEGIN MARK SCHEME" in text and "**Model answer.**" in text
    assert "MARK SCHEME" not in (ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text()
