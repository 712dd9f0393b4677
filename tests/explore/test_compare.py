"""compare(): ratio of medians with bootstrap CIs, goal-aware verdicts, refusing unlike comparisons."""

from __future__ import annotations

import pytest
from explore_records import make_record, write_store

from carpentry_kit.cli.main import main
from carpentry_kit.errors import UsageError
from carpentry_kit.explore.compare import compare, format_comparison, parse_baseline
from carpentry_kit.results.frame import load_results

BASE = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02]
SIZE = "task.params.size"


def _sweep_dir(tmp_path, factor=2.0, **extra):
    records = [
        make_record({SIZE: 256}, {"latency_s": BASE, "gflops": [10 / x for x in BASE]}, **extra),
        make_record(
            {SIZE: 512},
            {"latency_s": [factor * x for x in BASE], "gflops": [10 / (factor * x) for x in BASE]},
            **extra,
        ),
    ]
    write_store(tmp_path, records)
    return tmp_path


def _row(table, size, metric):
    chosen = table[(table[SIZE] == size) & (table["metric"] == metric)]
    assert len(chosen) == 1
    return chosen.iloc[0]


def test_ratio_of_medians_and_goal_aware_verdict(tmp_path):
    table = compare(_sweep_dir(tmp_path, factor=2.0), {SIZE: 256})
    latency = _row(table, 512, "latency_s")
    assert latency["ratio"] == pytest.approx(2.0)
    assert 1 < latency["ci_low"] <= latency["ratio"] <= latency["ci_high"]
    assert latency["significant"] and not latency["better"]  # slower is worse when minimising
    assert latency["verdict"] == "worse"
    gflops = _row(table, 512, "gflops")
    assert gflops["ratio"] == pytest.approx(0.5)
    assert gflops["significant"] and not gflops["better"]  # fewer GFLOP/s is worse when maximising
    baseline_self = _row(table, 256, "latency_s")
    assert baseline_self["ratio"] == pytest.approx(1.0)
    assert not baseline_self["significant"] and baseline_self["verdict"] == "baseline"
    assert (table["n_baseline"] == len(BASE)).all()
    assert (table["runs"] == 1).all() and (table["baseline_runs"] == 1).all()


def test_faster_configuration_is_better(tmp_path):
    table = compare(_sweep_dir(tmp_path, factor=0.5), "size=256", metric="latency_s")
    row = _row(table, 512, "latency_s")
    assert row["better"] and row["verdict"] == "better"
    assert set(table["metric"]) == {"latency_s"}


def test_same_distribution_is_no_significant_difference(tmp_path):
    table = compare(_sweep_dir(tmp_path, factor=1.0), {SIZE: 256})
    assert not table["significant"].any()
    assert list(table["verdict"]) == ["baseline", "no significant difference"] * 2


def test_a_single_sample_is_too_few_to_tell(tmp_path):
    records = [
        make_record({SIZE: 256}, {"latency_s": [1.0]}),
        make_record({SIZE: 512}, {"latency_s": [5.0]}),
    ]
    write_store(tmp_path, records)
    row = _row(compare(tmp_path, {SIZE: 256}), 512, "latency_s")
    assert row["ratio"] == pytest.approx(5.0) and row["ci_low"] != row["ci_low"]  # NaN: no interval
    assert not row["significant"] and row["verdict"] == "too few samples"


def test_the_note_says_single_run_intervals_leave_out_run_to_run_variation(tmp_path):
    one_run_each = compare(_sweep_dir(tmp_path / "a"), {SIZE: 256})
    assert "not run-to-run variation" in " ".join(format_comparison(one_run_each).split())
    records = [make_record({SIZE: size}, {"latency_s": BASE}) for size in (256, 256, 512, 512)]
    write_store(tmp_path / "b", records)
    repeated = compare(tmp_path / "b", {SIZE: 256})
    assert set(repeated["runs"]) == {2} and set(repeated["baseline_runs"]) == {2}
    text = " ".join(format_comparison(repeated).split())
    assert "does not mean a large one" in text and "run-to-run" not in text


def test_bootstrap_is_reproducible_and_query_baseline_matches_dict(tmp_path):
    directory = _sweep_dir(tmp_path, factor=1.3)
    first = compare(directory, {SIZE: 256})
    again = compare(load_results(directory, samples=True), f"`{SIZE}` == 256")
    assert first[["ratio", "ci_low", "ci_high"]].equals(again[["ratio", "ci_low", "ci_high"]])


def test_other_swept_columns_are_held_fixed(tmp_path):
    records = [
        make_record({SIZE: size, "task.params.dtype": dtype}, {"latency_s": [scale * size * x for x in BASE]})
        for size in (256, 512)
        for dtype, scale in (("float32", 1.0), ("float64", 2.0))
    ]
    write_store(tmp_path, records)
    table = compare(tmp_path, {"size": 256})
    for _, row in table.iterrows():
        assert row["baseline"] == f"dtype={row['task.params.dtype']}, size=256"
        assert row["ratio"] == pytest.approx(row[SIZE] / 256)


def test_failed_runs_are_left_out(tmp_path):
    records = [
        make_record({SIZE: 256}, {"latency_s": BASE}),
        make_record({SIZE: 1024}, {"latency_s": [9.0, 9.0]}, status="failed"),
    ]
    write_store(tmp_path, records)
    table = compare(tmp_path, {SIZE: 256})
    assert list(table[SIZE]) == [256]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"units": {"latency_s": "ms"}}, "unit"),
        ({"benchmark": "other-bench"}, "benchmark"),
        ({"measured": True, "method": "rapl"}, "energy_method"),
    ],
)
def test_unlike_results_are_refused_naming_the_key(tmp_path, change, key):
    records = [
        make_record({SIZE: 256}, {"latency_s": BASE, "energy_per_sample_j": BASE}),
        make_record({SIZE: 512}, {"latency_s": BASE, "energy_per_sample_j": BASE}, **change),
    ]
    write_store(tmp_path, records)
    metric = "energy_per_sample_j" if key == "energy_method" else "latency_s"
    with pytest.raises(UsageError, match=rf"{key} differs"):
        compare(tmp_path, {SIZE: 256}, metric=metric)


def test_bad_metric_and_baseline_list_the_valid_choices(tmp_path):
    directory = _sweep_dir(tmp_path)
    with pytest.raises(UsageError, match="choose one of: gflops, latency_s"):
        compare(directory, {SIZE: 256}, metric="acuracy")
    with pytest.raises(UsageError, match="available values: 256, 512"):
        compare(directory, {SIZE: 300})
    with pytest.raises(UsageError, match="not a column"):
        compare(directory, {"sise": 256})


def test_parse_baseline_reads_yaml_values_and_queries():
    assert parse_baseline("task.params.size=256") == {SIZE: 256}
    assert parse_baseline(["size=256", "dtype=float32"]) == {"size": 256, "dtype": "float32"}
    assert parse_baseline("device == 'cpu'") == "device == 'cpu'"


def test_format_comparison_shows_every_row(tmp_path):
    table = compare(_sweep_dir(tmp_path), {SIZE: 256})
    text = format_comparison(table)
    rows = text.split("\n\n")[0]
    assert rows.count("\n") == len(table) + 1
    assert "size=512" in rows and "worse" in rows


def test_a_run_id_baseline_compares_run_by_run(tmp_path):
    records = [make_record({}, {"latency_s": BASE}), make_record({}, {"latency_s": [3 * x for x in BASE]})]
    write_store(tmp_path, records)
    first = records[0]["run_id"]
    table = compare(tmp_path, first[:8], by=["run_id"])
    assert list(table["run_id"]) == sorted(r["run_id"] for r in records)
    ratios = dict(zip(table["run_id"], table["ratio"], strict=True))
    assert ratios[first] == pytest.approx(1.0) and ratios[records[1]["run_id"]] == pytest.approx(3.0)
    with pytest.raises(UsageError, match="no completed run has a run_id"):
        compare(tmp_path, "abcdef0123", by=["run_id"])


def test_compare_command_prints_a_table(tmp_path, capsys):
    from carpentry_kit.cli.main import main

    directory = _sweep_dir(tmp_path / "r")
    csv = tmp_path / "c.csv"
    assert (
        main(
            ["compare", str(directory), "--baseline", "size=256", "--metric", "latency_s", "--csv", str(csv)]
        )
        == 0
    )
    out = capsys.readouterr().out.split("\n\n")[0].splitlines()
    assert out[0].split()[:3] == ["configuration", "metric", "median"]
    assert len(out) == 4 and out[2].endswith("baseline") and out[3].endswith("worse")
    assert csv.read_text().startswith(f"{SIZE},configuration,baseline,metric")
    assert main(["compare", str(directory), "--baseline", "size=999"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "available values: 256, 512" in error


def test_format_quantity_uses_si_prefixes_for_seconds_joules_and_watts():
    from carpentry_kit.explore.compare import format_quantity

    assert format_quantity(5.866e-07, "J") == "586.6 nJ"
    assert format_quantity(0.0125, "s") == "12.5 ms"
    assert format_quantity(21.6, "W") == "21.6 W"
    assert format_quantity(93.25, "GFLOP/s") == "93.25 GFLOP/s"
    assert format_quantity(0.9195, "") == "0.9195"
    assert format_quantity(float("nan"), "s") == "n/a"


def _mixed_dir(tmp_path):
    """size 256 in the closed division, size 512 (twice as slow) in the open one."""
    write_store(
        tmp_path,
        [
            make_record({SIZE: 256}, {"latency_s": BASE}, division="closed"),
            make_record({SIZE: 512}, {"latency_s": [2 * x for x in BASE]}, division="open"),
        ],
    )
    return tmp_path


def test_closed_and_open_results_are_not_ranked_together_without_saying_so(tmp_path):
    results = _mixed_dir(tmp_path)
    with pytest.raises(UsageError) as refused:
        compare(results, {SIZE: 256})
    (line,) = str(refused.value).splitlines()
    assert "mix divisions (1 run in closed and 1 run in open)" in line
    assert "--division closed" in line and "--mixed-divisions" in line
    table = compare(results, {SIZE: 256}, mixed_divisions=True)
    assert list(table["division"]) == ["closed", "open"] and set(table["baseline_division"]) == {"closed"}
    assert _row(table, 512, "latency_s")["verdict"] == "worse"
    text = format_comparison(table)
    assert "baseline division" in text.splitlines()[0] and "Mixed divisions (--mixed-divisions)" in text
    only_closed = compare(results, {SIZE: 256}, division="closed")
    assert list(only_closed["division"]) == ["closed"] and "Mixed divisions" not in format_comparison(
        only_closed
    )
    with pytest.raises(UsageError, match="no closed results here"):
        compare(_sweep_dir(tmp_path / "open"), {SIZE: 256}, division="closed")


def test_one_division_compares_as_before_and_the_command_takes_the_flags(tmp_path, capsys):
    assert "Mixed divisions" not in format_comparison(compare(_sweep_dir(tmp_path), {SIZE: 256}))
    mixed = str(_mixed_dir(tmp_path / "mixed"))
    assert main(["compare", mixed, "--baseline", "size=256"]) == 2
    assert "mix divisions" in capsys.readouterr().err
    assert main(["compare", mixed, "--baseline", "size=256", "--mixed-divisions"]) == 0
    assert "Mixed divisions" in capsys.readouterr().out
    assert main(["compare", mixed, "--baseline", "size=256", "--division", "open"]) == 2  # no baseline there


def test_a_sweeps_tuning_budget_is_shown_as_best_of_n(tmp_path):
    tuning = {"configurations": 12, "sweep_id": "abc123def456", "grid": [SIZE]}
    table = compare(_sweep_dir(tmp_path, tuning=tuning), {SIZE: 256})
    assert set(table["configurations_tried"]) == {12}
    text = " ".join(format_comparison(table).split())
    assert "a sweep of 12 configurations; the best one is the best of 12 tries" in text
    single = compare(_sweep_dir(tmp_path / "single"), {SIZE: 256})
    assert single["configurations_tried"].isna().all() and "Tuning budget" not in format_comparison(single)


def test_runs_are_the_units_when_a_configuration_was_run_several_times(tmp_path):
    """Three runs a side: the ratio is of the medians of the per-run medians, and its interval is the
    order-statistic interval over those runs (≥ 56.2 %: 75 % a side), never the pooled repeats'."""
    import numpy as np

    from carpentry_kit.stats import ratio_intervals

    factors_a, factors_b = [1.0, 1.5, 1.2], [2.0, 2.6, 2.2]
    records = [make_record({SIZE: 256}, {"latency_s": [f * x for x in BASE]}) for f in factors_a]
    records += [make_record({SIZE: 512}, {"latency_s": [f * x for x in BASE]}) for f in factors_b]
    write_store(tmp_path, records)
    row = _row(compare(tmp_path, {SIZE: 256}), 512, "latency_s")
    centre = float(np.median(BASE))
    medians_a, medians_b = [f * centre for f in factors_a], [f * centre for f in factors_b]
    assert row["median"] == pytest.approx(np.median(medians_b))
    assert row["ratio"] == pytest.approx(np.median(medians_b) / np.median(medians_a))
    lows, highs, level = ratio_intervals(np.array([medians_b]), np.array([medians_a]))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lows[0], highs[0]))
    assert row["ci_level"] == pytest.approx(level) == pytest.approx(0.5625)
    assert row["interval_units"] == "runs" and row["runs"] == row["baseline_runs"] == 3
    assert row["n"] == row["n_baseline"] == 3 * len(BASE)
    assert "≥ 56.2 %" in format_comparison(compare(tmp_path, {SIZE: 256}))


def test_a_single_run_is_compared_by_its_repeats_exactly_from_the_summary(tmp_path):
    """A configuration of one run: its repeats are the units. The summary frame (bounded memory) gives the
    same interval as all the raw samples, even with more samples than it keeps."""
    import numpy as np

    from carpentry_kit.stats import ratio_ci

    rng = np.random.default_rng(3)
    a, b = list(rng.lognormal(0.1, 0.2, 900)), list(rng.lognormal(0.0, 0.2, 700))
    write_store(
        tmp_path, [make_record({SIZE: 256}, {"latency_s": b}), make_record({SIZE: 512}, {"latency_s": a})]
    )
    summary = _row(compare(tmp_path, {SIZE: 256}), 512, "latency_s")
    full = _row(compare(load_results(tmp_path, samples=True), {SIZE: 256}), 512, "latency_s")
    expected = ratio_ci(a, b)
    for row in (summary, full):
        assert (row["ratio"], row["ci_low"], row["ci_high"], row["ci_level"]) == pytest.approx(expected)
        assert row["interval_units"] == "repeats" and row["n"] == 900
    other = _row(compare(tmp_path, {SIZE: 256}, confidence=0.9), 512, "latency_s")  # reads every sample
    assert (other["ci_low"], other["ci_high"], other["ci_level"]) == pytest.approx(ratio_ci(a, b, 0.9)[1:])
