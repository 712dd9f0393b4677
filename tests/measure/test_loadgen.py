"""The inference scenarios on MLPerf's real LoadGen: settings from the spec, LoadGen's verdict and figures in
the record, its logs kept, and a token workload's TTFT and TPOT."""

from __future__ import annotations

import pytest
from spin import busy_wait

from carpentry_kit.measure.loadgen import LoadGenEngine, harness_floor, invalid_reasons, read_detail_log
from carpentry_kit.spec.model import Protocol
from carpentry_kit.workloads import Workload

pytest.importorskip("mlperf_loadgen")


class Spin(Workload):
    """An inference workload whose query spins for ``query_s``."""

    name = "spin-inference"
    summary = "spins per query"
    scenarios = ("single-stream", "multi-stream", "server", "offline")
    defaults = {"query_s": 0.0005, "batch_size": 4}
    quality_metrics = {"queries": "count"}
    inference = True

    def setup(self) -> None:
        self.answered = 0

    def step(self) -> int:
        return 1

    def query(self, index: int) -> None:
        busy_wait(self.params["query_s"])
        self.answered += 1

    def sample_count(self) -> int:
        return 32

    def evaluate(self) -> dict[str, float]:
        return {"queries": float(self.answered)}

    def reset(self, seed: int) -> None:
        self.answered = 0


def spin(**params) -> Spin:
    workload = Spin(params, {})
    workload.setup()
    return workload


def protocol(scenario: str, **loadgen) -> Protocol:
    settings = {"min_duration_s": 0.2, "min_query_count": 64, "expected_latency_s": 0.001, **loadgen}
    return Protocol(scenario=scenario, repeats=1, loadgen=settings)


def test_single_stream_is_run_by_loadgen_and_its_logs_are_kept(tmp_path):
    engine = LoadGenEngine(spin(query_s=0.001), protocol("single-stream"), log_dir=tmp_path)
    measurement = engine.run()
    (run,) = engine.runs
    assert run.valid, run.reasons
    assert run.results["result_query_count"] >= 64
    assert len(measurement.query_latency_s) == measurement.samples[0] == run.results["result_query_count"]
    assert min(measurement.query_latency_s) >= 0.001  # the SUT's own clock: at least the work
    assert run.latency_s("90.00") >= 0.001  # LoadGen's clock: the work and its own overhead
    assert (tmp_path / "repeat-0" / "mlperf_log_summary.txt").read_text().count("Result is : VALID") == 1
    assert measurement.quality == [{"queries": float(measurement.samples[0])}]


def test_server_that_cannot_meet_its_latency_bound_is_invalid_with_loadgen_reasons(tmp_path):
    settings = protocol("server", target_qps=200, target_latency_s=0.001, latency_percentile=0.9)
    engine = LoadGenEngine(spin(query_s=0.004), settings, log_dir=tmp_path)
    engine.run()
    (run,) = engine.runs
    assert not run.valid
    assert any("Performance constraints satisfied: NO" in reason for reason in run.reasons), run.reasons


def test_multi_stream_queries_hold_samples_per_query(tmp_path):
    engine = LoadGenEngine(spin(), protocol("multi-stream", samples_per_query=4), log_dir=tmp_path)
    measurement = engine.run()
    assert measurement.samples[0] == 4 * engine.runs[0].results["result_query_count"]


def test_offline_answers_every_sample_in_batches(tmp_path):
    engine = LoadGenEngine(spin(), protocol("offline", expected_qps=100), log_dir=tmp_path)
    measurement = engine.run()
    assert engine.runs[0].results["result_samples_per_second"] > 0
    assert measurement.samples[0] >= 64  # every sample of the one offline query, answered in batches of 4


def test_the_harness_floor_is_a_null_suts_latency(tmp_path):
    floor = harness_floor(tmp_path / "floor")
    assert 0 < floor["p50_s"] <= floor["p90_s"] < 0.05
    assert not (tmp_path / "floor").exists()


def test_detail_log_and_summary_parsing(tmp_path):
    engine = LoadGenEngine(spin(), protocol("single-stream"), log_dir=tmp_path)
    engine.run()
    results = read_detail_log(tmp_path / "repeat-0" / "mlperf_log_detail.txt")
    assert results["result_validity"] == "VALID" and "result_90.00_percentile_latency_ns" in results
    assert invalid_reasons(tmp_path / "repeat-0" / "mlperf_log_summary.txt") == []


TOKEN_LATENCIES = [
    {"name": "ttft_s", "kind": "performance", "unit": "s", "goal": "minimize"},
    {"name": "tpot_s", "kind": "performance", "unit": "s", "goal": "minimize"},
]
LATENCIES = {
    "single-stream": TOKEN_LATENCIES,
    "multi-stream": TOKEN_LATENCIES,
    "server": TOKEN_LATENCIES,
    "offline": [],
}
TINY_LM = {"width": 16, "layers": 1, "heads": 2, "train_steps": 5, "output_tokens": 4, "batch_size": 4}


@pytest.mark.parametrize("scenario", ["single-stream", "multi-stream", "server", "offline"])
def test_tiny_lm_runs_every_scenario_with_token_figures(tmp_path, scenario):
    import carpentry_kit as ck
    from carpentry_kit.spec.load import example_spec_path

    overrides = {
        "protocol.scenario": scenario,
        "task.params": TINY_LM,
        "protocol.loadgen.min_duration_s": 0.1,
        "protocol.loadgen.min_query_count": 16,
        "protocol.loadgen.target_qps": 50,
        "metrics": [
            *LATENCIES[scenario],
            {"name": "tokens_per_s", "kind": "performance", "unit": "tokens/s", "goal": "maximize"},
            {"name": "throughput", "kind": "performance", "unit": "samples/s", "goal": "maximize"},
            {"name": "energy_per_token_j", "kind": "energy", "unit": "J", "goal": "minimize"},
        ],
    }
    result = ck.run(
        example_spec_path("tiny-lm"), overrides=overrides, out=tmp_path, progress=False, energy="estimate"
    )
    record = result.record
    assert record["status"] == "completed", record["error"]
    metrics = record["metrics"]
    assert metrics["tokens_per_s"]["value"] > 0 and metrics["throughput"]["value"] > 0
    if scenario != "offline":  # offline is scored by throughput: LoadGen gives no token latencies there
        assert metrics["ttft_s"]["value"] > 0 and metrics["tpot_s"]["value"] > 0
    assert metrics["energy_per_token_j"]["value"] > 0
    assert record["loadgen"]["harness_floor"]["p90_s"] > 0
    (test,) = record["loadgen"]["tests"]
    assert test["scenario"] == scenario and test["validity"] in ("VALID", "INVALID")
    assert (tmp_path / "loadgen" / result.run_id / "repeat-0" / "mlperf_log_summary.txt").exists()
    if test["validity"] == "INVALID":  # LoadGen's reasons become the record's
        assert any(reason.startswith("LoadGen: ") for reason in record["reasons"])
