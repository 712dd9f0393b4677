"""The timing loops, with small real workloads (subclasses of the real ``Workload`` base) defined here."""

from __future__ import annotations

import math
import re
import time
from typing import Any

import numpy as np
import pytest
from spin import busy_wait

from carpentry_kit.energy.base import EnergyMeter
from carpentry_kit.measure.harness import Harness, QualityTarget
from carpentry_kit.spec.model import Protocol
from carpentry_kit.stats import summarize
from carpentry_kit.workloads import Workload


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
    meter = WindowLog()
    measurement = Harness(workload, Protocol(warmup=2, repeats=8), meter=meter).run()
    assert measurement.warmup_done == 2
    assert measurement.repeats == 8
    steps = [moment for kind, moment in workload.calls if kind == "step"]
    assert len(steps) == 10 and len(meter.edges) == 8
    assert all(moment < meter.edges[0][0] for moment in steps[:2])  # warm-up steps: before any window
    assert all(begin <= moment <= end for moment, (begin, end) in zip(steps[2:], meter.edges, strict=True))
    assert min(measurement.repeat_s) >= 0.002  # a spin of 2 ms cannot be timed shorter
    assert max(measurement.repeat_s) < 0.05  # not the 50 ms warm-up steps (only a >48 ms stall could fail)
    assert measurement.samples == [10] * 8
    assert measurement.quality == [{"score": 10.0}]
    assert measurement.stop_reason.startswith("8 repeats done")


def test_min_duration_adds_repeats():
    measurement = Harness(spin(step_s=0.002), Protocol(warmup=0, repeats=2, min_duration_s=0.05)).run()
    assert measurement.timed_s >= 0.05
    assert measurement.repeats > 2


def test_time_to_quality_clock_runs_through_evaluation_as_mlperf_requires():
    workload = spin(step_s=0.003, evaluate_s=0.02)
    meter = WindowLog()
    target = QualityTarget("score", 3.0, "maximize")
    events: list[tuple[str, str, Any, dict]] = []
    protocol = Protocol(scenario="time-to-quality", warmup=0, repeats=2, seeds=[4, 5])
    harness = Harness(
        workload, protocol, target=target, meter=meter, on_event=lambda *event: events.append(event)
    )
    measurement = harness.run()
    assert measurement.epochs == [3, 3] and measurement.reached == [True, True]
    # 3 x 3 ms of steps and 3 x 20 ms of evaluations, the last one being the one that met the target
    assert all(seconds >= 0.069 for seconds in measurement.repeat_s)
    assert len(meter.edges) == 2  # one window per repeat, from its first epoch to the target
    evaluations = [moment for kind, moment in workload.calls if kind == "evaluate"]
    assert all(any(begin <= moment <= end for begin, end in meter.edges) for moment in evaluations)
    keys = [key for _, key, _, _ in events]
    assert keys[:7] == [
        "seed",
        "epoch_start",
        "epoch_stop",
        "eval_start",
        "eval_stop",
        "quality",
        "epoch_start",
    ]
    assert [meta["epoch_num"] for _, key, _, meta in events if key == "quality"] == [1, 2, 3, 1, 2, 3]
    assert [value for _, key, value, _ in events if key == "seed"] == [4, 5]


def test_time_to_quality_can_exclude_evaluation_and_windows_cover_only_steps():
    workload = spin(step_s=0.003, evaluate_s=0.05)
    meter = WindowLog()
    target = QualityTarget("score", 3.0, "maximize")
    protocol = Protocol(
        scenario="time-to-quality", warmup=0, repeats=2, seeds=[4, 5], clock_includes_eval=False
    )
    measurement = Harness(workload, protocol, target=target, meter=meter).run()
    assert measurement.epochs == [3, 3]
    assert measurement.reached == [True, True]
    assert measurement.seeds == [4, 5]
    # 3 x 3 ms of steps; the two or three 50 ms evaluations inside each repeat would add >= 0.1 s
    assert all(0.009 <= seconds < 0.1 for seconds in measurement.repeat_s)
    assert len(meter.edges) == 6  # one window per epoch
    evaluations = [moment for kind, moment in workload.calls if kind == "evaluate"]
    assert not any(begin <= moment <= end for begin, end in meter.edges for moment in evaluations)
    # 1 J per window second: each repeat's windows hold its timed epochs, plus a few clock reads
    for joules, seconds in zip(measurement.energy_per_repeat_j, measurement.repeat_s, strict=True):
        assert seconds <= joules < seconds + 0.05


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
    assert time.perf_counter() - started < 1.0  # the budget plus one step and an evaluation
    assert measurement.budget_exhausted
    assert 1 <= measurement.repeats <= 11  # at most 0.1 s / 10 ms steps + the one that crossed it
    assert "time budget of 0.1 s ran out" in measurement.stop_reason
    assert measurement.quality  # still evaluated, untimed, after stopping


def test_time_budget_cuts_a_time_to_quality_repeat_short():
    target = QualityTarget("score", 1e9, "maximize")
    protocol = Protocol(scenario="time-to-quality", warmup=0, repeats=3)
    measurement = Harness(spin(step_s=0.005), protocol, target=target, time_budget_s=0.05).run()
    assert measurement.budget_exhausted
    assert measurement.reached == [False]
    assert measurement.epochs[0] >= 1


class FakeClock:
    """Stands in for the harness's ``time`` module: steps advance it by known amounts (no timing noise)."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


class ClockedWorkload(SpinWorkload):
    """Each step takes ``durations[i % len]`` seconds of the fake clock."""

    def __init__(self, clock: FakeClock, durations: list[float]) -> None:
        super().__init__({}, {})
        self.clock, self.durations = clock, durations
        self.setup()

    def step(self) -> int:
        self.clock.now += self.durations[self.steps % len(self.durations)]
        self.steps += 1
        return 1


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    import carpentry_kit.measure.harness

    fake = FakeClock()
    monkeypatch.setattr(carpentry_kit.measure.harness, "time", fake)
    return fake


def test_adaptive_stops_when_the_ci_is_narrow(clock: FakeClock):
    protocol = Protocol(
        warmup=0, repeats=5, adaptive={"enabled": True, "rel_ci_width": 0.1, "max_repeats": 100}
    )
    # a noisy series (1..1.4 ms, and a 5 ms outlier) whose median CI narrows as repeats add up
    durations = [0.001, 0.0012, 0.0014, 0.005, 0.0011, 0.0013]
    measurement = Harness(ClockedWorkload(clock, durations), protocol).run()
    assert 5 < measurement.repeats < 100
    assert summarize(measurement.repeat_s).rel_ci_width <= 0.1
    assert summarize(measurement.repeat_s[:5]).rel_ci_width > 0.1  # the 5 planned repeats were not enough
    assert re.match(r"adaptive: the 9\d\.\d % CI of the median is", measurement.stop_reason)


def test_adaptive_gives_up_at_max_repeats(clock: FakeClock):
    protocol = Protocol(
        warmup=0, repeats=3, adaptive={"enabled": True, "rel_ci_width": 1e-6, "max_repeats": 30}
    )
    measurement = Harness(ClockedWorkload(clock, [0.001, 0.002]), protocol).run()
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


class EventMeter(EnergyMeter):
    """Appends "begin"/"end" to a shared event list at the window edges."""

    method = "estimate"

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    def _snapshot(self) -> Any:
        self.events.append("begin" if self._started_at is None else "end")
        return 0.0

    def _components(self, start: Any, stop: Any, duration_s: float) -> dict[str, float]:
        return {"cpu": 0.0}


@pytest.mark.parametrize("scenario", ["offline", "time-to-quality"])
def test_device_is_synced_before_each_window_opens_and_before_it_closes(scenario):
    events: list[str] = []

    class Synced(SpinWorkload):
        def sync(self) -> None:
            events.append("sync")

        def step(self) -> int:
            events.append("work")
            return super().step()

        def query(self, index: int) -> None:
            events.append("work")

    workload = Synced({"step_s": 0.0, "query_s": 0.0}, {})
    workload.setup()
    protocol = Protocol(scenario=scenario, warmup=0, repeats=2, queries=1)
    target = QualityTarget("score", 1.0, "maximize")
    Harness(workload, protocol, meter=EventMeter(events), target=target).run()
    # queued device work is finished before the window opens, and the window's own work before it closes
    assert events == ["sync", "begin", "work", "sync", "end"] * 2


def test_interrupted_time_to_quality_keeps_finished_repeats_only():
    class Interrupting(SpinWorkload):
        def step(self) -> int:
            if self.steps == 3:  # the second repeat's first epoch
                raise KeyboardInterrupt
            return super().step()

    workload = Interrupting({"step_s": 0.0}, {})
    workload.setup()
    protocol = Protocol(scenario="time-to-quality", warmup=0, repeats=3)
    harness = Harness(workload, protocol, target=QualityTarget("score", 3.0, "maximize"))
    with pytest.raises(KeyboardInterrupt):
        harness.run()
    measurement = harness.measurement
    assert measurement.repeats == 1 and measurement.epochs == [3] and measurement.reached == [True]


# --- O(1) work per repeat: the running sums and the incremental CI check decide as the old code did ---------


def old_stop(series: list[float], protocol: Protocol) -> tuple[int, str]:
    """The decision the harness made before it kept running sums: ``sum()`` and a full ``summarize()`` of
    the whole series at every check (same schedule). Returns (repeats at the stop, the kind of stop)."""
    adaptive, last_check = protocol.adaptive, 0
    for count in range(1, len(series) + 1):
        prefix = series[:count]
        if count < protocol.repeats or sum(prefix) < protocol.min_duration_s:
            continue
        if not adaptive.enabled:
            return count, "repeats"
        if count >= adaptive.max_repeats:
            return count, "max_repeats"
        if count < 20 or count - last_check >= count // 20:
            last_check = count
            summary = summarize(prefix)
            if summary.ci_level >= 0.95 and summary.rel_ci_width <= adaptive.rel_ci_width:
                return count, "ci"
    raise AssertionError("the stream ran out before the old rule stopped")


def random_stream(rng: Any, length: int) -> list[float]:
    """Repeat times of one of several shapes: lognormal, heavy-tailed, with ties, drifting, constant."""
    shape = rng.integers(5)
    base = float(rng.uniform(1e-4, 1e-2))
    if shape == 0:
        values = base * rng.lognormal(0.0, rng.uniform(0.01, 0.5), length)
    elif shape == 1:
        values = base * (1.0 + rng.pareto(rng.uniform(1.0, 3.0), length))
    elif shape == 2:  # a coarse clock: many exact ties
        values = base * rng.integers(1, 4, length).astype(float)
    elif shape == 3:  # a machine that slows down: the median keeps moving
        values = (
            base * (1.0 + np.linspace(0.0, rng.uniform(0.0, 2.0), length)) * rng.lognormal(0, 0.05, length)
        )
    else:
        values = np.full(length, base)
    return [float(v) for v in values]


def test_adaptive_stopping_decides_as_a_full_summarize_would_on_many_streams(clock: FakeClock):
    rng = np.random.default_rng(20261202)
    kinds = set()
    for _ in range(150):
        durations = random_stream(rng, 700)
        protocol = Protocol(
            warmup=0,
            repeats=int(rng.integers(1, 12)),
            min_duration_s=float(rng.choice([0.0, rng.uniform(0.0, 0.5)])),
            adaptive={
                "enabled": bool(rng.random() < 0.9),
                "rel_ci_width": float(rng.choice([1e-9, rng.uniform(0.001, 0.3)])),
                "max_repeats": int(rng.integers(30, 600)),
            },
        )
        clock.now = 0.0
        measurement = Harness(ClockedWorkload(clock, durations), protocol).run()
        count, kind = old_stop(measurement.repeat_s, protocol)
        kinds.add(kind)
        assert measurement.repeats == count, (protocol, kind)
        expected = {"repeats": "repeats done", "max_repeats": "max_repeats", "ci": "CI of the median"}
        assert expected[kind] in measurement.stop_reason
    assert kinds == {"repeats", "max_repeats", "ci"}  # every branch was exercised


def test_running_sums_equal_the_sums(clock: FakeClock):
    rng = np.random.default_rng(5)
    durations = [float(v) for v in rng.lognormal(-7.0, 1.0, 997)]
    protocol = Protocol(warmup=0, repeats=2, min_duration_s=sum(durations) * 0.8)
    measurement = Harness(ClockedWorkload(clock, durations), protocol).run()
    assert measurement.repeats > 700  # the min_duration rule was checked at every one of them
    assert measurement.timed_s == pytest.approx(math.fsum(measurement.repeat_s), rel=1e-12, abs=0)
    assert measurement.samples_count == sum(measurement.samples) == measurement.repeats
    measurement.repeat_s.append(0.5)  # appended by another loop (LoadGen's): caught up on the next read
    measurement.samples.append(7)
    assert measurement.timed_s == pytest.approx(math.fsum(measurement.repeat_s), rel=1e-12, abs=0)
    assert measurement.samples_count == sum(measurement.samples)
    measurement.repeat_s[:] = [1.0, 2.0]  # replaced by a shorter list: summed again
    assert measurement.timed_s == 3.0
