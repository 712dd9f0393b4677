"""Export to, and import from, the MLCommons Science collection entry format, checked against the
collection's own checker and generators and against real entries of the collection."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys

import jsonschema
import pytest
import yaml
from shared_reference import checker_dir, entries_dir, entry_files

from carpentry_kit.errors import SpecError
from carpentry_kit.spec.load import apply_overrides, check_spec, example_names, example_spec_path, load_spec
from carpentry_kit.spec.mlcommons import (
    ENTRY_KEYS,
    RATING_KEYS,
    entry_yaml,
    from_mlcommons_entry,
    import_entry,
    skeleton_yaml,
    to_mlcommons_entry,
)
from carpentry_kit.spec.model import Spec
from carpentry_kit.spec.rating import load_draft, rate_spec
from carpentry_kit.spec.schema import json_schema

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
    "ml_motif", "type", "ml_task", "solutions", "notes", "contact", "cite", "datasets", "results", "fair",
    "ratings",
]  # fmt: skip
LIST_FIELDS = [
    "domain", "keywords", "task_types", "ai_capability_measured", "metrics", "models", "ml_motif", "ml_task",
    "cite",
]  # fmt: skip
ENTRIES = entry_files()
needs_entries = pytest.mark.skipif(
    not ENTRIES, reason="no shared/reference/mlcommons-entries beside this checkout (../shared)"
)


def _values(data):
    if isinstance(data, dict):
        for value in data.values():
            yield from _values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _values(value)
    else:
        yield data


def _entry(name: str) -> dict:
    return to_mlcommons_entry(load_spec(example_spec_path(name)))


# ---------------------------------------------------------------------------------------------- export
@pytest.mark.parametrize("name", example_names())
def test_entry_has_every_key_with_the_collections_conventions(name):
    spec = load_spec(example_spec_path(name))
    entry = to_mlcommons_entry(spec)
    assert list(entry) == COLLECTION_FIELDS and tuple(entry) == ENTRY_KEYS
    assert None not in set(_values(entry)) and "" not in set(_values(entry))
    assert entry["url"] != "unknown"
    for field in LIST_FIELDS:
        assert isinstance(entry[field], list) and entry[field], field
    assert (entry["expired"], entry["valid"]) == ("false", "yes")
    assert set(entry["fair"].values()) <= {"Yes", "No"}
    assert all(cite.startswith("@") and "unknown" not in cite for cite in entry["cite"])
    assert isinstance(entry["solutions"], str) and entry["solutions"] != "unknown"
    metric_ids = {metric.name for metric in spec.metrics}
    assert not metric_ids & set(entry["ai_capability_measured"]), "capabilities are words, not metric ids"
    for section in ("datasets", "results"):
        links = entry[section]["links"]
        assert links and all(set(link) == {"name", "url"} for link in links)
        assert all(link["url"].startswith("https://") for link in links) or links == [
            {"name": "unknown", "url": "unknown"}
        ]
    rating = rate_spec(spec)
    assert list(entry["ratings"]) == list(RATING_KEYS)
    for key in RATING_KEYS:
        assert entry["ratings"][key]["rating"] == rating.category(key).score
        assert entry["ratings"][key]["reason"]


def test_no_reference_target_is_presented_as_a_result():
    spec = load_spec(example_spec_path("digits-mlp"))
    assert spec.results.reference  # it has a target value, which is not a published result
    assert to_mlcommons_entry(spec)["results"]["links"] == [{"name": "unknown", "url": "unknown"}]
    linked = apply_overrides(
        spec, {"results.links": [{"name": "Run log", "url": "https://example.org/r?x=1#a"}]}
    )
    assert to_mlcommons_entry(linked)["results"]["links"] == [
        {"name": "Run log", "url": "https://example.org/r?x=1#a"}
    ]


def test_builtin_datasets_link_their_public_page():
    (link,) = _entry("digits-mlp")["datasets"]["links"]
    assert link == {
        "name": "digits",
        "url": "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
    }


def test_entry_yaml_is_a_collection_file_with_two_space_indent():
    text = entry_yaml(_entry("digits-mlp"))
    assert text.startswith("- date: ")
    assert "\n  keywords:\n    - mlp\n" in text
    assert "\n  contact:\n    name: " in text
    (entry,) = yaml.safe_load(text)
    assert entry["name"] == "digits-mlp"


def test_arxiv_paper_becomes_a_doi():
    assert _entry("digits-mlp")["doi"] == "10.48550/arXiv.2512.11588"


def test_export_needs_a_url():
    spec = apply_overrides(load_spec(example_spec_path("matmul")), {"benchmark.url": "unknown"})
    with pytest.raises(SpecError, match="benchmark.url"):
        to_mlcommons_entry(spec)


# ------------------------------------------------------------------------- the collection's own checker
CHECKER = checker_dir()
needs_checker = pytest.mark.skipif(
    CHECKER is None, reason="no shared/tools/mlcommons-benchmark-checker beside this checkout (../shared)"
)
MD_COLUMNS = ",".join(
    ["date", "expired", "valid", "name", "url", "domain", "focus", "keywords", "task_types",
     "ai_capability_measured", "metrics", "models", "ml_motif", "notes", "cite"]
    + [f"ratings.{key}.{part}" for key in RATING_KEYS for part in ("rating", "reason")]
)  # fmt: skip


@pytest.fixture(scope="module")
def checker(tmp_path_factory):
    """A writable copy of the collection's checker, with real entries as the reference structure."""
    if CHECKER is None:
        pytest.skip("no shared/tools/mlcommons-benchmark-checker beside this checkout (../shared)")
    for module in ("docopt", "cloudmesh.common", "pybtex", "pylatexenc", "bibtexparser", "selenium"):
        pytest.importorskip(
            module, reason=f"the checker needs {module}: pip install -e '.[mlcommons-checker]'"
        )
    copy = tmp_path_factory.mktemp("checker") / "checker"
    shutil.copytree(CHECKER, copy)
    for path in [copy, *copy.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    reference = [
        entry
        for path in sorted(entries_dir().glob("main-*.yaml"))
        for entry in yaml.safe_load(path.read_text())
    ]
    (copy / "source" / "reference.yaml").write_text(entry_yaml(reference[0]) + yaml.safe_dump(reference[1:]))
    return copy


def _generate(checker, text: str, *options: str) -> str:
    """Run the checker's bin/generate.py on ``text`` (a collection file); its output, rc asserted 0."""
    (checker / "source" / "entry.yaml").write_text(text)
    shutil.rmtree(checker / "content", ignore_errors=True)
    command = [sys.executable, "bin/generate.py", "--files=source/entry.yaml", *options]
    env = os.environ | {"MPLBACKEND": "Agg"}
    done = subprocess.run(command, cwd=checker, capture_output=True, text=True, timeout=300, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-2000:]
    return output


def _structure(checker, text: str) -> str:
    return _generate(checker, text, "--check_structure", "--structure=source/reference.yaml")


def _complaints(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.search(r"\b(ERROR|WARNING|Missing key)\b", line)]


@needs_checker
@pytest.mark.parametrize("name", example_names())
def test_collection_checker_accepts_every_example_export(checker, name):
    output = _structure(checker, entry_yaml(_entry(name)))
    assert "All data entries successfully conform" in output and not _complaints(output), output[-2000:]


@needs_checker
@pytest.mark.parametrize("name", example_names())
def test_collection_generators_render_every_example_export_without_warnings(checker, name):
    text = entry_yaml(_entry(name))
    markdown = _generate(checker, text, "--format=md", "--outdir=content/", f"--columns={MD_COLUMNS}")
    latex = _generate(checker, text, "--format=tex", "--outdir=content/")
    assert not _complaints(markdown) and not _complaints(latex), (markdown + latex)[-2000:]
    assert f"@misc{{{name.replace('-', '')}" in (checker / "content" / "tex" / "benchmarks.bib").read_text()


@needs_checker
def test_the_checker_check_can_fail(checker):
    """The two faults the collection found in earlier exports are caught by the checks above."""
    entry = _entry("matmul")
    without = {key: value for key, value in entry.items() if key != "solutions"}
    assert "Missing key: 'solutions'" in _structure(checker, entry_yaml(without))
    latex = _generate(checker, entry_yaml(entry | {"cite": ["unknown"]}), "--format=tex", "--outdir=content/")
    assert any("malformed citation" in line for line in _complaints(latex))


@needs_checker
@needs_entries
def test_an_imported_entry_completed_and_exported_passes_the_checker(checker):
    (entry,) = yaml.safe_load((entries_dir() / "main-011-gpqa-diamond.yaml").read_text())
    spec = load_spec(skeleton_yaml(entry) + RUNNABLE)
    exported = to_mlcommons_entry(spec)
    for key in ("domain", "task_types", "ai_capability_measured", "metrics", "models", "cite", "fair"):
        assert exported[key] == entry[key], key
    assert exported["doi"] == entry["doi"] and exported["licensing"] == entry["licensing"]
    output = _structure(checker, entry_yaml(exported))
    assert "All data entries successfully conform" in output and not _complaints(output), output[-2000:]


# ---------------------------------------------------------------------------------------------- import
@pytest.mark.parametrize("name", example_names())
def test_round_trip_keeps_the_description(name):
    spec = load_spec(example_spec_path(name))
    (entry,) = yaml.safe_load(entry_yaml(to_mlcommons_entry(spec)))
    skeleton = from_mlcommons_entry(entry)
    assert "task" not in skeleton and "metrics" not in skeleton
    skeleton.update(task=spec.task.model_dump(), metrics=[m.model_dump() for m in spec.metrics])
    back = Spec.model_validate(skeleton).benchmark
    for field in ("name", "version", "summary", "license", "url", "keywords", "type", "contact"):
        assert getattr(back, field) == getattr(spec.benchmark, field), field
    for field in ("domain", "ml_motif", "task_type"):
        assert back.terms(field) == spec.benchmark.terms(field), field
    assert back.description.split() == spec.benchmark.description.split()


def test_skeleton_text_validates_once_task_and_metrics_are_filled():
    text = skeleton_yaml(_entry("digits-mlp"))
    assert "# TODO" in text and text.startswith("# yaml-language-server: $schema=")
    assert {p.field for p in check_spec(text)} == {"task", "metrics"}
    assert check_spec(text + RUNNABLE) == []


def _collapsed(value) -> str:
    return " ".join(str(value).split())


def _comments(text: str) -> str:
    return _collapsed(" ".join(line[1:] for line in text.splitlines() if line.startswith("#")))


@needs_entries
@pytest.mark.parametrize("path", ENTRIES, ids=[path.stem for path in ENTRIES])
def test_every_real_entry_imports_validates_and_loses_nothing(path):
    (entry,) = yaml.safe_load(path.read_text())
    text = skeleton_yaml(entry)
    assert {p.field for p in check_spec(text)} == {"task", "metrics"}, check_spec(text)
    assert check_spec(text + RUNNABLE) == []
    kept = {_collapsed(value) for value in _values(yaml.safe_load(text))}
    kept |= {value.removeprefix("https://doi.org/") for value in kept}  # the doi is kept as the paper's URL
    comments = _comments(text)
    lost = [
        value
        for value in _values(entry)
        if isinstance(value, str) and _collapsed(value) not in ("", "unknown") and _collapsed(value) not in kept
        and _collapsed(value) not in comments
    ]  # fmt: skip
    assert not lost, f"{path.name}: lost {lost}"
    assert load_draft(text).benchmark.terms("domain")  # and `carpentry rate` reads it as a draft
    validator = jsonschema.Draft202012Validator(json_schema())  # editors accept it too
    assert list(validator.iter_errors(yaml.safe_load(text + RUNNABLE))) == []


@needs_entries
def test_every_domain_of_an_entry_is_kept():
    (entry,) = yaml.safe_load((entries_dir() / "main-011-gpqa-diamond.yaml").read_text())
    assert from_mlcommons_entry(entry)["benchmark"]["domain"] == entry["domain"]  # three of them
    validator = jsonschema.Draft202012Validator(json_schema())
    wrong = yaml.safe_load(skeleton_yaml(entry) + RUNNABLE)
    wrong["benchmark"]["domain"] = [*entry["domain"], "Astrology"]
    assert list(validator.iter_errors(wrong))


@needs_entries
def test_import_keeps_the_descriptive_fields():
    (entry,) = yaml.safe_load((entries_dir() / "main-002-climatelearn-weather-forcasting.yaml").read_text())
    data = from_mlcommons_entry(entry)
    bench = data["benchmark"]
    assert bench["measures"] == entry["metrics"] and bench["models"] == entry["models"]
    assert bench["capabilities"] == entry["ai_capability_measured"] and bench["tasks"] == entry["task_types"]
    assert bench["fair"] == entry["fair"] and bench["solutions"] == entry["solutions"]
    assert bench["contact"] == entry["contact"] and bench["cite"] == entry["cite"]
    assert bench["data_links"] == entry["datasets"]["links"]
    assert data["results"]["links"] == entry["results"]["links"]


FOREIGN = {
    "name": "FEA Bench: finite elements?",
    "url": "https://example.org/feabench?tab=readme#top",
    "doi": "doi.org/https://doi.org/10.1234/fea.5",
    "domain": ["Materials Science", "Chemistry"],
    "ml_motif": ["Classificaton", "Real-time"],
    "ml_task": ["Reasoning", "Peak finding", "supervised learning"],
    "licensing": "NA",
    "keywords": ["N/A", "fem"],
    "contact": {"name": "Unknown", "email": "Unknown"},
    "fair": {"reproducible": True, "benchmark_ready": "no"},
    "datasets": {"links": [{"name": "FEA data", "url": "https://example.org/data.h5?version=2#files"},
                           {"name": "empty", "url": ""}]},
    "results": {"links": [{"name": "Leaderboard", "url": "https://example.org/board?sort=desc#2025"}]},
}  # fmt: skip


def test_junk_values_become_unknown_with_a_note():
    imported = import_entry(FOREIGN | {"doi": "https://doi.org/NA"})
    bench = imported.data["benchmark"]
    assert "paper" not in bench and "license" not in bench and "contact" not in bench
    assert bench["keywords"] == ["fem"]
    notes = "\n".join(imported.notes)
    for junk in ("doi: 'https://doi.org/NA'", "licensing: 'NA'", "email: 'Unknown'", "'N/A'", "link 'empty'"):
        assert junk in notes, junk


def test_a_doubled_doi_prefix_is_written_once():
    imported = import_entry(FOREIGN)
    assert imported.data["benchmark"]["paper"] == "https://doi.org/10.1234/fea.5"
    assert any("written as 10.1234/fea.5" in note for note in imported.notes)


def test_ontology_terms_map_only_when_close_and_every_other_term_is_noted():
    imported = import_entry(FOREIGN)
    bench, notes = imported.data["benchmark"], "\n".join(imported.notes)
    assert bench["domain"] == ["Materials Science", "Chemistry"]
    assert bench["ml_motif"] == "Classification" and bench["task_type"] == "Supervised Learning"
    assert "'Classificaton' mapped to the ml_motif 'Classification'" in notes
    assert "'supervised learning' mapped to the task_type 'Supervised Learning'" in notes
    for term in ("Real-time", "Reasoning", "Peak finding"):
        assert f"'{term}' is not a" in notes, term
    text = skeleton_yaml(FOREIGN)
    assert "Training" not in yaml.safe_dump(yaml.safe_load(text)) and "Generative" not in text


def _commented_datasets(text: str) -> str:
    """The skeleton's commented `datasets:` section, uncommented."""
    lines = text.splitlines()
    start = lines.index("# datasets:")
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("#   "):
            break
        block.append(line)
    return "\n".join(line[2:] for line in block)


def test_urls_with_query_and_fragment_survive_the_skeleton():
    text = skeleton_yaml(FOREIGN)
    data = yaml.safe_load(text + RUNNABLE)
    assert data["benchmark"]["url"] == FOREIGN["url"]
    assert data["results"]["links"][0]["url"] == "https://example.org/board?sort=desc#2025"
    assert (
        yaml.safe_load(_commented_datasets(text))["datasets"][0]["source"]
        == FOREIGN["datasets"]["links"][0]["url"]
    )
    assert check_spec(text + RUNNABLE) == []


def test_fair_flags_are_written_as_the_collection_does():
    assert import_entry(FOREIGN).data["benchmark"]["fair"] == {"reproducible": "Yes", "benchmark_ready": "No"}


def test_import_rejects_a_non_entry():
    with pytest.raises(ValueError, match="name"):
        from_mlcommons_entry({"url": "x"})


@needs_entries
def test_the_rating_of_an_import_never_reads_the_entrys_ratings():
    (entry,) = yaml.safe_load(ENTRIES[0].read_text())
    zeroed = entry | {"ratings": {key: {"rating": 0, "reason": "zeroed"} for key in RATING_KEYS}}
    rated = [rate_spec(load_draft(skeleton_yaml(e))).to_dict()["categories"] for e in (entry, zeroed)]
    assert rated[0] == rated[1]
    assert "zeroed" in skeleton_yaml(zeroed)  # kept, as a comment
