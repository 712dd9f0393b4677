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
