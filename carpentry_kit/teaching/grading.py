"""Graded exercises: regenerate the released exercises, check them for leaks, autograde submissions.

* ``carpentry grade --generate`` rebuilds ``exercises/`` from ``solutions/`` with ``nbgrader
  generate_assignment`` (run in a temporary course, so the output is byte-stable) and registers the
  assignments in the course gradebook.
* ``carpentry grade ASSIGNMENT [--student ID] [--csv FILE]`` autogrades every collected submission
  (``submitted/<student>/<assignment>/``), each one isolated (``carpentry_kit.teaching.sandbox``), then merges
  the scores into the course gradebook and a CSV file from this trusted process.
* ``find_leaks(paths, solutions_dir)`` finds solution code or hidden tests in released files or a built book.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from carpentry_kit.teaching.sandbox import (
    SANDBOX_HOME,
    SANDBOX_SUBMISSION,
    Limits,
    SandboxRun,
    run_sandboxed,
    sandbox_problem,
)
from carpentry_kit.teaching.scoring import (
    ScoringError,
    TrustedCell,
    cell_score,
    check_executed,
    restore,
    trusted_cells,
)

COURSE_ID = "carpentry-kit"
SOURCE_DIR = "solutions"
RELEASE_DIR = "exercises"
SECRET_REGIONS = (
    ("### BEGIN SOLUTION", "### END SOLUTION"),
    ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
)
MIN_SECRET_CHARS = 12
# `python -m nbgrader`, less 1.3 s of start-up: jsonschema's optional IRI format checker (rfc3987_syntax,
# which nbgrader never uses) compiles a grammar on import; a None entry in sys.modules makes it skip it.
NBGRADER_LAUNCHER = (
    "import sys; sys.modules['rfc3987_syntax'] = None; "
    "from nbgrader.apps.nbgraderapp import main; sys.exit(main())"
)
LEAK_SUFFIXES = {".ipynb", ".html", ".htm", ".md", ".py", ".txt", ".json", ".js", ".tex"}
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Entry|Exit)\b: ")  # a traceback's last line
LIMIT_OPTIONS = {"wall_s": "--timeout", "cell_s": "--cell-timeout"}  # the options that set these limits
CSV_FIELDS = [
    "assignment",
    "student_id",
    "status",
    "auto_score",
    "auto_max_score",
    "manual_max_score",
    "needs_manual_grade",
    "max_score",
    "error",
]


class GradingError(Exception):
    """Bad input to the grading command: one line saying what is wrong and how to fix it."""


@dataclass(frozen=True)
class CellScore:
    """One graded cell of one submission."""

    notebook: str
    grade_id: str
    score: float
    max_score: float
    manual: bool  # a written answer: the instructor grades it in formgrader


@dataclass
class SubmissionGrade:
    """The autograding outcome of one student's submission of one assignment."""

    assignment: str
    student: str
    status: str  # "graded" | "failed" (error says why; its scores are not recorded)
    error: str = ""
    cells: list[CellScore] = field(default_factory=list)
    isolation: list[str] = field(default_factory=list)

    @property
    def auto_score(self) -> float:
        return sum(cell.score for cell in self.cells if not cell.manual)

    @property
    def auto_max_score(self) -> float:
        return sum(cell.max_score for cell in self.cells if not cell.manual)

    @property
    def manual_max_score(self) -> float:
        return sum(cell.max_score for cell in self.cells if cell.manual)

    def row(self) -> dict[str, Any]:
        """The CSV row of this submission."""
        return {
            "assignment": self.assignment,
            "student_id": self.student,
            "status": self.status,
            "auto_score": f"{self.auto_score:g}",
            "auto_max_score": f"{self.auto_max_score:g}",
            "manual_max_score": f"{self.manual_max_score:g}",
            "needs_manual_grade": str(self.manual_max_score > 0).lower(),
            "max_score": f"{self.auto_max_score + self.manual_max_score:g}",
            "error": self.error,
        }


@dataclass(frozen=True)
class Leak:
    """A line of solution code or hidden test found in a file meant for learners."""

    file: str
    line: int
    text: str
    source: str  # the solution notebook it comes from

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: leaks {self.text!r} from {self.source}"


# --- the course ----------------------------------------------------------------------------------------


def assignments(course_root: Path) -> list[str]:
    """The assignments of the course: the folders of ``solutions/`` holding a notebook."""
    source = course_root / SOURCE_DIR
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def course_db_url(course_root: Path) -> str:
    """The gradebook URL configured in the course's ``nbgrader_config.py``."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    return config.CourseDirectory.db_url


def _check_assignment(course_root: Path, assignment: str) -> None:
    known = assignments(course_root)
    if assignment not in known:
        raise GradingError(
            f"{course_root / SOURCE_DIR}: no assignment '{assignment}' — choose one of: {', '.join(known)}"
        )


def nbgrader_command(*args: str) -> list[str]:
    """The command line of ``nbgrader ARGS`` in this Python, started by ``NBGRADER_LAUNCHER``."""
    return [sys.executable, "-c", NBGRADER_LAUNCHER, *args]


# --- releasing -----------------------------------------------------------------------------------------


def generate_exercises(
    course_root: Path, release_dir: Path | None = None, register: bool = True
) -> list[Path]:
    """Regenerate the released notebooks of every assignment into ``release_dir`` (default ``exercises/``),
    normalised to be byte-stable; with ``register`` also record the assignments in the course gradebook."""
    course_root = course_root.resolve()
    release_dir = release_dir or course_root / RELEASE_DIR
    names = assignments(course_root)
    written = []
    with tempfile.TemporaryDirectory(prefix="carpentry-release-") as tmp:
        course = _trusted_course(course_root, Path(tmp), names)
        for assignment in names:
            target = release_dir / assignment
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(course / RELEASE_DIR / assignment, target)
            written += [normalise_notebook(nb) for nb in sorted(target.rglob("*.ipynb"))]
        if register:
            db_url = course_db_url(course_root)
            for assignment in names:
                sync_assignment(_sqlite_url(course), db_url, assignment)
    return written


def _trusted_course(course_root: Path, workdir: Path, names: list[str]) -> Path:
    """A temporary copy of the course in which nbgrader generates ``names`` into its own SQLite gradebook.

    Generation runs in this process (it executes no notebook code): one nbgrader start-up per grading run,
    not one per assignment, and the gradebook's ``alembic`` revision is read without a subprocess."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    _use_inprocess_alembic_head()
    course = workdir / "course"
    course.mkdir()
    shutil.copy(course_root / "nbgrader_config.py", course)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = _sqlite_url(course)  # never the course's (maybe PostgreSQL) gradebook
    config.Exchange.root = str(workdir / "exchange")
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for name in names:
        shutil.copytree(course_root / SOURCE_DIR / name, course / SOURCE_DIR / name)
        result = api.generate_assignment(name, force=True)
        if not result["success"]:
            raise GradingError(
                f"{SOURCE_DIR}/{name}: nbgrader generate_assignment failed — {_last_line(result)} "
                f"(run `nbgrader generate_assignment {name}` in a copy of the course for the full log)"
            )
    return course


@cache
def _use_inprocess_alembic_head() -> None:
    """nbgrader stamps a new gradebook with the ``alembic heads`` revision read from a subprocess (2-3 s
    each time); read it once, in this process, from nbgrader's own migration scripts instead."""
    import nbgrader
    import nbgrader.api
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(Path(nbgrader.__file__).parent / "alembic")).get_current_head()
    nbgrader.api.get_alembic_version = lambda: head


def _last_line(result: dict[str, Any]) -> str:
    text = (result.get("error") or "") + (result.get("log") or "")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _sqlite_url(course: Path) -> str:
    return "sqlite:///" + str(course / "gradebook.db")


def normalise_notebook(path: Path) -> Path:
    """Rewrite a released notebook without volatile metadata, keys sorted, so regeneration is byte-stable."""
    notebook = json.loads(path.read_text())
    notebook["metadata"] = {
        "kernelspec": notebook["metadata"].get("kernelspec", {}),
        "language_info": {"name": "python"},
    }
    for cell in notebook["cells"]:
        cell["metadata"] = {
            k: v for k, v in cell.get("metadata", {}).items() if k in ("nbgrader", "deletable", "editable")
        }
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    path.write_text(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return path


def sync_assignment(from_url: str, to_url: str, assignment: str) -> None:
    """Copy an assignment's notebooks and cells from a trusted gradebook into the course gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(from_url, COURSE_ID) as source, Gradebook(to_url, COURSE_ID) as target:
        target.update_or_create_assignment(assignment)
        for notebook in source.find_assignment(assignment).notebooks:
            target.update_or_create_notebook(notebook.name, assignment)
            for cell in notebook.grade_cells:
                target.update_or_create_grade_cell(
                    cell.name, notebook.name, assignment, max_score=cell.max_score, cell_type=cell.cell_type
                )
            for cell in notebook.task_cells:
                target.update_or_create_task_cell(
                    cell.name, notebook.name, assignment, max_score=cell.max_score, cell_type=cell.cell_type
                )
            for cell in notebook.solution_cells:
                target.update_or_create_solution_cell(cell.name, notebook.name, assignment)
            for cell in notebook.source_cells:
                target.update_or_create_source_cell(
                    cell.name,
                    notebook.name,
                    assignment,
                    cell_type=cell.cell_type,
                    locked=cell.locked,
                    source=cell.source,
                    checksum=cell.checksum,
                )


# --- leaks ---------------------------------------------------------------------------------------------


def find_leaks(paths: Iterable[str | Path], solutions_dir: str | Path) -> list[Leak]:
    """Every line of solution code or hidden test (from the notebooks in ``solutions_dir``) that appears in
    the given files, or in the files under the given directories (notebooks, HTML, Markdown, text)."""
    secrets = secret_lines(Path(solutions_dir))
    leaks = []
    for file in _files(paths):
        for number, line in enumerate(_readable_lines(file), start=1):
            normal = _normal(line)
            if normal in secrets:
                leaks.append(Leak(str(file), number, normal, secrets[normal]))
    return leaks


def secret_lines(solutions_dir: Path) -> dict[str, str]:
    """Normalised solution and hidden-test lines -> their notebook; lines also public there are left out."""
    secret: dict[str, str] = {}
    public: set[str] = set()
    for notebook in sorted(solutions_dir.rglob("*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            hidden, shown = _split_cell(cell)
            public.update(_normal(line) for line in shown)
            for line in hidden:
                secret.setdefault(_normal(line), str(notebook.relative_to(solutions_dir)))
    return {line: nb for line, nb in secret.items() if len(line) >= MIN_SECRET_CHARS and line not in public}


def _split_cell(cell: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(secret lines, public lines) of a source cell."""
    lines = "".join(cell["source"]).splitlines()
    meta = cell.get("metadata", {}).get("nbgrader", {})
    delimited = any(begin in line for line in lines for begin, _ in SECRET_REGIONS)
    if meta.get("solution") and not delimited:
        return lines, []
    hidden, shown, inside = [], [], False
    for line in lines:
        if any(begin in line for begin, _ in SECRET_REGIONS):
            inside = True
        elif any(end in line for _, end in SECRET_REGIONS):
            inside = False
        else:
            (hidden if inside else shown).append(line)
    return hidden, shown


def _normal(line: str) -> str:
    return " ".join(line.split())


def _files(paths: Iterable[str | Path]) -> list[Path]:
    found = []
    for path in map(Path, paths):
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        found += [p for p in candidates if p.is_file() and p.suffix.lower() in LEAK_SUFFIXES]
    return found


def _readable_lines(file: Path) -> list[str]:
    """The lines a reader sees: notebook cell sources, HTML without tags, other text as is."""
    text = file.read_text(errors="replace")
    if file.suffix == ".ipynb":
        cells = json.loads(text).get("cells", [])
        return [line for cell in cells for line in "".join(cell.get("source", "")).splitlines()]
    if file.suffix in (".html", ".htm"):
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return text.splitlines()


# --- autograding ---------------------------------------------------------------------------------------


def grade_assignment(
    course_root: Path,
    assignment: str,
    students: list[str] | None = None,
    limits: Limits | None = None,
    unsafe_no_sandbox: bool = False,
) -> list[SubmissionGrade]:
    """Autograde the collected submissions of ``assignment`` (all, or ``students``), each one executed in
    its own sandbox and scored here, and merge the scores of those graded into the course gradebook
    (a failed attempt never replaces a stored grade)."""
    limits = limits or Limits()
    check_can_grade(limits, unsafe_no_sandbox)
    course_root = course_root.resolve()
    _check_assignment(course_root, assignment)
    submissions = _submissions(course_root, assignment, students)
    db_url = course_db_url(course_root)
    grades = []
    with tempfile.TemporaryDirectory(prefix="carpentry-trusted-") as tmp:
        trusted = _trusted_course(course_root, Path(tmp), [assignment])
        sync_assignment(_sqlite_url(trusted), db_url, assignment)
        expected = _graded_cells(trusted, assignment)
        releases = _trusted_releases(trusted, assignment)
        for student, folder in submissions.items():
            grade = grade_submission(course_root, assignment, student, folder, expected, releases, limits,
                                     unsafe_no_sandbox)  # fmt: skip
            if grade.status == "graded":
                record_grade(db_url, grade)
            grades.append(grade)
    return grades


def _trusted_releases(trusted: Path, assignment: str) -> dict[str, list[TrustedCell]]:
    """Notebook name -> its cells as the trusted course generated them (checksums verified)."""
    try:
        return {
            nb.stem: trusted_cells(nb, _sqlite_url(trusted), COURSE_ID, assignment)
            for nb in sorted((trusted / RELEASE_DIR / assignment).glob("*.ipynb"))
        }
    except ScoringError as error:
        raise GradingError(str(error)) from None


def check_can_grade(limits: Limits, unsafe_no_sandbox: bool) -> None:
    """Refuse, before anything runs, bad limits or a machine that cannot sandbox a submission."""
    problems = limits.problems(LIMIT_OPTIONS)
    if problems:
        raise GradingError(f"carpentry grade: {problems[0]}")
    problem = "" if unsafe_no_sandbox else sandbox_problem()
    if problem:
        raise GradingError(
            f"carpentry grade: cannot sandbox submissions here — {problem}; "
            "or pass --unsafe-no-sandbox to run them unisolated (only for submissions you trust)"
        )


def _submissions(course_root: Path, assignment: str, students: list[str] | None) -> dict[str, Path]:
    submitted = course_root / "submitted"
    found = {p.parent.name: p for p in sorted(submitted.glob(f"*/{assignment}")) if p.is_dir()}
    missing = [s for s in students or [] if s not in found]
    if not found and not students:
        raise GradingError(
            f"{submitted}: no submissions of '{assignment}' (looked for {submitted}/*/{assignment}/) — "
            f"collect them first (`nbgrader collect {assignment}`)"
        )
    if missing:
        raise GradingError(
            f"{submitted}: no submission of '{assignment}' from {', '.join(missing)} — "
            f"collect it first (`nbgrader collect {assignment}`) or check the student id"
        )
    return {s: p for s, p in found.items() if not students or s in students}


def _graded_cells(course: Path, assignment: str) -> list[CellScore]:
    """The graded cells of an assignment from a trusted gradebook, each with score 0."""
    from nbgrader.api import Gradebook

    cells = []
    with Gradebook(_sqlite_url(course), COURSE_ID) as gb:
        for notebook in gb.find_assignment(assignment).notebooks:
            solution = {cell.name for cell in notebook.solution_cells}
            for cell in notebook.grade_cells:
                cells.append(CellScore(notebook.name, cell.name, 0.0, cell.max_score, cell.name in solution))
    return cells


def grade_submission(
    course_root: Path,
    assignment: str,
    student: str,
    folder: Path,
    expected: list[CellScore],
    releases: dict[str, list[TrustedCell]],
    limits: Limits,
    unsafe_no_sandbox: bool = False,
) -> SubmissionGrade:
    """Execute each notebook of one submission in a sandbox, then score it here; on success write the
    executed notebooks into ``autograded/`` for formgrader and feedback."""
    scores: dict[tuple[str, str], float] = {}
    executed: dict[str, Any] = {}
    isolation: list[str] = []
    with tempfile.TemporaryDirectory(prefix="carpentry-grade-") as tmp:
        submission = Path(tmp) / "submission"
        copy_regular_files(folder, submission)
        for name, cells in releases.items():
            try:
                notebook, where, layers = _execute_notebook(submission, assignment, name, cells, Path(tmp),
                                                            limits, unsafe_no_sandbox)  # fmt: skip
            except ScoringError as error:
                return SubmissionGrade(assignment, student, "failed", f"{name}.ipynb: {error}", expected)
            if notebook is None:
                continue  # not submitted: its cells score 0
            isolation = layers
            executed[name] = notebook
            for cell in cells:
                index = where.get(cell.grade_id)
                if cell.autograded and index is not None:
                    scores[(name, cell.grade_id)] = cell_score(notebook.cells[index], cell.points)
    _write_autograded(course_root, assignment, student, executed)
    cells = [_with_score(cell, scores.get((cell.notebook, cell.grade_id))) for cell in expected]
    return SubmissionGrade(assignment, student, "graded", "", cells, isolation)


def copy_regular_files(source: Path, destination: Path) -> None:
    """Copy a submitted directory, keeping only regular files: links could point anywhere."""
    destination.mkdir(parents=True)
    for path in sorted(source.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        target = destination / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _execute_notebook(
    submission: Path,
    assignment: str,
    name: str,
    cells: list[TrustedCell],
    tmp: Path,
    limits: Limits,
    unsafe: bool,
) -> tuple[Any, dict[str, int], list[str]]:
    """Run one submitted notebook (its test cells restored) in the sandbox: the executed notebook (None
    if it was not submitted), the index of each test cell in it, and the isolation it ran under."""
    path = submission / f"{name}.ipynb"
    if not path.is_file():
        return None, {}, []
    if path.stat().st_size > limits.output_bytes:
        raise ScoringError(f"{path.stat().st_size / 2**20:.0f} MiB: too large to be a submitted notebook")
    try:
        submitted = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ScoringError(f"not a readable notebook ({error})") from None
    sent, where = restore(submitted, cells)
    work = tmp / f"run-{name}"
    work.mkdir()
    stdin, stdout, stderr = work / "notebook.ipynb", work / "executed.json", work / "log.txt"
    stdin.write_text(json.dumps(sent))
    inside = str(work / "home") if unsafe else SANDBOX_HOME
    command = [
        sys.executable, "-m", "carpentry_kit.teaching.execute",
        "--submission", str(submission) if unsafe else SANDBOX_SUBMISSION,
        "--workdir", f"{inside}/{assignment}",
        "--cell-timeout", f"{limits.cell_s:g}",
        "--max-output-chars", str(limits.max_output_chars),
    ]  # fmt: skip
    run = run_sandboxed(command, submission, stdin, stdout, stderr, limits, unsafe)
    result = _read_result(run, stdout, stderr, limits)
    check_executed(sent, result["notebook"])
    import nbformat

    return nbformat.from_dict(result["notebook"]), where, run.isolation


def _read_result(run: SandboxRun, stdout: Path, stderr: Path, limits: Limits) -> dict[str, Any]:
    """The sandbox's answer, or ScoringError saying in one line why there is none."""
    if run.stopped:
        raise ScoringError(run.stopped)
    if run.memory_exhausted and run.returncode != 0:
        raise ScoringError(f"ran out of memory (limit {limits.memory_bytes / 2**30:g} GiB, all processes)")
    if run.returncode == -signal.SIGXFSZ or stdout.stat().st_size >= limits.output_bytes:
        raise ScoringError(f"output flood: more than {limits.output_bytes / 2**20:g} MiB")
    try:
        result = json.loads(stdout.read_text())
        failure = result["failure"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise ScoringError(f"the sandbox gave no result ({_last_line_of(stderr, run.returncode)})") from None
    if failure:
        raise ScoringError(str(failure)[:300])
    return result


def _last_line_of(log: Path, returncode: int) -> str:
    with log.open("rb") as handle:
        handle.seek(max(0, log.stat().st_size - 20_000))
        lines = [line.strip() for line in handle.read().decode(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if EXCEPTION_LINE.match(line)]
    return (errors or lines or [f"exit status {returncode}"])[-1][:300]


def _with_score(cell: CellScore, score: float | None) -> CellScore:
    """The cell with its score (None: never ran, or not submitted, scores 0)."""
    if cell.manual or score is None:
        return cell
    return CellScore(cell.notebook, cell.grade_id, score, cell.max_score, False)


def _write_autograded(course_root: Path, assignment: str, student: str, notebooks: dict[str, Any]) -> None:
    """The executed notebooks, written by this process, into ``autograded/`` for formgrader."""
    import nbformat

    target = course_root / "autograded" / student / assignment
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name, notebook in notebooks.items():
        nbformat.write(notebook, target / f"{name}.ipynb")


def record_grade(db_url: str, grade: SubmissionGrade) -> None:
    """Write one submission's auto scores into the course gradebook (from the trusted parent)."""
    import warnings

    from nbgrader.api import Gradebook

    with Gradebook(db_url, COURSE_ID) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy warns about nbgrader's own session handling
        gb.update_or_create_student(grade.student)
        gb.update_or_create_submission(grade.assignment, grade.student)
        for cell in grade.cells:
            row = gb.find_grade(cell.grade_id, cell.notebook, grade.assignment, grade.student)
            row.auto_score = None if cell.manual else cell.score
            row.needs_manual_grade = cell.manual
        gb.db.commit()


def write_csv(grades: Iterable[SubmissionGrade], path: Path) -> None:
    """One row per submission: scores, maximum scores, whether written answers await manual grading."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(grade.row() for grade in grades)
