"""The curriculum: the workshop schedule, the lesson template check, and the book's generated pages.

``lessons/schedule.yml`` is the one place lesson timings live. From it this module renders the instructor
guide's schedule tables; it checks each ``lessons/NN-slug.ipynb`` against the lesson template (title and
timings lines, Questions, Objectives, Prerequisites, challenges with solutions, instructor note, callout,
plot, Key points, metadata, no outputs); and it generates the book's reference pages (spec format from the
pydantic models, CLI from each command's ``--help``). Run from the repository root::

    python -m carpentry_kit.teaching.curriculum pages          # rewrite the generated pages
    python -m carpentry_kit.teaching.curriculum pages --check  # exit 1 if a generated page is out of date
    python -m carpentry_kit.teaching.curriculum check          # lesson template problems, one a line
    python -m carpentry_kit.teaching.curriculum schedule       # print the schedule tables
"""

from __future__ import annotations

import argparse
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
REGENERATE = "python -m carpentry_kit.teaching.curriculum pages"
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
class Schedule:
    """schedule.yml: lessons by number, and the workshop formats."""

    lessons: dict[int, ScheduledLesson]
    formats: dict[str, WorkshopFormat]


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
    return Schedule(lessons, formats)


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
    raise ValueError(f"{path}: {where}: write `lesson: N` or `{{break: label, minutes: M}}` — got {item!r}")


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
    return problems


# ------------------------------------------------------------------------------------- generated pages
def _generated_note(source: str) -> str:
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
        _generated_note("the pydantic models in `carpentry_kit/spec_model.py`"),
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


def cli_reference_markdown() -> str:
    """The CLI reference: the ``--help`` text of every ``carpentry`` command."""
    from carpentry_kit.cli.main import COMMANDS

    lines = ["# Command-line reference\n", _generated_note("`carpentry COMMAND --help`")]
    lines.append("Exit codes: 0 ok (a run: VALID), 1 a run is INVALID or a check failed, 2 bad input.\n")
    for name in COMMANDS:
        lines += [f"## `carpentry {name}`\n", "```text", _command_help(name).rstrip(), "```\n"]
    return "\n".join(lines)


def _command_help(name: str) -> str:
    import importlib

    from carpentry_kit.cli.main import COMMANDS

    module_name, help_text = COMMANDS[name]
    parser = argparse.ArgumentParser(
        prog=f"carpentry {name}",
        description=help_text,
        formatter_class=lambda prog: argparse.HelpFormatter(prog, width=100),
    )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        return f"(not available in this version: {error})"
    module.add_arguments(parser, name)
    return parser.format_help()


def replace_region(text: str, name: str, body: str) -> str:
    """Replace the body between the BEGIN/END GENERATED markers called ``name`` in ``text``."""
    begin, end = _BEGIN.format(name=name, command=REGENERATE), _END.format(name=name)
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(
            f"no region `{begin}` … `{end}` found — add the two marker lines where the {name} goes"
        )
    return pattern.sub(lambda _: f"{begin}\n\n{body}\n\n{end}", text)


def generated_pages(root: str | Path = ".") -> dict[Path, str]:
    """Every generated page (path -> full text it should have)."""
    root = Path(root)
    guide = (root / GUIDE_FILE).read_text(encoding="utf-8")
    return {
        root / GUIDE_FILE: replace_region(
            guide, "schedule", schedule_markdown(load_schedule(root / SCHEDULE_FILE))
        ),
        root / SPEC_REFERENCE_FILE: spec_reference_markdown(),
        root / CLI_REFERENCE_FILE: cli_reference_markdown(),
    }


def stale_pages(root: str | Path = ".") -> list[Path]:
    """Generated pages whose text on disk differs from what the generator makes now."""
    return [
        path
        for path, text in generated_pages(root).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def write_pages(root: str | Path = ".") -> list[Path]:
    """Rewrite the generated pages that are out of date; returns the ones written."""
    written = []
    for path, text in generated_pages(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


# ----------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m carpentry_kit.teaching.curriculum", description=__doc__.splitlines()[0]
    )
    parser.add_argument("action", choices=["pages", "check", "schedule"])
    parser.add_argument("--check", action="store_true", help="pages: only report stale pages (exit 1 if any)")
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
    if args.check:
        stale = stale_pages(args.root)
        print(
            "\n".join(f"{path}: out of date — run `{REGENERATE}`" for path in stale)
            or "generated pages are up to date"
        )
        return 1 if stale else 0
    for path in write_pages(args.root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
