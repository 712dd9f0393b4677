"""benchmark_history / `carpentry history`: a metric over a benchmark's versions, causes and flagged changes."""

from __future__ import annotations

import copy

import pytest
import yaml
from explore_records import make_record, write_store

import carpentry_kit as ck
from carpentry_kit.cli.main import main
from carpentry_kit.errors import UsageError
from carpentry_kit.explore.history import Change, benchmark_history, spec_changes
from carpentry_kit.results.frame import records_frame
from carpentry_kit.results.record import RunRecord

BASE = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02]
SPEC = {
    "benchmark": {"name": "matmul", "version": "1.0"},
    "task": {"workload": "matmul", "params": {"size": 64}},
    "datasets": [],
    "metrics": [{"name": "latency_s", "kind": "performance", "unit": "s", "goal": "minimize"}],
}


def version_record(version: str, samples: list[float], day: int, **spec_changes_: object) -> dict:
    record = make_record({}, {"latency_s": samples})
    spec = copy.deepcopy(SPEC)
    spec["benchmark"]["version"] = version
    for path, value in spec_changes_.items():
        section, key = path.split("__")
        spec[section][key] = value
    record.update(spec=spec, spec_hash=f"hash-{version}-{sorted(spec_changes_.items())}")
    record["started_at"] = f"2026-11-{day:02d}T10:00:00.000+00:00"
    return record


def test_spec_changes_names_each_field_that_differs():
    old = {"benchmark": {"version": "1.0"}, "metrics": [{"name": "a", "target": 0.9}], "task": {"seeds": [0]}}
    new = {
        "benchmark": {"version": "1.1"},
        "metrics": [{"name": "a", "target": 0.95}],
        "task": {"seeds": [0, 1]},
    }
    new["protocol"] = {"division": "closed"}
    changes = spec_changes(old, new)
    assert [str(c) for c in changes] == [
        "benchmark.version: 1.0 → 1.1",
        "metrics.0.target: 0.9 → 0.95",
        "protocol.division: (absent) → closed",
        "task.seeds: [0] → [0, 1]",
    ]
    assert spec_changes(old, copy.deepcopy(old)) == []


def test_a_slower_version_is_flagged_with_its_cause_and_an_unchanged_one_is_not(tmp_path):
    write_store(tmp_path / "v1", [version_record("1.0", BASE, 1)])
    write_store(
        tmp_path / "v2", [version_record("1.1", [2 * x for x in BASE], 2, task__params={"size": 128})]
    )
    write_store(
        tmp_path / "v3", [version_record("1.2", [2 * x for x in BASE], 3, task__params={"size": 128})]
    )
    # given newest first: versions are ordered by their first run's date, not by argument order
    history = benchmark_history([tmp_path / "v3", tmp_path / "v1", tmp_path / "v2"], metric="latency_s")
    table = history.table
    assert list(table["benchmark_version"]) == ["1.0", "1.1", "1.2"]
    assert list(table["verdict"]) == ["first version", "worse", "no significant difference"]
    assert list(history.flagged["benchmark_version"]) == ["1.1"]
    second = table.iloc[1]
    assert second["ratio"] == pytest.approx(2.0) and second["ci_low"] > 1 and second["previous"] == "1.0"
    assert Change("task.params.size", 64, 128) in second["changes"]
    assert Change("benchmark.version", "1.0", "1.1") in second["changes"]
    assert [str(c) for c in table.iloc[2]["changes"]] == ["benchmark.version: 1.1 → 1.2"]
    text = history.format()
    assert "matmul — latency_s (s, minimize) over 3 versions" in text and "worse FLAGGED" in text
    assert "changed: benchmark.version: 1.0 → 1.1; task.params.size: 64 → 128" in text
    assert (
        "1 significant change (flagged): matmul version 2 (1.1) is worse than the version before (1.0)"
        in (" ".join(text.split()))
    )
    assert "<tr style='background:#fde2e1'>" in history._repr_html_()


def test_compare_and_history_judge_a_change_alike(tmp_path):
    """The same statistics: history's ratio and interval are compare's for the same two sets of samples."""
    old, new = version_record("1.0", BASE, 1), version_record("1.1", [1.5 * x for x in BASE], 2)
    old["overrides"], new["overrides"] = {"task.params.size": 1}, {"task.params.size": 2}
    row = benchmark_history([old, new], metric="latency_s").table.iloc[1]
    compared = ck.compare(records_frame([old, new], samples=True), {"task.params.size": 1})
    other = compared[compared["configuration"] == "size=2"].iloc[0]
    for key in ("ratio", "ci_low", "ci_high", "ci_level", "significant", "verdict"):
        assert row[key] == other[key], key


def test_a_changed_unit_or_builtin_dataset_version_is_a_cause_not_a_ratio(tmp_path):
    old = version_record("1.0", BASE, 1)
    new = version_record("1.1", BASE, 2)
    new["metrics"]["latency_s"]["unit"] = "ms"
    for record, kit in ((old, "0.1.0"), (new, "0.2.0")):
        record["spec"]["datasets"] = [{"name": "digits", "source": "builtin:digits", "sha256": None}]
        record["software"] = {"carpentry_kit": kit}
    row = benchmark_history([old, new], metric="latency_s").table.iloc[1]
    assert row["verdict"] == "not comparable (unit changed)" and not row["flagged"]
    assert row["datasets"] == "digits=builtin:digits (carpentry-kit 0.2.0)"
    assert any(c.path == "datasets" and "0.1.0" in str(c.old) for c in row["changes"])


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.yaml").write_text("x: 1\n")
    write_store(tmp_path / "ok", [version_record("1.0", BASE, 1)])
    failed = make_record({}, {}, status="failed")
    write_store(tmp_path / "failed", [failed])
    cases = {
        str(tmp_path / "missing"): "no such results directory",
        str(tmp_path / "empty"): "holds no runs",
        str(tmp_path / "file.yaml"): "is a file, not a results directory",
        str(tmp_path / "failed"): "no completed runs",
    }
    for directory, message in cases.items():
        assert main(["history", directory]) == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert message in line and line.startswith("carpentry history: ")
    assert main(["history", str(tmp_path / "ok"), "--metric", "gflop"]) == 2
    assert "choose one of: latency_s" in capsys.readouterr().err
    with pytest.raises(UsageError, match="no results given"):
        benchmark_history([])


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """The shipped matmul spec run at version 1.0 and at a modified 1.1, into two results directories."""
    root = tmp_path_factory.mktemp("history")
    data = yaml.safe_load(ck.example_spec_path("matmul").read_text(encoding="utf-8"))
    data["protocol"].update(warmup=0, repeats=3, min_duration_s=0)
    data["task"]["params"]["size"] = 16
    dirs = []
    for version, size in (("1.0", 16), ("1.1", 32)):
        data["benchmark"]["version"], data["task"]["params"]["size"] = version, size
        path = root / f"matmul-{version}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        out = root / f"results-{version}"
        ck.run(path, out=out, progress=False, energy="estimate")
        dirs.append(out)
    return dirs


def test_history_of_two_versions_of_a_shipped_spec(two_versions, capsys, tmp_path):
    assert (
        main(["history", *map(str, two_versions), "--metric", "gflops", "--csv", str(tmp_path / "h.csv")])
        == 0
    )
    out = capsys.readouterr().out
    assert "matmul — gflops (GFLOP/s, maximize) over 2 versions" in out
    assert "changed: benchmark.version: 1.0 → 1.1; task.params.size: 16 → 32" in out
    row = benchmark_history(two_versions, metric="gflops").table.iloc[1]
    records = [ck.ResultStore(d).records()[0] for d in two_versions]
    again = benchmark_history([RunRecord.from_dict(records[0]), records[1]], metric="gflops").table.iloc[1]
    assert again["ratio"] == row["ratio"]
    assert row["verdict"] in ("better", "worse", "no significant difference")
    assert row["flagged"] == (row["ci_low"] > 1 or row["ci_high"] < 1)  # flagged exactly when 1 is excluded
    assert (tmp_path / "h.csv").read_text().count("\n") == 3  # header and two versions


def test_plot_history_draws_each_version(two_versions):
    import matplotlib

    matplotlib.use("Agg")
    ax = ck.plots.plot_history(two_versions, metric="gflops")
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert [label.split("\n")[0] for label in labels] == ["1.0", "1.1"]
    assert "gflops over versions" in ax.get_title()
