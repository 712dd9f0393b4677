"""Export to, and import from, the MLCommons Science collection entry format."""

from __future__ import annotations

import pytest
import yaml

from carpentry_kit.errors import SpecError
from carpentry_kit.spec.load import apply_overrides, check_spec, example_names, example_spec_path, load_spec
from carpentry_kit.spec.mlcommons import (
    ENTRY_KEYS,
    RATING_KEYS,
    entry_yaml,
    from_mlcommons_entry,
    skeleton_yaml,
    to_mlcommons_entry,
)
from carpentry_kit.spec.model import Spec
from carpentry_kit.spec.rating import rate_spec

RUNNABLE = """\
task:
  workload: mlp-train
metrics:
  - {name: test_accuracy, kind: quality, unit: fraction, goal: maximize, target: 0.9}
"""


# The fields of benchmarks-format.yaml, written out here (not imported) so a renamed key fails a test.
COLLECTION_FIELDS = [
    "date", "version", "last_updated", "expired", "valid", "valid_date", "name", "url", "doi", "domain",
    "focus", "keywords", "summary", "licensing", "task_types", "ai_capability_measured", "metrics", "models",
    "ml_motif", "type", "ml_task", "notes", "contact", "cite", "datasets", "results", "fair", "ratings",
]  # fmt: skip
LIST_FIELDS = [
    "domain", "keywords", "task_types", "ai_capability_measured", "metrics", "models", "ml_motif", "ml_task",
    "cite",
]  # fmt: skip


def _values(data):
    if isinstance(data, dict):
        for value in data.values():
            yield from _values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _values(value)
    else:
        yield data


@pytest.mark.parametrize("name", example_names())
def test_entry_has_every_key_and_no_nulls(name):
    spec = load_spec(example_spec_path(name))
    entry = to_mlcommons_entry(spec)
    assert list(entry) == COLLECTION_FIELDS and tuple(entry) == ENTRY_KEYS
    assert None not in set(_values(entry)) and "" not in set(_values(entry))
    assert entry["url"] != "unknown"
    for field in LIST_FIELDS:
        assert isinstance(entry[field], list) and entry[field], field
    assert set(entry["contact"]) == {"name", "email"}
    assert set(entry["fair"]) == {"reproducible", "benchmark_ready"}
    for section in ("datasets", "results"):
        assert list(entry[section]) == ["links"]
        assert all(set(link) == {"name", "url"} for link in entry[section]["links"])
    rating = rate_spec(spec)
    assert list(entry["ratings"]) == [
        "software", "specification", "dataset", "metrics", "reference_solution", "documentation"
    ]  # fmt: skip
    for key in RATING_KEYS:
        assert set(entry["ratings"][key]) == {"rating", "reason"}
        assert entry["ratings"][key]["rating"] == rating.category(key).score
        assert entry["ratings"][key]["reason"]


def test_entry_yaml_is_a_collection_file_with_two_space_indent():
    text = entry_yaml(to_mlcommons_entry(load_spec(example_spec_path("digits-mlp"))))
    assert text.startswith("- date: ")
    assert "\n  keywords:\n    - mlp\n" in text
    assert "\n  contact:\n    name: " in text
    (entry,) = yaml.safe_load(text)
    assert entry["name"] == "digits-mlp"


def test_arxiv_paper_becomes_a_doi():
    entry = to_mlcommons_entry(load_spec(example_spec_path("digits-mlp")))
    assert entry["doi"] == "10.48550/arXiv.2512.11588"


def test_export_needs_a_url():
    spec = apply_overrides(load_spec(example_spec_path("matmul")), {"benchmark.url": "unknown"})
    with pytest.raises(SpecError, match="benchmark.url"):
        to_mlcommons_entry(spec)


@pytest.mark.parametrize("name", example_names())
def test_round_trip_keeps_the_description(name):
    spec = load_spec(example_spec_path(name))
    (entry,) = yaml.safe_load(entry_yaml(to_mlcommons_entry(spec)))
    skeleton = from_mlcommons_entry(entry)
    assert "task" not in skeleton and "metrics" not in skeleton
    skeleton.update(task=spec.task.model_dump(), metrics=[m.model_dump() for m in spec.metrics])
    back = Spec.model_validate(skeleton).benchmark
    for field in (
        "name",
        "version",
        "summary",
        "domain",
        "ml_motif",
        "task_type",
        "keywords",
        "license",
        "url",
    ):
        assert getattr(back, field) == getattr(spec.benchmark, field), field
    assert back.description == spec.benchmark.description.strip()


def test_skeleton_text_validates_once_task_and_metrics_are_filled():
    entry = to_mlcommons_entry(load_spec(example_spec_path("digits-mlp")))
    text = skeleton_yaml(entry)
    assert "# TODO" in text and text.startswith("# yaml-language-server: $schema=")
    assert {p.field for p in check_spec(text)} == {"task", "metrics"}
    assert check_spec(text + RUNNABLE) == []


def test_import_of_a_sparse_foreign_entry():
    entry = {
        "name": "CloudMask Segmentation",
        "url": "https://github.com/mlcommons/science",
        "domain": ["Climate & Earth Science"],
        "ml_motif": ["Classificaton"],
        "keywords": ["unknown"],
        "licensing": "unknown",
        "datasets": {"links": [{"name": "Sentinel-3 SLSTR", "url": "https://example.org/slstr.h5"}]},
    }
    skeleton = from_mlcommons_entry(entry)
    assert skeleton["benchmark"]["name"] == "cloudmask-segmentation"
    assert skeleton["benchmark"]["ml_motif"] == "Classification"  # closest ontology term
    assert skeleton["benchmark"]["domain"] == "Climate & Earth Science"
    assert "license" not in skeleton["benchmark"] and "keywords" not in skeleton["benchmark"]
    text = skeleton_yaml(entry)
    assert "source: https://example.org/slstr.h5, sha256: TODO" in text
    assert check_spec(text + RUNNABLE) == []


def test_import_rejects_a_non_entry():
    with pytest.raises(ValueError, match="name"):
        from_mlcommons_entry({"url": "x"})
