"""Hostile input and faults: each is one line (no traceback) and nothing already stored is lost.

Non-finite numbers, huge or deeply nested YAML, a full disk (a small tmpfs), a read-only or misplaced
``--out``, corrupt lines in ``runs.jsonl`` read by ``report``/``compare``, SIGTERM during a run,
``kill -9`` of a sweep, a diverged training, and a workload too big for the spec's memory limit.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from carpentry_kit.cli.main import main
from carpentry_kit.errors import SpecError
from carpentry_kit.results.record import RunRecord
from carpentry_kit.results.store import ResultStore, StoreError
from carpentry_kit.spec.load import load_spec

ROOT = Path(__file__).resolve().parents[1]
MATMUL = ROOT / "carpentry_kit" / "examples" / "matmul.yaml"
HEAT = ROOT / "carpentry_kit" / "examples" / "heat-surrogate.yaml"
QUICK = ["--set", "task.params.size=32", "--set", "protocol.min_duration_s=0", "--repeats", "2"]


def carpentry(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def earlier_record(benchmark: str = "earlier") -> RunRecord:
    return RunRecord(benchmark=benchmark, spec_hash="0" * 64, spec={}, scenario="offline", device="cpu")


@contextlib.contextmanager
def mounted_tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at ``folder`` (root only; the test is skipped where mounting is not allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True
        )
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or 'mount failed'}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a file in ``folder`` until the disk is full; return it (delete it to free the space)."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as stream:
        with contextlib.suppress(OSError):
            while True:
                stream.write(b"\0" * 4096)
        with contextlib.suppress(OSError):
            while True:
                stream.write(b"\0")
    return filler


# ---------------------------------------------------------------- non-finite numbers


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("metrics.0.target=.nan", "metrics[0].target"),
        ("constraints.time_budget_s=.inf", "constraints.time_budget_s"),
        ("protocol.min_duration_s=-.inf", "protocol.min_duration_s"),
        ("infrastructure.memory_gb=.NaN", "infrastructure.memory_gb"),
        ("datasets.0.splits.train=.nan", "datasets[0].splits.train"),
        ("task.params.learning_rate=.inf", "task.params.learning_rate"),
    ],
)
def test_non_finite_numbers_are_refused_at_validation_naming_the_field(capsys, override, field):
    code, out, err = carpentry(capsys, "validate", HEAT, "--set", override)
    assert code == 2 and out == ""
    line = one_line(err)
    assert f": {field}: " in line and ("finite" in line or "must be in" in line), line


def test_a_nan_written_in_the_yaml_file_points_at_its_line(tmp_path):
    text = MATMUL.read_text().replace("time_budget_s: 30", "time_budget_s: .nan")
    path = tmp_path / "nan.yaml"
    path.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "time_budget_s" in row)
    with pytest.raises(SpecError) as raised:
        load_spec(path)
    (problem,) = raised.value.problems
    assert (problem.line, problem.field) == (line, "constraints.time_budget_s")
    assert "must be a finite number, got nan" in problem.message


def test_a_diverged_training_is_recorded_as_failed_with_the_reason(tmp_path):
    from carpentry_kit.measure.runner import run

    overrides = {
        "task.params.learning_rate": 1.0e30,  # the weights overflow: the error becomes NaN
        "task.params.hidden": 8,
        "task.params.max_epochs": 2,
        "protocol.repeats": 1,
        "protocol.seeds": [0],
    }
    store = ResultStore(tmp_path)
    store.append(earlier_record())
    result = run(HEAT, overrides, energy="estimate", out=tmp_path, progress=False)
    assert result.record["status"] == "failed" and result.record["validity"] == "INVALID"
    assert "rel_l2_error was nan in 1 of 1 samples" in result.record["error"]
    earlier, diverged = store.records()  # stored, readable, the earlier record untouched
    assert earlier["benchmark"] == "earlier" and diverged["run_id"] == result.run_id
    assert diverged["metrics"]["rel_l2_error"]["value"] is None


# ---------------------------------------------------------------- YAML too big or too deep


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("x: " + "[" * 800 + "]" * 800 + "\n", "nests more than 64 levels deep"),
        ("x:\n" + "".join("  " * (i + 1) + "a:\n" for i in range(800)), "nests more than 64 levels deep"),
        ("x: [" + "1, " * 30_000 + "]\n", "holds more than 20,000 values"),
        ("x:\n" + "- 1\n" * 11_250_000, "the file is 42.9 MiB, more than the 1 MiB a spec may be"),
    ],
    ids=["flow-800-deep", "block-800-deep", "30000-values", "45MB-list"],
)
def test_hostile_yaml_is_refused_early_with_one_line(capsys, tmp_path, tail, message):
    path = tmp_path / "hostile.yaml"
    path.write_text(MATMUL.read_text() + tail)
    started = time.monotonic()
    code, _, err = carpentry(capsys, "validate", path)
    assert time.monotonic() - started < 20  # was 612 s and 3.3 GB for the 45 MB list
    assert code == 2 and message in one_line(err)


# ---------------------------------------------------------------- where results go


def test_an_out_that_is_a_file_is_one_line_before_anything_runs(capsys, tmp_path):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("keep me")
    for out in (in_the_way, in_the_way / "sub"):
        code, stdout, err = carpentry(capsys, "run", MATMUL, *QUICK, "--energy", "estimate", "--out", out)
        assert code == 2 and stdout == ""
        assert one_line(err).startswith(f"carpentry run: {out}")
    assert in_the_way.read_text() == "keep me"


def test_a_read_only_out_is_one_line_before_anything_runs(capsys, tmp_path):
    readonly = tmp_path / "readonly"
    if os.geteuid() == 0:  # root writes through permissions: only a read-only mount stops it
        context = mounted_tmpfs(readonly, "ro,size=64k")
    else:
        readonly.mkdir()
        readonly.chmod(0o555)
        context = contextlib.nullcontext(readonly)
    with context:
        code, stdout, err = carpentry(
            capsys, "run", MATMUL, *QUICK, "--energy", "estimate", "--out", readonly
        )
        assert code == 2 and stdout == ""
        assert "cannot write results" in one_line(err) and "Read-only" in err or "Permission" in err


def test_a_full_disk_undoes_the_partial_line_and_keeps_every_stored_record(tmp_path):
    with mounted_tmpfs(tmp_path / "small", "size=200k") as disk:
        store = ResultStore(disk / "results")
        for index in range(3):
            store.append(earlier_record(f"earlier-{index}"))
        before = store.path.read_bytes()
        filler = fill(disk)
        big = earlier_record("too-big")
        big.error = "x" * 50_000  # a record that cannot fit in what is left
        with pytest.raises(
            StoreError, match=r"runs.jsonl: run [0-9a-f]{12} was not stored \(No space left"
        ) as e:
            store.append(big)
        assert "\n" not in str(e.value)
        assert store.path.read_bytes() == before  # no partial line, nothing lost
        assert [r["benchmark"] for r in store.records()] == ["earlier-0", "earlier-1", "earlier-2"]
        filler.unlink()
        store.append(big)  # with space again, the next append works
        assert len(store.records()) == 4


@pytest.mark.filterwarnings("ignore:MLLOG.*No space left on device")  # the log is best effort
def test_a_run_into_a_full_disk_is_one_line_and_loses_nothing(capsys, tmp_path):
    with mounted_tmpfs(tmp_path / "small", "size=200k") as disk:
        store = ResultStore(disk / "results")
        store.append(earlier_record())
        before = store.path.read_bytes()
        fill(disk)
        code, _, err = carpentry(capsys, "run", MATMUL, *QUICK, "--energy", "estimate", "--out", store.dir)
        assert code == 2 and "No space left on device" in err and "Traceback" not in err
        assert store.path.read_bytes() == before


# ---------------------------------------------------------------- corrupt stores, read by report and compare


@pytest.fixture
def corrupt_store(tmp_path) -> Path:
    code = main(["run", str(MATMUL), *QUICK, "--energy", "estimate", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    with open(tmp_path / "runs.jsonl", "ab") as stream:
        stream.write(b'{"benchmark": "\xff\xfe"}\n{not json\n{"record_version": 1, "metrics": []}\n')
    return tmp_path


@pytest.mark.parametrize("command", ["report", "compare"])
def test_report_and_compare_skip_corrupt_lines_with_one_line_warnings(capsys, corrupt_store, command):
    extra = (
        ["-o", corrupt_store / "report.html"]
        if command == "report"
        else ["--baseline", "task.params.size=32"]
    )
    with pytest.warns(UserWarning) as seen:
        code, out, err = carpentry(capsys, command, corrupt_store, *extra)
    assert code in (0, 1) and "Traceback" not in out + err
    messages = [str(warning.message) for warning in seen if "runs.jsonl" in str(warning.message)]
    assert [message.split(": ", 1)[0].rsplit(":", 1)[1] for message in messages[:3]] == ["2", "3", "4"]
    assert all("skipped a corrupt record" in message and "\n" not in message for message in messages)


def test_the_command_line_prints_a_warning_as_one_line(corrupt_store):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "carpentry_kit",
            "report",
            str(corrupt_store),
            "-o",
            str(corrupt_store / "r.html"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "runs.jsonl" in line]
    assert warnings and all(
        line.startswith("warning: ") and "skipped a corrupt record" in line for line in warnings
    )
    assert "Traceback" not in done.stderr and "store.py" not in done.stderr  # no source line
    assert "missing benchmark, spec_hash, spec, scenario, device" in warnings[2]


# ---------------------------------------------------------------- signals and kill -9


def wait_for(condition, process: subprocess.Popen, what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds  # imports and setup on a busy machine
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.1)


def timing_started(directory: Path) -> bool:
    return any("run_start" in log.read_text() for log in directory.glob("**/mllog/*.log"))


def test_sigterm_records_the_run_as_interrupted_with_its_samples(tmp_path):
    store = ResultStore(tmp_path / "results")
    store.append(earlier_record())
    long_run = ["--set", "task.params.size=32", "--set", "protocol.min_duration_s=600"]
    process = subprocess.Popen(
        [sys.executable, "-m", "carpentry_kit", "run", str(MATMUL), "--out", str(store.dir), "--quiet"]
        + ["--energy", "estimate", *long_run, "--set", "constraints.time_budget_s=900"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: timing_started(store.dir), process, "timing")
    time.sleep(0.5)  # some timed repeats
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err
    assert "terminated by SIGTERM" in err and "(interrupted)" in out
    earlier, stopped = store.records()
    assert earlier["benchmark"] == "earlier"
    assert stopped["status"] == "interrupted" and "terminated by SIGTERM" in stopped["error"]
    assert stopped["metrics"]["gflops"]["stats"]["n"] >= 1  # the samples before SIGTERM are kept
    assert not list((store.dir / "running").iterdir())


def _matmul_sweep(out: Path, min_durations: str) -> list[str]:
    """`carpentry sweep` of matmul (size 32, 2 repeats) over protocol.min_duration_s, into ``out``."""
    command = [
        sys.executable,
        "-m",
        "carpentry_kit",
        "sweep",
        str(MATMUL),
        "--out",
        str(out),
        "--energy",
        "estimate",
    ]
    grid = [
        "--grid",
        f"protocol.min_duration_s={min_durations}",
        "--set",
        "task.params.size=32",
        "--repeats",
        "2",
    ]
    return command + grid + ["--set", "constraints.time_budget_s=900"]


def test_kill_9_of_a_sweep_leaves_the_point_in_flight_recorded_and_keeps_the_done_ones(tmp_path):
    out = tmp_path / "sweep"
    process = subprocess.Popen(
        _matmul_sweep(out, "0,600"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = ResultStore(out)
    wait_for(lambda: store.path.exists() and store.path.read_text().count("\n") == 1, process, "point 1")
    wait_for(lambda: any((out / "running").glob("*.json")), process, "point 2 noted")
    time.sleep(1.0)  # point 2 is running (its 600 s minimum duration keeps it going)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    with pytest.warns(UserWarning, match="was killed; recorded as interrupted"):
        done, killed = store.records()
    assert done["status"] == "completed" and done["overrides"]["protocol.min_duration_s"] == 0
    assert killed["status"] == "interrupted" and killed["overrides"]["protocol.min_duration_s"] == 600
    assert "ended before the run finished" in killed["error"]
    resumed = subprocess.run(  # a re-run resumes: point 1 is skipped, point 2 runs again
        _matmul_sweep(out, "0"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0 and "skipped (already completed)" in resumed.stdout, resumed.stderr
    assert len(store.records()) == 2


# ---------------------------------------------------------------- resources checked before a run


def test_a_matmul_too_big_for_the_memory_limit_is_refused_before_setup(capsys, tmp_path):
    code, out, err = carpentry(capsys, "run", MATMUL, "--set", "task.params.size=30000", "--out", tmp_path)
    assert code == 2 and out == ""
    assert "constraints.peak_memory_mib: task.params need about 44,632 MiB (matmul's estimate)" in err
    assert "over the limit of 2048 MiB" in err and "Traceback" not in err
    assert not (tmp_path / "runs.jsonl").exists()


def test_a_read_only_download_cache_is_one_line(tmp_path):
    from carpentry_kit.data.datasets import DatasetError, load_dataset
    from carpentry_kit.spec.model import Dataset

    if os.geteuid() != 0:
        pytest.skip("a read-only cache needs a read-only mount, which needs root")
    with mounted_tmpfs(tmp_path / "cache", "ro,size=64k") as cache:
        ds = Dataset(name="remote", source="http://127.0.0.1:9/data.npz", sha256="0" * 64)
        with pytest.raises(
            DatasetError, match=r"cannot write the download cache .*Read-only file system"
        ) as e:
            load_dataset(ds, tmp_path, cache, 0)  # refused before any connection is tried
    assert str(e.value).endswith("set CARPENTRY_CACHE to a writable directory") and "\n" not in str(e.value)


def test_a_non_finite_energy_reading_fails_the_run_and_the_record_still_stores(tmp_path):
    import math

    from carpentry_kit.energy.base import EnergyReading
    from carpentry_kit.measure.harness import Measurement
    from carpentry_kit.measure.metrics import build_metrics, energy_summary, non_finite_error

    spec = load_spec(MATMUL)
    reading = EnergyReading("estimate", False, {"cpu": math.nan}, math.nan, 0.01)  # a meter gone wrong
    measurement = Measurement("offline", repeat_s=[0.01, 0.01], samples=[8, 8], energy_windows=[reading] * 2)
    measurement.energy_per_repeat_j = [math.nan, math.nan]
    work = {"flop": 2.0 * 256**3}
    error = non_finite_error(spec, measurement, work)
    assert "energy_per_sample_j was nan in 2 of 2 samples" in error
    assert "the energy meter read 2 of 2 windows as non-finite" in error
    record = RunRecord(benchmark="matmul", spec_hash="0" * 64, spec={}, scenario="offline", device="cpu")
    record.metrics, record.energy = build_metrics(spec, measurement, work), energy_summary(measurement)
    record.status, record.error = "failed", error
    assert record.energy["total_j"] is None and record.energy["components_j"] == {"cpu": None}
    assert record.metrics["gflops"]["stats"]["n"] == 2  # the finite metrics are kept
    ResultStore(tmp_path).append(record)
    assert ResultStore(tmp_path).records()[0]["error"] == error


@pytest.mark.parametrize("option", ["--set", "--grid"])
def test_a_command_line_value_nested_800_deep_is_one_line(capsys, tmp_path, option):
    deep = "[" * 800 + "]" * 800
    command = ["validate", MATMUL] if option == "--set" else ["sweep", MATMUL, "--out", tmp_path]
    code, _, err = carpentry(capsys, *command, option, f"task.params.size={deep}")
    assert code == 2 and "not valid YAML" in one_line(err)
    assert not (tmp_path / "runs.jsonl").exists()


@pytest.mark.filterwarnings("ignore:MLLOG.*No space left on device")  # the log is best effort
def test_a_disk_that_fills_during_a_run_is_a_clear_error_and_keeps_the_stored_records(tmp_path):
    import threading

    from carpentry_kit.measure.runner import run

    with mounted_tmpfs(tmp_path / "small", "size=400k") as disk:
        store = ResultStore(disk / "results")
        store.append(earlier_record())
        before = store.path.read_bytes()
        noted = threading.Event()

        def fill_once_running() -> None:  # the run has started (its note is written): fill the disk
            while not any((store.dir / "running").glob("*.json")):
                time.sleep(0.01)
            fill(disk)
            noted.set()

        filler = threading.Thread(target=fill_once_running, daemon=True)
        filler.start()
        overrides = {"task.params.size": 32, "protocol.min_duration_s": 1.0, "protocol.repeats": 2}
        with pytest.raises(StoreError, match=r"was not stored \(No space left on device\)") as raised:
            run(MATMUL, overrides, energy="estimate", out=store.dir, progress=False)
        assert noted.is_set() and "\n" not in str(raised.value)
        assert store.path.read_bytes() == before  # the earlier record intact, no partial line
        (note_path,) = (store.dir / "running").glob("*.json")
        (disk / "filler").unlink()  # space again; and the process that ran it is gone (a later session):
        note = json.loads(note_path.read_text())
        note_path.write_text(json.dumps(dict(note, started=note["started"] - 100)))
        with pytest.warns(UserWarning, match="could not store its record; recorded as failed"):
            earlier, lost = store.records()
        assert earlier["benchmark"] == "earlier" and lost["status"] == "failed"  # accurate, not "killed"
        assert (
            lost["error"]
            == "its record could not be written (No space left on device): the measurements are lost"
        )


def test_a_download_into_a_full_cache_is_one_line_and_leaves_no_partial_file(tmp_path):
    import functools
    import hashlib
    import http.server
    import threading

    import numpy as np

    from carpentry_kit.data.datasets import DatasetError, load_dataset
    from carpentry_kit.spec.model import Dataset

    served = tmp_path / "served"
    served.mkdir()
    np.savez(served / "big.npz", X=np.random.default_rng(0).random((400, 100)), y=np.zeros(400))  # 320 kB
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    sha = hashlib.sha256((served / "big.npz").read_bytes()).hexdigest()
    ds = Dataset(name="remote", source=f"http://127.0.0.1:{httpd.server_address[1]}/big.npz", sha256=sha)
    try:
        with mounted_tmpfs(tmp_path / "cache", "size=200k") as cache:
            with pytest.raises(DatasetError, match=r"No space left on device\) — free some space") as raised:
                load_dataset(ds, tmp_path, cache, 0)
            assert "\n" not in str(raised.value) and list(cache.iterdir()) == []
    finally:
        httpd.shutdown()
        httpd.server_close()
