"""Loading and validating specs: every problem with its file, line, column, field path and a fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from carpentry_kit.errors import Problem, SpecError, UsageError
from carpentry_kit.spec.load import (
    apply_overrides,
    check_spec,
    example_names,
    example_spec_path,
    load_spec,
    parse_overrides,
)
from carpentry_kit.spec.model import canonical_spec, spec_hash
from carpentry_kit.spec.schema import json_schema

REPO = Path(__file__).resolve().parents[2]

# Line numbers below refer to this text; keep it in step with the cases.
BASE = """\
spec_version: 1
benchmark:
  name: tiny-mlp
  version: "1.0"
  summary: A small MLP on the digits.
  domain: Computational Science & AI
  ml_motif: Classification
  task_type: Supervised Learning
infrastructure:
  cpu_cores: 1
  memory_gb: 0.5
  threads: 1
datasets:
  - name: digits
    source: builtin:digits
    splits: {train: 0.75, test: 0.25}
task:
  workload: mlp-train
  params: {hidden: 16}
metrics:
  - name: time_to_target_s
    kind: performance
    unit: s
    goal: minimize
  - {name: test_accuracy, kind: quality, unit: fraction, goal: maximize, target: 0.9}
protocol:
  scenario: time-to-quality
  repeats: 3
"""


def edited(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def only_problem(text: str) -> Problem:
    problems = check_spec(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def test_base_spec_is_valid():
    spec = load_spec(BASE)
    assert spec.benchmark.name == "tiny-mlp"
    assert spec.protocol.warmup == 1  # a default filled in


@pytest.mark.parametrize("name", example_names())
def test_shipped_examples_validate(name):
    assert check_spec(example_spec_path(name)) == []


# (case, text, field, line, column or None, words the message or hint must contain)
BAD_INPUTS = [
    ("misspelled key", edited("  summary:", "  sumary:"), "benchmark.sumary", 5, 3, "did you mean 'summary'"),
    ("unknown section", BASE + "extras: 1\n", "extras", 29, 1, "unknown field 'extras'"),
    ("duplicate key", edited('"1.0"\n', '"1.0"\n  version: "2.0"\n'), "benchmark.version", 5, 3, "first at line 4"),
    ("number for text", edited('version: "1.0"', "version: 1.0"), "benchmark.version", 4, 12, 'version: "1.0"'),
    ("word for int", edited("cpu_cores: 1", "cpu_cores: two"), "infrastructure.cpu_cores", 10, 14, "whole number"),
    ("word for float", edited("memory_gb: 0.5", "memory_gb: lots"), "infrastructure.memory_gb", 11, 14, "a number"),
    ("below minimum", edited("repeats: 3", "repeats: 0"), "protocol.repeats", 28, 12, "at least 1"),
    ("not positive", edited("memory_gb: 0.5", "memory_gb: 0"), "infrastructure.memory_gb", 11, 14, "greater than 0"),
    ("literal typo", edited("scenario: time-to-quality", "scenario: time-to-qualty"), "protocol.scenario", 27, 13,
     "did you mean 'time-to-quality'"),
    ("missing field", edited("  name: tiny-mlp\n", ""), "benchmark.name", 2, 1, "add `name:` under benchmark"),
    ("missing in list item", edited("    unit: s\n", ""), "metrics[0].unit", 21, 5, "add `unit:`"),
    ("missing section", edited("task:\n  workload: mlp-train\n  params: {hidden: 16}\n", ""), "task", 1, 1,
     "add `task:`"),
    ("ontology term", edited("ml_motif: Classification", "ml_motif: Clasification"), "benchmark.ml_motif", 7, 13,
     "did you mean 'Classification'"),
    ("name pattern", edited("name: tiny-mlp", "name: Tiny MLP"), "benchmark.name", 3, 9, "'tiny-mlp'"),
    ("unsafe tag", edited("summary: A small", "summary: !!python/object/apply:os.system ['ls'] #"),
     "benchmark.summary", 5, 12, "!!python/object/apply:os.system"),
    ("ttq without target", edited(", target: 0.9}", "}"), "protocol.scenario", 27, 13, "add `target:`"),
    ("duplicate metric", edited("  - name: time_to_target_s\n    kind: performance", "  - name: test_accuracy\n    kind: quality"),
     "metrics[1].name", 25, 12, "declared twice"),
    ("missing sha256", edited("source: builtin:digits", "source: data/digits.csv"), "datasets[0].sha256", 14, 5,
     "add `sha256:"),
    ("malformed sha256", edited("    splits:", "    sha256: abc\n    splits:"), "datasets[0].sha256", 16, 13,
     "64 lower-case hex"),
    ("splits sum", edited("test: 0.25}", "test: 0.2}"), "datasets[0].splits", 16, 13, "add up to 0.95"),
    ("scalar for list", BASE.split("metrics:")[0] + "metrics: 3\n", "metrics", 20, 10, "expected a list"),
    ("scalar for section", edited("infrastructure:\n  cpu_cores: 1\n  memory_gb: 0.5\n  threads: 1\n",
                                  "infrastructure: big\n"), "infrastructure", 9, 17, "a mapping"),
    ("unknown workload", edited("workload: mlp-train", "workload: mlp-trian"), "task.workload", 18, 13,
     "did you mean 'mlp-train'"),
    ("unknown parameter", edited("{hidden: 16}", "{hiden: 16}"), "task.params.hiden", 19, 19, "did you mean 'hidden'"),
    ("unsupported scenario", edited("scenario: time-to-quality", "scenario: single-stream"), "protocol.scenario", 27,
     13, "offline"),
    ("spec_version", edited("spec_version: 1", "spec_version: 2"), "spec_version", 1, 15, "allowed: 1"),
    ("metric name typo", edited("name: time_to_target_s", "name: time_to_taget_s"), "metrics[0].name", 21, 11,
     "did you mean 'time_to_target_s'? it can produce: time_to_target_s, epochs_to_target"),
    ("metric of another kind", edited("    kind: performance", "    kind: energy"), "metrics[0].kind", 22, 11,
     "write `kind: performance`"),
    ("ontology word", edited("domain: Computational Science & AI", "domain: Climate"), "benchmark.domain", 6, 11,
     "did you mean 'Climate & Earth Science'"),
    ("empty list", edited("  repeats: 3", "  repeats: 3\n  seeds: []"), "protocol.seeds", 29, 10, "add an item under `seeds:`"),
    ("zero count", edited("  threads: 1\n", "  threads: 1\n  accelerator: {use: none, count: 0}\n"),
     "infrastructure.accelerator.count", 13, 35, "at least 1"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "field", "line", "column", "words"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_names_field_line_and_fix(text, field, line, column, words):
    problem = only_problem(text)
    assert (problem.field, problem.line) == (field, line), str(problem)
    if column is not None:
        assert problem.column == column, str(problem)
    assert words in f"{problem.message} — {problem.hint}"
    assert str(problem).startswith(f"<text>:{line}:{problem.column}: {field}: ")
    assert " — " in str(problem), "every problem says how to fix it"


def test_yaml_syntax_error_is_one_problem_with_position():
    problem = only_problem(edited("  threads: 1", "\tthreads: 1"))
    assert (problem.line, problem.column, problem.field) == (12, 1, "")
    assert "YAML syntax error" in problem.message and "spaces, not tabs" in problem.hint


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("- a\n- b\n", "list, not a mapping"),
        ("42\n", "not a mapping"),
    ],
)
def test_unusable_top_level(text, words):
    problem = only_problem(text + "\n")
    assert words in problem.message and problem.line == 1


def test_alias_bomb_is_one_problem_not_a_hang():
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    problem = only_problem("\n".join(lines) + "\n")
    assert "nested YAML aliases" in problem.message and problem.line is not None


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    (problem,) = check_spec(missing)
    assert str(problem).startswith(f"{missing}: file not found — ")


def test_every_problem_reported_at_once_in_file_order():
    text = (
        edited("  summary:", "  sumary:")
        .replace("repeats: 3", "repeats: -2")
        .replace("cpu_cores: 1", "cpu_cores: x")
    )
    problems = check_spec(text)
    assert [(p.field, p.line) for p in problems] == [
        ("benchmark.sumary", 5),
        ("infrastructure.cpu_cores", 10),
        ("protocol.repeats", 28),
    ]
    with pytest.raises(SpecError) as raised:
        load_spec(text)
    assert raised.value.problems == problems
    assert str(raised.value).count("\n") == 2


def test_problem_line_format(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(edited("repeats: 3", "repeats: 0"))
    (problem,) = check_spec(path)
    assert (
        str(problem) == f"{path}:28:12: protocol.repeats: must be at least 1, got 0 — use a value at least 1"
    )


def test_validation_imports_no_torch():
    code = (
        "import sys; from carpentry_kit.spec.load import check_spec, example_spec_path;"
        "assert check_spec(example_spec_path('digits-mlp')) == [];"
        "print(sorted(m for m in ('torch', 'pandas', 'matplotlib', 'codecarbon') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------ overrides
def test_parse_overrides_reads_yaml_values():
    assert parse_overrides(
        ["task.params.hidden=32", "protocol.seeds=[1, 2]", "benchmark.summary=a b", "x.y="]
    ) == {
        "task.params.hidden": 32,
        "protocol.seeds": [1, 2],
        "benchmark.summary": "a b",
        "x.y": None,
    }


@pytest.mark.parametrize("item", ["no-equals", "=3", "a.b=[1,"])
def test_parse_overrides_rejects_bad_items(item):
    with pytest.raises(UsageError, match=r"^--set "):
        parse_overrides([item])


def test_apply_overrides_sets_paths_and_revalidates():
    spec = load_spec(BASE)
    changed = apply_overrides(
        spec, {"task.params.hidden": 32, "metrics.1.target": 0.95, "constraints.time_budget_s": 9}
    )
    assert changed.task.params == {"hidden": 32}
    assert changed.metrics[1].target == 0.95
    assert changed.constraints.time_budget_s == 9
    assert spec.task.params == {"hidden": 16}, "the original is unchanged"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"benchmark.nmae": "x"}, "benchmark.nmae", "did you mean 'name'"),
        ({"protocol.repeats": 0}, "protocol.repeats", "at least 1"),
        ({"metrics.7.target": 1.0}, "metrics.7.target", "below 2"),
        ({"benchmark.name.first": "x"}, "benchmark.name.first", "single value"),
        ({"task.params.hiden": 3}, "task.params.hiden", "did you mean 'hidden'"),
    ],
)
def test_bad_override_names_the_override(overrides, field, words):
    with pytest.raises(SpecError) as raised:
        apply_overrides(load_spec(BASE), overrides)
    (problem,) = raised.value.problems
    path = next(iter(overrides))
    assert problem.file.startswith(f"--set {path}=") and problem.field == field
    assert words in str(problem)


def test_load_spec_with_overrides_reports_file_and_override_problems_together():
    text = edited("cpu_cores: 1", "cpu_cores: x")
    problems = check_spec(text, {"protocol.repeats": -1})
    assert {(p.file.split("=")[0], p.field) for p in problems} == {
        ("<text>", "infrastructure.cpu_cores"),
        ("--set protocol.repeats", "protocol.repeats"),
    }
    assert load_spec(BASE, {"protocol.repeats": 7}).protocol.repeats == 7


# ---------------------------------------------------------------------------------- canonical form and hash
def test_canonical_spec_fills_defaults_and_sorts_keys():
    canonical = canonical_spec(load_spec(BASE))
    assert canonical["protocol"]["warmup"] == 1 and canonical["constraints"]["time_budget_s"] is None
    assert list(canonical) == sorted(canonical)
    assert list(canonical["benchmark"]) == sorted(canonical["benchmark"])
    assert json.loads(json.dumps(canonical)) == canonical


def test_spec_hash_ignores_layout_but_not_meaning():
    reordered = edited("protocol:\n  scenario: time-to-quality\n  repeats: 3\n", "")
    reordered = reordered.replace("spec_version: 1\n", "protocol: {repeats: 3, scenario: time-to-quality}\n")
    explicit_default = BASE + "  warmup: 1  # the default, written out\n"
    digest = spec_hash(load_spec(BASE))
    assert len(digest) == 64
    assert spec_hash(load_spec(reordered)) == digest
    assert spec_hash(load_spec(explicit_default)) == digest
    assert spec_hash(load_spec(edited("repeats: 3", "repeats: 4"))) != digest


# --------------------------------------------------------------------------------------------- JSON Schema
def test_schema_file_is_up_to_date():
    from carpentry_kit.cli.spec_commands import schema_text

    committed = (REPO / "carpentry-spec.schema.json").read_text()
    assert committed == schema_text(json_schema()), (
        "regenerate: carpentry schema -o carpentry-spec.schema.json"
    )


def test_schema_accepts_examples_and_rejects_bad_specs():
    import jsonschema

    validator = jsonschema.Draft202012Validator(json_schema())
    for name in example_names():
        data = yaml.safe_load(example_spec_path(name).read_text())
        assert list(validator.iter_errors(data)) == [], name
    for bad in (edited("  summary:", "  sumary:"), edited("ml_motif: Classification", "ml_motif: Nonsense"),
                edited("repeats: 3", "repeats: 0"), edited("  name: tiny-mlp\n", "")):  # fmt: skip
        assert list(validator.iter_errors(yaml.safe_load(bad))), bad


def test_example_spec_path_suggests_names():
    assert example_spec_path("matmul").name == "matmul.yaml"
    with pytest.raises(UsageError, match="did you mean 'matmul'"):
        example_spec_path("matmull")


def test_apply_overrides_keeps_defaults_unstated_so_rating_is_unchanged():
    from carpentry_kit.spec.load import apply_overrides
    from carpentry_kit.spec.rating import rate_spec

    spec = load_spec(example_spec_path("matmul"))
    assert rate_spec(apply_overrides(spec, {})).total == rate_spec(spec).total
    bigger = apply_overrides(spec, {"task.params.size": 64})
    assert bigger.task.params["size"] == 64
    assert "container" not in bigger.infrastructure.model_fields_set


def test_problem_at_names_the_override_that_set_a_field():
    path = example_spec_path("matmul")
    spec = load_spec(path, overrides={"infrastructure.software.packages": {"torch": ">=99"}})
    overridden = spec.problem_at(("infrastructure", "software", "packages", "torch"), "too old", "upgrade")
    assert str(overridden).startswith("--set infrastructure.software.packages=")
    written = spec.problem_at(("task", "workload"), "bad", "fix")
    assert written.file == str(path) and written.line == _line_of(path, "workload:")


def _line_of(path, text):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)
