"""sweep(): a real grid of matmul runs — resume, recorded failures, Dask, and compare/plots/report on the records."""

from __future__ import annotations

import statistics

import pytest
import yaml

from carpentry_kit.cli.main import main
from carpentry_kit.errors import SpecError, UsageError
from carpentry_kit.explore.compare import compare
from carpentry_kit.explore.sweep import grid_points, parse_grid, sweep
from carpentry_kit.results.frame import load_results
from carpentry_kit.results.store import ResultStore
from carpentry_kit.spec.load import apply_overrides, example_spec_path, load_spec
from carpentry_kit.spec.model import spec_hash

SIZE = "task.params.size"
FAST = {"protocol.warmup": 0, "protocol.min_duration_s": 0.0}


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory):
    """The shipped matmul spec plus a quality metric (the product's error against float64)."""
    data = yaml.safe_load(example_spec_path("matmul").read_text(encoding="utf-8"))
    data["metrics"].append({"name": "rel_error", "kind": "quality", "unit": "fraction", "goal": "minimize"})
    path = tmp_path_factory.mktemp("spec") / "matmul.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _sweep(spec_path, out, sizes, **options):
    options.setdefault("log", None)
    return sweep(spec_path, {SIZE: sizes}, overrides=FAST, out=out, repeats=2, energy="estimate", **options)


@pytest.fixture(scope="module")
def swept(spec_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    return out, _sweep(spec_path, out, [16, 32])


def test_a_small_real_sweep_stores_one_record_per_point(swept, spec_path):
    out, result = swept
    assert (len(result.done), len(result.skipped), len(result.failed)) == (2, 0, 0)
    stored = ResultStore(out).records()
    assert [r["run_id"] for r in stored] == [r["run_id"] for r in result.records]
    base = load_spec(spec_path)
    for record, size in zip(result.records, (16, 32), strict=True):
        assert record["overrides"][SIZE] == size and record["spec"]["task"]["params"]["size"] == size
        expected = apply_overrides(base, {**FAST, "protocol.repeats": 2, SIZE: size})
        assert record["spec_hash"] == spec_hash(expected)
        assert record["spec_path"] == str(spec_path)
        assert len(record["metrics"]["latency_s"]["samples"]) == 2
        assert (out / "mllog" / f"{record['run_id']}.log").read_text().startswith(":::MLLOG")
    frame = result.to_frame()
    assert sorted(frame[SIZE].unique()) == [16, 32]


def test_rerunning_a_sweep_skips_completed_points(swept, spec_path):
    out, first = swept
    again = _sweep(spec_path, out, [16, 32])
    assert (len(again.done), len(again.skipped)) == (0, 2)
    assert [r["run_id"] for r in again.records] == [r["run_id"] for r in first.records]
    assert len(ResultStore(out).records()) == 2


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(spec_path, tmp_path):
    # a 10^6 x 10^6 float64 matrix (8 TB) passes the spec; the memory check refuses it before setup
    result = _sweep(spec_path, tmp_path, [16, 10**6, 32])
    assert [r["status"] for r in result.records] == ["completed", "failed", "completed"]
    failed = result.failed[0]
    assert "task.params need about" in failed["error"] and failed["validity"] == "INVALID"
    assert [r["status"] for r in ResultStore(tmp_path).records()] == ["completed", "failed", "completed"]
    retried = _sweep(spec_path, tmp_path, [16, 10**6, 32])  # failed points are tried again, done ones not
    assert (len(retried.skipped), len(retried.failed)) == (2, 1)


def test_ctrl_c_keeps_the_interrupted_record_and_a_rerun_resumes(spec_path, tmp_path, monkeypatch):
    from carpentry_kit.workloads.matmul import MatMul

    real_step = MatMul.step

    def step_until_size_32(self):  # Ctrl-C arrives during the second point
        if self.params["size"] == 32:
            raise KeyboardInterrupt
        return real_step(self)

    monkeypatch.setattr(MatMul, "step", step_until_size_32)
    with pytest.raises(KeyboardInterrupt):
        _sweep(spec_path, tmp_path, [16, 32])
    assert [r["status"] for r in ResultStore(tmp_path).records()] == ["completed", "interrupted"]
    monkeypatch.setattr(MatMul, "step", real_step)
    resumed = _sweep(spec_path, tmp_path, [16, 32])
    assert (len(resumed.skipped), len(resumed.done)) == (1, 1)


def test_bad_grid_values_are_reported_before_anything_runs(spec_path, tmp_path):
    with pytest.raises(SpecError) as raised:
        sweep(spec_path, {"task.params.dtype": ["float32", "float7"]}, out=tmp_path / "r", log=None)
    assert "float7" in str(raised.value)
    assert not (tmp_path / "r").exists()
    with pytest.raises(UsageError, match="keep it in one place"):
        sweep(spec_path, {"protocol.repeats": [1, 2]}, repeats=3, out=tmp_path / "r", log=None)


def test_parse_grid_reads_yaml_values():
    assert parse_grid(["task.params.size=64,128", "task.params.dtype=float32"]) == {
        SIZE: [64, 128],
        "task.params.dtype": ["float32"],
    }
    assert parse_grid(["protocol.seeds=[1, 2],[3]"]) == {"protocol.seeds": [[1, 2], [3]]}
    assert grid_points({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    for bad in ("task.params.size", "task.params.size=", "=1,2", "a=[1,"):
        with pytest.raises(UsageError, match="--grid"):
            parse_grid([bad])


def test_dask_local_cluster_gives_the_same_records_as_sequential(swept, spec_path, tmp_path):
    _, sequential = swept
    on_dask = _sweep(spec_path, tmp_path, [16, 32], dask_local=1)
    assert len(on_dask.done) == 2
    for mine, theirs in zip(sequential.records, on_dask.records, strict=True):
        assert set(mine) == set(theirs)
        for key in ("spec_hash", "overrides", "validity", "status", "benchmark", "spec_path"):
            assert mine[key] == theirs[key], key
        assert set(mine["metrics"]) == set(theirs["metrics"])
        assert mine["metrics"]["rel_error"]["value"] == theirs["metrics"]["rel_error"]["value"]
    assert len(ResultStore(tmp_path).records()) == 2


def test_dask_scheduler_address_runs_points_as_tasks(spec_path, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        result = _sweep(spec_path, tmp_path, [16], dask=cluster.scheduler_address)
    assert len(result.done) == 1 and result.records[0]["overrides"][SIZE] == 16
    assert ResultStore(tmp_path).records()[0]["run_id"] == result.records[0]["run_id"]


def test_compare_plots_and_report_on_real_results(swept, tmp_path):
    from matplotlib.figure import Figure

    from carpentry_kit.explore.plots import plot_metric_vs_param
    from carpentry_kit.explore.report import write_report

    out, result = swept
    table = compare(out, {"size": 16}, metric="gflops")
    row = table[table[SIZE] == 32].iloc[0]
    samples = {r["overrides"][SIZE]: r["metrics"]["gflops"]["samples"] for r in result.records}
    assert row["ratio"] == pytest.approx(statistics.median(samples[32]) / statistics.median(samples[16]))
    assert row["ci_low"] <= row["ratio"] <= row["ci_high"]
    ax = plot_metric_vs_param(load_results(out, samples=True), "gflops", SIZE, ax=Figure().add_subplot())
    assert "GFLOP/s" in ax.get_ylabel()
    text = write_report(out, tmp_path / "report.html").read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") >= 3


def test_sweep_command(spec_path, tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["sweep", str(spec_path), "--grid", f"{SIZE}=16", "--repeats", "2", "--energy", "estimate"]
    argv += ["--set", "protocol.warmup=0", "--set", "protocol.min_duration_s=0", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "one after another" in printed and "1 done" in printed
    assert main([*argv[:3], "task.params.size=16,sixteen", *argv[4:]]) == 2
    assert "sixteen" in capsys.readouterr().err


def test_the_sequential_note_says_why_and_how_to_run_in_parallel(spec_path, tmp_path):
    lines: list[str] = []
    _sweep(spec_path, tmp_path, [16, 32], log=lines.append)
    note = lines[0]
    assert note.startswith("running 2 points one after another, not in parallel")
    assert "distorts their timings and energy" in note and "--dask" in note
    assert lines[-1].startswith("2 points: 2 done, 0 skipped")


def test_workers_that_would_share_a_machine_are_warned_about():
    from carpentry_kit.explore.sweep import NO_WORKERS_NOTE, concurrency_notes

    one_per_node = {"tcp://a:1": {"host": "a", "nthreads": 1}, "tcp://b:1": {"host": "b", "nthreads": 1}}
    assert concurrency_notes(one_per_node) == []
    assert concurrency_notes({}) == [NO_WORKERS_NOTE]
    crowded = {"tcp://a:1": {"host": "a", "nthreads": 4}, "tcp://a:2": {"host": "a", "nthreads": 1}}
    notes = concurrency_notes(crowded)
    assert len(notes) == 2
    assert "tcp://a:1 has 4 threads" in notes[0] and "--nthreads 1" in notes[0]
    assert notes[1].startswith("2 workers run on host a")


@pytest.mark.parametrize("where", ["cli epilog", "module docs"])
def test_the_documented_slurm_cluster_starts_single_threaded_exclusive_workers(where):
    """The dask-jobqueue recipe in `carpentry sweep --help` and in the module docs is valid: its
    SLURMCluster arguments give one single-threaded worker per job on a node of its own."""
    import re
    import sys

    from carpentry_kit.cli.explore_commands import SWEEP_EPILOG

    jobqueue = pytest.importorskip("dask_jobqueue")
    text = SWEEP_EPILOG if where == "cli epilog" else sys.modules["carpentry_kit.explore.sweep"].__doc__
    arguments = re.search(r"SLURMCluster\((.*?)\)\n", text, re.S).group(1)
    options = eval(f"dict({arguments})")  # the documented keyword arguments, comments and all
    with jobqueue.SLURMCluster(**options, scheduler_options={"dashboard_address": None}) as cluster:
        script = cluster.job_script()
    assert "#SBATCH --exclusive" in script and "#SBATCH --cpus-per-task=1" in script
    assert "--nthreads 1" in script and "--nworkers" not in script


def test_every_record_of_a_sweep_carries_its_tuning_budget(swept, spec_path):
    out, result = swept
    budgets = [record["tuning"] for record in ResultStore(out).records()]
    assert len(budgets) == 2 and all(b == budgets[0] for b in budgets)
    assert budgets[0]["configurations"] == 2 and budgets[0]["grid"] == [SIZE]
    again = _sweep(spec_path, out, [16, 32])  # resumed: same sweep, same id
    assert [r["tuning"] for r in again.records] == budgets
    assert all(r["division"] == "open" for r in again.records)


def test_a_closed_spec_refuses_a_grid_field_that_is_not_tunable_before_anything_runs(spec_path, tmp_path):
    from carpentry_kit.errors import DivisionError

    data = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    data["protocol"].update(division="closed", tunable=[SIZE, "protocol.repeats"])
    closed = tmp_path / "closed.yaml"
    closed.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(DivisionError) as refused:
        sweep(closed, {"task.params.dtype": ["float32", "float64"]}, repeats=2, out=tmp_path / "r", log=None)
    lines = str(refused.value).splitlines()  # one line per grid value
    assert len(lines) == 2 and all(
        "task.params.dtype: not tunable in the closed division" in x for x in lines
    )
    assert not (tmp_path / "r").exists()
