"""Divisions: protocol.division and protocol.tunable, checked where overrides are applied and recorded."""

from __future__ import annotations

import pytest

from carpentry_kit.errors import DivisionError, SpecError
from carpentry_kit.results.record import new_record
from carpentry_kit.spec.load import apply_overrides, check_spec, example_names, example_spec_path, load_spec

# Line numbers below refer to this text.
CLOSED = """\
spec_version: 1
benchmark:
  name: mm
task:
  workload: matmul
  params: {size: 32}
metrics:
  - {name: gflops, kind: performance, unit: GFLOP/s, goal: maximize}
protocol:
  division: closed
  tunable: [task.params.size, protocol.repeats]
"""


def closed(tunable: str = "[task.params.size, protocol.repeats]") -> str:
    return CLOSED.replace("[task.params.size, protocol.repeats]", tunable)


def test_the_default_division_is_open_and_every_shipped_example_stays_valid():
    assert load_spec(CLOSED.replace("division: closed", "repeats: 2")).protocol.division == "open"
    for name in example_names():
        spec = load_spec(example_spec_path(name))
        assert spec.protocol.division == "open" and spec.protocol.tunable == []
        # open: any override is allowed
        assert apply_overrides(spec, {"protocol.repeats": 2}).protocol.repeats == 2


def test_a_tunable_field_that_does_not_exist_is_one_line_with_its_line_and_did_you_mean():
    problems = check_spec(closed("[task.params.size, task.params.dtyp, protocol.repaets]"))
    lines = [str(problem) for problem in problems]
    assert len(lines) == 2
    assert lines[0].startswith("<text>:11:") and "protocol.tunable[1]" in lines[0]
    assert "'task.params.dtyp' is not a field of this spec — did you mean 'task.params.dtype'?" in lines[0]
    assert "did you mean 'protocol.repeats'?" in lines[1]
    assert all("\n" not in line for line in lines)


def test_workload_parameters_left_at_their_default_are_tunable_fields():
    # dtype is not written in the spec: the workload's default makes it a real field
    spec = load_spec(closed("[task.params.dtype, metrics.0.target]"))
    assert spec.protocol.tunable == ["task.params.dtype", "metrics.0.target"]
    problems = check_spec(closed("[metrics.3.target, task.seed.x]"))
    assert "has no item '3'" in str(problems[0]) and "holds a single value" in str(problems[1])


@pytest.mark.parametrize("field", ["protocol.division", "protocol.tunable", "protocol"])
def test_the_division_rules_themselves_cannot_be_tunable(field):
    (problem,) = check_spec(closed(f"[{field}]"))
    assert problem.field == "protocol.tunable[0]" and "cannot be tunable" in problem.message


def test_closed_refuses_an_override_that_is_not_tunable_in_one_line_naming_the_field():
    with pytest.raises(DivisionError) as caught:
        load_spec(CLOSED, {"task.params.size": 64, "task.params.dtype": "float64"})
    (line,) = str(caught.value).splitlines()
    assert line.startswith('--set task.params.dtype="float64": task.params.dtype: not tunable')
    assert "add task.params.dtype to protocol.tunable" in line
    assert "run in the open division (--set protocol.division=open)" in line
    assert isinstance(caught.value, SpecError)  # the CLI prints it and exits 2


def test_closed_allows_tunable_overrides_and_fields_inside_a_tunable_section():
    assert load_spec(CLOSED, {"task.params.size": 64, "protocol.repeats": 2}).task.params["size"] == 64
    spec = load_spec(closed("[task.params]"), {"task.params.dtype": "float64"})
    assert spec.is_tunable("task.params.dtype") and not spec.is_tunable("task")
    assert spec.untunable_overrides({"task": {}, "task.params.size": 8}) == ["task"]


def test_apply_overrides_and_check_spec_refuse_the_same():
    spec = load_spec(CLOSED)
    with pytest.raises(DivisionError, match="protocol.warmup: not tunable"):
        apply_overrides(spec, {"protocol.warmup": 0})
    (problem,) = check_spec(CLOSED, {"protocol.warmup": 0})
    assert problem.field == "protocol.warmup" and problem.file == "--set protocol.warmup=0"


def test_moving_to_the_open_division_allows_any_override():
    spec = load_spec(CLOSED, {"protocol.division": "open", "protocol.warmup": 0})
    assert spec.protocol.division == "open" and spec.protocol.warmup == 0
    # the rules cannot be loosened while staying closed
    with pytest.raises(DivisionError, match="protocol.tunable: not tunable"):
        load_spec(CLOSED, {"protocol.tunable": ["protocol.warmup"], "protocol.warmup": 0})


def test_the_record_says_its_division_and_that_closed_overrides_were_checked():
    closed_record = new_record(
        load_spec(CLOSED, {"task.params.size": 64}), None, {"task.params.size": 64}, "cpu", {}, {}
    )
    assert closed_record.division == "closed" and closed_record.overrides_tunable is True
    assert closed_record.overrides == {"task.params.size": 64} and closed_record.tuning is None
    opened = {"protocol.division": "open", "protocol.warmup": 0}
    open_record = new_record(load_spec(CLOSED, opened), None, opened, "cpu", {}, {})
    assert open_record.division == "open" and open_record.overrides_tunable is None
    assert open_record.overrides == opened
    # a record is never made for overrides the division refuses, however the spec was built
    with pytest.raises(DivisionError):
        new_record(load_spec(CLOSED), None, {"protocol.warmup": 0}, "cpu", {}, {})
