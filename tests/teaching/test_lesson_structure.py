"""The lesson template: every lesson has its required parts, agrees with schedule.yml, and has no outputs.

The checks live in ``carpentry_kit.teaching.curriculum`` (``python -m carpentry_kit.teaching.curriculum check`` runs them
too); these tests run them on every lesson and prove that they catch a broken lesson.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from carpentry_kit.teaching import curriculum

ROOT = Path(__file__).resolve().parents[2]
SCHEDULE = curriculum.load_schedule(ROOT / curriculum.SCHEDULE_FILE)
LESSONS = curriculum.lesson_paths(ROOT / "lessons")


def test_there_are_lessons():
    assert len(LESSONS) >= 4


@pytest.mark.parametrize("path", LESSONS, ids=[path.stem for path in LESSONS])
def test_lesson_follows_the_template(path):
    assert curriculum.lesson_problems(path, SCHEDULE) == []


def test_every_scheduled_lesson_has_a_notebook():
    present = {int(path.name[:2]) for path in LESSONS}
    assert set(SCHEDULE.lessons) <= present


def test_instructor_guide_totals_agree_with_the_schedule():
    guide = (ROOT / curriculum.GUIDE_FILE).read_text(encoding="utf-8")
    expected = [(fmt.teaching, fmt.exercises, fmt.minutes) for fmt in SCHEDULE.formats.values()]
    assert curriculum.guide_totals(guide) == expected


def test_instructor_guide_schedule_is_up_to_date():
    guide = (ROOT / curriculum.GUIDE_FILE).read_text(encoding="utf-8")
    regenerated = curriculum.replace_region(guide, "schedule", curriculum.schedule_markdown(SCHEDULE))
    assert guide == regenerated, f"run `{curriculum.REGENERATE}`"


def test_half_day_fits_a_morning_and_every_lesson_has_a_place():
    half, full = SCHEDULE.formats["half-day"], SCHEDULE.formats["full-day"]
    assert half.minutes <= 4 * 60
    core = {f"{n}. {lesson.title}" for n, lesson in SCHEDULE.lessons.items() if n <= 8}
    assert core <= {slot.label for slot in full.slots}  # the full day covers the core curriculum
    scheduled = {slot.label for schedule in SCHEDULE.formats.values() for slot in schedule.slots}
    assert {f"{n}. {lesson.title}" for n, lesson in SCHEDULE.lessons.items()} <= scheduled


# --- the checker catches broken lessons --------------------------------------------------------------
def _broken_copy(tmp_path: Path, change) -> Path:
    source = LESSONS[0]
    notebook = json.loads(source.read_text(encoding="utf-8"))
    change(notebook)
    target = tmp_path / source.name
    target.write_text(json.dumps(notebook), encoding="utf-8")
    return target


def _problems(tmp_path: Path, change) -> str:
    return "\n".join(curriculum.lesson_problems(_broken_copy(tmp_path, change), SCHEDULE))


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _drop_text(notebook, text):
    for cell in notebook["cells"]:
        cell["source"] = _source(cell).replace(text, "")


def test_checker_reports_timings_that_disagree_with_the_schedule(tmp_path):
    def change(notebook):
        notebook["metadata"]["carpentry"]["teaching_minutes"] += 5

    problems = _problems(tmp_path, change)
    assert "schedule.yml says" in problems and "timings line" in problems


def test_checker_reports_missing_key_points_and_questions(tmp_path):
    def change(notebook):
        notebook["cells"] = notebook["cells"][:-1]
        notebook["cells"][0]["source"] = _source(notebook["cells"][0]).replace("## Questions", "## Qs")

    problems = _problems(tmp_path, change)
    assert "Key points" in problems and "`## Questions`" in problems


def test_checker_reports_a_challenge_without_solution_and_a_missing_callout(tmp_path):
    problems = _problems(
        tmp_path, lambda nb: (_drop_text(nb, "{admonition} Solution"), _drop_text(nb, "{admonition} Callout"))
    )
    assert "solutions" in problems and "callout" in problems


def test_checker_reports_outputs_and_missing_plot(tmp_path):
    def change(notebook):
        code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
        code[0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
        for cell in code:
            cell["source"] = _source(cell).replace("plot_", "draw_").replace("plt.", "pyplot_")

    problems = _problems(tmp_path, change)
    assert "have outputs" in problems and "no plot call" in problems


def test_checker_reports_a_book_hidden_cell_that_jupyterlab_shows(tmp_path):
    def change(notebook):
        for cell in notebook["cells"]:
            cell["metadata"].pop("jupyter", None)

    assert "tagged remove-cell but shown in JupyterLab" in _problems(tmp_path, change)


def test_checker_reports_a_lesson_missing_from_the_schedule(tmp_path):
    (tmp_path / "lessons").mkdir()
    shutil.copy(ROOT / curriculum.SCHEDULE_FILE, tmp_path / "lessons" / "schedule.yml")
    extra = json.loads(LESSONS[0].read_text(encoding="utf-8"))
    extra["metadata"]["carpentry"]["lesson"] = 99
    (tmp_path / "lessons" / "99-extra.ipynb").write_text(json.dumps(extra), encoding="utf-8")
    problems = "\n".join(curriculum.curriculum_problems(tmp_path))
    assert "lesson 99 is not in lessons/schedule.yml" in problems
    assert "lesson 1 has no notebook" in problems


def test_bad_schedule_entry_names_the_file_and_entry(tmp_path):
    bad = tmp_path / "schedule.yml"
    bad.write_text("lessons:\n  - {lesson: 1, title: x}\nformats: {}\n")
    with pytest.raises(
        ValueError, match=r"schedule.yml: lessons\[0\]: needs lesson, title, teaching and exercises"
    ):
        curriculum.load_schedule(bad)


def test_solution_code_is_taken_from_solution_boxes_only(tmp_path):
    markdown = (
        "```{admonition} Challenge 1: x\n:class: attention\n~~~python\nnot_a_solution()\n~~~\n```\n\n"
        "````{admonition} Solution\n:class: dropdown\n```python\nanswer = 42\n```\nprose\n````\n"
    )
    notebook = {"cells": [{"cell_type": "markdown", "source": markdown, "metadata": {}}], "metadata": {}}
    path = tmp_path / "01-x.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    assert curriculum.solution_code(path) == ["answer = 42"]


def test_checker_reports_a_missing_stretch_task(tmp_path):
    problems = _problems(tmp_path, lambda nb: _drop_text(nb, "{admonition} Stretch:"))
    assert "stretch task" in problems


def test_every_workshop_format_starts_and_ends_with_the_assessment():
    from carpentry_kit.teaching.inventory import load_inventory

    assessed = {item.lesson for item in load_inventory(lessons_dir=ROOT / "lessons").items}
    for workshop in SCHEDULE.formats.values():
        labels = [slot.label for slot in workshop.slots]
        taught = {int(label.split(".")[0]) for label in labels if label[0].isdigit()}
        if not taught & assessed:  # a session whose lessons the inventory does not cover yet (lesson 10)
            continue
        pre, post = (curriculum.ASSESSMENT_SLOTS[form] for form in ("pre", "post"))
        assert pre in labels and post in labels, workshop.name
        lessons = [n for n, label in enumerate(labels) if label[0].isdigit()]
        assert labels.index(pre) < lessons[0] and labels.index(post) > lessons[-1], workshop.name


def test_every_assignment_is_placed_in_the_workshop():
    """Each graded assignment says in schedule.yml whether it is done in class or as homework, and for how
    long; an in-class one fits its lesson's exercise minutes."""
    names = sorted(
        p.name
        for p in (ROOT / "solutions").iterdir()
        if any(p.glob("*.ipynb"))
        and p.name not in curriculum.ASSESSMENT_FORMS  # placed by the formats' slots
    )
    assert sorted(SCHEDULE.assignments) == names
    for item in SCHEDULE.assignments.values():
        assert item.mode in curriculum.ASSIGNMENT_MODES and item.minutes > 0
        if item.mode == "in-class":
            assert item.minutes <= SCHEDULE.lessons[item.lesson].exercises


def test_an_in_class_assignment_longer_than_its_exercise_time_is_rejected(tmp_path):
    bad = tmp_path / "schedule.yml"
    bad.write_text(
        "lessons:\n  - {lesson: 1, title: x, teaching: 20, exercises: 10}\nformats: {}\n"
        "assignments:\n  - {assignment: lesson01, lesson: 1, mode: in-class, minutes: 30}\n"
    )
    with pytest.raises(ValueError, match=r"assignments\[0\]: 30 min in class, but lesson 1 has 10 exercise"):
        curriculum.load_schedule(bad)
