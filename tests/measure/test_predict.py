"""carpentry_kit.predict: hardware profiles, the roofline model, predictions as records, calibration."""

from __future__ import annotations

import json

import pytest

from carpentry_kit.cli.main import main
from carpentry_kit.errors import UsageError
from carpentry_kit.predict.hardware import catalogue, load_profile, profile_from_dict
from carpentry_kit.predict.predictor import PREDICTED, predict, prediction_error
from carpentry_kit.predict.roofline import Work, estimate_time
from carpentry_kit.spec.load import example_names, example_spec_path

QUICK = {"protocol.repeats": 3, "protocol.warmup": 1, "protocol.min_duration_s": 0}


def _profile(**changes):
    """A made-up CPU: 100 GFLOP/s float32, 10 GB/s, 1 µs a call, efficiencies exactly 1 (easy arithmetic)."""
    data = {
        "profile_version": 1,
        "name": "toy",
        "kind": "cpu",
        "peak_flop_s": {"float32": {"value": 1e11, "source": "test"}},
        "memory_bandwidth_b_s": {"value": 1e10, "source": "test"},
        "power_w": {"max": {"value": 10, "source": "test"}, "idle": {"value": 2, "source": "test"}},
        "overhead_s": {"value": 1e-6, "source": "test"},
        "efficiency": {
            "compute": {"value": [1.0, 1.0], "source": "test"},
            "memory": {"value": [1.0, 1.0], "source": "test"},
        },
    }
    data.update(changes)
    return profile_from_dict(data, "toy.yaml")


# ---------------------------------------------------------------- the catalogue


def test_catalogue_covers_the_kinds_of_machine_asked_for():
    names = set(catalogue())
    assert {"nvidia-h100-sxm", "amd-mi300x", "nvidia-a100-sxm", "amd-ryzen-7-7840u"} <= names
    assert {"amd-epyc-9654", "apple-m1-macbook-air", "raspberry-pi-5"} <= names


@pytest.mark.parametrize("name", sorted(catalogue()))
def test_every_catalogue_figure_has_a_source(name):
    profile = load_profile(name)
    figures = [*profile.peak_flop_s.values(), profile.memory_bandwidth_b_s, profile.power_max_w]
    figures += [
        profile.power_idle_w,
        profile.overhead_s,
        profile.compute_efficiency,
        profile.memory_efficiency,
    ]
    assert all(len(figure.source) > 10 for figure in figures)
    assert not profile.measured


@pytest.mark.parametrize(
    ("name", "fp64", "fp32", "bandwidth", "watts"),
    [
        ("nvidia-h100-sxm", 34e12, 67e12, 3.35e12, 700),  # NVIDIA H100 datasheet, SXM column
        ("nvidia-a100-sxm", 9.7e12, 19.5e12, 2.039e12, 400),  # NVIDIA A100 datasheet, 80 GB SXM
        ("amd-mi300x", 81.7e12, 163.4e12, 5.3e12, 750),  # AMD Instinct MI300X data sheet
    ],
)
def test_datacentre_gpu_figures_are_the_vendors(name, fp64, fp32, bandwidth, watts):
    profile = load_profile(name)
    assert profile.peak_flop_s["float64"].value == fp64
    assert profile.peak_flop_s["float32"].value == fp32
    assert profile.memory_bandwidth_b_s.value == bandwidth
    assert profile.power_max_w.value == watts


def test_a_user_profile_file_loads(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(catalogue()["raspberry-pi-5"].read_text().replace("raspberry-pi-5", "my-pi"))
    assert load_profile(path).name == "my-pi"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "tpu"}, r"toy.yaml: kind: is 'tpu', expected one of cpu, gpu"),
        ({"memory_bandwidth_b_s": {"value": 1e10}}, r"toy.yaml: memory_bandwidth_b_s: must be \{value"),
        ({"overhead_s": {"value": -1, "source": "x"}}, r"overhead_s.value: -1 is not a positive number"),
        ({"efficiency": {"compute": {"value": [0.9, 0.5], "source": "x"}}}, r"efficiency.compute: must be"),
    ],
)
def test_a_bad_profile_is_one_line_naming_the_field(change, message):
    with pytest.raises(UsageError, match=message) as caught:
        _profile(**change)
    assert "\n" not in str(caught.value)


def test_an_unknown_profile_name_suggests_and_lists():
    with pytest.raises(UsageError, match=r"did you mean 'nvidia-h100-sxm'\?.*raspberry-pi-5"):
        load_profile("nvidia-h100-sx")


def test_a_dtype_the_hardware_lacks_is_refused_with_the_reason():
    with pytest.raises(UsageError, match=r"peak_flop_s.float64: the M1 GPU has no float64"):
        load_profile("apple-m1-macbook-air").peak("float64", 1)


# ---------------------------------------------------------------- the model


def test_compute_bound_when_intensity_is_above_the_ridge():
    estimate = estimate_time(Work(samples=1, flop=1e9, bytes=1e6, calls=10), _profile())
    assert estimate.ridge == pytest.approx(10.0)  # 100 GFLOP/s / 10 GB/s
    assert estimate.bound == "compute" and "above the ridge point" in estimate.why
    assert estimate.typical_s == pytest.approx(1e9 / 1e11 + 10 * 1e-6)  # roofline + overhead (a CPU)


def test_memory_bound_when_intensity_is_below_the_ridge():
    estimate = estimate_time(Work(samples=1, flop=1e6, bytes=1e8, calls=1), _profile())
    assert estimate.bound == "memory" and "below the ridge point" in estimate.why
    assert estimate.typical_s == pytest.approx(1e8 / 1e10 + 1e-6)


def test_overhead_bound_when_calls_cost_more_than_the_work():
    estimate = estimate_time(Work(samples=1, flop=1e3, bytes=1e3, calls=1000), _profile())
    assert estimate.bound == "overhead" and "1000 framework calls" in estimate.why


def test_efficiency_range_widens_the_time_range():
    profile = _profile(
        efficiency={
            "compute": {"value": [0.5, 1.0], "source": "t"},
            "memory": {"value": [1.0, 1.0], "source": "t"},
        }
    )
    estimate = estimate_time(Work(samples=1, flop=1e9, bytes=1e3, calls=0), profile)
    assert estimate.low_s == pytest.approx(0.01) and estimate.high_s == pytest.approx(0.02)
    assert estimate.low_s < estimate.typical_s < estimate.high_s


def test_a_calibrated_call_cost_inside_a_loop_is_the_typical_one():
    loops = {"training": {"value": 5e-5, "source": "t"}, "query": {"value": 2e-5, "source": "t"}}
    profile = _profile(overhead_in_loop_s=loops)
    assert profile.call_overhead("") == (1e-6, 1e-6, 1e-6)
    assert profile.call_overhead("training") == (1e-6, 5e-5, 5e-5)
    estimate = estimate_time(Work(samples=1, flop=1.0, bytes=1.0, calls=100, loop="query"), profile)
    assert estimate.bound == "overhead" and estimate.typical_s == pytest.approx(100 * 2e-5, rel=1e-6)


def test_one_thread_of_a_many_core_cpu_gets_its_share_of_the_peak():
    profile = load_profile("amd-epyc-9654")
    peak, source = profile.peak("float64", 1)
    assert peak == pytest.approx(profile.peak_flop_s["float64"].value / 96)
    assert "1/96 cores" in source


# ---------------------------------------------------------------- predictions are records, never measurements


def test_predict_every_example_on_a_catalogue_gpu(tmp_path):
    for name in example_names():
        prediction = predict(example_spec_path(name), "nvidia-h100-sxm", out=tmp_path)
        record = prediction.record
        assert record["status"] == PREDICTED and record["validity"] == "INVALID"
        assert record["energy"]["measured"] is False
        for metric in record["metrics"].values():
            band = metric[PREDICTED]
            if metric["value"] is not None:
                assert band["low"] <= metric["value"] <= band["high"] and band["bound"] in str(band["why"])
                assert metric["samples"] == [] and metric["stats"] is None
            else:
                assert band["note"].startswith("not predicted")
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == len(example_names())


def test_a_larger_matmul_moves_from_overhead_to_compute_bound(tmp_path):
    spec = example_spec_path("matmul")
    small = predict(spec, "nvidia-h100-sxm", overrides={"task.params.size": 64}, store=False)
    large = predict(spec, "nvidia-h100-sxm", overrides={"task.params.size": 4096}, store=False)
    assert small.time.bound == "overhead" and large.time.bound == "compute"


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory):
    """Two measured matmul runs (sizes 32, 64) and a prediction of each, in one results directory."""
    from carpentry_kit.measure.runner import run

    out = tmp_path_factory.mktemp("mixed")
    spec = example_spec_path("matmul")
    for size in (32, 64):
        overrides = {**QUICK, "task.params.size": size}
        run(spec, overrides=overrides, out=out, progress=False, energy="estimate")
        predict(spec, "raspberry-pi-5", overrides=overrides, out=out)
    return out


def test_load_results_labels_predictions(mixed_store):
    from carpentry_kit.results.frame import load_results

    frame = load_results(mixed_store)
    assert sorted(frame["status"].unique()) == ["completed", PREDICTED]
    assert set(frame[frame["status"] == PREDICTED]["device"]) == {"raspberry-pi-5 (predicted)"}


def test_compare_never_uses_a_prediction_as_a_measurement(mixed_store):
    from carpentry_kit.explore.compare import compare
    from carpentry_kit.results.store import ResultStore

    statuses = [r["status"] for r in ResultStore(mixed_store).records()]
    assert statuses.count(PREDICTED) == 2  # one prediction per configuration sits beside each run
    table = compare(mixed_store, {"task.params.size": 32}, metric="latency_s")
    assert len(table) == 2
    assert (table["runs"] == 1).all() and (table["baseline_runs"] == 1).all()  # the measured run only
    assert (table["n"] == QUICK["protocol.repeats"]).all()  # its samples; a prediction has none


def test_plots_and_the_markdown_table_leave_predictions_out(mixed_store):
    import matplotlib

    matplotlib.use("Agg")
    from carpentry_kit.explore.plots import plot_metric_vs_param
    from carpentry_kit.explore.report import render_markdown
    from carpentry_kit.results.store import ResultStore

    ax = plot_metric_vs_param(mixed_store, "latency_s", "task.params.size")
    plotted = [y for line in ax.get_lines() for y in line.get_ydata()]
    records = ResultStore(mixed_store).records()
    measured = {r["metrics"]["latency_s"]["value"] for r in records if r["status"] == "completed"}
    predicted = {r["metrics"]["latency_s"]["value"] for r in records if r["status"] == PREDICTED}
    assert predicted.isdisjoint(plotted) and measured & set(plotted)
    markdown = render_markdown(records)
    assert not any(f"{value:.4g}" in markdown for value in predicted)


def test_the_html_report_labels_predictions(mixed_store, tmp_path):
    from carpentry_kit.explore.report import write_report

    html = write_report(mixed_store, tmp_path / "report.html").read_text()
    assert "PREDICTED" in html and PREDICTED in html


def test_prediction_error_per_metric():
    predicted = {"metrics": {"latency_s": {"unit": "s", "value": 1.2, PREDICTED: {"low": 1.0, "high": 2.0}}}}
    measured = {"metrics": {"latency_s": {"value": 1.0}, "gflops": {"value": 3.0}}}
    (row,) = prediction_error(predicted, measured)
    assert row["error"] == pytest.approx(0.2) and row["inside"]


def test_time_to_quality_takes_epochs_from_measured_runs(tmp_path):
    from carpentry_kit.measure.runner import run

    spec = example_spec_path("digits-mlp")
    metrics = [
        {"name": "test_accuracy", "kind": "quality", "unit": "fraction", "goal": "maximize", "target": 0.9},
        {"name": "time_to_target_s", "kind": "performance", "unit": "s", "goal": "minimize"},
        {"name": "epochs_to_target", "kind": "performance", "unit": "epochs", "goal": "minimize"},
    ]
    overrides = {"protocol.repeats": 1, "protocol.seeds": [0], "metrics": metrics}
    first = predict(spec, "nvidia-a100-sxm", overrides=overrides, out=tmp_path)
    assert "not known" in first.metrics["time_to_target_s"][PREDICTED]["note"]
    measured = run(spec, overrides=overrides, out=tmp_path, progress=False, energy="estimate")
    epochs = measured.metrics["epochs_to_target"]["samples"]
    second = predict(spec, "nvidia-a100-sxm", overrides=overrides, out=tmp_path)
    assert "measured" in second.metrics["time_to_target_s"][PREDICTED]["note"]
    assert second.metrics["time_to_target_s"]["value"] == pytest.approx(epochs[0] * second.time.typical_s)


# ---------------------------------------------------------------- calibration and the command line


def test_calibrate_measures_this_machine_and_says_how(tmp_path):
    from carpentry_kit.predict.calibrate import calibrate, write_profile

    data = calibrate(quick=True)
    profile = load_profile(write_profile(data, tmp_path / "this.yaml"))
    assert profile.measured and profile.kind == "cpu"
    assert all(figure.source.startswith("measured") for figure in profile.peak_flop_s.values())
    assert profile.single_thread_flop_s["float64"].value > 0
    low, bare, high = profile.overhead_s.value
    assert 0 < low <= bare <= high < 1e-2  # a bare call up to a call inside a tiny training step
    assert set(profile.overhead_in_loop_s) == {"training", "query"}
    if not data["calibration"]["power_measured"]:  # no RAPL here: the power is an estimate, and says so
        assert "ESTIMATED" in profile.power_max_w.source


def test_cli_predict_and_a_bad_hardware_name(tmp_path, capsys):
    spec = str(example_spec_path("matmul"))
    assert main(["predict", spec, "--hardware", "amd-mi300x", "--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "PREDICTED" in output and "status: predicted" in output
    record = json.loads((tmp_path / "runs.jsonl").read_text())
    assert record["status"] == PREDICTED
    assert main(["predict", spec, "--hardware", "tpu-v9", "--no-record"]) == 2
    error = capsys.readouterr().err.strip()
    assert (
        error.startswith("carpentry predict: --hardware tpu-v9: no such hardware profile")
        and "\n" not in error
    )


def test_cli_calibrate_writes_a_profile_predict_reads(tmp_path, capsys):
    profile = tmp_path / "this.yaml"
    assert main(["calibrate", "--quick", "-o", str(profile)]) == 0
    assert load_profile(profile).measured
    spec = str(example_spec_path("matmul"))
    assert main(["predict", spec, "--hardware", str(profile), "--no-record"]) == 0
    assert "PREDICTED" in capsys.readouterr().out
