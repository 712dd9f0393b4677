"""The curriculum: the workshop schedule, the lesson template check, and the book's generated pages.

``lessons/schedule.yml`` is the one place lesson timings live. From it this module renders the instructor
guide's schedule tables; it checks each ``lessons/NN-slug.ipynb`` against the lesson template (title and
timings lines, Questions, Objectives, Prerequisites, challenges with solutions, instructor note, callout,
plot, Key points, metadata, no outputs); and it generates the book's reference pages (spec format from the
pydantic models, CLI from each command's ``--help``). Run from the repository root::

    python -m carpentry_kit.cli.pages [--check]             # rewrite (or check) the generated pages
    python -m carpentry_kit.teaching.curriculum check          # lesson template problems, one a line
    python -m carpentry_kit.teaching.curriculum schedule       # print the schedule tables
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LEVELS = ("first-year undergraduate", "advanced undergraduate", "graduate", "professional")
SCHEDULE_FILE = Path("lessons/schedule.yml")
GUIDE_FILE = Path("book/instructor-guide.md")
SPEC_REFERENCE_FILE = Path("book/reference/spec.md")
CLI_REFERENCE_FILE = Path("book/reference/cli.md")
ASSESSMENT_FILE = Path("book/assessment.md")
MISTAKES_FILE = Path("book/common-mistakes.md")
REGENERATE = "python -m carpentry_kit.cli.pages"
ASSESSMENT_FORMS = ("assessment-pre", "assessment-post")  # the concept inventory's nbgrader forms
ASSESSMENT_SLOTS = {
    "pre": "Before: concept inventory and survey (`assessment-pre`)",
    "post": "After: concept inventory and survey (`assessment-post`)",
}
GRADING_FILE = Path("book/grading.md")
ASSIGNMENT_MODES = ("in-class", "homework")
MARK_SCHEME = re.compile(r"^### BEGIN MARK SCHEME\n(.*?)\n### END MARK SCHEME$", re.S | re.M)
_BEGIN = "<!-- BEGIN GENERATED: {name} ({command}) -->"
_END = "<!-- END GENERATED: {name} -->"


# ---------------------------------------------------------------------------------------------- schedule
@dataclass(frozen=True)
class ScheduledLesson:
    """One lesson's entry in schedule.yml: its number, title and minutes."""

    lesson: int
    title: str
    teaching: int
    exercises: int


@dataclass(frozen=True)
class Slot:
    """One row of a workshop timetable: a lesson or a break, with its start time (minutes after 00:00)."""

    start: int
    label: str
    minutes: int
    teaching: int = 0
    exercises: int = 0


@dataclass(frozen=True)
class WorkshopFormat:
    """A timetable (half-day, full-day) built from schedule.yml."""

    name: str
    title: str
    slots: tuple[Slot, ...]

    @property
    def teaching(self) -> int:
        return sum(slot.teaching for slot in self.slots)

    @property
    def exercises(self) -> int:
        return sum(slot.exercises for slot in self.slots)

    @property
    def minutes(self) -> int:
        return sum(slot.minutes for slot in self.slots)

    @property
    def end(self) -> int:
        return self.slots[-1].start + self.slots[-1].minutes if self.slots else 0


@dataclass(frozen=True)
class ScheduledAssignment:
    """One graded assignment in schedule.yml: its lesson, where learners do it and how long it takes."""

    assignment: str
    lesson: int
    mode: str  # one of ASSIGNMENT_MODES
    minutes: int


@dataclass(frozen=True)
class Schedule:
    """schedule.yml: lessons by number, the workshop formats, and the graded assignments."""

    lessons: dict[int, ScheduledLesson]
    formats: dict[str, WorkshopFormat]
    assignments: dict[str, ScheduledAssignment] = dataclasses.field(default_factory=dict)


def load_schedule(path: str | Path = SCHEDULE_FILE) -> Schedule:
    """Read schedule.yml; a malformed entry raises ValueError naming the file and the entry."""
    import yaml

    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lessons = {}
    for index, entry in enumerate(data.get("lessons") or []):
        try:
            lesson = ScheduledLesson(
                int(entry["lesson"]), str(entry["title"]), int(entry["teaching"]), int(entry["exercises"])
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"{path}: lessons[{index}]: needs lesson, title, teaching and exercises (minutes) — got {entry!r} ({error})"
            ) from None
        lessons[lesson.lesson] = lesson
    formats = {
        name: _build_format(path, name, body, lessons) for name, body in (data.get("formats") or {}).items()
    }
    assignments = [
        _build_assignment(path, index, entry, lessons)
        for index, entry in enumerate(data.get("assignments") or [])
    ]
    return Schedule(lessons, formats, {a.assignment: a for a in assignments})


def _build_assignment(
    path: Path, index: int, entry: Any, lessons: dict[int, ScheduledLesson]
) -> ScheduledAssignment:
    where = f"{path}: assignments[{index}]"
    try:
        item = ScheduledAssignment(
            str(entry["assignment"]), int(entry["lesson"]), str(entry["mode"]), int(entry["minutes"])
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"{where}: needs assignment, lesson, mode and minutes — got {entry!r} ({error})"
        ) from None
    if item.mode not in ASSIGNMENT_MODES:
        raise ValueError(f"{where}: mode '{item.mode}' — write one of: {', '.join(ASSIGNMENT_MODES)}")
    lesson = lessons.get(item.lesson)
    if lesson is None:
        raise ValueError(f"{where}: lesson {item.lesson} is not listed under `lessons:` — add it there")
    if item.mode == "in-class" and item.minutes > lesson.exercises:
        raise ValueError(
            f"{where}: {item.minutes} min in class, but lesson {item.lesson} has {lesson.exercises} exercise "
            "minutes — make it homework, or shorten it"
        )
    return item


def _build_format(
    path: Path, name: str, body: dict[str, Any], lessons: dict[int, ScheduledLesson]
) -> WorkshopFormat:
    clock = _parse_clock(path, name, str(body.get("start", "09:00")))
    slots = []
    for index, item in enumerate(body.get("items") or []):
        slot = _build_slot(path, f"formats.{name}.items[{index}]", item, lessons, clock)
        slots.append(slot)
        clock += slot.minutes
    return WorkshopFormat(name, str(body.get("title", name)), tuple(slots))


def _build_slot(path: Path, where: str, item: Any, lessons: dict[int, ScheduledLesson], clock: int) -> Slot:
    if isinstance(item, dict) and "lesson" in item:
        lesson = lessons.get(item["lesson"])
        if lesson is None:
            raise ValueError(
                f"{path}: {where}: lesson {item['lesson']} is not listed under `lessons:` — add it there"
            )
        label = f"{lesson.lesson}. {lesson.title}"
        return Slot(clock, label, lesson.teaching + lesson.exercises, lesson.teaching, lesson.exercises)
    if isinstance(item, dict) and "break" in item and isinstance(item.get("minutes"), int):
        return Slot(clock, str(item["break"]), item["minutes"])
    if (
        isinstance(item, dict)
        and item.get("assessment") in ASSESSMENT_SLOTS
        and isinstance(item.get("minutes"), int)
    ):
        return Slot(clock, ASSESSMENT_SLOTS[item["assessment"]], item["minutes"])
    raise ValueError(
        f"{path}: {where}: write `lesson: N`, `{{break: label, minutes: M}}` or "
        f"`{{assessment: pre|post, minutes: M}}` — got {item!r}"
    )


def _parse_clock(path: Path, name: str, text: str) -> int:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match:
        raise ValueError(f"{path}: formats.{name}.start: '{text}' is not a time — write e.g. \"09:00\"")
    return int(match[1]) * 60 + int(match[2])


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def schedule_markdown(schedule: Schedule) -> str:
    """The instructor guide's timetables, one Markdown table per workshop format."""
    parts = []
    for workshop in schedule.formats.values():
        rows = [
            "| Start | Session | Teaching (min) | Exercises (min) | Total (min) |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for slot in workshop.slots:
            teaching, exercises = (
                (slot.teaching, slot.exercises) if slot.teaching or slot.exercises else ("", "")
            )
            rows.append(
                f"| {_clock(slot.start)} | {slot.label} | {teaching} | {exercises} | {slot.minutes} |"
            )
        rows.append(
            f"| {_clock(workshop.end)} | **Total** | **{workshop.teaching}** | **{workshop.exercises}** | **{workshop.minutes}** |"
        )
        parts.append(f"### {workshop.title}\n\n" + "\n".join(rows))
    return "\n\n".join(parts)


def guide_totals(markdown: str) -> list[tuple[int, int, int]]:
    """(teaching, exercises, total) of each **Total** row in a page's tables, in order."""
    pattern = re.compile(
        r"^\|[^|]*\|\s*\*\*Total\*\*\s*\|\s*\*\*(\d+)\*\*\s*\|\s*\*\*(\d+)\*\*\s*\|\s*\*\*(\d+)\*\*\s*\|",
        re.M,
    )
    return [(int(a), int(b), int(c)) for a, b, c in pattern.findall(markdown)]


# ------------------------------------------------------------------------------------------- lessons
@dataclass(frozen=True)
class LessonInfo:
    """What a lesson notebook declares about itself (from its metadata)."""

    path: Path
    lesson: int
    title: str
    level: str
    teaching: int
    exercises: int


def lesson_paths(lessons_dir: str | Path = "lessons") -> list[Path]:
    """The lesson notebooks, ``NN-slug.ipynb``, in lesson order."""
    return sorted(Path(lessons_dir).glob("[0-9][0-9]-*.ipynb"))


def read_lesson(path: str | Path) -> LessonInfo:
    """The ``carpentry`` metadata of a lesson notebook; missing keys raise ValueError naming them."""
    path = Path(path)
    meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("carpentry")
    if not isinstance(meta, dict):
        raise ValueError(
            f"{path}: metadata: no `carpentry` object — add lesson, title, level, teaching_minutes, exercise_minutes"
        )
    try:
        return LessonInfo(
            path,
            int(meta["lesson"]),
            str(meta["title"]),
            str(meta["level"]),
            int(meta["teaching_minutes"]),
            int(meta["exercise_minutes"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"{path}: metadata.carpentry: missing or bad {error} — see lessons/README.md"
        ) from None


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


_OBJECTIVES = re.compile(r"## Objectives\n+((?:- .+\n?(?: {2,}.+\n?)*)+)")


def lesson_objectives(path: str | Path) -> list[str]:
    """The bullets of a lesson's ``## Objectives`` section (cell 1), in order, each joined onto one line."""
    cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    match = _OBJECTIVES.search(_source(cells[0]) + "\n") if cells else None
    if not match:
        return []
    bullets = re.split(r"^- ", match[1], flags=re.M)
    return [" ".join(bullet.split()) for bullet in bullets if bullet.strip()]


def lesson_problems(path: str | Path, schedule: Schedule) -> list[str]:
    """Every way a lesson notebook breaks the lesson template, one line each (empty: it follows it)."""
    path = Path(path)
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = notebook.get("cells", [])
    try:
        info = read_lesson(path)
    except ValueError as error:
        return [str(error)]
    problems = _metadata_problems(path, notebook, info, schedule)
    if len(cells) < 3:
        return [*problems, f"{path}: needs a header cell, an imports cell and content cells"]
    problems += _header_problems(path, _source(cells[0]), info, cells[0]["cell_type"])
    problems += _imports_problems(path, cells)
    problems += _content_problems(path, cells)
    problems += _output_problems(path, cells)
    problems += _hidden_cell_problems(path, cells)
    return problems


def _metadata_problems(path: Path, notebook: dict, info: LessonInfo, schedule: Schedule) -> list[str]:
    problems = []
    if not path.name.startswith(f"{info.lesson:02d}-"):
        problems.append(
            f"{path}: metadata.carpentry.lesson is {info.lesson} but the file name says otherwise — rename or renumber"
        )
    if info.level not in LEVELS:
        problems.append(f"{path}: metadata.carpentry.level '{info.level}' — use one of: {', '.join(LEVELS)}")
    if notebook.get("metadata", {}).get("kernelspec", {}).get("name") != "python3":
        problems.append(f"{path}: metadata.kernelspec.name must be 'python3'")
    scheduled = schedule.lessons.get(info.lesson)
    if scheduled is None:
        return [*problems, f"{path}: lesson {info.lesson} is not in lessons/schedule.yml — add it there"]
    declared = (info.title, info.teaching, info.exercises)
    expected = (scheduled.title, scheduled.teaching, scheduled.exercises)
    if declared != expected:
        problems.append(
            f"{path}: metadata (title, teaching, exercises) = {declared} but schedule.yml says {expected} — make them agree"
        )
    return problems


def _header_problems(path: Path, header: str, info: LessonInfo, cell_type: str) -> list[str]:
    timings = (
        f"**Teaching:** {info.teaching} min · **Exercises:** {info.exercises} min · **Level:** {info.level}"
    )
    required = {
        f"# {info.lesson}. {info.title}\n": "the title line `# N. Title` (as in the metadata)",
        timings: f"the timings line `{timings}`",
        "## Questions\n": "a `## Questions` section",
        "## Objectives\n": "an `## Objectives` section",
        "## Prerequisites\n": "a `## Prerequisites` section",
    }
    problems = [
        f"{path}: cell 1: missing {what}" for text, what in required.items() if text not in header + "\n"
    ]
    if cell_type != "markdown":
        problems.append(f"{path}: cell 1 must be a markdown cell")
    for section in ("Questions", "Objectives"):
        if not re.search(rf"## {section}\n+(- .+\n?)+", header):
            problems.append(f"{path}: cell 1: `## {section}` needs a bullet list")
    if not re.search(r"\|\s*Concepts?\s*\|\s*Importance\s*\|\s*Notes\s*\|", header, re.I):
        problems.append(
            f"{path}: cell 1: `## Prerequisites` needs a table `| Concept | Importance | Notes |`"
        )
    return problems


def _imports_problems(path: Path, cells: list[dict]) -> list[str]:
    imports = _source(cells[1])
    problems = []
    if cells[1]["cell_type"] != "code" or "import carpentry_kit as ck" not in imports:
        problems.append(f"{path}: cell 2 must be the imports code cell, with `import carpentry_kit as ck`")
    uses_torch = any("torch" in _source(cell) for cell in cells if cell["cell_type"] == "code")
    if uses_torch and "torch.set_num_threads(1)" not in imports:
        problems.append(
            f"{path}: cell 2: the lesson uses torch — add `torch.set_num_threads(1)` to the imports cell"
        )
    return problems


_CHALLENGE = re.compile(r"```\{admonition\} Challenge \d+: .+\n:class: attention\n")
_SOLUTION = re.compile(r"```\{admonition\} Solution\n:class: dropdown\n")
_PARTS = {
    "an instructor note (```{admonition} Instructor note + :class: note dropdown)": re.compile(
        r"```\{admonition\} Instructor note\n:class: note dropdown\n"
    ),
    "a callout (```{admonition} Callout + :class: tip)": re.compile(
        r"```\{admonition\} Callout\n:class: tip\n"
    ),
    "a stretch task for learners who finish early (```{admonition} Stretch: title + :class: seealso)": re.compile(
        r"```\{admonition\} Stretch: .+\n:class: seealso\n"
    ),
}


def _content_problems(path: Path, cells: list[dict]) -> list[str]:
    markdown = "\n".join(_source(cell) for cell in cells if cell["cell_type"] == "markdown")
    code = "\n".join(_source(cell) for cell in cells if cell["cell_type"] == "code")
    problems = [f"{path}: missing {what}" for what, pattern in _PARTS.items() if not pattern.search(markdown)]
    challenges, solutions = len(_CHALLENGE.findall(markdown)), len(_SOLUTION.findall(markdown))
    if challenges == 0:
        problems.append(
            f"{path}: missing a challenge (```{{admonition}} Challenge 1: title + :class: attention)"
        )
    if solutions < challenges:
        problems.append(
            f"{path}: {challenges} challenges but {solutions} solutions — follow each with ```{{admonition}} Solution + :class: dropdown"
        )
    if not re.search(r"\bplot_\w+\(|\bplt\.\w+\(|\.plot\(", code):
        problems.append(f"{path}: no plot call — show at least one matplotlib figure")
    last = cells[-1]
    if last["cell_type"] != "markdown" or not re.match(r"## Key points\n+(- .+\n?)+", _source(last)):
        problems.append(f"{path}: the last cell must be markdown `## Key points` with bullets")
    return problems


def _output_problems(path: Path, cells: list[dict]) -> list[str]:
    dirty = [
        n
        for n, cell in enumerate(cells, 1)
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    return [f"{path}: cells {dirty} have outputs — clear them before committing"] if dirty else []


def _hidden_cell_problems(path: Path, cells: list[dict]) -> list[str]:
    """A cell the book removes (tag ``remove-cell``) is collapsed in JupyterLab too (``jupyter`` metadata)."""
    shown = [
        n
        for n, cell in enumerate(cells, 1)
        if "remove-cell" in cell.get("metadata", {}).get("tags", [])
        and cell["metadata"].get("jupyter") != HIDDEN_IN_JUPYTERLAB
    ]
    return (
        [f"{path}: cells {shown} are tagged remove-cell but shown in JupyterLab — add metadata {HIDDEN}"]
        if shown
        else []
    )


HIDDEN_IN_JUPYTERLAB = {"source_hidden": True, "outputs_hidden": True}
HIDDEN = '"jupyter": {"source_hidden": true, "outputs_hidden": true}'


_SOLUTION_BODY = re.compile(r"(`{3,})\{admonition\} Solution\n:class: dropdown\n(.*?)\n\1\n", re.S)
_PYTHON_BLOCK = re.compile(r"(~{3,}|`{3,})python\n(.*?)\n\1", re.S)


def solution_code(path: str | Path) -> list[str]:
    """The Python code blocks inside a lesson's Solution admonitions, in order (tests execute them)."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    markdown = "\n".join(
        _source(cell) for cell in notebook.get("cells", []) if cell["cell_type"] == "markdown"
    )
    return [code for _, body in _SOLUTION_BODY.findall(markdown) for _, code in _PYTHON_BLOCK.findall(body)]


def curriculum_problems(root: str | Path = ".") -> list[str]:
    """Template problems of every lesson, plus scheduled lessons that have no notebook."""
    root = Path(root)
    schedule = load_schedule(root / SCHEDULE_FILE)
    paths = lesson_paths(root / "lessons")
    problems = [line for path in paths for line in lesson_problems(path, schedule)]
    present = {int(path.name[:2]) for path in paths}
    problems += [
        f"{root / SCHEDULE_FILE}: lesson {n} has no notebook lessons/{n:02d}-*.ipynb"
        for n in schedule.lessons
        if n not in present
    ]
    solutions = root / "solutions"
    graded = sorted(
        p.name
        for p in (solutions.iterdir() if solutions.is_dir() else [])
        if any(p.glob("*.ipynb")) and p.name not in ASSESSMENT_FORMS  # placed by `{assessment: ...}` slots
    )
    problems += [
        f"{root / SCHEDULE_FILE}: assignment {name} (solutions/{name}/) is not under `assignments:` — add it "
        "with its lesson, mode (in-class or homework) and minutes"
        for name in graded
        if name not in schedule.assignments
    ]
    return problems


def assignment_points(notebook: Path) -> tuple[float, float]:
    """(autograded, graded by hand) points of an nbgrader source notebook."""
    auto = manual = 0.0
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            if meta.get("solution"):
                manual += float(meta["points"])
            else:
                auto += float(meta["points"])
    return auto, manual


def assignments_markdown(schedule: Schedule, root: Path) -> str:
    """The instructor guide's table of graded assignments: lesson, in class or homework, minutes, points."""
    rows = [
        "| Assignment | After lesson | Where | Time (min) | Autograded points | Written points (by hand) |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for item in schedule.assignments.values():
        auto, manual = assignment_points(root / "solutions" / item.assignment / f"{item.assignment}.ipynb")
        title = schedule.lessons[item.lesson].title
        rows.append(
            f"| `{item.assignment}` | {item.lesson}. {title} | {item.mode} | {item.minutes} | {auto:g} | {manual:g} |"
        )
    homework = sum(a.minutes for a in schedule.assignments.values() if a.mode == "homework")
    in_class = [a.assignment for a in schedule.assignments.values() if a.mode == "in-class"]
    note = (
        f"In-class assignments ({', '.join(f'`{a}`' for a in in_class) or 'none'}) take the lesson's exercise "
        "minutes of the timetable, in place of its challenges; the homework assignments add up to "
        f"{homework} minutes after the workshop."
    )
    return "\n".join(rows) + "\n\n" + note


def rubrics_markdown(root: Path) -> str:
    """The rubric of every written answer, as the source notebooks' mark schemes give it to graders."""
    parts = []
    for notebook in sorted((root / "solutions").glob("*/*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            text = _source(cell)
            match = MARK_SCHEME.search(text)
            if not match:
                continue
            title = text.splitlines()[0].lstrip("# ").strip()
            question = text[: match.start()].split("\n", 1)[1].strip()
            parts.append(
                f"### `{notebook.parent.name}` — {title}\n\n"
                + "\n".join(f"> {line}".rstrip() for line in question.splitlines())
                + f"\n\n{match[1].strip()}"
            )
    return "\n\n".join(parts)


# ------------------------------------------------------------------------------------- generated pages
def generated_note(source: str) -> str:
    return (
        "```{note}\nThis page is generated from "
        + source
        + f" by `{REGENERATE}`. Do not edit it by hand.\n```\n"
    )


def spec_reference_markdown() -> str:
    """The spec format reference: one table per section, from the pydantic models' field descriptions."""
    from carpentry_kit.spec.model import Spec

    lines = [
        "# Spec format reference\n",
        generated_note("the pydantic models in `carpentry_kit/spec_model.py`"),
    ]
    lines.append(
        "A spec is a YAML file with `spec_version: 1` and the sections below. Unknown keys are errors.\n"
    )
    for where, model in _sections(Spec, "spec"):
        doc = " ".join((model.__doc__ or "").split())
        lines += [f"## `{where}`\n", *([doc + "\n"] if doc else [])]
        lines += ["| field | type | default | description |", "| --- | --- | --- | --- |"]
        for name, field in model.model_fields.items():
            details = "; ".join(filter(None, [field.description or "", _constraints(field)]))
            lines.append(
                f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {_cell(details)} |"
            )
        lines.append("")
    return "\n".join(lines)


def _sections(model: type, where: str) -> list[tuple[str, type]]:
    found = [(where, model)]
    for name, field in model.model_fields.items():
        for nested in _models_in(field.annotation):
            suffix = "[]" if _is_list(field.annotation) else ""
            found += _sections(nested, f"{name}{suffix}" if where == "spec" else f"{where}.{name}{suffix}")
    return found


def _models_in(annotation: Any) -> list[type]:
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _is_list(annotation: Any) -> bool:
    from typing import get_origin

    return get_origin(annotation) is list


def _type_name(annotation: Any) -> str:
    from typing import Literal, Union, get_args, get_origin

    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is type(None):
        return "null"
    if origin is Literal:
        return " or ".join(f"`{json.dumps(arg)}`" for arg in args)
    if origin is Union or type(annotation).__name__ == "UnionType":
        return " or ".join(_type_name(arg) for arg in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    if _models_in(annotation):
        return f"section `{annotation.__name__}`"
    return getattr(annotation, "__name__", str(annotation)).replace("Any", "any")


def _default(field: Any) -> str:
    from pydantic import BaseModel

    if field.is_required():
        return "**required**"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel):
        return "(section defaults)"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _constraints(field: Any) -> str:
    words = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "at least", "pattern": "matches"}
    found = []
    for item in field.metadata:
        for attribute, word in words.items():
            value = getattr(item, attribute, None)
            if value is not None:
                found.append(f"{word} `{value}`")
    return ", ".join(found)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def replace_region(text: str, name: str, body: str) -> str:
    """Replace the body between the BEGIN/END GENERATED markers called ``name`` in ``text``."""
    begin, end = _BEGIN.format(name=name, command=REGENERATE), _END.format(name=name)
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(
            f"no region `{begin}` … `{end}` found — add the two marker lines where the {name} goes"
        )
    return pattern.sub(lambda _: f"{begin}\n\n{body}\n\n{end}", text)


def guide_and_grading_pages(root: str | Path = ".") -> dict[Path, str]:
    """The instructor guide (timetables and the assignments table) and the grading guide's rubrics."""
    root = Path(root)
    schedule = load_schedule(root / SCHEDULE_FILE)
    guide = replace_region(
        (root / GUIDE_FILE).read_text(encoding="utf-8"), "schedule", schedule_markdown(schedule)
    )
    grading = (root / GRADING_FILE).read_text(encoding="utf-8")
    return {
        root / GUIDE_FILE: replace_region(guide, "assignments", assignments_markdown(schedule, root)),
        root / GRADING_FILE: replace_region(grading, "rubrics", rubrics_markdown(root)),
    }


def assessment_pages(root: str | Path = ".") -> dict[Path, str]:
    """The survey template in the assessment page and the common-mistakes page, from the inventory."""
    from carpentry_kit.teaching.inventory import common_mistakes_markdown, load_inventory, survey_markdown

    root = Path(root)
    inventory = load_inventory(lessons_dir=root / "lessons")
    regions = {
        ASSESSMENT_FILE: ("survey", survey_markdown),
        MISTAKES_FILE: ("mistakes", common_mistakes_markdown),
    }
    return {
        root / path: replace_region((root / path).read_text(encoding="utf-8"), name, render(inventory))
        for path, (name, render) in regions.items()
    }


# ----------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m carpentry_kit.teaching.curriculum", description=__doc__.splitlines()[0]
    )
    parser.add_argument("action", choices=["check", "schedule"])
    parser.add_argument("--root", default=".", help="repository root (default: the current directory)")
    args = parser.parse_args(argv)
    try:
        return _act(args)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _act(args: argparse.Namespace) -> int:
    if args.action == "schedule":
        print(schedule_markdown(load_schedule(Path(args.root) / SCHEDULE_FILE)))
        return 0
    if args.action == "check":
        problems = curriculum_problems(args.root)
        print("\n".join(problems) or "all lessons follow the template")
        return 1 if problems else 0
    raise AssertionError(args.action)  # argparse allows only the actions above


if __name__ == "__main__":
    raise SystemExit(main())
