"""``run()`` end to end: shipped examples, refusals before running, validity, failures and interruptions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest
from mlperf_logging.compliance_checker.mlp_parser import parse_file

from carpentry_kit.errors import SpecError
from carpentry_kit.measure.runner import run
from carpentry_kit.results.frame import FRAME_COLUMNS, load_results
from carpentry_kit.results.store import ResultStore
from carpentry_kit.spec.load import example_spec_path
from carpentry_kit.workloads import Workload, register_workload

# Overrides that keep each shipped example to a second or two.
QUICK = {
    "matmul": {"task.params.size": 64, "protocol.min_duration_s": 0.0, "protocol.repeats": 5},
    "digits-mlp": {"protocol.repeats": 1},
    "digits-inference": {"protocol.repeats": 2, "protocol.queries": 20, "task.params.train_epochs": 5},
    "heat-surrogate": {"protocol.repeats": 1},
}


@register_workload
class Countdown(Workload):
    """Counts steps; raises ``error`` (a class name) at step ``fail_at`` (-1: in setup); score = steps."""

    name = "test-countdown"
    summary = "test workload: fails or is interrupted on request"
    scenarios = ("offline",)
    defaults = {"fail_at": 0, "error": "RuntimeError"}
    quality_metrics = {"score": "steps"}

    def setup(self) -> None:
        self.steps = 0
        if self.params["fail_at"] == -1:
            raise RuntimeError("setup broke")

    def step(self) -> int:
        self.steps += 1
        if self.steps == self.params["fail_at"]:
            raise {"RuntimeError": RuntimeError, "KeyboardInterrupt": KeyboardInterrupt}[
                self.params["error"]
            ]("step broke")
        return 1

    def evaluate(self) -> dict[str, float]:
        return {"score": float(self.steps)}

    def reset(self, seed: int) -> None:
        self.steps = 0


def countdown_spec(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "countdown.yaml"
    text = f"""\
        spec_version: 1
        benchmark: {{name: countdown}}
        infrastructure:
          cpu_cores: 1
        task: {{workload: test-countdown}}
        metrics:
          - {{name: latency_s, kind: performance, unit: s, goal: minimize}}
          - {{name: score, kind: quality, unit: steps, goal: maximize}}
        protocol: {{warmup: 0, repeats: 5}}
        {extra}
        """
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize("name", sorted(QUICK))
def test_every_shipped_example_runs(name, tmp_path):
    result = run(
        example_spec_path(name), overrides=QUICK[name], energy="estimate", out=tmp_path, progress=False
    )
    record = result.record
    assert record["status"] == "completed", record["error"]
    assert result.valid, record["reasons"]
    for metric in record["metrics"].values():
        assert metric["value"] is not None and metric["stats"]["n"] >= 1
    assert record["energy"]["method"] == "estimate" and record["energy"]["measured"] is False
    assert record["energy"]["total_j"] > 0
    assert record["overrides"] == QUICK[name]
    assert record["peak_memory_mib"] > 10
    stored = load_results(tmp_path)
    assert list(stored.columns[: len(FRAME_COLUMNS)]) == FRAME_COLUMNS
    assert stored["run_id"].unique().tolist() == [result.run_id]
    assert list(result.to_frame().columns) == list(stored.columns)
    log_lines, errors = parse_file(str(tmp_path / "mllog" / f"{result.run_id}.log"), ruleset="6.0.0")
    assert errors == [] and {"run_start", "run_stop"} <= {line.key for line in log_lines}
    assert "Result is: VALID" in repr(result) and "<table>" in result._repr_html_()
    html = result._repr_html_()
    for part in (
        result.run_id[:12],
        "ESTIMATED (method: estimate)",
        "how: estimate",
        "carbon: ",
        "peak memory",
    ):
        assert part in html
    stored_frame = load_results(tmp_path)
    pd.testing.assert_frame_equal(result.to_frame(), stored_frame)  # the same values, not only columns


def test_matmul_gflops_agree_with_latency(tmp_path):
    overrides = {**QUICK["matmul"], "task.params.multiplies": 2}
    metrics = run(
        "carpentry_kit/examples/matmul.yaml", overrides, "estimate", out=tmp_path, progress=False
    ).metrics
    flop = 2 * 2 * 64**3  # two 64x64 multiplies a step
    gflops_from_latency = [flop / seconds / 1e9 for seconds in metrics["latency_s"]["samples"]]
    assert metrics["gflops"]["samples"] == pytest.approx(gflops_from_latency)


def test_missing_infrastructure_is_refused_with_file_and_line(tmp_path):
    spec = countdown_spec(tmp_path)
    spec.write_text(spec.read_text().replace("cpu_cores: 1", "cpu_cores: 4096"))
    with pytest.raises(
        SpecError, match=r"countdown.yaml:4:\d+: infrastructure.cpu_cores: needs 4096 CPU cores"
    ):
        run(spec, energy="estimate", out=tmp_path / "results", progress=False)
    assert not (tmp_path / "results").exists()  # nothing ran, nothing recorded


def test_missing_package_and_python_are_named(tmp_path):
    extra = "infrastructure:\n  software: {python: '<3', packages: {no-such-package-xyz: '>=1'}}"
    spec = countdown_spec(tmp_path).read_text().replace("infrastructure:\n  cpu_cores: 1\n", "")
    path = tmp_path / "software.yaml"
    path.write_text(spec + extra + "\n")
    with pytest.raises(SpecError) as error:
        run(path, energy="estimate", out=tmp_path, progress=False)
    text = str(error.value)
    assert "infrastructure.software.python: needs Python <3" in text
    assert "package 'no-such-package-xyz' is not installed — pip install 'no-such-package-xyz>=1'" in text


def test_metric_the_scenario_cannot_produce_lists_the_ones_it_can(tmp_path):
    with pytest.raises(
        SpecError, match=r"cannot produce 'latency_p90_s' .* it can produce: latency_s, throughput"
    ):
        run(
            "carpentry_kit/examples/matmul.yaml",
            {"metrics.1.name": "latency_p90_s"},
            "estimate",
            out=tmp_path,
            progress=False,
        )


def test_workload_failure_is_recorded_as_failed(tmp_path):
    result = run(
        countdown_spec(tmp_path), {"task.params.fail_at": 3}, "estimate", out=tmp_path, progress=False
    )
    assert result.record["status"] == "failed"
    assert "RuntimeError: step broke (at test_runner.py" in result.record["error"]
    assert not result.valid and result.record["reasons"][0].startswith("the run failed: RuntimeError")
    assert ResultStore(tmp_path).records()[0]["status"] == "failed"


def test_failure_in_setup_is_recorded_and_its_log_stays_well_formed(tmp_path, recwarn):
    result = run(
        countdown_spec(tmp_path), {"task.params.fail_at": -1}, "estimate", out=tmp_path, progress=False
    )
    assert result.record["status"] == "failed" and "setup broke" in result.record["error"]
    assert not [w for w in recwarn if "MLLOG" in str(w.message)]
    log = (tmp_path / "mllog" / f"{result.record['run_id']}.log").read_text()
    assert '"init_start"' in log and '"run_stop"' not in log


def test_interrupted_run_is_recorded_then_reraised(tmp_path):
    overrides = {"task.params.fail_at": 4, "task.params.error": "KeyboardInterrupt"}
    with pytest.raises(KeyboardInterrupt):
        run(countdown_spec(tmp_path), overrides, "estimate", out=tmp_path, progress=False)
    (record,) = ResultStore(tmp_path).records()
    assert record["status"] == "interrupted" and record["validity"] == "INVALID"
    assert record["metrics"]["latency_s"]["stats"]["n"] == 3  # the repeats done before Ctrl-C are kept


def test_constraints_make_a_result_invalid_with_reasons(tmp_path):
    overrides = {
        "constraints.energy_budget_j": 1e-9,
        "constraints.peak_memory_mib": 1,
        "constraints.max_power_w": 1e-6,
    }
    result = run(countdown_spec(tmp_path), overrides, "estimate", out=tmp_path, progress=False)
    reasons = " | ".join(result.record["reasons"])
    assert "estimated energy" in reasons and "over the budget of 1e-09 J" in reasons
    assert "peak memory" in reasons and "over the limit of 1 MiB" in reasons
    assert "average power" in reasons
    assert "Result is: INVALID" in repr(result)


def test_time_budget_and_unreached_target_are_reasons(tmp_path):
    overrides = {"task.params.max_epochs": 1, "metrics.0.target": 0.999}
    result = run(
        "carpentry_kit/examples/digits-mlp.yaml", overrides, "estimate", 1, out=tmp_path, progress=False
    )
    assert result.record["reasons"] == [
        "repeat 1 (seed 0): test_accuracy >= 0.999 not reached — "
        f"{result.measurement.quality[0]['test_accuracy']:.4g} after 1 epoch"
    ]
    assert result.metrics["time_to_target_s"]["value"] is None
    budget = {"constraints.time_budget_s": 0.05, "protocol.repeats": 100000}
    result = run(countdown_spec(tmp_path), budget, "estimate", out=tmp_path, progress=False)
    assert result.record["reasons"][0].startswith("time budget of 0.05 s ran out with")
