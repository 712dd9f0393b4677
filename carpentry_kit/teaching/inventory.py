"""The concept inventory: items tied to lesson objectives, the nbgrader pre/post forms, the survey template.

``inventory.yml`` (next to this module) is the one source. From it this module builds the two nbgrader
source notebooks ``solutions/assessment-pre`` and ``solutions/assessment-post`` (the same items; only the
title and the assignment name differ), scores an answer and names the misconception behind a wrong one.
The lesson objectives come from each lesson's ``## Objectives`` bullets (``curriculum.lesson_objectives``).
Run from the repository root::

    python -m carpentry_kit.teaching.assess forms          # rewrite the two form notebooks
    python -m carpentry_kit.teaching.assess forms --check  # exit 1 if a form is out of date
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from carpentry_kit.errors import UsageError

INVENTORY_FILE = Path(__file__).with_name("inventory.yml")
LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"
FORMS = ("pre", "post")
ASSIGNMENT = "assessment-{form}"
LIKERT = {
    1: "I could not do this",
    2: "I could do it with a lot of help",
    3: "I could do it with some help",
    4: "I could do it on my own",
    5: "I could explain it to someone else",
}
OPEN_QUESTIONS = {
    "hopes": ("pre", "What do you hope to be able to do after this workshop?"),
    "useful": ("post", "What was the most useful thing you learnt?"),
    "confusing": ("post", "What was the most confusing part, and what would have helped?"),
    "change": ("post", "What will you do differently the next time you benchmark something?"),
}


class InventoryError(UsageError):
    """The inventory file or a lesson it refers to is wrong (one line: where, what, how to fix)."""


@dataclass(frozen=True)
class Option:
    """One option of a multiple-choice item; wrong options name their misconception."""

    key: str
    text: str
    misconception: str | None


@dataclass(frozen=True)
class Item:
    """One question of the inventory, tied to a lesson objective by a phrase of its bullet."""

    id: str
    lesson: int
    says: str
    kind: str  # "choice" | "number"
    stem: str
    answer: str | float
    explain: str
    options: tuple[Option, ...] = ()
    tolerance: float = 0.0  # relative, for numbers
    unit: str = ""
    wrong_values: tuple[tuple[float, str], ...] = ()  # numbers: (value, misconception)

    @property
    def variable(self) -> str:
        return f"answer_{self.id}"

    def normalise(self, answer: Any) -> str | float | None:
        """The answer as a capital letter or a float; None when empty or not readable as one."""
        if answer is None or (isinstance(answer, float) and math.isnan(answer)):
            return None
        text = str(answer).strip()
        if not text:
            return None
        if self.kind == "choice":
            return text.upper() if text.upper() in {o.key for o in self.options} else None
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None

    def score(self, answer: Any) -> float:
        """1.0 for the right answer, 0.0 for anything else (a missing answer too)."""
        value = self.normalise(answer)
        if value is None:
            return 0.0
        if self.kind == "choice":
            return float(value == self.answer)
        return float(_near(value, float(self.answer), self.tolerance))

    def misconception(self, answer: Any) -> str | None:
        """The misconception a wrong answer points to; None for a right, missing or unnamed answer."""
        value = self.normalise(answer)
        if value is None or self.score(value):
            return None
        if self.kind == "choice":
            return next(o.misconception for o in self.options if o.key == value)
        return next(
            (label for wrong, label in self.wrong_values if _near(value, wrong, self.tolerance)), None
        )

    @property
    def misconceptions(self) -> list[str]:
        """Every misconception this item can reveal."""
        if self.kind == "choice":
            return [o.misconception for o in self.options if o.misconception]
        return [label for _, label in self.wrong_values]


def _near(value: float, target: float, tolerance: float) -> bool:
    return math.isclose(value, target, rel_tol=max(tolerance, 1e-9))


@dataclass(frozen=True)
class Objective:
    """A lesson objective: ``id`` is ``LESSON.N`` (the N-th bullet of the lesson's ``## Objectives``)."""

    id: str
    lesson: int
    text: str


@dataclass(frozen=True)
class Inventory:
    """The items, and the lesson objectives they map to."""

    items: tuple[Item, ...]
    objectives: tuple[Objective, ...]
    item_objective: dict[str, str]  # item id -> objective id

    @cached_property
    def by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    def objective(self, item: Item) -> Objective:
        return next(o for o in self.objectives if o.id == self.item_objective[item.id])

    def items_of(self, objective_id: str) -> list[Item]:
        return [item for item in self.items if self.item_objective[item.id] == objective_id]

    def for_lessons(self, lessons: set[int] | None) -> Inventory:
        """Only the items (and objectives) of these lessons; None keeps everything."""
        if not lessons:
            return self
        items = tuple(item for item in self.items if item.lesson in lessons)
        objectives = tuple(o for o in self.objectives if o.lesson in lessons)
        return Inventory(items, objectives, {i.id: self.item_objective[i.id] for i in items})


# ------------------------------------------------------------------------------------------ loading
def load_inventory(
    path: str | Path = INVENTORY_FILE, lessons_dir: str | Path | None = LESSONS_DIR
) -> Inventory:
    """Read the inventory and map each item to its lesson objective (from the lessons when they are
    there; without them each item's own phrase stands in for its objective)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise InventoryError(f"{path}: cannot read the inventory ({_first_line(error)})") from None
    entries = data.get("items") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise InventoryError(f"{path}: no `items:` list — see the comment at the top of inventory.yml")
    items = tuple(_item(path, index, entry) for index, entry in enumerate(entries))
    duplicates = sorted({item.id for item in items if [i.id for i in items].count(item.id) > 1})
    if duplicates:
        raise InventoryError(f"{path}: item ids {duplicates} are used twice — give each item its own id")
    lessons = _lesson_objectives(Path(lessons_dir)) if lessons_dir and Path(lessons_dir).is_dir() else {}
    return _map_objectives(path, items, lessons)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _item(path: Path, index: int, entry: Any) -> Item:
    where = f"{path}: items[{index}]"
    if not isinstance(entry, dict):
        raise InventoryError(f"{where}: expected a mapping with id, objective, kind, stem, answer, explain")
    try:
        objective, kind = entry["objective"], entry["kind"]
        common = dict(
            id=str(entry["id"]),
            lesson=int(objective["lesson"]),
            says=str(objective["says"]),
            kind=kind,
            stem=str(entry["stem"]).strip(),
            explain=str(entry["explain"]).strip(),
        )
        if kind == "choice":
            return _choice_item(where, entry, common)
        if kind == "number":
            return _number_item(entry, common)
    except (KeyError, TypeError, ValueError) as error:
        raise InventoryError(f"{where}: missing or bad {error} — see inventory.yml's header") from None
    raise InventoryError(f"{where}.kind: '{kind}' — use `choice` or `number`")


def _choice_item(where: str, entry: dict, common: dict) -> Item:
    options = tuple(
        Option(str(key), str(body["text"]), body.get("misconception"))
        for key, body in entry["options"].items()
    )
    answer = str(entry["answer"])
    for option in options:
        if (option.key == answer) == bool(option.misconception):
            what = (
                "the answer must not name a misconception"
                if option.key == answer
                else "name its misconception"
            )
            raise InventoryError(f"{where}.options.{option.key}: {what}")
    if answer not in {o.key for o in options}:
        raise InventoryError(f"{where}.answer: '{answer}' is not one of the options")
    return Item(**common, answer=answer, options=options)


def _number_item(entry: dict, common: dict) -> Item:
    wrong = tuple((float(w["value"]), str(w["label"])) for w in entry.get("misconceptions") or [])
    return Item(
        **common,
        answer=float(entry["answer"]),
        tolerance=float(entry.get("tolerance", 0.01)),
        unit=str(entry.get("unit", "")),
        wrong_values=wrong,
    )


def _lesson_objectives(lessons_dir: Path) -> dict[int, list[str]]:
    from carpentry_kit.teaching.curriculum import lesson_objectives, lesson_paths

    return {int(path.name[:2]): lesson_objectives(path) for path in lesson_paths(lessons_dir)}


def _map_objectives(path: Path, items: tuple[Item, ...], lessons: dict[int, list[str]]) -> Inventory:
    objectives: dict[str, Objective] = {}
    mapping = {}
    for item in items:
        if not lessons:
            objective = Objective(
                f"{item.lesson}:{item.says}", item.lesson, f"(lesson {item.lesson}) {item.says}"
            )
        else:
            objective = _find_objective(path, item, lessons)
        objectives.setdefault(objective.id, objective)
        mapping[item.id] = objective.id
    if lessons:  # every objective a lesson states, covered or not, in lesson order
        objectives = {o.id: o for o in all_objectives(lessons)} | objectives
    ordered = sorted(objectives.values(), key=lambda o: (o.lesson, o.id))
    return Inventory(items, tuple(ordered), mapping)


def all_objectives(lessons: dict[int, list[str]]) -> list[Objective]:
    """Every objective the lessons state, ``LESSON.N`` in order."""
    return [
        Objective(f"{lesson}.{n}", lesson, text)
        for lesson, bullets in sorted(lessons.items())
        for n, text in enumerate(bullets, 1)
    ]


def _find_objective(path: Path, item: Item, lessons: dict[int, list[str]]) -> Objective:
    bullets = lessons.get(item.lesson)
    if bullets is None:
        raise InventoryError(f"{path}: {item.id}: objective.lesson {item.lesson} — there is no such lesson")
    found = [n for n, text in enumerate(bullets, 1) if item.says.lower() in text.lower()]
    if len(found) != 1:
        count = "no" if not found else f"{len(found)}"
        raise InventoryError(
            f"{path}: {item.id}: objective.says '{item.says}' matches {count} objective(s) of lesson "
            f"{item.lesson} — quote a phrase of exactly one `## Objectives` bullet"
        )
    return Objective(f"{item.lesson}.{found[0]}", item.lesson, bullets[found[0] - 1])


# --------------------------------------------------------------------------------------------- forms
def form_notebook(inventory: Inventory, form: str) -> dict[str, Any]:
    """The nbgrader source notebook of one form (``pre`` or ``post``), answer key and hidden tests included."""
    cells = [
        _cell("markdown", "intro", _intro(inventory, form)),
        _cell("code", "setup", "from carpentry_kit.checks import check_choice, check_close, check_number"),
    ]
    lesson = 0
    for number, item in enumerate(inventory.items, 1):
        if item.lesson != lesson:
            lesson = item.lesson
            cells.append(_cell("markdown", f"lesson-{lesson}", f"## Lesson {lesson}"))
        cells += _item_cells(number, item)
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _intro(inventory: Inventory, form: str) -> str:
    when = "before the workshop starts" if form == "pre" else "at the end of the workshop"
    title = (
        "Before the workshop: what do you know already?"
        if form == "pre"
        else "After the workshop: what do you know now?"
    )
    return (
        f"# {title}\n\n"
        f"{len(inventory.items)} short questions, answered {when} (about 20 minutes; a half-day workshop "
        "answers lessons 1–4 only). This is not an exam: nobody is ranked, and your instructor sees the "
        "class's answers together to find out what the workshop taught and what it did not.\n\n"
        "Answer each question in the cell under it, without looking anything up: replace the two lines "
        '`# YOUR CODE HERE` and `raise NotImplementedError()` by one line such as `answer_qNN = "B"` '
        "(a letter, in quotes) or `answer_qNN = 12.5` (a number). If you do not know, write `answer_qNN = None`: an "
        "honest *don't know* tells us more than a guess. Run each cell; the check under it only says "
        "whether your answer has the right form, not whether it is right."
    )


def _item_cells(number: int, item: Item) -> list[dict[str, Any]]:
    if item.kind == "choice":
        options = "\n".join(f"- **{o.key}.** {o.text}" for o in item.options)
        question = f"### Question {number} (`{item.id}`)\n\n{item.stem}\n\n{options}"
        example, check = '"<letter>"', f'check_choice("{item.variable}", {item.variable}, "{_keys(item)}")'
        hidden = f'assert {check} == "{item.answer}", "{item.variable} is not the expected answer"'
    else:
        unit = f" (in {item.unit})" if item.unit else ""
        question = f"### Question {number} (`{item.id}`)\n\n{item.stem}\n\nAnswer with a number{unit}."
        example, check = "<number>", f'check_number("{item.variable}", {item.variable})'
        hidden = f'check_close("{item.variable}", {item.variable}, {item.answer:g}, rel={item.tolerance:g})'
    answer = f'"{item.answer}"' if item.kind == "choice" else f"{item.answer:g}"
    return [
        _cell("markdown", f"question-{item.id}", question),
        _cell(
            "code",
            f"answer-{item.id}",
            f"# Write: {item.variable} = {example}   (or None if you do not know)\n"
            f"### BEGIN SOLUTION\n{item.variable} = {answer}\n### END SOLUTION",
            solution=True,
        ),
        _cell(
            "code",
            f"test-{item.id}",
            f"{check}\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS",
            points=1,
        ),
    ]


def _keys(item: Item) -> str:
    return "".join(o.key for o in item.options)


def _cell(kind: str, grade_id: str, source: str, solution: bool = False, points: int = 0) -> dict[str, Any]:
    meta = {
        "grade": bool(points),
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points:
        meta["points"] = points
    cell: dict[str, Any] = {
        "cell_type": kind,
        "id": grade_id,
        "metadata": {"nbgrader": meta},
        "source": source,
    }
    if kind == "code":
        cell |= {"execution_count": None, "outputs": []}
    return cell


def form_paths(root: str | Path = ".") -> dict[str, Path]:
    """form -> its nbgrader source notebook under ``solutions/``."""
    root = Path(root)
    return {
        form: root / "solutions" / (name := ASSIGNMENT.format(form=form)) / f"{name}.ipynb" for form in FORMS
    }


def _form_text(inventory: Inventory, form: str) -> str:
    return json.dumps(form_notebook(inventory, form), indent=1, ensure_ascii=False) + "\n"


def stale_forms(root: str | Path = ".", inventory: Inventory | None = None) -> list[Path]:
    """Form notebooks whose text differs from what the inventory makes now."""
    inventory = inventory or load_inventory(lessons_dir=Path(root) / "lessons")
    return [
        path
        for form, path in form_paths(root).items()
        if not path.is_file() or path.read_text(encoding="utf-8") != _form_text(inventory, form)
    ]


def write_forms(root: str | Path = ".", inventory: Inventory | None = None) -> list[Path]:
    """Rewrite the stale form notebooks; returns those written (then run ``carpentry grade --generate``)."""
    inventory = inventory or load_inventory(lessons_dir=Path(root) / "lessons")
    written = []
    for path in stale_forms(root, inventory):
        form = next(f for f, p in form_paths(root).items() if p == path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_form_text(inventory, form), encoding="utf-8")
        written.append(path)
    return written


# ----------------------------------------------------------------------------------- survey template
def survey_columns(inventory: Inventory) -> list[str]:
    """The columns of a survey answers CSV: learner, form, one per objective, one per open question."""
    return ["learner", "form", *(o.id for o in inventory.objectives), *OPEN_QUESTIONS]


def survey_markdown(inventory: Inventory) -> str:
    """The survey as the book prints it: the scale, one statement per objective, the open questions."""
    scale = "\n".join(f"| {level} | {text} |" for level, text in LIKERT.items())
    lines = [
        "Rate each statement from 1 to 5 — before the workshop (form `pre`) and at its end (form `post`):\n",
        "| level | meaning |\n| ---: | --- |\n" + scale + "\n",
        "| column | I can … |",
        "| --- | --- |",
    ]
    lines += [f"| `{o.id}` | {_statement(o.text)} |" for o in inventory.objectives]
    lines += ["", "Open questions (free text; leave the other form's questions empty):\n"]
    lines += [f"- `{key}` ({form}): {text}" for key, (form, text) in OPEN_QUESTIONS.items()]
    lines += ["", "The answers CSV has the header:\n", "```text", ",".join(survey_columns(inventory)), "```"]
    return "\n".join(lines)


def _statement(objective: str) -> str:
    text = objective.rstrip(".")
    return re.sub(r"^[A-Z]", lambda m: m[0].lower(), text).replace("|", "\\|")


# ---------------------------------------------------------------------------------- common mistakes
def common_mistakes_markdown(inventory: Inventory) -> str:
    """The book's common-mistakes page body: per lesson, each misconception with the item's correct idea."""
    lines: list[str] = []
    lesson = 0
    for item in inventory.items:
        if item.lesson != lesson:
            lesson = item.lesson
            lines += [f"## Lesson {lesson}\n"]
        objective = inventory.objective(item)
        lines += [
            f"### {_one_line(item.stem)} (`{item.id}`)\n",
            f"*Objective {objective.id}: {objective.text}*\n",
        ]
        lines += [f"- **Not so:** {label}." for label in item.misconceptions]
        lines += [f"- **The idea:** {item.explain}\n"]
    return "\n".join(lines).rstrip()


def _one_line(text: str) -> str:
    return " ".join(text.split())
