"""What the workshop taught: normalised learning gains from the pre/post concept inventory, and the survey.

``carpentry assess`` reads the learners' answers to the two forms (``assessment-pre``, ``assessment-post``)
from the nbgrader gradebook (scores per question, answers from the autograded notebooks) or from a CSV
file, and reports for every question, every lesson objective and the whole inventory:

* **Hake's normalised gain** g = (post − pre) / (max − pre): the fraction of what learners did not know
  before that they knew after. The class g is computed from the class's mean scores (Hake 1998, "g of
  the averages"); the mean of the per-learner gains (defined for learners who did not score the maximum
  before) is reported beside it. Only learners who answered both forms count.
* its **uncertainty**: a percentile bootstrap interval over learners (seeded, so the page is
  reproducible). It says how much g would move with another class drawn from the same population; it
  is rough for small classes and there is none for one learner.
* the **misconceptions that persisted**: wrong options chosen in the post-test, with how often the same
  option was chosen before.

The survey (confidence per objective on a 1–5 scale, open questions) is summarised beside it. The page
written with ``--html`` is self-contained (the figure is embedded as a base64 PNG).

Answers CSV: columns ``learner``, ``form`` (``pre`` or ``post``) and one column per question id (``q01`` …);
a letter or a number, empty for *don't know*. A question whose column is absent was not asked.
"""

from __future__ import annotations

import argparse
import ast
import base64
import csv
import html
import io
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from carpentry_kit.errors import UsageError, close_match
from carpentry_kit.teaching.inventory import (
    ASSIGNMENT,
    FORMS,
    INVENTORY_FILE,
    LIKERT,
    OPEN_QUESTIONS,
    Inventory,
    load_inventory,
    stale_forms,
    survey_columns,
    write_forms,
)

RESAMPLES = 2000
CONFIDENCE = 0.95
SMALL_CLASS = 10  # below this many learners, bootstrap intervals are rough (and tend to be too narrow)


class AssessError(UsageError):
    """Bad assessment input: one line naming the file (and line, column) and how to fix it."""


# ------------------------------------------------------------------------------------------ responses
@dataclass
class FormAnswers:
    """One form's results: per learner, per question, the score (0–1) and the answer given (or None)."""

    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Responses:
    """Both forms' results, the questions that were asked, and where they came from."""

    source: str
    forms: dict[str, FormAnswers]
    asked: list[str]  # question ids, in inventory order
    notes: list[str] = field(default_factory=list)


def read_responses_csv(path: str | Path, inventory: Inventory, full: Inventory | None = None) -> Responses:
    """Answers from a CSV file (``learner``, ``form``, one column per question); scored with the key.
    Columns of questions in ``full`` but not in ``inventory`` (other lessons) are ignored."""
    path = Path(path)
    rows, header = _read_csv(path)
    asked = _answer_columns(path, header, full or inventory)
    asked = [qid for qid in asked if qid in inventory.by_id]
    if not asked:
        raise AssessError(f"{path}:1: no column for the questions of these lessons ({_id_range(inventory)})")
    forms = {form: FormAnswers() for form in FORMS}
    for line, row in rows:
        learner, form = _learner_and_form(path, line, row)
        target = forms[form]
        if learner in target.answers:
            raise AssessError(f"{path}:{line}: learner '{learner}' has two `{form}` rows — keep one")
        answers = {qid: (row.get(qid) or "").strip() or None for qid in asked}
        for qid, answer in answers.items():
            if answer is not None and inventory.by_id[qid].normalise(answer) is None:
                raise AssessError(f"{path}:{line}: {qid}: '{answer}' is not {_answer_form(inventory, qid)}")
        target.answers[learner] = answers
        target.scores[learner] = {qid: inventory.by_id[qid].score(answers[qid]) for qid in asked}
    return Responses(str(path), forms, asked)


def _read_csv(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            reader.fieldnames = header
            rows = [(reader.line_num, row) for row in reader if any((v or "").strip() for v in row.values())]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise AssessError(f"{path}: cannot read it as CSV ({error})") from None
    if not header or not rows:
        raise AssessError(f"{path}: no rows — expected a header line and one row per learner and form")
    return rows, header


def _answer_columns(path: Path, header: list[str], inventory: Inventory) -> list[str]:
    for column in ("learner", "form"):
        if column not in header:
            raise AssessError(f"{path}:1: no `{column}` column — the header needs learner, form, q01, q02, …")
    unknown = [name for name in header if name not in ("learner", "form") and name not in inventory.by_id]
    if unknown:
        close = _padded_id(unknown[0], inventory) or close_match(unknown[0], inventory.by_id)
        hint = f"did you mean '{close}'?" if close else f"question ids are {_id_range(inventory)}"
        raise AssessError(f"{path}:1: column '{unknown[0]}' is not a question of the inventory — {hint}")
    asked = [item.id for item in inventory.items if item.id in header]
    if not asked:
        raise AssessError(f"{path}:1: no question columns — add columns named {_id_range(inventory)}")
    return asked


def _padded_id(name: str, inventory: Inventory) -> str | None:
    """``q1`` or ``Q01`` -> ``q01`` when that is a question id."""
    match = re.fullmatch(r"[qQ]0*(\d+)", name.strip())
    padded = f"q{int(match[1]):02d}" if match else None
    return padded if padded in inventory.by_id else None


def _id_range(inventory: Inventory) -> str:
    return f"{inventory.items[0].id} … {inventory.items[-1].id}"


def _learner_and_form(path: Path, line: int, row: dict[str, str]) -> tuple[str, str]:
    learner, form = (row.get("learner") or "").strip(), (row.get("form") or "").strip().lower()
    if not learner:
        raise AssessError(f"{path}:{line}: learner: empty — give every row a learner id (any pseudonym)")
    if form not in FORMS:
        raise AssessError(f"{path}:{line}: form: '{row.get('form')}' — write `pre` or `post`")
    return learner, form


def _answer_form(inventory: Inventory, qid: str) -> str:
    item = inventory.by_id[qid]
    if item.kind == "choice":
        return "one of the letters " + ", ".join(o.key for o in item.options) + " (or empty for don't know)"
    return "a number (or empty for don't know)"


def read_gradebook(
    gradebook: str | Path, inventory: Inventory, course: str | Path | None = None
) -> Responses:
    """Scores from an nbgrader gradebook (a SQLite file or an SQLAlchemy URL) and, where the autograded
    notebooks are in ``course/autograded/``, the answers behind them."""
    from nbgrader.api import Gradebook, MissingEntry

    from carpentry_kit.teaching.grading import COURSE_ID

    url, course_root = _gradebook_url(gradebook, course)
    forms, notes = {form: FormAnswers() for form in FORMS}, []
    with Gradebook(url, COURSE_ID) as gb:
        for form in FORMS:
            name = ASSIGNMENT.format(form=form)
            try:
                gb.find_assignment(name)
            except MissingEntry:
                raise AssessError(
                    f"{gradebook}: no assignment '{name}' — run `carpentry grade --generate`, collect the "
                    f"submissions and `carpentry grade {name}`"
                ) from None
            ungraded = _read_submissions(gb, name, inventory, forms[form], course_root)
            if ungraded:
                notes.append(
                    f"{form}: {ungraded} submission(s) not autograded yet — run `carpentry grade {name}`"
                )
    for form, answers in forms.items():
        missing = [learner for learner in answers.scores if learner not in answers.answers]
        if missing:
            notes.append(
                f"{form}: no autograded notebook for {len(missing)} learner(s) under {course_root}/autograded; "
                "their wrong answers are not in the misconceptions table"
            )
    asked = [item.id for item in inventory.items]
    return Responses(str(gradebook), forms, asked, notes)


def _gradebook_url(gradebook: str | Path, course: str | Path | None) -> tuple[str, Path]:
    text = str(gradebook)
    if "://" in text:
        return text, Path(course or ".")
    path = Path(text)
    if not path.is_file():
        raise AssessError(
            f"{path}: no such gradebook — pass the course's gradebook.db (or an SQLAlchemy URL)"
        )
    return "sqlite:///" + str(path.resolve()), Path(course) if course else path.resolve().parent


def _read_submissions(gb: Any, name: str, inventory: Inventory, target: FormAnswers, course: Path) -> int:
    """Read the graded submissions of one form into ``target``; returns how many were not graded yet."""
    ungraded = 0
    for submission in gb.assignment_submissions(name):
        learner = submission.student.id
        grades = [
            grade
            for notebook in submission.notebooks
            for grade in notebook.grades
            if grade.name.removeprefix("test-") in inventory.by_id and grade.max_score
        ]
        if not any(grade.auto_score is not None or grade.manual_score is not None for grade in grades):
            ungraded += bool(grades)
            continue
        scores = {g.name.removeprefix("test-"): float(g.score or 0.0) / float(g.max_score) for g in grades}
        if scores:
            target.scores[learner] = {qid: scores.get(qid, 0.0) for qid in inventory.by_id}
            answers = notebook_answers(course / "autograded" / learner / name, inventory)
            if answers is not None:
                target.answers[learner] = answers
    return ungraded


def notebook_answers(folder: Path, inventory: Inventory) -> dict[str, Any] | None:
    """The answers written in a learner's form notebook(s) in ``folder`` (None when there are none)."""
    notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if not notebooks:
        return None
    answers: dict[str, Any] = {qid: None for qid in inventory.by_id}
    for notebook in notebooks:
        try:
            cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for cell in cells:
            qid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").removeprefix("answer-")
            if qid in inventory.by_id:
                answers[qid] = _assigned_value(_source(cell), inventory.by_id[qid].variable)
    return answers


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _assigned_value(source: str, variable: str) -> Any:
    """The last constant assigned to ``variable`` in a cell's code (None if none can be read)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    value = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == variable for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                value = None
    return value


# -------------------------------------------------------------------------------------------- gains
@dataclass(frozen=True)
class Gain:
    """A normalised gain with its bootstrap interval (NaN where undefined or unavailable)."""

    key: str
    label: str
    n: int
    pre: float  # class mean score before, 0–1
    post: float
    g: float
    low: float
    high: float
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Persisting:
    """A misconception seen in the post-test: how many matched learners chose it after and before."""

    item: str
    misconception: str
    post: int
    pre: int
    both: int  # chose it both times
    answered: int  # matched learners whose post answer is known


@dataclass
class Analysis:
    """Everything ``carpentry assess`` reports about the inventory."""

    learners: list[str]  # matched: answered both forms
    unmatched: dict[str, int]  # form -> learners who answered only that form
    items: list[Gain]
    objectives: list[Gain]
    overall: Gain
    learner_mean: Gain  # mean of per-learner gains
    persisting: list[Persisting]
    method: str
    notes: list[str] = field(default_factory=list)


def normalised_gain(pre: float, post: float, maximum: float = 1.0) -> float:
    """Hake's g = (post − pre) / (max − pre); NaN when pre is already the maximum."""
    return (post - pre) / (maximum - pre) if maximum - pre > 1e-12 else math.nan


def analyse(
    responses: Responses,
    inventory: Inventory,
    resamples: int = RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> Analysis:
    """Gains per question, per objective and overall, with bootstrap intervals over matched learners."""
    pre, post = responses.forms["pre"], responses.forms["post"]
    learners = sorted(set(pre.scores) & set(post.scores))
    if not learners:
        raise AssessError(
            f"{responses.source}: no learner answered both forms — match the learner ids of the pre and post rows"
        )
    unmatched = {form: len(set(answers.scores) - set(learners)) for form, answers in responses.forms.items()}
    asked = responses.asked
    before = np.array([[pre.scores[who][q] for q in asked] for who in learners])
    after = np.array([[post.scores[who][q] for q in asked] for who in learners])
    groups = _groups(inventory, asked)
    weights = _bootstrap_weights(len(learners), resamples, seed)
    gains = [
        _group_gain(key, label, before[:, cols], after[:, cols], weights, confidence)
        for key, label, cols in groups
    ]
    items, objectives, overall = gains[: len(asked)], gains[len(asked) : -1], gains[-1]
    learner_mean = _learner_mean_gain(before.mean(axis=1), after.mean(axis=1), weights, confidence)
    return Analysis(
        learners,
        unmatched,
        items,
        objectives,
        overall,
        learner_mean,
        _persisting(responses, inventory, learners),
        _method(len(learners), resamples, seed, confidence),
        list(responses.notes),
    )


def _groups(inventory: Inventory, asked: list[str]) -> list[tuple[str, str, list[int]]]:
    """(key, label, columns) of every question, every objective with a question asked, and all questions."""
    column = {qid: n for n, qid in enumerate(asked)}
    groups = [(qid, inventory.by_id[qid].stem, [column[qid]]) for qid in asked]
    for objective in inventory.objectives:
        cols = [column[i.id] for i in inventory.items_of(objective.id) if i.id in column]
        if cols:
            groups.append((objective.id, objective.text, cols))
    groups.append(("all", f"all {len(asked)} questions", list(range(len(asked)))))
    return groups


def _bootstrap_weights(n: int, resamples: int, seed: int) -> np.ndarray | None:
    """How often each learner is drawn in each resample (resamples × n), or None for one learner."""
    if n < 2 or resamples < 1:
        return None
    return np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(float)


def _group_gain(
    key: str, label: str, before: np.ndarray, after: np.ndarray, weights: np.ndarray | None, confidence: float
) -> Gain:
    pre_i, post_i = before.mean(axis=1), after.mean(axis=1)  # each learner's score on the group
    pre, post = float(pre_i.mean()), float(post_i.mean())
    g = normalised_gain(pre, post)
    note = "everyone knew it before: no gain can be computed" if math.isnan(g) else ""
    if weights is None:
        return Gain(
            key, label, len(pre_i), pre, post, g, math.nan, math.nan, note or "one learner: no interval"
        )
    n = len(pre_i)
    boot_pre, boot_post = weights @ pre_i / n, weights @ post_i / n
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = np.where(1 - boot_pre > 1e-12, (boot_post - boot_pre) / (1 - boot_pre), np.nan)
    low, high, dropped = _interval(boot, confidence)
    if dropped and not note:
        note = f"{dropped:.0%} of resamples had everyone right before (no g); the interval uses the rest"
    return Gain(key, label, n, pre, post, g, low, high, note)


def _interval(estimates: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Percentile interval of the finite estimates, and the fraction of resamples left out."""
    finite = estimates[np.isfinite(estimates)]
    dropped = 1 - finite.size / estimates.size
    if finite.size < 0.5 * estimates.size:
        return math.nan, math.nan, dropped
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high), dropped


def _learner_mean_gain(
    pre_i: np.ndarray, post_i: np.ndarray, weights: np.ndarray | None, confidence: float
) -> Gain:
    defined = pre_i < 1 - 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        g_i = np.where(defined, (post_i - pre_i) / (1 - pre_i), 0.0)
    count = int(defined.sum())
    label = f"mean of per-learner gains ({count} of {len(pre_i)} learners below the maximum before)"
    g = float(g_i[defined].mean()) if count else math.nan
    pre, post = float(pre_i.mean()), float(post_i.mean())
    if weights is None or not count:
        note = "one learner: no interval" if weights is None else "every learner had the maximum before"
        return Gain("learners", label, count, pre, post, g, math.nan, math.nan, note)
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = (weights @ g_i) / (weights @ defined.astype(float))
    low, high, _ = _interval(boot, confidence)
    return Gain("learners", label, count, pre, post, g, low, high)


def _persisting(responses: Responses, inventory: Inventory, learners: list[str]) -> list[Persisting]:
    pre, post = responses.forms["pre"].answers, responses.forms["post"].answers
    found = []
    for qid in responses.asked:
        item = inventory.by_id[qid]
        known = [who for who in learners if who in post]
        after = {who: item.misconception(post[who].get(qid)) for who in known}
        before = {who: item.misconception(pre[who].get(qid)) for who in known if who in pre}
        for label in item.misconceptions:
            chose = {who for who, m in after.items() if m == label}
            if chose:
                earlier = {who for who, m in before.items() if m == label}
                found.append(
                    Persisting(qid, label, len(chose), len(earlier), len(chose & earlier), len(known))
                )
    return sorted(found, key=lambda p: (-p.post / max(p.answered, 1), p.item))


def _method(n: int, resamples: int, seed: int, confidence: float) -> str:
    if n < 2:
        return (
            "One learner answered both forms: the gains are that learner's, and no interval is given "
            "(an interval over learners needs at least two)."
        )
    text = (
        f"Intervals: {confidence:.0%} percentile bootstrap over the {n} learners who answered both forms "
        f"({resamples} resamples, seed {seed}). They show how much the gains would vary with another class "
        "from the same population; they do not cover the choice of questions."
    )
    if n < SMALL_CLASS:
        text += f" With fewer than {SMALL_CLASS} learners they are rough and usually too narrow."
    return text


# ------------------------------------------------------------------------------------------- survey
@dataclass(frozen=True)
class Confidence:
    """The survey's confidence ratings of one objective: counts per level (1–5) and means per form."""

    objective: str
    label: str
    counts: dict[str, list[int]]  # form -> count of each level 1..5
    means: dict[str, float]


@dataclass
class Survey:
    """The survey summary: confidence per objective and the open answers."""

    respondents: dict[str, int]
    confidence: list[Confidence]
    open_answers: dict[str, list[str]]  # question key -> answers


def read_survey(path: str | Path, inventory: Inventory, full: Inventory | None = None) -> Survey:
    """Summarise a survey answers CSV (the header ``survey_columns`` gives); columns of objectives in
    ``full`` but not in ``inventory`` (other lessons) are ignored."""
    path = Path(path)
    rows, header = _read_csv(path)
    known = survey_columns(full or inventory)
    for column in ("learner", "form"):
        if column not in header:
            raise AssessError(f"{path}:1: no `{column}` column — use the header of the survey template")
    unknown = [name for name in header if name not in known]
    if unknown:
        close = close_match(unknown[0], known)
        hint = (
            f"did you mean '{close}'?"
            if close
            else "use the header of the survey template (`carpentry assess --survey-template FILE`)"
        )
        raise AssessError(f"{path}:1: column '{unknown[0]}' is not a survey column — {hint}")
    ratings = {o.id: {form: [] for form in FORMS} for o in inventory.objectives if o.id in header}
    answers: dict[str, list[str]] = {key: [] for key in OPEN_QUESTIONS if key in header}
    respondents = {form: 0 for form in FORMS}
    for line, row in rows:
        _, form = _learner_and_form(path, line, row)
        respondents[form] += 1
        for objective, by_form in ratings.items():
            level = _likert(path, line, objective, row.get(objective))
            if level is not None:
                by_form[form].append(level)
        for key in answers:
            text = " ".join((row.get(key) or "").split())
            if text:
                answers[key].append(text)
    labels = {o.id: o.text for o in inventory.objectives}
    confidence = [
        Confidence(
            objective,
            labels[objective],
            {form: [levels.count(level) for level in LIKERT] for form, levels in by_form.items()},
            {form: float(np.mean(levels)) if levels else math.nan for form, levels in by_form.items()},
        )
        for objective, by_form in ratings.items()
    ]
    return Survey(respondents, confidence, answers)


def _likert(path: Path, line: int, column: str, value: str | None) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if text not in {str(level) for level in LIKERT}:
        raise AssessError(f"{path}:{line}: {column}: '{text}' — rate from 1 to 5, or leave it empty")
    return int(text)


def write_survey_template(path: str | Path, inventory: Inventory) -> Path:
    """An empty survey answers CSV: the header only."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(survey_columns(inventory))
    return path


# ---------------------------------------------------------------------------------------------- text
def _pct(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0%}"


def _g(gain: Gain) -> str:
    if math.isnan(gain.g):
        return "undefined"
    interval = "" if math.isnan(gain.low) else f" [{gain.low:.2f}, {gain.high:.2f}]"
    return f"{gain.g:.2f}{interval}"


def summary_text(analysis: Analysis | None, survey: Survey | None = None) -> str:
    """What the terminal shows: the overall gain, the objectives, the top persisting misconceptions."""
    lines = []
    if analysis:
        a = analysis
        lines.append(
            f"{len(a.learners)} learner(s) answered both forms"
            + "".join(f"; {n} only the {form} form" for form, n in a.unmatched.items() if n)
        )
        lines.append(
            f"all questions: {_pct(a.overall.pre)} → {_pct(a.overall.post)} correct, g = {_g(a.overall)}"
        )
        lines.append(f"{a.learner_mean.label}: {_g(a.learner_mean)}")
        lines.append(a.method)
        lines += ["", "per objective (pre → post correct, g [interval]):"]
        lines += [
            f"  {o.key:>5}  {_pct(o.pre):>4} → {_pct(o.post):>4}  g = {_g(o)}  {o.label[:70]}"
            for o in a.objectives
        ]
        if a.persisting:
            lines += ["", "misconceptions still held after the workshop (post; pre):"]
            lines += [
                f"  {p.item}: {p.misconception} — {p.post} of {p.answered} ({p.pre} before)"
                for p in a.persisting[:10]
            ]
        lines += [f"note: {note}" for note in a.notes]
    if survey:
        lines += ["", "survey: " + ", ".join(f"{n} {form}" for form, n in survey.respondents.items())]
        lines += [
            f"  {c.objective:>5}  confidence {_mean(c.means['pre'])} → {_mean(c.means['post'])}  {c.label[:70]}"
            for c in survey.confidence
        ]
    return "\n".join(lines)


def _mean(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1f}"


# ---------------------------------------------------------------------------------------------- plot
def plot_assessment(analysis: Analysis | None, survey: Survey | None = None) -> Any:
    """The figure: correct answers before/after per question, g per objective, confidence per objective."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p for p in (analysis and "items", analysis and "gains", survey and "survey") if p]
    rows = max(len(analysis.items) if analysis else 0, len(survey.confidence) if survey else 0, 4)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 1.2 + 0.26 * rows), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        if panel == "items":
            _draw_items(ax, analysis)
        elif panel == "gains":
            _draw_gains(ax, analysis)
        else:
            _draw_survey(ax, survey)
    fig.tight_layout()
    return fig


def _dumbbell(ax: Any, labels: list[str], before: list[float], after: list[float], xlabel: str) -> None:
    y = np.arange(len(labels))[::-1]
    ax.hlines(y, before, after, color="0.7", zorder=1)
    ax.scatter(before, y, color="white", edgecolor="tab:blue", label="before (pre)", zorder=2)
    ax.scatter(after, y, color="tab:blue", label="after (post)", zorder=3)
    ax.set_yticks(y, labels)
    ax.set_ylim(-1.6, len(labels) - 0.4)  # room for the legend below the last row
    ax.set_xlabel(xlabel)
    ax.legend(loc="lower center", ncol=2, fontsize="small")


def _draw_items(ax: Any, analysis: Analysis) -> None:
    _dumbbell(
        ax,
        [g.key for g in analysis.items],
        [g.pre * 100 for g in analysis.items],
        [g.post * 100 for g in analysis.items],
        "learners answering correctly (%)",
    )
    ax.set_xlim(-3, 103)
    ax.set_title(f"Each question ({len(analysis.learners)} learners)")


def _draw_gains(ax: Any, analysis: Analysis) -> None:
    gains = [*analysis.objectives, analysis.overall]
    y = np.arange(len(gains))[::-1]
    g = np.array([x.g for x in gains])
    low = np.array([x.g - x.low if not math.isnan(x.low) else 0 for x in gains])
    high = np.array([x.high - x.g if not math.isnan(x.high) else 0 for x in gains])
    colors = ["tab:green"] * (len(gains) - 1) + ["black"]
    ax.errorbar(g, y, xerr=[low, high], fmt="none", ecolor="0.5", capsize=2)
    ax.scatter(g, y, c=colors, zorder=3)
    ax.axvline(0, color="0.8", lw=1)
    ax.set_yticks(y, [x.key for x in gains])
    ax.set_xlabel("normalised gain g = (post − pre) / (1 − pre)")
    level = "" if len(analysis.learners) < 2 else " with bootstrap intervals"
    ax.set_title(f"Gain per objective{level}")


def _draw_survey(ax: Any, survey: Survey) -> None:
    _dumbbell(
        ax,
        [c.objective for c in survey.confidence],
        [c.means["pre"] for c in survey.confidence],
        [c.means["post"] for c in survey.confidence],
        "mean confidence (1 = could not do it, 5 = could explain it)",
    )
    ax.set_xlim(0.8, 5.2)
    ax.set_title("Confidence per objective (survey)")


def figure_png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- html
_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "vertical-align:top}th{background:#f3f3f3}td.n{text-align:right;white-space:nowrap}"
    "img{max-width:100%}.note{color:#555;font-size:.95em}"
)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td class='n'>{c}</td>" if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(
    analysis: Analysis | None, survey: Survey | None, title: str = "What the workshop taught"
) -> str:
    """The shareable page: method, figure, gains per objective and question, misconceptions, survey."""
    body = [f"<h1>{_e(title)}</h1>"]
    if analysis:
        body += _analysis_sections(analysis)
    image = base64.b64encode(figure_png(plot_assessment(analysis, survey))).decode("ascii")
    body.insert(
        2 if analysis else 1,
        f"<figure><img alt='gains and confidence' src='data:image/png;base64,{image}'></figure>",
    )
    if survey:
        body += _survey_sections(survey, analysis)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _gain_row(gain: Gain) -> list[str]:
    return [_e(gain.key), _e(gain.label), _pct(gain.pre), _pct(gain.post), _e(_g(gain)), _e(gain.note)]


def _analysis_sections(a: Analysis) -> list[str]:
    only = "".join(f"; {n} answered only the {form} form (left out)" for form, n in a.unmatched.items() if n)
    headers = ["", "what", "correct before", "correct after", "g [interval]", "note"]
    sections = [
        f"<p>{len(a.learners)} learner(s) answered both forms{_e(only)}. Overall "
        f"{_pct(a.overall.pre)} → {_pct(a.overall.post)} correct: <b>g = {_e(_g(a.overall))}</b> (from the class "
        f"means; the {_e(a.learner_mean.label)} is {_e(_g(a.learner_mean))}).</p>",
        f"<p class='note'>g = (post − pre) / (max − pre) is the fraction of what was not known before that was "
        f"known after. {_e(a.method)}</p>",
        "<h2>Per objective</h2>",
        _table(headers, [_gain_row(g) for g in [*a.objectives, a.overall]], {2, 3, 4}),
        "<h2>Misconceptions still held after the workshop</h2>",
    ]
    if a.persisting:
        rows = [
            [_e(p.item), _e(p.misconception), f"{p.post} of {p.answered}", str(p.pre), str(p.both)]
            for p in a.persisting
        ]
        sections.append(
            _table(["question", "misconception", "chosen after", "before", "both times"], rows, {2, 3, 4})
        )
    else:
        sections.append("<p>No wrong option was chosen in the post-test.</p>")
    sections += ["<h2>Per question</h2>", _table(headers, [_gain_row(g) for g in a.items], {2, 3, 4})]
    sections += [f"<p class='note'>Note: {_e(note)}</p>" for note in a.notes]
    return sections


def _survey_sections(survey: Survey, analysis: Analysis | None = None) -> list[str]:
    levels = " · ".join(f"{level} = {text}" for level, text in LIKERT.items())
    gains = {g.key: _g(g) for g in analysis.objectives} if analysis else {}
    rows = [
        [
            _e(c.objective),
            _e(c.label),
            _mean(c.means["pre"]),
            _mean(c.means["post"]),
            " / ".join(map(str, c.counts["pre"])),
            " / ".join(map(str, c.counts["post"])),
            _e(gains.get(c.objective, "–")),
        ]
        for c in survey.confidence
    ]
    who = ", ".join(f"{n} {form}" for form, n in survey.respondents.items())
    sections = [
        f"<h2>Survey: confidence per objective</h2><p class='note'>Respondents: {_e(who)}. {_e(levels)}. "
        "Confidence is what learners believe, not what they know: compare it with the inventory's gain "
        "(last column). High confidence with a low gain marks an objective to teach differently.</p>",
        _table(
            [
                "",
                "objective",
                "mean before",
                "mean after",
                "counts 1–5 before",
                "counts 1–5 after",
                "g (inventory)",
            ],
            rows,
            {2, 3, 4, 5, 6},
        ),
    ]
    for key, answers in survey.open_answers.items():
        question = OPEN_QUESTIONS[key][1]
        items = "".join(f"<li>{_e(text)}</li>" for text in answers) or "<li>(no answers)</li>"
        sections.append(f"<h3>{_e(question)}</h3><ul>{items}</ul>")
    return sections


# ---------------------------------------------------------------------------------------- the command
def add_arguments(parser: argparse.ArgumentParser, name: str = "assess") -> None:
    """Arguments of ``carpentry assess``."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--responses", type=Path, metavar="CSV", help="answers CSV: learner, form, q01, q02, …"
    )
    source.add_argument(
        "--gradebook", metavar="DB", help="nbgrader gradebook (gradebook.db or an SQLAlchemy URL)"
    )
    parser.add_argument(
        "--course", type=Path, help="course root holding autograded/ (default: the gradebook's folder)"
    )
    parser.add_argument("--survey", type=Path, metavar="CSV", help="survey answers CSV to summarise")
    parser.add_argument(
        "--lessons", metavar="N-M", help="only these lessons' questions, e.g. 1-4 for a half day"
    )
    parser.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML page")
    parser.add_argument("--plot", type=Path, metavar="FILE", help="write the figure (PNG)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the gains as JSON")
    parser.add_argument(
        "--resamples", type=int, default=RESAMPLES, help=f"bootstrap resamples (default {RESAMPLES})"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--confidence", type=float, default=CONFIDENCE, help="interval level (default 0.95)")
    parser.add_argument("--inventory", type=Path, default=INVENTORY_FILE, help="the concept inventory (YAML)")
    parser.add_argument(
        "--survey-template", type=Path, metavar="FILE", help="write an empty survey answers CSV"
    )


def run_command(args: argparse.Namespace) -> int:
    """Run ``carpentry assess``: 0 done, 2 bad input."""
    try:
        return _assess(args)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2


def _assess(args: argparse.Namespace) -> int:
    full = load_inventory(args.inventory)
    inventory = full.for_lessons(parse_lessons(args.lessons))
    if args.survey_template:
        print(f"wrote {write_survey_template(args.survey_template, inventory)}")
    if not (args.responses or args.gradebook or args.survey):
        if args.survey_template:
            return 0
        raise AssessError("carpentry assess: give --responses CSV, --gradebook DB or --survey CSV")
    _check_options(args)
    analysis = None
    if args.responses or args.gradebook:
        responses = (
            read_responses_csv(args.responses, inventory, full)
            if args.responses
            else read_gradebook(args.gradebook, inventory, args.course)
        )
        analysis = analyse(responses, inventory, args.resamples, args.seed, args.confidence)
    survey = read_survey(args.survey, inventory, full) if args.survey else None
    print(summary_text(analysis, survey))
    _write_outputs(args, analysis, survey)
    return 0


def _check_options(args: argparse.Namespace) -> None:
    if not 0 < args.confidence < 1:
        raise AssessError(f"--confidence {args.confidence}: give a level between 0 and 1, e.g. 0.95")
    if args.resamples < 100:
        raise AssessError(f"--resamples {args.resamples}: use at least 100 (default {RESAMPLES})")
    for path in (args.responses, args.survey):
        if path and not path.is_file():
            raise AssessError(f"{path}: no such file")


def parse_lessons(text: str | None) -> set[int] | None:
    """``"1-4"`` or ``"1,2,5"`` -> the lesson numbers; None -> every lesson."""
    if not text:
        return None
    lessons: set[int] = set()
    try:
        for part in text.split(","):
            low, _, high = part.partition("-")
            lessons |= set(range(int(low), int(high or low) + 1))
    except ValueError:
        raise AssessError(f"--lessons '{text}': write a range like 1-4 or a list like 1,2,5") from None
    return lessons


def _write_outputs(args: argparse.Namespace, analysis: Analysis | None, survey: Survey | None) -> None:
    if args.plot:
        args.plot.write_bytes(figure_png(plot_assessment(analysis, survey)))
        print(f"wrote {args.plot}")
    if args.html:
        args.html.write_text(render_html(analysis, survey), encoding="utf-8")
        print(f"wrote {args.html}")
    if args.json and analysis:
        args.json.write_text(json.dumps(analysis_dict(analysis), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")


def analysis_dict(analysis: Analysis) -> dict[str, Any]:
    """The analysis as plain JSON-ready data."""
    return {
        "learners": len(analysis.learners),
        "unmatched": analysis.unmatched,
        "method": analysis.method,
        "overall": analysis.overall.to_dict(),
        "learner_mean": analysis.learner_mean.to_dict(),
        "objectives": [g.to_dict() for g in analysis.objectives],
        "items": [g.to_dict() for g in analysis.items],
        "persisting": [p.__dict__ for p in analysis.persisting],
        "notes": analysis.notes,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m carpentry_kit.teaching.assess forms [--check]``: (re)write the two form notebooks."""
    parser = argparse.ArgumentParser(prog="python -m carpentry_kit.teaching.assess", description=main.__doc__)
    parser.add_argument("action", choices=["forms"])
    parser.add_argument("--check", action="store_true", help="only report stale forms (exit 1 if any)")
    parser.add_argument("--root", default=".", help="repository root (default: here)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_forms(args.root)
            print(
                "\n".join(
                    f"{p}: out of date — run `python -m carpentry_kit.teaching.assess forms`" for p in stale
                )
                or "forms are up to date"
            )
            return 1 if stale else 0
        for path in write_forms(args.root):
            print(f"wrote {path} — now run `carpentry grade --generate`")
        return 0
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
