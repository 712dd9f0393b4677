"""``carpentry run`` and ``carpentry workloads``: output and exit codes 0 (VALID), 1 (INVALID), 2 (bad input)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from carpentry_kit.cli.main import main
from carpentry_kit.results.record import RunRecord
from carpentry_kit.results.store import ResultStore

MATMUL = "carpentry_kit/examples/matmul.yaml"
QUICK = ["--set", "task.params.size=32", "--set", "protocol.min_duration_s=0", "--repeats", "3"]


def carpentry(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_valid_run_exits_0_with_a_summary_table(capsys, tmp_path):
    code, out, _ = carpentry(
        capsys, "run", MATMUL, *QUICK, "--energy", "estimate", "--out", str(tmp_path), "--quiet"
    )
    assert code == 0
    assert "metric" in out and "IQR" in out and "GFLOP/s" in out
    assert "in total over 3 timed repeats" in out and "— ESTIMATED (method: estimate)" in out
    assert "per repeat and " in out and " per sample on average; the table shows the medians" in out
    assert "  how: estimate, not a measurement: a static part, the CPU's idle power" in out
    assert "carbon: " in out and "CO2e — ESTIMATED from the estimated energy: energy x United States" in out
    assert re.search(r"carbon: [\d.]+ [pnµm]?g CO2e", out), out  # SI-prefixed grams, not 1.4e-06 kg
    assert "peak memory: " in out and "Result is: VALID" in out
    assert (tmp_path / "runs.jsonl").read_text().count("\n") == 1


def test_invalid_run_exits_1_and_says_why(capsys, tmp_path):
    argv = ["run", MATMUL, *QUICK, "--set", "constraints.peak_memory_mib=1", "--energy", "estimate"]
    code, out, _ = carpentry(capsys, *argv, "--out", str(tmp_path), "--quiet")
    assert code == 1
    assert "Result is: INVALID" in out and "over the limit of 1 MiB" in out
    assert "(INVALID)" in out.splitlines()[0] and "(completed)" not in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "no-such-spec.yaml"], "no-such-spec.yaml: file not found"),
        (["run", MATMUL, "--set", "task.params.sise=64"], "did you mean 'size'?"),
        (["run", MATMUL, "--set", "nonsense"], "expected PATH=VALUE"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(capsys, tmp_path, argv, message):
    code, out, err = carpentry(capsys, *argv, "--out", str(tmp_path))
    assert code == 2
    assert message in err and "Traceback" not in err + out
    assert not (tmp_path / "runs.jsonl").exists()


def test_bad_country_for_the_carbon_estimate_exits_2_before_running(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CARPENTRY_COUNTRY_ISO_CODE", "XYZ")
    code, out, err = carpentry(capsys, "run", MATMUL, *QUICK, "--energy", "estimate", "--out", str(tmp_path))
    assert code == 2 and err.startswith(
        "carpentry run: CARPENTRY_COUNTRY_ISO_CODE='XYZ': unknown country code"
    )
    assert not (tmp_path / "runs.jsonl").exists()


def test_workloads_lists_names_scenarios_and_defaults(capsys):
    code, out, _ = carpentry(capsys, "workloads")
    assert code == 0
    assert "matmul:" in out and "mlp-train:" in out
    assert "scenarios: time-to-quality, offline" in out
    assert "size=256" in out


def test_energy_method_unusable_here_exits_2_saying_why(capsys, tmp_path):
    from carpentry_kit.energy import energy_methods

    unusable = [method for method, reason in energy_methods().items() if reason and method != "auto"]
    if not unusable:
        pytest.skip("every energy method works on this machine")
    code, _, err = carpentry(capsys, "run", MATMUL, "--energy", unusable[0], "--out", str(tmp_path))
    assert code == 2 and err.startswith(f"carpentry run: --energy {unusable[0]}:")


# ---------------------------------------------------------------- killing a run in a subprocess


def start_long_run(tmp_path: Path) -> tuple[subprocess.Popen, ResultStore]:
    """A store holding one earlier record, and ``carpentry run`` in a subprocess, once it is timing."""
    store = ResultStore(tmp_path / "results")
    store.append(
        RunRecord(benchmark="earlier", spec_hash="0" * 64, spec={}, scenario="offline", device="cpu")
    )
    long_run = ["--set", "task.params.size=32", "--set", "protocol.min_duration_s=600"]
    command = [sys.executable, "-m", "carpentry_kit", "run", MATMUL, "--out", str(store.dir), "--quiet"]
    process = subprocess.Popen(
        [*command, "--energy", "estimate", *long_run, "--set", "constraints.time_budget_s=900"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120  # imports and setup on a busy machine
    while not any("run_start" in log.read_text() for log in store.dir.glob("mllog/*.log")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never started timing"
        time.sleep(0.1)
    return process, store


def test_ctrl_c_records_the_run_as_interrupted_and_shows_what_it_measured(tmp_path):
    process, store = start_long_run(tmp_path)
    time.sleep(0.5)  # some timed repeats
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in err and "recorded with status 'interrupted'" in err
    assert "(interrupted)" in out and "Result is: INVALID" in out and "gflops" in out
    earlier, interrupted = store.records()
    assert earlier["benchmark"] == "earlier" and earlier["status"] == "completed"
    assert interrupted["status"] == "interrupted" and interrupted["validity"] == "INVALID"
    assert interrupted["metrics"]["gflops"]["stats"]["n"] >= 1  # what was measured before Ctrl-C is kept
    assert not list((store.dir / "running").iterdir())


def test_sigkill_leaves_the_store_valid_and_the_run_recorded_as_interrupted(tmp_path):
    process, store = start_long_run(tmp_path)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    with pytest.warns(UserWarning, match="was killed; recorded as interrupted"):
        earlier, killed = store.records()
    assert earlier["benchmark"] == "earlier"
    assert killed["benchmark"] == "matmul" and killed["status"] == "interrupted"
    assert killed["validity"] == "INVALID" and "ended before the run finished" in killed["error"]
    assert len(store.records()) == 2  # recorded once, not on every read


def test_a_closed_division_refuses_an_override_in_one_line_exit_2(capsys, tmp_path):
    spec = tmp_path / "closed.yaml"
    text = (
        Path(MATMUL)
        .read_text(encoding="utf-8")
        .replace(
            "  min_duration_s: 0.5\n",
            "  min_duration_s: 0.5\n  division: closed\n  tunable: [task.params.size]\n",
        )
    )
    spec.write_text(text, encoding="utf-8")
    code, out, err = carpentry(
        capsys, "run", str(spec), "--set", "task.params.dtype=float64", "--out", str(tmp_path)
    )
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith('--set task.params.dtype="float64": task.params.dtype: not tunable in the closed')
    assert "add task.params.dtype to protocol.tunable, or run in the open division" in line
    assert not (tmp_path / "runs.jsonl").exists()
