"""The committed exercises are exactly what `carpentry grade --generate` makes, and leak nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from carpentry_kit.teaching.curriculum import MARK_SCHEME
from carpentry_kit.teaching.grading import assignments, find_leaks, generate_exercises, nbgrader_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory) -> Path:
    release = tmp_path_factory.mktemp("release")
    generate_exercises(ROOT, release, register=False)
    return release


LESSONS = [f"lesson{n:02d}" for n in range(1, 12)]
ASSESSMENT = ["assessment-post", "assessment-pre"]  # the concept inventory, before and after (test_assess.py)


def test_one_assignment_per_lesson_and_the_two_assessment_forms():
    assert assignments(ROOT) == ASSESSMENT + LESSONS


def test_committed_exercises_equal_a_fresh_generation(fresh_release):
    committed = sorted(p.relative_to(ROOT / "exercises") for p in (ROOT / "exercises").rglob("*.ipynb"))
    fresh = sorted(p.relative_to(fresh_release) for p in fresh_release.rglob("*.ipynb"))
    assert committed == fresh
    stale = [
        str(p) for p in fresh if (ROOT / "exercises" / p).read_bytes() != (fresh_release / p).read_bytes()
    ]
    assert not stale, f"exercises drifted from solutions — run `carpentry grade --generate`: {stale}"


def test_released_exercises_leak_no_solution_or_hidden_test():
    assert find_leaks([ROOT / "exercises"], ROOT / "solutions") == []


def test_every_lesson_assignment_has_autograded_hidden_and_written_parts():
    for name in LESSONS:
        cells = json.loads((ROOT / "solutions" / name / f"{name}.ipynb").read_text())["cells"]
        meta = [c["metadata"].get("nbgrader", {}) for c in cells]
        text = "".join("".join(c["source"]) for c in cells)
        assert any(m.get("grade") and not m.get("solution") for m in meta), f"{name}: no autograded tests"
        assert any(m.get("grade") and m.get("solution") for m in meta), f"{name}: no written answer"
        assert "### BEGIN HIDDEN TESTS" in text, f"{name}: no hidden tests"


def test_every_assessment_question_is_autograded_by_a_hidden_answer_key():
    for name in ASSESSMENT:
        cells = json.loads((ROOT / "solutions" / name / f"{name}.ipynb").read_text())["cells"]
        tests = [c for c in cells if c["metadata"]["nbgrader"].get("grade")]
        assert tests and all(not c["metadata"]["nbgrader"]["solution"] for c in tests), name
        assert all("### BEGIN HIDDEN TESTS" in "".join(c["source"]) for c in tests), name


def test_leak_checker_finds_solution_code_in_a_built_page(tmp_path):
    page = tmp_path / "lesson.html"
    page.write_text(
        '<pre><span class="k">return</span> <span class="mi">2</span> * n**3 # x</pre>\n'
        "<p>    answers.check_matmul_flop(<span>matmul_flop</span>)</p>"
    )
    leaks = find_leaks([tmp_path], ROOT / "solutions")
    assert [leak.source for leak in leaks] == ["lesson01/lesson01.ipynb"]
    assert "check_matmul_flop" in leaks[0].text


def _graded_cells(notebook: Path) -> int:
    """The number of graded cells (tests and written answers) of a notebook."""
    cells = json.loads(notebook.read_text())["cells"]
    return sum(1 for c in cells if c["metadata"].get("nbgrader", {}).get("grade"))


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSONS + ASSESSMENT)
def test_nbgrader_validate_passes_every_solution_and_fails_every_untouched_release(name, fresh_release):
    solution = ROOT / "solutions" / name / f"{name}.ipynb"
    before = set(solution.parent.rglob("*"))
    done = _validate(solution)
    assert done.returncode == 0 and "Success! Your notebook passes all the tests." in done.stdout, (
        f"{solution}: nbgrader validate fails on the solution:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    )
    written = sorted(str(p.relative_to(ROOT)) for p in set(solution.parent.rglob("*")) - before)
    assert not written, f"running {solution.name} wrote files beside it (released with it): {written}"
    release = fresh_release / name / f"{name}.ipynb"
    done = _validate(release)
    failed = f"VALIDATION FAILED ON {_graded_cells(release)} CELL(S)!"
    assert failed in done.stdout, f"{release}: not every graded cell fails untouched:\n{done.stdout[-2000:]}"


def _validate(path: Path) -> subprocess.CompletedProcess:
    """``nbgrader validate PATH`` as a learner runs it (the Validate button runs the same check)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        nbgrader_command("validate", str(path)),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )


def test_every_written_answer_has_a_rubric_for_graders_only():
    """The question above each written answer holds a mark scheme whose points add up to the answer's; the
    released exercises hold none of it."""
    rubric_row = re.compile(r"^\| (\d+(?:\.\d+)?) \| [^|]+ \| [^|]+ \|$", re.M)
    for name in assignments(ROOT):
        cells = json.loads((ROOT / "solutions" / name / f"{name}.ipynb").read_text())["cells"]
        for before, cell in zip(cells, cells[1:], strict=False):
            meta = cell["metadata"].get("nbgrader", {})
            if not (meta.get("grade") and meta.get("solution")):
                continue
            scheme = MARK_SCHEME.search("".join(before["source"]))
            assert scheme, f"{name}/{meta['grade_id']}: no mark scheme in the cell above the answer"
            points = sum(float(p) for p in rubric_row.findall(scheme[1]))
            assert points == meta["points"], f"{name}/{meta['grade_id']}: rubric {points} != {meta['points']}"
            assert "**Model answer.**" in scheme[1], f"{name}/{meta['grade_id']}: no model answer"
        released = (ROOT / "exercises" / name / f"{name}.ipynb").read_text()
        assert "MARK SCHEME" not in released and "Model answer" not in released, name
