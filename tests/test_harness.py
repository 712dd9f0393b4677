"""The timing loops, with small real workloads (subclasses of the real ``Workload`` base) defined here."""

from __future__ import annotations

import time
from typing import Any

import pytest

from carpentry_kit.energy.base import EnergyMeter
from carpentry_kit.harness import Harness, QualityTarget
from carpentry_kit.spec_model import Protocol
from carpentry_kit.stats import summarize
from carpentry_kit.workloads import Workload


def busy_wait(seconds: float) -> None:
    """Spin rather than sleep: a sleep's wake-up jitter would swamp millisecond timings."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class SpinWorkload(Workload):
    """Each step spins for ``step_s`` (the first ``slow_first`` steps for ``first_s``); logs every call."""

    name = "spin"
    summary = "spins for a fixed time per step"
    scenarios = ("offline", "single-stream", "time-to-quality")
    defaults = {"step_s": 0.002, "first_s": 0.002, "slow_first": 0, "query_s": 0.0005, "evaluate_s": 0.0}
    quality_metrics = {"score": "epochs"}

    def setup(self) -> None:
        self.calls: list[tuple[str, float]] = []
        self.steps = 0
        self.epochs = 0

    def step(self) -> int:
        self.steps += 1
        self.epochs += 1
        slow = self.steps <= self.params["slow_first"]
        busy_wait(self.params["first_s"] if slow else self.params["step_s"])
        self.calls.append(("step", time.perf_counter()))
        return 10

    def query(self, index: int) -> None:
        busy_wait(self.params["query_s"])

    def evaluate(self) -> dict[str, float]:
        self.calls.append(("evaluate", time.perf_counter()))
        busy_wait(self.params["evaluate_s"])
        return {"score": float(self.epochs)}

    def reset(self, seed: int) -> None:
        self.epochs = 0


class WindowLog(EnergyMeter):
    """Records the edges of every window; energy = 1 J per second of window (a known answer)."""

    method = "estimate"

    def __init__(self) -> None:
        super().__init__()
        self.edges: list[tuple[float, float]] = []
        self._opened = 0.0

    def _snapshot(self) -> Any:
        now = time.perf_counter()
        if self._started_at is None:
            self._opened = now
        else:
            self.edges.append((self._opened, now))
        return now

    def _components(self, start: Any, stop: Any, duration_s: float) -> dict[str, float]:
        return {"cpu": stop - start}


def spin(**params: Any) -> SpinWorkload:
    workload = SpinWorkload(params, {})
    workload.setup()
    return workload


def test_offline_warmup_is_excluded_and_steps_are_timed():
    workload = spin(step_s=0.002, first_s=0.05, slow_first=2)
    measurement = Harness(workload, Protocol(warmup=2, repeats=8)).run()
    assert measurement.warmup_done == 2
    assert measurement.repeats == 8
    assert max(measurement.repeat_s) < 0.02  # the two slow warm-up steps are not in the samples
    assert min(measurement.repeat_s) >= 0.002
    assert measurement.samples == [10] * 8
    assert measurement.quality == [{"score": 10.0}]
    assert measurement.stop_reason.startswith("8 repeats done")


def test_min_duration_adds_repeats():
    measurement = Harness(spin(step_s=0.002), Protocol(warmup=0, repeats=2, min_duration_s=0.05)).run()
    assert measurement.timed_s >= 0.05
    assert measurement.repeats > 2


def test_single_stream_records_every_query_latency():
    protocol = Protocol(scenario="single-stream", warmup=1, repeats=3, queries=20)
    measurement = Harness(spin(query_s=0.001), protocol).run()
    assert len(measurement.query_latency_s) == 60
    assert min(measurement.query_latency_s) >= 0.001
    assert sorted(measurement.query_latency_s)[30] < 0.01  # the median query; robust to a busy machine
    assert measurement.repeat_s[0] == pytest.approx(sum(measurement.query_latency_s[:20]), rel=0.1)
    assert measurement.samples == [20, 20, 20]


def test_time_to_quality_excludes_evaluation_and_windows_cover_only_steps():
    workload = spin(step_s=0.003, evaluate_s=0.02)
    meter = WindowLog()
    target = QualityTarget("score", 3.0, "maximize")
    protocol = Protocol(scenario="time-to-quality", warmup=0, repeats=2, seeds=[4, 5])
    measurement = Harness(workload, protocol, target=target, meter=meter).run()
    assert measurement.epochs == [3, 3]
    assert measurement.reached == [True, True]
    assert measurement.seeds == [4, 5]
    assert all(0.009 <= seconds < 0.03 for seconds in measurement.repeat_s)  # 3 x 3 ms, no 20 ms evals
    assert len(meter.edges) == 6  # one window per epoch
    evaluations = [moment for kind, moment in workload.calls if kind == "evaluate"]
    assert not any(begin <= moment <= end for begin, end in meter.edges for moment in evaluations)
    assert measurement.energy_per_repeat_j == pytest.approx(measurement.repeat_s, rel=0.2, abs=5e-4)


def test_time_to_quality_minimize_goal_and_epoch_cap():
    target = QualityTarget("score", 0.5, "minimize")  # the score only grows: never reached
    protocol = Protocol(scenario="time-to-quality", warmup=0, repeats=1)
    measurement = Harness(spin(step_s=0.0), protocol, target=target, max_epochs=7).run()
    assert measurement.reached == [False]
    assert measurement.epochs == [7]
    assert not target.reached({"score": 0.6}) and target.reached({"score": 0.5})


def test_time_budget_stops_cleanly_between_steps_and_says_why():
    started = time.perf_counter()
    measurement = Harness(spin(step_s=0.01), Protocol(warmup=0, repeats=10_000), time_budget_s=0.1).run()
    assert time.perf_counter() - started < 0.5
    assert measurement.budget_exhausted
    assert 5 <= measurement.repeats < 10_000
    assert "time budget of 0.1 s ran out" in measurement.stop_reason
    assert measurement.quality  # still evaluated, untimed, after stopping


def test_time_budget_cuts_a_time_to_quality_repeat_short():
    target = QualityTarget("score", 1e9, "maximize")
    protocol = Protocol(scenario="time-to-quality", warmup=0, repeats=3)
    measurement = Harness(spin(step_s=0.005), protocol, target=target, time_budget_s=0.05).run()
    assert measurement.budget_exhausted
    assert measurement.reached == [False]
    assert measurement.epochs[0] >= 1


def test_adaptive_stops_when_the_ci_is_narrow():
    protocol = Protocol(
        warmup=0, repeats=5, adaptive={"enabled": True, "rel_ci_width": 0.5, "max_repeats": 100}
    )
    measurement = Harness(spin(step_s=0.02), protocol).run()  # long enough to average out a busy machine
    assert 5 <= measurement.repeats < 100
    assert summarize(measurement.repeat_s).rel_ci_width <= 0.5
    assert measurement.stop_reason.startswith("adaptive: 95% CI of the median is")


def test_adaptive_gives_up_at_max_repeats():
    protocol = Protocol(
        warmup=0, repeats=3, adaptive={"enabled": True, "rel_ci_width": 1e-6, "max_repeats": 30}
    )
    measurement = Harness(spin(step_s=0.0002), protocol).run()
    assert measurement.repeats == 30
    assert "max_repeats 30 reached" in measurement.stop_reason


def test_interrupted_loop_keeps_the_partial_measurement():
    class Interrupting(SpinWorkload):
        def step(self) -> int:
            if self.steps == 3:
                raise KeyboardInterrupt
            return super().step()

    workload = Interrupting({"step_s": 0.0}, {})
    workload.setup()
    harness = Harness(workload, Protocol(warmup=0, repeats=10))
    with pytest.raises(KeyboardInterrupt):
        harness.run()
    assert harness.measurement.repeats == 3
