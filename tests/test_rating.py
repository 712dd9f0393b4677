"""The six-category rating: scores from what the spec states, a reason per point, advice per gap."""

from __future__ import annotations

import json

import pytest

from carpentry_kit.rating import MAX_SCORE, rate_spec
from carpentry_kit.spec import apply_overrides, example_spec_path, load_spec

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
        ({"datasets.0.croissant": "https://example.org/digits/croissant.json"}, "dataset"),
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
