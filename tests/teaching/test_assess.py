"""The concept inventory and `carpentry assess`: items map to lesson objectives, the forms are generated,
and a simulated class with known gains comes out with the gains it was given, within their uncertainty."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from carpentry_kit.cli.main import main as carpentry
from carpentry_kit.teaching import assess, curriculum
from carpentry_kit.teaching.inventory import (
    INVENTORY_FILE,
    InventoryError,
    all_objectives,
    form_paths,
    load_inventory,
    stale_forms,
    survey_columns,
)

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = load_inventory(INVENTORY_FILE, ROOT / "lessons")


# --- the inventory -----------------------------------------------------------------------------------
def test_every_item_maps_to_an_objective_that_a_lesson_states():
    stated = {
        f"{int(path.name[:2])}.{n}": text
        for path in curriculum.lesson_paths(ROOT / "lessons")
        for n, text in enumerate(curriculum.lesson_objectives(path), 1)
    }
    assert len(stated) >= 20
    for item in INVENTORY.items:
        objective = INVENTORY.objective(item)
        assert stated.get(objective.id) == objective.text, item.id
        assert item.says.lower() in objective.text.lower() and objective.lesson == item.lesson


def test_inventory_covers_every_objective_with_one_to_three_items():
    counts = {o.id: len(INVENTORY.items_of(o.id)) for o in INVENTORY.objectives}
    lessons = {
        int(p.name[:2]): curriculum.lesson_objectives(p) for p in curriculum.lesson_paths(ROOT / "lessons")
    }
    assert set(counts) == {o.id for o in all_objectives(lessons)}
    assert all(1 <= n <= 3 for n in counts.values()), counts
    assert 20 <= len(INVENTORY.items) <= 5 * len(lessons)  # 1-3 items per objective, 3-5 objectives a lesson


def test_every_wrong_option_names_a_misconception_and_answers_are_spread_over_the_letters():
    letters = [item.answer for item in INVENTORY.items if item.kind == "choice"]
    for item in INVENTORY.items:
        assert item.explain and item.misconceptions, item.id
        if item.kind == "choice":
            assert all(bool(o.misconception) == (o.key != item.answer) for o in item.options), item.id
    shares = [letters.count(letter) / len(letters) for letter in "ABCD"]
    assert max(shares) < 0.35, f"answer letters are predictable: {shares}"
    assert any(item.kind == "number" for item in INVENTORY.items)


def test_an_objective_phrase_that_no_bullet_states_is_a_one_line_error(tmp_path):
    text = INVENTORY_FILE.read_text(encoding="utf-8").replace(
        'says: "warm-up effect"', 'says: "warm-up trick"'
    )
    (tmp_path / "inventory.yml").write_text(text, encoding="utf-8")
    with pytest.raises(
        InventoryError, match=r"q05: objective.says 'warm-up trick' matches no objective"
    ) as error:
        load_inventory(tmp_path / "inventory.yml", ROOT / "lessons")
    assert "\n" not in str(error.value)


def test_a_wrong_option_without_a_misconception_is_refused(tmp_path):
    text = re.sub(
        r', misconception: "A result lives only in memory"', "", INVENTORY_FILE.read_text(encoding="utf-8")
    )
    (tmp_path / "inventory.yml").write_text(text, encoding="utf-8")
    with pytest.raises(InventoryError, match=r"items\[0\]\.options\.\w: name its misconception"):
        load_inventory(tmp_path / "inventory.yml", ROOT / "lessons")


def test_forms_are_generated_from_the_inventory_and_score_full_marks():
    assert stale_forms(ROOT) == [], "run `python -m carpentry_kit.teaching.assess forms`"
    for form, path in form_paths(ROOT).items():
        answers = assess.notebook_answers(path.parent, INVENTORY)
        assert all(INVENTORY.by_id[q].score(a) == 1.0 for q, a in answers.items()), form
        released = ROOT / "exercises" / path.parent.name
        assert set(assess.notebook_answers(released, INVENTORY).values()) == {None}, form


# --- simulated classes with known gains --------------------------------------------------------------
def _simulate(rng, learners: int, pre_p: dict[str, float], post_p: dict[str, float], planted=None):
    """Answer rows: each learner answers each item right with its probability, else a wrong option
    (``planted[item]`` = (misconception answer, share of the wrong post answers that choose it))."""
    rows = []
    for form, probability in (("pre", pre_p), ("post", post_p)):
        for n in range(learners):
            row = {"learner": f"L{n:03d}", "form": form}
            for item in INVENTORY.items:
                row[item.id] = _answer(rng, item, rng.random() < probability[item.id], form, planted or {})
            rows.append(row)
    return rows


def _answer(rng, item, right: bool, form: str, planted: dict) -> str:
    if right:
        return str(item.answer) if item.kind == "choice" else f"{item.answer:g}"
    if form == "post" and item.id in planted and rng.random() < planted[item.id][1]:
        return planted[item.id][0]
    if item.kind == "choice":
        return str(rng.choice([o.key for o in item.options if o.key != item.answer]))
    return "" if rng.random() < 0.5 else f"{item.wrong_values[0][0]:g}"


def _write_rows(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _known_class(seed: int):
    rng = np.random.default_rng(seed)
    pre = {item.id: float(rng.uniform(0.1, 0.6)) for item in INVENTORY.items}
    gain = {item.id: float(rng.uniform(0.1, 0.8)) for item in INVENTORY.items}
    post = {q: pre[q] + gain[q] * (1 - pre[q]) for q in pre}
    return rng, pre, gain, post


def _true_gain(items, pre, post) -> float:
    before, after = np.mean([pre[i.id] for i in items]), np.mean([post[i.id] for i in items])
    return (after - before) / (1 - before)


@pytest.fixture(scope="module")
def class_of_200(tmp_path_factory):
    rng, pre, gain, post = _known_class(seed=16)
    mean_option = next(o.key for o in INVENTORY.by_id["q06"].options if "mean" in (o.misconception or ""))
    rows = _simulate(rng, 200, pre, post, planted={"q06": (mean_option, 0.9)})
    path = _write_rows(tmp_path_factory.mktemp("class") / "answers.csv", rows)
    responses = assess.read_responses_csv(path, INVENTORY)
    return path, pre, gain, post, assess.analyse(responses, INVENTORY, resamples=2000, seed=1)


def test_a_simulated_class_recovers_its_gains_within_their_intervals(class_of_200):
    _, pre, gain, post, analysis = class_of_200
    assert len(analysis.learners) == 200 and analysis.unmatched == {"pre": 0, "post": 0}
    overall = _true_gain(INVENTORY.items, pre, post)
    assert analysis.overall.low <= overall <= analysis.overall.high
    assert analysis.overall.high - analysis.overall.low < 0.1
    covered = [g.low <= gain[g.key] <= g.high for g in analysis.items]
    assert sum(covered) >= 0.85 * len(covered), [
        g.key for g, ok in zip(analysis.items, covered, strict=True) if not ok
    ]
    by_objective = [
        g.low <= _true_gain(INVENTORY.items_of(g.key), pre, post) <= g.high for g in analysis.objectives
    ]
    assert sum(by_objective) >= 0.85 * len(by_objective)
    # the mean of per-learner gains is a different statistic: close to, but not the same as, g of the means
    assert abs(analysis.learner_mean.g - overall) < 0.15 and analysis.learner_mean.n == 200


def test_the_planted_misconception_is_the_one_that_persisted(class_of_200):
    *_, analysis = class_of_200
    top = analysis.persisting[0]
    assert (top.item, top.misconception) == ("q06", "The mean is a robust summary")
    assert top.post > 0.1 * top.answered and top.answered == 200


def test_interval_level_is_honest_over_many_simulated_classes():
    """The 95% intervals of the class gain cover the true gain in about 95% of simulated classes."""
    hits = []
    for seed in range(200):
        rng, pre, _, post = _known_class(seed)
        analysis = assess.analyse(_scored_class(rng, 40, pre, post), INVENTORY, resamples=500, seed=seed)
        hits.append(analysis.overall.low <= _true_gain(INVENTORY.items, pre, post) <= analysis.overall.high)
    assert 0.9 <= np.mean(hits) <= 0.99, np.mean(hits)


def _scored_class(rng, learners: int, pre: dict[str, float], post: dict[str, float]) -> assess.Responses:
    """Scores only (no answers): each learner gets each item right with its probability."""
    asked = [item.id for item in INVENTORY.items]
    forms = {}
    for form, probability in (("pre", pre), ("post", post)):
        right = rng.random((learners, len(asked))) < np.array([probability[q] for q in asked])
        scores = {f"L{n}": dict(zip(asked, map(float, row), strict=True)) for n, row in enumerate(right)}
        forms[form] = assess.FormAnswers(scores, {})
    return assess.Responses("<simulated>", forms, asked)


def test_hakes_gain():
    assert assess.normalised_gain(0.2, 0.6) == pytest.approx(0.5)
    assert assess.normalised_gain(0.5, 0.25) == pytest.approx(-0.5)
    assert math.isnan(assess.normalised_gain(1.0, 1.0))


def test_one_learner_gets_gains_without_an_interval(tmp_path):
    rows = [
        {"learner": "ada", "form": "pre", "q01": "B", "q06": "A"},
        {"learner": "ada", "form": "post", "q01": INVENTORY.by_id["q01"].answer, "q06": "B"},
    ]
    responses = assess.read_responses_csv(_write_rows(tmp_path / "one.csv", rows), INVENTORY)
    analysis = assess.analyse(responses, INVENTORY)
    q01 = next(g for g in analysis.items if g.key == "q01")
    assert (q01.pre, q01.post, q01.g) == (0.0, 1.0, 1.0) and math.isnan(q01.low)
    assert "no interval" in analysis.method and len(analysis.items) == 2  # only the columns asked
    assert "<img" in assess.render_html(analysis, None)


def test_an_item_everyone_knew_before_has_no_gain(tmp_path):
    right = INVENTORY.by_id["q01"].answer
    rows = [{"learner": f"L{n}", "form": form, "q01": right} for n in range(5) for form in ("pre", "post")]
    analysis = assess.analyse(
        assess.read_responses_csv(_write_rows(tmp_path / "a.csv", rows), INVENTORY), INVENTORY
    )
    assert math.isnan(analysis.items[0].g) and "knew it before" in analysis.items[0].note


# --- the command and its bad input -------------------------------------------------------------------
def test_the_command_writes_a_self_contained_html_page_and_json(class_of_200, tmp_path, capsys):
    path, *_ = class_of_200
    survey = _survey(tmp_path)
    page, data = tmp_path / "class.html", tmp_path / "gains.json"
    code = carpentry(
        [
            "assess",
            "--responses",
            str(path),
            "--survey",
            str(survey),
            "--html",
            str(page),
            "--json",
            str(data),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "200 learner(s) answered both forms" in out and "percentile bootstrap" in out
    text = page.read_text()
    assert "data:image/png;base64," in text and not re.search(r"(src|href)=['\"]https?:", text)
    assert "The mean is a robust summary" in text and "What was the most useful thing" in text
    assert json.loads(data.read_text())["learners"] == 200


def _survey(tmp_path: Path) -> Path:
    columns = survey_columns(INVENTORY)
    rows = []
    for n in range(6):
        for form, level in (("pre", 2), ("post", 4)):
            row = dict.fromkeys(columns, "")
            row |= {"learner": f"L{n}", "form": form, "1.1": str(level), "2.2": str(level + (n % 2))}
            if form == "post":
                row["useful"] = "Plot every repeat <always>"
            rows.append(row)
    return _write_rows(tmp_path / "survey.csv", rows)


def test_the_survey_summary_counts_levels_per_form(tmp_path, capsys):
    assert carpentry(["assess", "--survey", str(_survey(tmp_path)), "--html", str(tmp_path / "s.html")]) == 0
    assert "confidence 2.0 → 4.0" in capsys.readouterr().out
    assert "&lt;always&gt;" in (tmp_path / "s.html").read_text()  # learners' text is escaped
    survey = assess.read_survey(_survey(tmp_path), INVENTORY)
    first = next(c for c in survey.confidence if c.objective == "1.1")
    assert first.counts == {"pre": [0, 6, 0, 0, 0], "post": [0, 0, 0, 6, 0]}
    assert first.means == {"pre": 2.0, "post": 4.0}
    assert survey.respondents == {"pre": 6, "post": 6} and len(survey.open_answers["useful"]) == 6


def test_the_survey_template_is_the_header_the_summary_reads(tmp_path, capsys):
    assert carpentry(["assess", "--survey-template", str(tmp_path / "t.csv")]) == 0
    header = (tmp_path / "t.csv").read_text().strip().split(",")
    assert header == survey_columns(INVENTORY) and header[:3] == ["learner", "form", "1.1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("learner,form,q01\nada,before,A\n", r"bad\.csv:2: form: 'before' — write `pre` or `post`"),
        (
            "learner,form,q1\nada,pre,A\n",
            r"bad\.csv:1: column 'q1' is not a question .* did you mean 'q01'\?",
        ),
        ("learner,form,q01\nada,pre,E\n", r"bad\.csv:2: q01: 'E' is not one of the letters A, B, C, D"),
        ("learner,form,q07\nada,pre,forty\n", r"bad\.csv:2: q07: 'forty' is not a number"),
        ("learner,form,q01\nada,pre,A\nada,pre,B\n", r"bad\.csv:3: learner 'ada' has two `pre` rows"),
        ("learner,form,q01\n", r"bad\.csv: no rows"),
        ("learner,form,q01\nada,pre,A\n", r"no learner answered both forms"),
    ],
)
def test_bad_answers_are_one_line_errors(tmp_path, capsys, text, message):
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    assert carpentry(["assess", "--responses", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert re.search(message, err) and "\n" not in err and "Traceback" not in err


def test_a_bad_likert_value_and_a_missing_gradebook_are_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "survey.csv"
    bad.write_text("learner,form,1.1\nada,pre,7\n")
    assert carpentry(["assess", "--survey", str(bad)]) == 2
    assert "survey.csv:2: 1.1: '7' — rate from 1 to 5" in capsys.readouterr().err
    assert carpentry(["assess", "--gradebook", str(tmp_path / "none.db")]) == 2
    assert "no such gradebook" in capsys.readouterr().err


# --- the nbgrader gradebook ----------------------------------------------------------------------------
def test_gains_from_the_gradebook_equal_gains_from_the_same_answers_as_csv(tmp_path):
    from carpentry_kit.teaching.grading import CellScore, SubmissionGrade, record_grade

    rng, pre, _, post = _known_class(seed=3)
    rows = _simulate(rng, 12, pre, post)
    url = "sqlite:///" + str(tmp_path / "gradebook.db")
    _register_forms(url)
    for row in rows:
        name = f"assessment-{row['form']}"
        cells = [
            CellScore(name, f"test-{item.id}", item.score(row[item.id]), 1.0, False)
            for item in INVENTORY.items
        ]
        record_grade(url, SubmissionGrade(name, row["learner"], "graded", cells=cells))
        _write_autograded(tmp_path, name, row)
    from_gradebook = assess.analyse(assess.read_gradebook(tmp_path / "gradebook.db", INVENTORY), INVENTORY)
    from_csv = assess.analyse(
        assess.read_responses_csv(_write_rows(tmp_path / "same.csv", rows), INVENTORY), INVENTORY
    )
    assert from_gradebook.items == from_csv.items and from_gradebook.overall == from_csv.overall
    assert from_gradebook.persisting == from_csv.persisting and from_gradebook.notes == []
    _collect_without_grading(url, "zed")  # collected, not yet autograded: left out, and said so
    again = assess.analyse(assess.read_gradebook(tmp_path / "gradebook.db", INVENTORY), INVENTORY)
    assert again.learners == from_csv.learners
    assert "pre: 1 submission(s) not autograded yet — run `carpentry grade assessment-pre`" in again.notes


def _collect_without_grading(url: str, learner: str) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(url, "carpentry-kit") as gb:
        gb.update_or_create_student(learner)
        for form in ("pre", "post"):
            gb.add_submission(f"assessment-{form}", learner)


def _register_forms(url: str) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(url, "carpentry-kit") as gb:
        for form in ("pre", "post"):
            name = f"assessment-{form}"
            gb.update_or_create_assignment(name)
            gb.update_or_create_notebook(name, name)
            for item in INVENTORY.items:
                gb.update_or_create_grade_cell(f"test-{item.id}", name, name, max_score=1, cell_type="code")


def _write_autograded(course: Path, name: str, row: dict) -> None:
    """The learner's notebook as nbgrader leaves it in autograded/: the form with their answers written in."""
    notebook = json.loads((ROOT / "exercises" / name / f"{name}.ipynb").read_text())
    for cell in notebook["cells"]:
        qid = cell["metadata"].get("nbgrader", {}).get("grade_id", "").removeprefix("answer-")
        if qid in INVENTORY.by_id:
            answer = row[qid]
            value = (
                "None" if not answer else (repr(answer) if INVENTORY.by_id[qid].kind == "choice" else answer)
            )
            cell["source"] = f"answer_{qid} = {value}\n"
    folder = course / "autograded" / row["learner"] / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.ipynb").write_text(json.dumps(notebook))


def test_gradebook_without_the_forms_says_how_to_add_them(tmp_path, capsys):
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(tmp_path / "gradebook.db"), "carpentry-kit"):
        pass
    assert carpentry(["assess", "--gradebook", str(tmp_path / "gradebook.db")]) == 2
    assert "no assignment 'assessment-pre'" in capsys.readouterr().err


def test_half_day_restricts_to_lessons_one_to_four(class_of_200, tmp_path, capsys):
    half = INVENTORY.for_lessons(assess.parse_lessons("1-4"))
    assert {item.lesson for item in half.items} == {1, 2, 3, 4} and len(half.items) == 17
    assert all(o.lesson <= 4 for o in half.objectives)
    path, *_ = class_of_200  # answers to every question: the other lessons' columns are ignored
    assert (
        carpentry(
            ["assess", "--responses", str(path), "--lessons", "1-4", "--json", str(tmp_path / "g.json")]
        )
        == 0
    )
    gains = json.loads((tmp_path / "g.json").read_text())
    assert len(gains["items"]) == 17 and gains["objectives"][-1]["key"] == "4.4"
    assert carpentry(["assess", "--responses", str(path), "--lessons", "one"]) == 2
    assert "--lessons 'one': write a range like 1-4" in capsys.readouterr().err


# --- end to end: nbgrader autogrades real submissions of the forms -----------------------------------
@pytest.mark.slow
def test_carpentry_assess_reads_what_carpentry_grade_wrote(tmp_path, capsys, monkeypatch):
    """Two learners answer the released forms; `carpentry grade` autogrades them (sandboxed nbgrader);
    `carpentry assess --gradebook` finds their scores and, in autograded/, the options they chose."""
    from carpentry_kit.teaching.grading import grade_assignment
    from carpentry_kit.teaching.sandbox import Limits

    # the sandbox binds this checkout's carpentry_kit (PYTHONPATH), so the graded kernel imports its checks

    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    chosen = {  # learner -> form -> answers written into the released notebook (others left untouched)
        "ada": {"pre": {"q06": "B" if INVENTORY.by_id["q06"].answer != "B" else "A"}, "post": {}},
        "bo": {"pre": {}, "post": {}},
    }
    chosen["ada"]["post"] = {"q06": INVENTORY.by_id["q06"].answer, "q13": "0.5", "q01": "None"}
    chosen["bo"]["post"] = {"q06": chosen["ada"]["pre"]["q06"]}
    for form in ("pre", "post"):
        name = f"assessment-{form}"
        shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name)
        for learner, answers in chosen.items():
            folder = course / "submitted" / learner / name
            folder.mkdir(parents=True)
            (folder / f"{name}.ipynb").write_text(json.dumps(_answered(name, answers[form])))
        grades = grade_assignment(course, name, limits=Limits(wall_s=240, cell_s=15))
        assert {g.status for g in grades} == {"graded"}
    capsys.readouterr()
    code = carpentry(
        ["assess", "--gradebook", str(course / "gradebook.db"), "--json", str(tmp_path / "g.json")]
    )
    assert code == 0, capsys.readouterr().err
    gains = {g["key"]: g for g in json.loads((tmp_path / "g.json").read_text())["items"]}
    assert (gains["q06"]["pre"], gains["q06"]["post"]) == (0.0, 0.5)
    assert (gains["q13"]["pre"], gains["q13"]["post"]) == (0.0, 0.5)
    persisting = json.loads((tmp_path / "g.json").read_text())["persisting"]
    mean = INVENTORY.by_id["q06"].misconception(chosen["ada"]["pre"]["q06"])
    assert {"item": "q06", "misconception": mean, "post": 1, "pre": 1, "both": 0, "answered": 2} in persisting


def _answered(name: str, answers: dict[str, str]) -> dict:
    notebook = json.loads((ROOT / "exercises" / name / f"{name}.ipynb").read_text())
    for cell in notebook["cells"]:
        qid = cell["metadata"].get("nbgrader", {}).get("grade_id", "").removeprefix("answer-")
        if qid in answers:
            value = answers[qid]
            literal = value if value == "None" or INVENTORY.by_id[qid].kind == "number" else repr(value)
            cell["source"] = f"answer_{qid} = {literal}\n"
    return notebook


def test_check_choice_accepts_one_letter_and_explains_anything_else():
    from carpentry_kit.checks import check_choice

    assert check_choice("answer_q01", " b ", "ABCD") == "B"
    for bad, says in (
        (None, "you do not know"),
        ("E", "one of the letters A, B, C, D"),
        (2, "one of the letters"),
    ):
        with pytest.raises(AssertionError, match=says):
            check_choice("answer_q01", bad, "ABCD")
