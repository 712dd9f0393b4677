"""MLLOG lines: the format mlperf_logging writes, readable by its parser."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mlperf_logging.compliance_checker.mlp_parser import parse_file

from carpentry_kit.results.mllog import PREFIX, MLLogger


def write_run(path: Path) -> int:
    """A small run log; returns the line number of the eval_accuracy call."""
    with MLLogger(path, namespace="worker0") as log:
        log.event("submission_benchmark", "digits-mlp")
        log.start("run_start")
        log.start("epoch_start", epoch_num=1)
        log.end("epoch_stop", epoch_num=1)  # MLPerf's pairing: *_stop ends *_start
        accuracy_line = _line_of_next_call()
        log.event("eval_accuracy", np.float32(0.875), epoch_num=np.int64(1))
        log.end("run_stop", status="success")
    return accuracy_line


def _line_of_next_call() -> int:
    import inspect

    return inspect.currentframe().f_back.f_lineno + 1


def test_mlperf_parser_reads_every_line(tmp_path: Path) -> None:
    path = tmp_path / "mllog" / "run.log"
    write_run(path)
    lines, errors = parse_file(str(path), ruleset="6.0.0")
    assert errors == []
    assert [line.key for line in lines] == [
        "submission_benchmark", "run_start", "epoch_start", "epoch_stop", "eval_accuracy", "run_stop",
    ]  # fmt: skip
    accuracy = lines[4]
    assert accuracy.value["value"] == pytest.approx(0.875)
    assert accuracy.value["metadata"]["epoch_num"] == 1
    assert lines[0].timestamp <= lines[-1].timestamp


def test_line_layout_matches_mlperf_logging(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    accuracy_line = write_run(path)
    raw = path.read_text().splitlines()
    assert all(line.startswith(PREFIX) for line in raw)
    events = [json.loads(line[len(PREFIX) :]) for line in raw]
    assert list(events[0]) == ["namespace", "time_ms", "event_type", "key", "value", "metadata"]
    assert [e["event_type"] for e in events] == [
        "POINT_IN_TIME", "INTERVAL_START", "INTERVAL_START", "INTERVAL_END", "POINT_IN_TIME", "INTERVAL_END",
    ]  # fmt: skip
    assert events[0]["namespace"] == "worker0" and isinstance(events[0]["time_ms"], int)
    assert events[4]["metadata"]["file"] == __file__
    assert events[4]["metadata"]["lineno"] == accuracy_line


def test_interval_misuse_names_the_key(tmp_path: Path) -> None:
    with MLLogger(tmp_path / "run.log") as log:
        with pytest.raises(ValueError, match=r"'run_stop' was never started .* call start\('run_start'\)"):
            log.end("run_stop")
        log.start("block_start")
        with pytest.raises(ValueError, match="'block_start' is already open"):
            log.start("block_start")
        with pytest.raises(TypeError, match="MLLOG 'weird': object is not JSON serialisable"):
            log.event("weird", object())


def test_appends_and_refuses_after_close(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    write_run(path)
    log = MLLogger(path)
    log.event("seed", 7)
    log.close()
    assert len(path.read_text().splitlines()) == 7
    with pytest.raises(ValueError, match="is closed"):
        log.event("seed", 8)


def test_a_runs_events_name_the_code_that_logged_them(tmp_path):
    import carpentry_kit as ck
    from carpentry_kit.spec.load import example_spec_path

    result = ck.run(
        example_spec_path("matmul"),
        overrides={"task.params.size": 16, "protocol.repeats": 2},
        out=tmp_path,
        progress=False,
        energy="estimate",
    )
    lines = (tmp_path / "mllog" / f"{result.run_id}.log").read_text().splitlines()
    places = {(event["metadata"]["file"], event["metadata"]["lineno"]) for event in map(_decode, lines)}
    assert not any(file.endswith("results/mllog.py") for file, _ in places), places
    assert len(places) > 2  # not one fixed frame for every event


def _decode(line):
    import json

    return json.loads(line.split(":::MLLOG ", 1)[1])


# --- a real run's log against MLCommons' compliance checker ---------------------------------------------

RULESET = "6.0.0"


def run_log(tmp_path: Path, example: str, overrides: dict) -> tuple[Path, dict]:
    from carpentry_kit.measure.runner import run
    from carpentry_kit.spec.load import example_spec_path

    result = run(example_spec_path(example), overrides, energy="estimate", out=tmp_path, progress=False)
    assert result.record["status"] == "completed", result.record["error"]
    return tmp_path / "mllog" / f"{result.run_id}.log", result.record


def common_rule_failures(path: Path) -> list[str]:
    """What the checker's training common rules (``training_6.0.0/common.yaml``) say about a log.

    The rules that file enqueues (``open_common.yaml`` and the per-benchmark files) check that the benchmark
    is one of MLPerf's own, so they do not apply to a carpentry-kit benchmark and are not run.
    """
    from mlperf_logging.compliance_checker import mlp_compliance

    checker = mlp_compliance.make_checker("training", RULESET, quiet=False, werror=True)  # warnings fail too
    lines, errors = parse_file(str(path), ruleset=RULESET)
    config = Path(mlp_compliance.__file__).parent / f"training_{RULESET}" / "common.yaml"
    checker.configured_checks(lines, str(config))
    mlp_compliance.enqueued_configs.clear()
    return [str(error) for error in errors] + [*checker.overwritable.values(), *checker.not_overwritable]


def test_time_to_quality_log_passes_the_common_rules_with_true_times(tmp_path: Path) -> None:
    path, record = run_log(tmp_path, "digits-mlp", {"protocol.repeats": 1})
    assert common_rule_failures(path) == []
    lines, _ = parse_file(str(path), ruleset=RULESET)
    keys = [line.key for line in lines]
    assert (
        keys.index("init_stop") < keys.index("run_start") < keys.index("epoch_start") < keys.index("run_stop")
    )
    accuracy = [line for line in lines if line.key == "eval_accuracy"]
    assert [line.value["metadata"]["epoch_num"] for line in accuracy] == list(range(1, len(accuracy) + 1))
    assert accuracy[-1].value["value"] >= 0.9  # the evaluation that met the target ends the repeat
    stops = [line.timestamp for line in lines if line.key == "eval_stop"]
    assert stops == sorted(stops) and stops[-1] - lines[keys.index("run_start")].timestamp >= 0
    # events carry the time they happened: the epochs are spread over the run, not stamped at run_stop
    starts = [line.timestamp for line in lines if line.key == "epoch_start"]
    assert len(set(starts)) > 1 or len(starts) == 1
    assert record["metrics"]["time_to_target_s"]["clock"].endswith("(MLPerf)")


def test_single_stream_log_passes_the_common_rules_and_has_loadgen_results(tmp_path: Path) -> None:
    overrides = {"protocol.repeats": 1, "protocol.loadgen.min_query_count": 64, "task.params.train_epochs": 5}
    path, record = run_log(tmp_path, "digits-inference", overrides)
    assert common_rule_failures(path) == []
    lines, _ = parse_file(str(path), ruleset=RULESET)
    values = {line.key: line.value["value"] for line in lines}
    p90_ns = record["metrics"]["latency_p90_s"]["value"] * 1e9  # LoadGen's own figure, as in its detail log
    assert values["result_90.00_percentile_latency_ns"] == pytest.approx(p90_ns, rel=1e-6, abs=1)
    assert values["result_min_latency_ns"] <= values["result_90.00_percentile_latency_ns"]
    assert values["result_90.00_percentile_latency_ns"] <= values["result_max_latency_ns"]
    assert values["result_qps_with_loadgen_overhead"] > 0 and values["result_validity"] == record["validity"]
    assert [line.key for line in lines].count("block_start") == 1  # one block per LoadGen test


def test_the_checker_cli_needs_a_per_benchmark_config_that_only_mlperf_benchmarks_have(
    tmp_path: Path,
) -> None:
    """Why the test above runs common.yaml alone: the CLI goes on to ``open_<benchmark>.yaml``, which exists
    only for MLPerf's own benchmarks (and ``open_common.yaml`` requires the benchmark to be one of them)."""
    import subprocess
    import sys

    path, _ = run_log(tmp_path, "digits-mlp", {"protocol.repeats": 1})
    command = [sys.executable, "-m", "mlperf_logging.compliance_checker", "--usage", "training"]
    command += ["--ruleset", RULESET, "--log_output", str(tmp_path / "checker.log"), str(path)]
    checked = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert checked.returncode != 0
    assert f"Compliance checks: training_{RULESET}/common.yaml" in checked.stderr
    assert f"training_{RULESET}/open_digits-mlp.yaml" in checked.stderr.splitlines()[-1]  # no such file


def test_submission_division_is_the_specs_division(tmp_path):
    import carpentry_kit as ck
    from carpentry_kit.spec.load import load_spec

    spec = load_spec(
        "benchmark: {name: mm}\ntask: {workload: matmul, params: {size: 16}}\n"
        "metrics: [{name: gflops, kind: performance, unit: GFLOP/s, goal: maximize}]\n"
        "protocol: {division: closed, tunable: [task.params.size], warmup: 0, repeats: 2}\n"
    )
    result = ck.run(spec, {"task.params.size": 8}, out=tmp_path, progress=False, energy="estimate")
    events = [
        _decode(line) for line in (tmp_path / "mllog" / f"{result.run_id}.log").read_text().splitlines()
    ]
    (division,) = [event["value"] for event in events if event["key"] == "submission_division"]
    assert division == "closed" == result.record["division"] and result.record["overrides_tunable"] is True
