"""The six-category rating: scores from what the spec states, a reason per point, advice per gap."""

from __future__ import annotations

import json
import re

import pytest

from carpentry_kit.spec.load import apply_overrides, example_spec_path, load_spec
from carpentry_kit.spec.rating import MAX_SCORE, load_draft, rate_spec

SPARSE = """\
benchmark: {name: sparse}
task: {workload: matmul}
metrics: [{name: latency_s, kind: performance, unit: s, goal: minimize}]
"""
KEYS = ["software", "specification", "dataset", "metrics", "reference_solution", "documentation"]


@pytest.fixture(scope="module")
def rich():
    return rate_spec(load_spec(example_spec_path("digits-mlp")))


@pytest.fixture(scope="module")
def sparse():
    return rate_spec(load_spec(SPARSE))


def test_six_categories_with_reasons_and_advice(rich, sparse):
    for rating in (rich, sparse):
        assert [category.key for category in rating.categories] == KEYS
        assert rating.total == sum(category.score for category in rating.categories)
        for category in rating.categories:
            assert 0 <= category.score <= MAX_SCORE
            assert len(category.reasons) == category.score, category
            assert all(reason for reason in category.reasons)
            if category.score < MAX_SCORE:
                assert category.advice, f"{category.name}: a missing point needs advice"


@pytest.mark.parametrize("key", ["software", "specification", "dataset", "metrics", "documentation"])
def test_rich_spec_scores_higher_than_sparse(rich, sparse, key):
    assert rich.category(key).score > sparse.category(key).score
    assert rich.total > sparse.total


def test_sparse_spec_gets_concrete_advice(sparse):
    advice = " ".join(advice for category in sparse.categories for advice in category.advice)
    for field in ("benchmark.url", "infrastructure.container", "constraints", "datasets", "benchmark.paper"):
        assert f"`{field}" in advice, field


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"infrastructure.container": "docker.io/org/digits:1.0"}, "software"),
        ({"benchmark.cite": ["@misc{digits, title={Digits}}"]}, "documentation"),
    ],
)
def test_following_the_advice_raises_the_score(rich, overrides, key):
    spec = apply_overrides(load_spec(example_spec_path("digits-mlp")), overrides)
    assert rate_spec(spec).category(key).score == rich.category(key).score + 1


def test_metric_descriptions_earn_a_point(sparse):
    spec = apply_overrides(load_spec(SPARSE), {"metrics.0.description": "median wall time of one multiply"})
    assert rate_spec(spec).category("metrics").score == sparse.category("metrics").score + 1


def test_readme_next_to_the_spec_counts_as_documentation(tmp_path, sparse):
    path = tmp_path / "spec.yaml"
    path.write_text(SPARSE)
    assert rate_spec(load_spec(path), spec_path=path).category("documentation").score == 0
    (tmp_path / "README.md").write_text("# sparse\n")
    rating = rate_spec(load_spec(path), spec_path=path)
    assert rating.category("documentation").score == 1
    assert "README.md" in rating.category("documentation").reasons[0]


def test_table_and_dict(rich):
    text = str(rich)
    assert "Software environment" in text and f"{rich.total}/30" in text
    data = json.loads(json.dumps(rich.to_dict()))
    assert data["total"] == rich.total and [c["key"] for c in data["categories"]] == KEYS


# ------------------------------------------------------------------ a learner follows the advice, line by line
LEARNER = """\
benchmark: {name: learner}
task: {workload: mlp-train}
metrics: [{name: test_accuracy, kind: quality, unit: fraction, goal: maximize}]
"""
DIGITS = {
    "name": "digits",
    "source": "builtin:digits",
    "license": "CC-BY-4.0",
    "description": "1,797 8x8 grey-scale images of hand-written digits, 10 classes",
    "splits": {"train": 0.8, "test": 0.2},
    "croissant": "https://example.org/digits/croissant.json",
}


def _named(advice: str, after: str) -> list[str]:
    """The metric names an advice line lists after ``after`` (up to a colon or the end)."""
    return advice.split(after, 1)[1].split(":")[0].replace(" ", "").split(",")


def _described(advice: str, spec) -> dict:
    names = _named(advice, "metric(s) ")
    return {
        f"metrics.{index}.description": f"how {metric.name} is computed"
        for index, metric in enumerate(spec.metrics)
        if metric.name in names
    }


def _references(names: list[str], spec) -> dict:
    known = [reference.model_dump() for reference in spec.results.reference]
    return {"results.reference": known + [{"metric": n, "value": 1.0, "system": "a laptop"} for n in names]}


def _added_metric(advice: str, spec, kind: str, unit: str) -> dict:
    """The metric an advice line suggests (its first example name), added to the spec's metrics."""
    name = re.search(r"\((?:e\.g\. )?(\w+)", advice).group(1)
    metrics = [metric.model_dump(exclude_unset=True) for metric in spec.metrics]
    return {"metrics": [*metrics, {"name": name, "kind": kind, "unit": unit, "goal": "minimize"}]}


# (words of an advice line, the edit a learner makes when following it)
EDITS = [
    ("`benchmark.url:`", lambda a, s: {"benchmark.url": "https://example.org/learner"}),
    (
        "`infrastructure.software.packages:`",
        lambda a, s: {"infrastructure.software.packages": {"torch": ">=2.1"}},
    ),
    ("`benchmark.license:`", lambda a, s: {"benchmark.license": "BSD-3-Clause"}),
    ("`infrastructure.container:`", lambda a, s: {"infrastructure.container": "docker.io/org/learner:1.0"}),
    ("`constraints:`", lambda a, s: {"constraints.time_budget_s": 60}),
    ("`benchmark.summary:`", lambda a, s: {"benchmark.summary": "Time to train an MLP on the digits."}),
    ("`datasets", lambda a, s: {"datasets": [DIGITS]}),
    ("`task.params:`", lambda a, s: {"task.params.hidden": 32}),
    ("`protocol.scenario:`", lambda a, s: {"protocol.scenario": "offline", "protocol.repeats": 5}),
    ("`target:`", lambda a, s: {"metrics.0.target": 0.9}),
    ("`description:` to metric", _described),
    ("kind performance", lambda a, s: _added_metric(a, s, "performance", "s")),
    ("energy metric", lambda a, s: _added_metric(a, s, "energy", "J")),
    ("`results.reference:`", lambda a, s: _references([s.metrics[0].name], s)),
    ("reference values for", lambda a, s: _references(_named(a, "reference values for "), s)),
    (
        "`infrastructure.cpu_cores:`",
        lambda a, s: {"infrastructure.cpu_cores": 1, "infrastructure.memory_gb": 1},
    ),
    ("`benchmark.description:`", lambda a, s: {"benchmark.description": " ".join(["word"] * 30)}),
    ("`benchmark.keywords:`", lambda a, s: {"benchmark.keywords": ["digits", "mlp"]}),
    ("`benchmark.cite:`", lambda a, s: {"benchmark.cite": ["@misc{learner, title={Learner}}"]}),
    ("`benchmark.paper:`", lambda a, s: {"benchmark.paper": "https://arxiv.org/abs/2512.11588"}),
]
LEARNER_ADVICE = [
    (category.key, advice)
    for category in rate_spec(load_spec(LEARNER)).categories
    for advice in category.advice
]


@pytest.mark.parametrize(("key", "advice"), LEARNER_ADVICE, ids=[a[:40] for _, a in LEARNER_ADVICE])
def test_each_advice_line_when_followed_raises_its_category(key, advice):
    edit = next((edit for words, edit in EDITS if words in advice), None)
    assert edit is not None, f"no edit in EDITS follows this advice (add one): {advice}"
    before = load_spec(LEARNER)
    after = apply_overrides(
        before, edit(advice, before)
    )  # raises SpecError if following the advice breaks the spec
    assert rate_spec(after).category(key).score > rate_spec(before).category(key).score, advice


def test_following_all_the_advice_reaches_full_marks():
    spec, rounds = load_spec(LEARNER), 0
    while (rating := rate_spec(spec)).total < rating.maximum and rounds < 40:
        advice = next(advice for category in rating.categories for advice in category.advice)
        spec = apply_overrides(spec, next(edit for words, edit in EDITS if words in advice)(advice, spec))
        rounds += 1
    assert rating.total == rating.maximum, str(rating)


# ------------------------------------------------------------------------------------- drafts
DRAFT = """\
benchmark:
  name: draft
  summary: Forecast tomorrow's temperature from today's.
  measures: [RMSE, Anomaly correlation]
  capabilities: [Medium-range weather prediction]
  models: [ResNet baseline]
  data_links: [{name: ERA5 subset, url: "https://zenodo.org/record/123"}]
results:
  links: [{name: Paper results, url: "https://example.org/paper#table-2"}]
"""


def test_a_draft_is_rated_on_what_it_has_and_says_what_is_missing():
    rating = rate_spec(load_draft(DRAFT))
    assert [item.split(":")[0] for item in rating.missing] == ["task", "metrics"]
    assert "Still missing for `carpentry validate`" in str(rating)
    assert rating.category("metrics").score >= 3  # the metrics named in words count
    assert rating.category("dataset").score >= 3  # data in an indexed repository counts
    assert rating.category("reference_solution").score >= 2  # baselines and published results count
    assert rate_spec(load_spec(SPARSE)).missing == []


def test_rate_accepts_a_draft_and_validate_does_not(tmp_path, capsys):
    from carpentry_kit.cli.main import main

    path = tmp_path / "draft.yaml"
    path.write_text(DRAFT)
    assert main(["rate", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert "Rating of 'draft'" in out and "! task:" in out
    assert main(["validate", str(path)]) == 2
    _, err = capsys.readouterr()
    assert "task" in err and "metrics" in err


def test_a_draft_with_a_wrong_value_is_still_refused(tmp_path, capsys):
    from carpentry_kit.cli.main import main

    path = tmp_path / "draft.yaml"
    path.write_text(DRAFT.replace("name: draft", "name: Draft Name"))
    assert main(["rate", str(path)]) == 2
    _, err = capsys.readouterr()
    assert "benchmark.name" in err and "Traceback" not in err
