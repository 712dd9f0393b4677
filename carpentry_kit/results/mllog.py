"""MLPerf-style event logs: one ``:::MLLOG {json}`` line per event, as ``mlperf_logging.mllog`` writes.

Each line holds ``namespace, time_ms, event_type, key, value, metadata`` (``metadata`` has the caller's
``file`` and ``lineno``), so MLCommons' ``mlperf_logging`` parser and compliance tools can read our runs::

    with MLLogger("results/mllog/run.log") as log:
        log.event("submission_benchmark", "digits-mlp")
        log.start("run_start")
        log.event("eval_accuracy", 0.97, epoch_num=3)
        log.end("run_stop", status="success")
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from carpentry_kit.results.record import RunRecord, json_default
from carpentry_kit.results.store import ResultStore

if TYPE_CHECKING:
    from carpentry_kit.measure.harness import Measurement

PREFIX = ":::MLLOG "
INTERVAL_START = "INTERVAL_START"
INTERVAL_END = "INTERVAL_END"
POINT_IN_TIME = "POINT_IN_TIME"


def _start_key(key: str) -> str:
    """The start key MLPerf pairs with an end key: ``run_stop`` -> ``run_start``."""
    return key[: -len("_stop")] + "_start" if key.endswith("_stop") else key


def encode_event(namespace: str, time_ms: int, event_type: str, key: str, value: Any, metadata: dict) -> str:
    """One ``:::MLLOG`` line, keys in mlperf_logging's order."""
    event = {
        "namespace": namespace,
        "time_ms": time_ms,
        "event_type": event_type,
        "key": key,
        "value": value,
        "metadata": metadata,
    }
    return PREFIX + json.dumps(event, default=json_default)


class MLLogger:
    """Append MLLOG events to ``path`` (parent folders are created).

    ``start(key)``/``end(key)`` bracket an interval; as in MLPerf, ``end("run_stop")`` closes
    ``start("run_start")``. Starting an open interval again, or ending one never started, is an error
    naming the key; ``event(key, value)`` is a point in time. Extra keyword
    arguments become metadata next to the caller's ``file`` and ``lineno``.
    """

    def __init__(self, path: str | Path, namespace: str = "") -> None:
        self.path = Path(path)
        self.namespace = namespace
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO | None = self.path.open("a", encoding="utf-8", buffering=1)
        self._open_intervals: set[str] = set()
        self._lock = threading.Lock()

    def start(self, key: str, value: Any = None, **metadata: Any) -> None:
        """Open the interval ``key``."""
        if key in self._open_intervals:
            raise ValueError(
                f"MLLOG interval {key!r} is already open in {self.path} — end() it before starting it again"
            )
        self._open_intervals.add(key)
        self._write(INTERVAL_START, key, value, metadata)

    def end(self, key: str, value: Any = None, **metadata: Any) -> None:
        """Close an interval: ``key`` itself, or MLPerf's pairing ``run_stop`` closes ``run_start``."""
        opened = key if key in self._open_intervals else _start_key(key)
        if opened not in self._open_intervals:
            raise ValueError(
                f"MLLOG interval {key!r} was never started in {self.path} — call start({opened!r}) first"
            )
        self._open_intervals.discard(opened)
        self._write(INTERVAL_END, key, value, metadata)

    def is_open(self, key: str) -> bool:
        """Whether the interval ``key`` has been started and not yet ended."""
        return key in self._open_intervals

    def event(self, key: str, value: Any = None, **metadata: Any) -> None:
        """Log a point-in-time event, e.g. ``event("eval_accuracy", 0.97, epoch_num=3)``."""
        self._write(POINT_IN_TIME, key, value, metadata)

    def _write(self, event_type: str, key: str, value: Any, extra: dict[str, Any]) -> None:
        caller = _caller_frame()
        metadata = {"file": caller.f_code.co_filename, "lineno": caller.f_lineno, **extra}
        try:
            line = encode_event(self.namespace, time.time_ns() // 1_000_000, event_type, key, value, metadata)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"MLLOG {key!r}: {exc}") from None
        with self._lock:
            if self._file is None:
                raise ValueError(f"MLLOG file {self.path} is closed — make a new MLLogger to log more")
            self._file.write(line + "\n")

    def close(self) -> None:
        """Flush and close the file. Safe to call twice."""
        with self._lock:
            file, self._file = self._file, None
            if file is not None:
                file.close()  # an error flushing it (a full disk) is raised once; the file is closed anyway

    def __enter__(self) -> MLLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


LATENCY_PERCENTILES = (50.0, 90.0, 95.0, 97.0, 99.0, 99.9)  # the ones LoadGen's detail log reports


class RunLog:
    """MLPerf-style events of one run in ``<dir>/mllog/<run_id>.log``, written as things happen.

    The header holds the ``submission_*`` keys and ``cache_clear`` (false: caches are not cleared); the
    harness's events (``on_event``) arrive with the moment they happened — epochs, evaluations, blocks of
    offline or single-stream repeats, seeds, ``eval_accuracy`` with its ``epoch_num`` (or ``samples_count``).
    At the end come LoadGen-style result keys for offline and single-stream runs, the power reading and
    ``run_stop``. A logging problem never loses a run: the record is already stored, so it becomes a warning.
    """

    def __init__(self, store: ResultStore, record: RunRecord, organisation: str = "unknown"):
        self.logger = MLLogger(store.mllog_path(record.run_id), namespace=record.benchmark)
        self.quality_metric: str | None = None  # the metric logged as eval_accuracy (the quality target)
        self.safely(self.logger.event, "submission_org", organisation or "unknown")
        self.safely(self.logger.event, "submission_platform", record.system.get("system_name", "unknown"))
        self.safely(self.logger.event, "submission_division", record.division)
        self.safely(self.logger.event, "submission_status", "research")
        self.safely(self.logger.event, "submission_benchmark", record.benchmark)
        self.safely(self.logger.event, "cache_clear", False, note="carpentry-kit does not clear caches")

    def start(self, key: str) -> None:
        self.safely(self.logger.start, key)

    def end(self, key: str) -> None:
        self.safely(self.logger.end, key)

    def sizes(self, counts: dict[str, int]) -> None:
        """``train_samples`` and ``eval_samples`` (the workload's data set sizes), where it has them."""
        for key in ("train_samples", "eval_samples"):
            if key in counts:
                self.safely(self.logger.event, key, int(counts[key]))

    def on_event(self, kind: str, key: str, value: Any, metadata: dict[str, Any]) -> None:
        """A harness event, logged now: ``start``/``end`` of an interval or a ``point``."""
        if key == "quality":
            for name, figure in value.items():
                accuracy = name == self.quality_metric or (self.quality_metric is None and "accuracy" in name)
                self.safely(
                    self.logger.event, "eval_accuracy" if accuracy else name, figure, metric=name, **metadata
                )
            return
        call = {"start": self.logger.start, "end": self.logger.end}.get(kind, self.logger.event)
        self.safely(call, key, value, **metadata)

    def finish(self, record: RunRecord, measurement: Measurement | None) -> None:
        for key, value in result_events(measurement, record.validity):
            self.safely(self.logger.event, key, value)
        if record.energy:
            energy = record.energy
            self.safely(
                self.logger.event, "power_reading", energy["avg_power_w"], unit="W", method=energy["method"]
            )
        status = "success" if record.validity == "VALID" else "aborted"
        if self.logger.is_open("run_start"):  # a run that failed in setup never started measuring
            self.safely(self.logger.end, "run_stop", status=status, validity=record.validity)
        self.safely(self.logger.close)

    def safely(self, call: Any, *args: Any, **metadata: Any) -> None:
        import warnings

        try:
            call(*args, **metadata)
        except (TypeError, ValueError, OSError) as error:  # OSError: a full disk, a read-only directory
            warnings.warn(f"MLLOG: {error}", stacklevel=2)


def result_events(measurement: Measurement | None, validity: str) -> list[tuple[str, Any]]:
    """LoadGen's result keys for an inference measurement (none for time-to-quality): LoadGen's own for a
    scenario LoadGen ran, else computed the same way from the harness's offline repeats.

    Offline: ``result_samples_per_second`` (samples over timed seconds). Single-stream: the same, and
    ``result_{min,max,mean}_latency_ns`` and ``result_{50.00,...,99.90}_percentile_latency_ns`` over every
    query; then ``result_validity``.
    """
    if measurement is None or measurement.scenario == "time-to-quality" or not measurement.repeat_s:
        return []
    if measurement.loadgen:  # LoadGen's own figures, from its detail log (the last test)
        results = measurement.loadgen[-1]["results"]
        numbers = [
            (k, v) for k, v in results.items() if k.startswith("result_") and isinstance(v, (int, float))
        ]
        return [*numbers, ("result_validity", validity)]
    events: list[tuple[str, Any]] = []
    if measurement.timed_s > 0:
        events.append(("result_samples_per_second", sum(measurement.samples) / measurement.timed_s))
    latencies = measurement.query_latency_s
    if measurement.scenario == "single-stream" and latencies:
        import numpy as np

        nanoseconds = np.asarray(latencies) * 1e9
        events += [
            ("result_min_latency_ns", int(nanoseconds.min())),
            ("result_max_latency_ns", int(nanoseconds.max())),
            ("result_mean_latency_ns", int(nanoseconds.mean())),
        ]
        events += [
            (f"result_{percent:.2f}_percentile_latency_ns", int(np.percentile(nanoseconds, percent)))
            for percent in LATENCY_PERCENTILES
        ]
    return [*events, ("result_validity", validity)]


def _caller_frame() -> Any:
    """The first frame outside this module: the code that logged the event (whatever the call depth)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return frame
