"""The results store: round trips, atomic appends under SIGKILL, truncated and corrupt lines, the frame."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

from carpentry_kit.results.frame import FRAME_COLUMNS, load_results
from carpentry_kit.results.record import RECORD_VERSION, RunRecord, upgrade_record
from carpentry_kit.results.store import ResultStore
from carpentry_kit.stats import summarize


def make_record(value: float = 1.0, **changes) -> RunRecord:
    stats = summarize([value, value * 1.1, value * 0.9])
    metric = {"kind": "performance", "unit": "s", "goal": "minimize", "target": None, "value": stats.median}
    metric.update(stats=stats.to_dict(), samples=list(stats.samples))
    fields = dict(
        benchmark="demo",
        spec_hash="abc123",
        spec={"benchmark": {"name": "demo"}},
        scenario="offline",
        device="cpu",
        validity="VALID",
        metrics={"latency_s": metric},
        energy={"method": "estimate", "measured": False, "total_j": 2.0},
    )
    fields.update(changes)
    return RunRecord(**fields)


def test_append_and_read_back(tmp_path):
    store = ResultStore(tmp_path)
    first, second = make_record(1.0), make_record(2.0, overrides={"task.params.size": 64})
    store.append(first)
    store.append(second)
    records = store.records()
    assert [r["run_id"] for r in records] == [first.run_id, second.run_id]
    assert records[1]["metrics"]["latency_s"]["value"] == pytest.approx(2.0)
    assert all(line.endswith("\n") for line in store.path.read_text().splitlines(keepends=True))


def test_load_results_is_tidy_with_override_columns_and_samples(tmp_path):
    store = ResultStore(tmp_path)
    store.append(make_record(1.0))
    store.append(make_record(2.0, overrides={"task.params.size": 64}))
    frame = load_results(tmp_path)
    assert list(frame.columns) == FRAME_COLUMNS + ["task.params.size"]
    assert len(frame) == 2
    assert frame["energy_method"].tolist() == ["estimate", "estimate"]
    assert frame["task.params.size"].iloc[1] == 64
    assert frame["median"].tolist() == pytest.approx([1.0, 2.0])
    with_samples = load_results(tmp_path, samples=True)
    assert with_samples["samples"].iloc[0] == pytest.approx([1.0, 1.1, 0.9])


def test_truncated_last_line_is_skipped_with_a_warning_and_cut_on_next_append(tmp_path):
    store = ResultStore(tmp_path)
    store.append(make_record(1.0))
    with open(store.path, "a") as handle:
        handle.write(make_record(5.0).to_json_line()[:40])  # a writer killed mid-line
    with pytest.warns(UserWarning, match=r"runs.jsonl:2: skipped a truncated last line"):
        assert len(store.records()) == 1
    with pytest.warns(UserWarning, match="removed a truncated last line"):
        store.append(make_record(3.0))
    values = [r["metrics"]["latency_s"]["value"] for r in store.records()]
    assert values == pytest.approx([1.0, 3.0])


BAD_LINES = {
    "not JSON": b"{not json}\n",
    "not UTF-8": b'{"benchmark": "\xff\xfe"}\n',
    "not an object": b"[1, 2]\n",
    "NaN": make_record(7.0).to_json_line().replace('"value": 7.0', '"value": NaN', 1).encode(),
    "wrong type": make_record(7.0).to_json_line().replace('"metrics": {', '"metrics": {"x": 3, ', 1).encode(),
    "samples of text": make_record(7.0)
    .to_json_line()
    .replace('"samples": [', '"samples": ["a", ', 1)
    .encode(),
    "nested deep": b"[" * 100000 + b"]" * 100000 + b"\n",
    "stats of text": make_record(7.0)
    .to_json_line()
    .replace('"median": ', '"median": "x", "m": ', 1)
    .encode(),
    "energy of text": make_record(7.0)
    .to_json_line()
    .replace('"total_j": 2.0', '"total_j": "2 J"', 1)
    .encode(),
    "missing fields": b'{"record_version": 1, "benchmark": "x"}\n',
}


@pytest.mark.parametrize("kind", list(BAD_LINES))
def test_a_corrupt_line_is_skipped_with_a_one_line_warning_naming_file_and_line(tmp_path, kind):
    store = ResultStore(tmp_path)
    store.append(make_record(1.0))
    with open(store.path, "ab") as handle:
        handle.write(BAD_LINES[kind])
    store.append(make_record(3.0))
    with pytest.warns(
        UserWarning, match=r"runs.jsonl:2: skipped a corrupt record .* remove or fix that line"
    ) as seen:
        values = [r["metrics"]["latency_s"]["value"] for r in store.records()]
    assert values == pytest.approx([1.0, 3.0])  # the lines around it are all read
    assert all("\n" not in str(warning.message) for warning in seen)
    with pytest.warns(UserWarning, match="runs.jsonl:2: skipped a corrupt record"):
        assert len(load_results(tmp_path)) == 2


def test_missing_directory_is_a_usage_error(tmp_path):
    from carpentry_kit.errors import UsageError

    with pytest.raises(UsageError, match="no such results directory"):
        load_results(tmp_path / "nowhere")


def test_record_versions_are_checked():
    current = make_record().to_dict()
    assert upgrade_record(current) == current
    with pytest.raises(ValueError, match="newer"):
        upgrade_record(dict(current, record_version=99))
    with pytest.raises(ValueError, match="record_version"):
        upgrade_record({"benchmark": "x"})


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from tests.results.test_results import make_record
    from carpentry_kit.results.store import ResultStore
    store = ResultStore({directory!r})
    padding = "x" * 20000  # big lines make a kill during a write likely
    for index in range(100000):
        store.append(make_record(float(index + 1), error=padding))
        print(index, flush=True)
    """
)


@pytest.mark.parametrize("writers", [1, 3])
def test_sigkill_while_appending_leaves_every_complete_record_loadable(tmp_path, writers):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = WRITER.format(root=root, directory=str(tmp_path))
    processes = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(writers)
    ]
    for process in processes:  # wait until each has written something
        process.stdout.readline()
    time.sleep(0.3)
    for process in processes:
        process.send_signal(signal.SIGKILL)
        process.wait()
    store = ResultStore(tmp_path)
    with warnings.catch_warnings(record=True):  # a truncated last line is allowed, and skipped
        records = store.records()
    assert len(records) >= writers
    lines = [line for line in store.path.read_text().splitlines(keepends=True) if line.endswith("\n")]
    assert len(records) == len(lines)
    assert all(json.loads(line)["error"] == "x" * 20000 for line in lines)


def test_a_run_in_progress_is_recorded_as_interrupted_only_once_its_process_is_gone(tmp_path):
    store = ResultStore(tmp_path)
    running, finished = make_record(1.0, benchmark="running"), make_record(2.0)
    store.begin(running)
    store.begin(finished)
    store.append(finished)  # a finished run's note is removed with its append
    assert [r["run_id"] for r in store.records()] == [finished.run_id]  # this process is alive: no verdict
    note_path = tmp_path / "running" / f"{running.run_id}.json"
    note = json.loads(note_path.read_text())
    note_path.write_text(json.dumps(dict(note, host="another-machine")))
    assert len(store.records()) == 1  # another machine's process cannot be checked from here
    note_path.write_text(json.dumps(dict(note, started=note["started"] - 100)))  # its pid, reused later
    with pytest.warns(UserWarning, match=f"run {running.run_id[:12]} was killed"):
        records = store.records()
    assert [r["run_id"] for r in records] == [finished.run_id, running.run_id]
    killed = records[1]
    assert killed["status"] == "interrupted" and killed["validity"] == "INVALID"
    assert killed["finished_at"] is None and "ended before the run finished" in killed["reasons"][0]
    assert not note_path.exists() and len(store.records()) == 2


def test_a_version_1_record_upgrades_its_peak_memory_to_mib():
    current = make_record(1.0).to_dict()
    old = {key: value for key, value in current.items() if key != "peak_memory_mib"}
    old.update(record_version=1, peak_memory_mb=123.0)
    old["spec"] = {"constraints": {"peak_memory_mb": 512}}
    upgraded = upgrade_record(old)
    assert upgraded["record_version"] == RECORD_VERSION and upgraded["peak_memory_mib"] == 123.0
    assert "peak_memory_mb" not in upgraded
    assert upgraded["spec"]["constraints"] == {"peak_memory_mib": 512}


def _summary_record(**changes) -> dict:
    """A completed record whose latencies are tens of microseconds and whose energy is an estimate."""
    stats = summarize([4.5e-05, 4.9e-05, 6.1e-05])  # spread > 10%: unstable
    metric = {"kind": "performance", "unit": "s", "goal": "minimize", "target": None, "value": stats.median}
    metric.update(stats=stats.to_dict(), samples=list(stats.samples))
    energy = {
        "method": "estimate", "measured": False, "total_j": 534.5, "duration_s": 19.2, "avg_power_w": 27.84,
        "per_repeat_j": 178.17, "per_sample_j": 0.0012, "notes": "estimate, not a measurement: ...",
        "carbon_kg": 1.4681387547873581e-06, "carbon_method": "estimate: energy x a grid average",
    }  # fmt: skip
    return make_record(metrics={"latency_s": metric}, energy=energy, **changes).to_dict()


def test_summary_explains_unstable_energy_totals_and_uses_si_prefixes():
    from carpentry_kit.results.summary import format_record, record_html

    text = format_record(_summary_record())
    assert "latency_s" in text and " µs " in text and "e-05" not in text  # 49 µs, not 4.9e-05 s
    assert (
        "unstable: the repeats spread by more than 10%" in text and "'unstable run' in the glossary" in text
    )
    assert text.count("unstable") == 3  # the flag on the row, and the one note explaining it
    assert "534.5 J in total over 3 timed repeats (19.2 s)" in text
    assert "178.2 J per repeat and 1.2 mJ per sample on average" in text
    assert "carbon: 1.468 mg CO2e" in text and "e-06" not in text
    html = record_html(_summary_record())
    assert "<p id='unstable' class='note'>unstable: the repeats spread" in html


def test_summary_header_says_invalid_for_an_invalid_run_and_no_unstable_note_when_steady():
    from carpentry_kit.results.summary import format_record

    stats = summarize([1.0, 1.01, 0.99])
    metric = {"kind": "performance", "unit": "s", "goal": "minimize", "value": 1.0, "stats": stats.to_dict()}
    steady = make_record(validity="INVALID", status="completed", metrics={"latency_s": metric}).to_dict()
    heading = format_record(steady).splitlines()[0]
    assert heading.endswith("(INVALID)") and "completed" not in heading
    assert "unstable" not in format_record(steady)
    failed = make_record(status="failed", error="boom").to_dict()
    assert format_record(failed).splitlines()[0].endswith("(failed)")


def test_a_version_2_record_upgrades_to_the_open_division_with_nothing_checked():
    old = {key: value for key, value in make_record(1.0).to_dict().items()}
    for key in ("division", "overrides_tunable", "tuning"):
        del old[key]
    old["record_version"] = 2
    upgraded = RunRecord.from_dict(old)  # every MLLOG file of version 2 said submission_division: open
    assert (upgraded.division, upgraded.overrides_tunable, upgraded.tuning) == ("open", None, None)
    with pytest.raises(ValueError, match="division is 'shut'"):
        RunRecord.from_dict(dict(make_record(1.0).to_dict(), division="shut"))


def test_the_summary_shows_the_division_the_overrides_and_the_tuning_budget():
    from carpentry_kit.results.summary import format_record

    closed = _summary_record(
        division="closed", overrides_tunable=True, overrides={"task.params.size": 64, "protocol.repeats": 3}
    )
    text = format_record(closed)
    assert (
        "division: closed — 2 overrides, all in protocol.tunable: task.params.size=64, protocol.repeats=3"
        in text
    )
    opened = _summary_record(
        tuning={"configurations": 12, "sweep_id": "abc123", "grid": ["task.params.size"]}
    )
    text = format_record(opened)
    assert "division: open — no overrides" in text
    assert "tuning: one of 12 configurations tried in sweep abc123" in text


def test_records_are_read_one_at_a_time(tmp_path):
    """A big store is streamed: reading it takes the memory of a record or two, not of the file."""
    import tracemalloc

    store = ResultStore(tmp_path)
    samples = [1.0 + i / 7919 for i in range(2000)]
    with open(store.path, "w", encoding="utf-8") as handle:  # 200 records of ~40 KB: 8 MB
        for value in range(200):
            record = make_record(float(value + 1))
            record.metrics["latency_s"]["samples"] = samples
            handle.write(record.to_json_line())
    size = store.path.stat().st_size
    tracemalloc.start()
    count = sum(1 for _ in store.iter_records())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 200 and size > 7e6
    assert peak < size / 4, f"peak {peak / 1e6:.1f} MB reading a {size / 1e6:.1f} MB store"


def test_a_summary_frame_keeps_a_bounded_part_of_the_samples_and_the_exact_side_interval(tmp_path):
    import math

    import numpy as np

    from carpentry_kit.results.frame import SUMMARY_COLUMNS, SUMMARY_POINTS
    from carpentry_kit.stats import median_interval

    rng = np.random.default_rng(8)
    samples = [float(v) for v in rng.lognormal(0.0, 0.3, 5000)]
    record = make_record(1.0)
    record.metrics["latency_s"]["samples"] = samples
    ResultStore(tmp_path).append(record)
    frame = load_results(tmp_path, samples="summary")
    assert list(frame.columns) == FRAME_COLUMNS + ["samples"] + SUMMARY_COLUMNS
    kept = frame["samples"].iloc[0]
    assert len(kept) == SUMMARY_POINTS and kept[0] == min(samples) and kept[-1] == max(samples)
    low, high, level = median_interval(samples, math.sqrt(0.95))
    assert frame[SUMMARY_COLUMNS].iloc[0].tolist() == [low, high, level]
    with pytest.raises(ValueError, match="samples must be"):
        load_results(tmp_path, samples="all")
