"""Timing loops: the measured part of a run, one loop per scenario.

Only the work is timed (``time.perf_counter``, ``workload.sync()`` at both edges of every window): setup
and warm-up stay outside the clock and outside the energy meter's windows.

* **offline** — each repeat is one ``workload.step()``; throughput is samples per second.
* **single-stream, multi-stream, server** (and offline for an inference workload) — run by MLPerf's LoadGen
  (``carpentry_kit.measure.loadgen``), not here.
* **time-to-quality** — each repeat is ``reset(seed)`` (untimed, like MLPerf's initialisation) and then
  training epochs (``step()``), each followed by ``evaluate()``, until the quality target is met (>= for a
  maximized metric, <= for a minimized one) or the time budget or the epoch cap runs out. As MLPerf
  Training's rules require, the clock and the meter run through the evaluations: a repeat's time is the
  time at which the evaluation that first met the target ended. ``protocol.clock_includes_eval: false``
  pauses both during evaluation instead — a measure of training alone, *not* MLPerf-conformant.

Stopping: at least ``protocol.repeats`` repeats and ``protocol.min_duration_s`` of timed work. With
``protocol.adaptive.enabled`` repeats continue until the CI of the median repeat time, at a level of at
least 95% (so never before 6 repeats), is narrower than ``rel_ci_width`` times the median or
``max_repeats`` is reached. The time budget counts wall-clock time from the first warm-up step
(evaluations included); it is checked between steps (between repeats for single-stream), and a run stopped by
it says so in ``Measurement.stop_reason``.

Cost per repeat is constant: the timed total and the sample count are running sums, and the CI check reads
the order statistics of a growing buffer (``stats.GrowingSeries``: one O(n) selection, the same figures
``summarize`` gives) on a geometric schedule — every repeat up to 20, then each time the series has grown
by 5% — so all the checks of a run together cost about 20 selections of the final series, a small constant
per repeat (``benchmarks/bench_harness.py`` measures it at 1 k, 10 k and 100 k repeats).

Events: ``on_event(kind, key, value, metadata)`` is called the moment something happens (``kind`` is
``start``, ``end`` or ``point``; keys are MLPerf's: ``epoch_start``/``epoch_stop``, ``eval_start``/
``eval_stop``, ``block_start``/``block_stop`` around each offline or single-stream repeat, ``seed``, and
``quality`` with the dict ``evaluate()`` returned), so an MLLOG written from it carries true times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from carpentry_kit.stats import GrowingSeries, format_level

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Metric, Protocol

ADAPTIVE_CONFIDENCE = 0.95  # adaptive stopping waits for an interval of at least this level
DEFAULT_MAX_EPOCHS = 1000  # time-to-quality cap when neither the workload nor a time budget sets one


@dataclass(frozen=True)
class QualityTarget:
    """The quality metric that defines 'solved' for time-to-quality."""

    metric: str
    target: float
    goal: str  # maximize | minimize

    @classmethod
    def from_metric(cls, metric: Metric) -> QualityTarget:
        return cls(metric.name, float(metric.target), metric.goal)

    def reached(self, quality: dict[str, float]) -> bool:
        if self.metric not in quality:
            raise KeyError(f"evaluate() did not return '{self.metric}' (it returned {sorted(quality)})")
        value = quality[self.metric]
        return value >= self.target if self.goal == "maximize" else value <= self.target

    def __str__(self) -> str:
        return f"{self.metric} {'>=' if self.goal == 'maximize' else '<='} {self.target:g}"


@dataclass
class Measurement:
    """What the timing loops measured; filled in as they go, so it is useful after an interruption."""

    scenario: str
    repeat_s: list[float] = field(default_factory=list)  # timed seconds of each repeat
    samples: list[int] = field(default_factory=list)  # samples processed in each repeat
    query_latency_s: list[float] = field(default_factory=list)  # single-stream: every query
    epochs: list[int] = field(default_factory=list)  # time-to-quality: epochs of each repeat
    reached: list[bool] = field(default_factory=list)  # time-to-quality: target met in that repeat
    seeds: list[int] = field(default_factory=list)  # time-to-quality: seed of each repeat
    quality: list[dict[str, float]] = field(default_factory=list)  # evaluate() after each repeat / at the end
    energy_windows: list[Any] = field(default_factory=list)  # every EnergyReading, in order
    energy_per_repeat_j: list[float] = field(default_factory=list)
    loadgen: list[dict[str, Any]] = field(default_factory=list)  # LoadGen scenarios: each test's results
    ttft_s: list[float] = field(default_factory=list)  # token workloads: SUT-side time to first token
    tpot_s: list[float] = field(default_factory=list)  # token workloads: SUT-side time per output token
    tokens: list[int] = field(default_factory=list)  # token workloads: output tokens of each repeat
    warmup_done: int = 0
    stop_reason: str = "not started"
    budget_exhausted: bool = False
    wall_s: float = 0.0  # wall-clock time of the whole loop, warm-up and evaluations included

    # running sums, so that neither is re-summed on every repeat: (total, how many entries it covers)
    _timed: list[float] = field(default_factory=lambda: [0.0, 0], init=False, repr=False, compare=False)
    _counted: list[int] = field(default_factory=lambda: [0, 0], init=False, repr=False, compare=False)

    @property
    def repeats(self) -> int:
        return len(self.repeat_s)

    @property
    def timed_s(self) -> float:
        """Total timed seconds: a running sum, O(1) per repeat however often it is asked."""
        return float(_running_sum(self._timed, self.repeat_s))

    @property
    def samples_count(self) -> int:
        """Samples processed over all repeats so far (a running sum, like ``timed_s``)."""
        return int(_running_sum(self._counted, self.samples))


def _running_sum(state: list[Any], values: list[Any]) -> float | int:
    """``sum(values)``, kept in ``state = [total, entries covered]`` and brought up to date by adding only
    the entries appended since the last call (whichever loop appended them); a list that shrank (replaced
    or cut) is summed again from the start."""
    total, covered = state
    if len(values) == covered:
        return total
    if len(values) < covered:
        total, covered = type(total)(0), 0
    for index in range(covered, len(values)):
        total += values[index]
    state[0], state[1] = total, len(values)
    return total


@dataclass
class _Progress:
    """A time-to-quality repeat so far."""

    epochs: int = 0
    samples: int = 0
    trained_s: float = 0.0  # timed training only (used when evaluation is off the clock)
    windows: list[Any] = field(default_factory=list)
    quality: dict[str, float] = field(default_factory=dict)
    reached: bool = False


class _Stop(Exception):
    """Raised inside a loop when the time budget runs out between steps."""


class Harness:
    """Runs one scenario's timing loop over a set-up workload; ``run()`` returns the ``Measurement``."""

    def __init__(
        self,
        workload: Any,
        protocol: Protocol,
        *,
        time_budget_s: float | None = None,
        target: QualityTarget | None = None,
        meter: Any = None,
        on_repeat: Callable[[Measurement], None] | None = None,
        max_epochs: int | None = None,
        on_event: Callable[[str, str, Any, dict[str, Any]], None] | None = None,
    ):
        if protocol.scenario == "time-to-quality" and target is None:
            raise ValueError("time-to-quality needs a quality target")
        self.workload = workload
        self.protocol = protocol
        self.time_budget_s = time_budget_s
        self.target = target
        self.meter = meter
        self.on_repeat = on_repeat
        self.on_event = on_event
        self.max_epochs = max_epochs or DEFAULT_MAX_EPOCHS
        self.measurement = Measurement(protocol.scenario)
        self._started = 0.0
        self._last_check = 0
        self._watched = {"all": GrowingSeries(), "reached": GrowingSeries()}  # adaptive stopping's series

    def run(self) -> Measurement:
        """Warm up, then measure until a stopping rule says stop. Exceptions propagate; the partial
        measurement stays in ``self.measurement``."""
        self._started = time.perf_counter()
        loop = {
            "offline": self._offline,
            "time-to-quality": self._ttq,
        }  # inference scenarios: measure/loadgen.py
        try:
            loop[self.protocol.scenario]()
        except _Stop as stop:
            self.measurement.stop_reason = str(stop)
            self.measurement.budget_exhausted = True
        finally:
            self.measurement.wall_s = time.perf_counter() - self._started
        if self.protocol.scenario != "time-to-quality":  # quality of what was measured, untimed
            samples = self.measurement.samples_count
            self.measurement.quality.append(self._logged_evaluate(samples_count=samples))
        return self.measurement

    # ---------------------------------------------------------------- the three loops

    def _offline(self) -> None:
        step, sync = self.workload.step, self.workload.sync
        self._warm_up(step)
        while True:
            self._block("start")
            self._begin_window(sync)
            started = time.perf_counter()
            count = step()
            sync()
            elapsed = time.perf_counter() - started
            self._end_repeat(elapsed, count, [self._end_window()])
            self._block("end")
            if self._stopping():
                break

    def _ttq(self) -> None:
        seeds = self.protocol.seeds
        if self.protocol.warmup:
            self.workload.reset(seeds[0])
            self._warm_up(self.workload.step)
        while True:
            seed = seeds[self.measurement.repeats % len(seeds)]
            self._train_to_target(seed)
            if self._stopping():
                break

    def _train_to_target(self, seed: int) -> None:
        """One time-to-quality repeat: fresh model, epochs until the target, the cap or the budget."""
        workload, repeat = self.workload, self.measurement.repeats
        workload.reset(seed)
        self._emit("point", "seed", seed, repeat=repeat)
        whole = self.protocol.clock_includes_eval  # MLPerf: one window from the first epoch to the target
        progress = _Progress()
        if whole:
            self._begin_window(workload.sync)
        started = time.perf_counter()
        try:
            for epoch in range(1, self.max_epochs + 1):
                self._check_budget()
                self._epoch(epoch, repeat, progress, whole)
                if progress.reached:
                    break
        except _Stop:  # a repeat cut short by the budget is still recorded, as not reached
            if progress.epochs:
                self._finish_ttq(seed, started, progress, whole)
            raise
        # Any other exception (Ctrl-C, a workload error) drops this unfinished repeat: the finished ones stay.
        self._finish_ttq(seed, started, progress, whole)

    def _epoch(self, epoch: int, repeat: int, progress: _Progress, whole: bool) -> None:
        """One training epoch and its evaluation; unless ``whole``, only the epoch is timed and metered."""
        workload = self.workload
        if not whole:
            self._begin_window(workload.sync)
        self._emit("start", "epoch_start", None, epoch_num=epoch, repeat=repeat)
        started = time.perf_counter()
        progress.samples += workload.step()
        workload.sync()
        progress.trained_s += time.perf_counter() - started
        self._emit("end", "epoch_stop", None, epoch_num=epoch, repeat=repeat)
        if not whole:
            progress.windows.append(self._end_window())
        progress.epochs = epoch
        progress.quality = self._logged_evaluate(epoch_num=epoch, repeat=repeat)
        progress.reached = self.target.reached(progress.quality)

    def _finish_ttq(self, seed: int, started: float, progress: _Progress, whole: bool) -> None:
        elapsed = time.perf_counter() - started if whole else progress.trained_s
        windows = [self._end_window()] if whole else progress.windows
        measurement = self.measurement
        measurement.seeds.append(seed)
        measurement.epochs.append(progress.epochs)
        measurement.reached.append(progress.reached)
        measurement.quality.append(progress.quality)
        self._end_repeat(elapsed, progress.samples, windows)

    # ---------------------------------------------------------------- shared pieces

    def _warm_up(self, step: Callable[[], int]) -> None:
        for _ in range(self.protocol.warmup):
            step()
            self.workload.sync()
            self._warm_step_done()

    def _warm_step_done(self) -> None:
        self.measurement.warmup_done += 1
        self._check_budget()

    def _evaluate(self) -> dict[str, float]:
        return {name: float(value) for name, value in self.workload.evaluate().items()}

    def _logged_evaluate(self, **metadata: Any) -> dict[str, float]:
        self._emit("start", "eval_start", None, **metadata)
        quality = self._evaluate()
        self._emit("end", "eval_stop", None, **metadata)
        self._emit("point", "quality", quality, **metadata)
        return quality

    def _block(self, kind: str) -> None:
        """MLPerf's block_start/block_stop around an offline or single-stream repeat (samples so far)."""
        if self.on_event is None:
            return
        measurement = self.measurement
        key = "block_start" if kind == "start" else "block_stop"
        self._emit(kind, key, None, samples_count=measurement.samples_count, repeat=measurement.repeats)

    def _emit(self, kind: str, key: str, value: Any, **metadata: Any) -> None:
        if self.on_event is not None:
            self.on_event(kind, key, value, metadata)

    def _begin_window(self, sync: Callable[[], None]) -> None:
        """Sync the device first, so work queued before the window is neither timed nor metered."""
        sync()
        if self.meter is not None:
            self.meter.begin()

    def _end_window(self) -> Any:
        return self.meter.end() if self.meter is not None else None

    def _end_repeat(self, elapsed: float, samples: int, windows: list[Any]) -> None:
        measurement = self.measurement
        measurement.repeat_s.append(elapsed)
        measurement.samples.append(int(samples))
        if self.meter is not None:
            readings = [window for window in windows if window is not None]
            measurement.energy_windows.extend(readings)
            measurement.energy_per_repeat_j.append(sum(reading.total_j for reading in readings))
        if self.on_repeat is not None:
            self.on_repeat(measurement)

    def _check_budget(self) -> None:
        budget = self.time_budget_s
        if budget is not None and time.perf_counter() - self._started >= budget:
            done = self.measurement.repeats
            raise _Stop(
                f"time budget of {budget:g} s ran out with {done} of {self.protocol.repeats} planned repeats finished"
            )

    def _stopping(self) -> bool:
        """True when the protocol is satisfied (sets ``stop_reason``); raises ``_Stop`` on the budget."""
        protocol, measurement = self.protocol, self.measurement
        count = measurement.repeats
        enough = count >= protocol.repeats and measurement.timed_s >= protocol.min_duration_s
        if enough and not protocol.adaptive.enabled:
            measurement.stop_reason = f"{count} repeats done ({measurement.timed_s:.3g} s timed)"
            return True
        if enough and self._converged(count):
            return True
        self._check_budget()
        return False

    def _converged(self, count: int) -> bool:
        adaptive, measurement = self.protocol.adaptive, self.measurement
        if count >= adaptive.max_repeats:
            measurement.stop_reason = (
                f"adaptive: max_repeats {adaptive.max_repeats} reached before the CI narrowed to "
                f"{adaptive.rel_ci_width:.0%} of the median"
            )
            return True
        if count < 20 or count - self._last_check >= count // 20:
            self._last_check = count
            width, level = self._series().rel_ci_width(ADAPTIVE_CONFIDENCE)
            if level >= ADAPTIVE_CONFIDENCE and width <= adaptive.rel_ci_width:
                measurement.stop_reason = (
                    f"adaptive: the {format_level(level)} CI of the median is {width:.1%} wide "
                    f"after {count} repeats"
                )
                return True
        return False

    def _series(self) -> GrowingSeries:
        """The series adaptive stopping watches: time per repeat (time to target for reached repeats),
        kept up to date incrementally (each repeat is added once, never re-read)."""
        measurement, watched = self.measurement, self._watched
        for index in range(watched["all"].n, measurement.repeats):
            watched["all"].append(measurement.repeat_s[index])
            if measurement.scenario == "time-to-quality" and measurement.reached[index]:
                watched["reached"].append(measurement.repeat_s[index])
        return watched["reached"] if watched["reached"].n else watched["all"]
