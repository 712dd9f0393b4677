"""The inference scenarios, run by MLPerf's own load generator (``mlcommons-loadgen``, ``import mlperf_loadgen``).

LoadGen decides when each query is issued and what it holds; the workload is the system under test (SUT):

* **single-stream** — one sample a query, the next issued when the last completes; the score is the 90th
  percentile latency.
* **multi-stream** — ``samples_per_query`` samples a query, issued one query after another; p99 latency.
* **server** — one-sample queries arriving at Poisson-distributed times at ``target_qps``; VALID only when the
  ``latency_percentile`` of latencies stays under ``target_latency_s`` (and, for a token workload, TTFT and TPOT
  under theirs).
* **offline** — every sample in one query; the score is samples (or tokens) per second.

One LoadGen test is one timed repeat; its energy window spans the whole test, LoadGen's own threads included
(they are part of what a submitter's system does). LoadGen's ``mlperf_log_summary.txt`` and
``mlperf_log_detail.txt`` are kept beside the record, its VALID/INVALID and reasons become the record's
validity, and its latency percentiles the record's figures. The SUT also times each sample itself (from the
issue callback to completion), which leaves out LoadGen's scheduling: the difference between the two is
LoadGen's overhead, which a null SUT (``harness_floor``) measures on its own.
"""

from __future__ import annotations

import queue
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.measure.harness import Measurement

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Protocol

LOADGEN_SCENARIO_NAMES = {
    "single-stream": "SingleStream",
    "multi-stream": "MultiStream",
    "server": "Server",
    "offline": "Offline",
}
KEPT_LOGS = ("mlperf_log_summary.txt", "mlperf_log_detail.txt")
PERCENTILES = ("50.00", "90.00", "95.00", "97.00", "99.00", "99.90")
_MLLOG = re.compile(r":::MLLOG (\{.*\})")


@dataclass
class LoadGenRun:
    """One LoadGen test: its settings, its results (LoadGen's ``result_*`` keys) and where its logs are."""

    scenario: str
    mode: str
    results: dict[str, Any]
    log_dir: str
    reasons: list[str] = field(default_factory=list)
    samples_per_query: int = 1

    @property
    def valid(self) -> bool:
        return self.results.get("result_validity") == "VALID"

    def latency_s(self, percentile: str) -> float | None:
        value = self.results.get(f"result_{percentile}_percentile_latency_ns")
        return None if value is None else float(value) / 1e9

    def token_s(self, kind: str, percentile: str) -> float | None:
        key = {
            "ttft": "result_first_token_{}_percentile_latency_ns",
            "tpot": "result_time_per_output_token_{}_percentile_ns",
        }
        value = self.results.get(key[kind].format(percentile))
        return None if value is None else float(value) / 1e9

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "mode": self.mode, "validity": self.results.get("result_validity"),
                "reasons": self.reasons, "log_dir": self.log_dir, "results": self.results,
                "samples_per_query": self.samples_per_query}  # fmt: skip


def uses_loadgen(workload_class: type, scenario: str) -> bool:
    """LoadGen runs every inference scenario of an inference workload (one that answers queries)."""
    return getattr(workload_class, "inference", False) and scenario in LOADGEN_SCENARIO_NAMES


def loadgen_available() -> str | None:
    """None when LoadGen can be imported, else why not (with how to install it)."""
    try:
        import mlperf_loadgen  # noqa: F401
    except ImportError as error:
        return f"MLPerf LoadGen is not installed ({error}) — pip install mlcommons-loadgen"
    return None


def test_settings(protocol: Protocol, scenario: str, token_workload: bool) -> Any:
    """LoadGen's ``TestSettings`` from the spec's protocol (``protocol.loadgen``)."""
    import mlperf_loadgen as lg

    options = protocol.loadgen
    settings = lg.TestSettings()
    settings.scenario = getattr(lg.TestScenario, LOADGEN_SCENARIO_NAMES[scenario])
    settings.mode = lg.TestMode.AccuracyOnly if options.mode == "accuracy" else lg.TestMode.PerformanceOnly
    settings.min_duration_ms = int(options.min_duration_s * 1000)
    settings.min_query_count = options.min_query_count
    settings.single_stream_expected_latency_ns = int(options.expected_latency_s * 1e9)
    settings.multi_stream_expected_latency_ns = int(
        options.expected_latency_s * options.samples_per_query * 1e9
    )
    settings.multi_stream_samples_per_query = options.samples_per_query
    settings.server_target_qps = options.target_qps
    settings.server_target_latency_ns = int(options.target_latency_s * 1e9)
    settings.server_target_latency_percentile = options.latency_percentile
    settings.offline_expected_qps = options.expected_qps
    settings.qsl_rng_seed = settings.sample_index_rng_seed = settings.schedule_rng_seed = options.seed
    if token_workload:
        settings.use_token_latencies = True
        settings.ttft_latency = int(options.ttft_latency_s * 1e9)
        settings.tpot_latency = int(options.tpot_latency_s * 1e9)
    return settings


def read_detail_log(path: Path) -> dict[str, Any]:
    """Every ``result_*`` value (and the early-stopping text) of a LoadGen ``mlperf_log_detail.txt``."""
    import json

    found: dict[str, Any] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _MLLOG.search(line)
        if not match:
            continue
        event = json.loads(match.group(1))
        key = event.get("key", "")
        if key.startswith("result_") or key.startswith("early_stopping"):
            found[key] = event.get("value")
    return found


def invalid_reasons(summary: Path) -> list[str]:
    """LoadGen's own reasons for INVALID: the summary's ``... satisfied : NO`` lines."""
    reasons = []
    for line in summary.read_text(encoding="utf-8", errors="replace").splitlines():
        if re.search(r"satisfied\s*:\s*NO", line, re.I):
            reasons.append("LoadGen: " + re.sub(r"\s+", " ", line.strip()).replace(" :", ":"))
    return reasons


class _SUT:
    """The workload as LoadGen's system under test: queries go to one worker thread in arrival order."""

    def __init__(self, workload: Any, scenario: str, token_workload: bool) -> None:
        self.workload, self.scenario, self.tokens = workload, scenario, token_workload
        self.latency_s: list[float] = []  # SUT-side, per sample: issue callback to completion
        self.ttft_s: list[float] = []
        self.tpot_s: list[float] = []
        self.samples = self.token_count = 0
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue()
        self._keep: list[Any] = []  # response buffers LoadGen reads after the call

    def issue(self, query_samples: list[Any]) -> None:
        if self.scenario == "single-stream":  # LoadGen waits for this query: answer it on its thread
            self._answer(list(query_samples), time.perf_counter())
        else:
            self._queue.put((list(query_samples), time.perf_counter()))

    def serve(self) -> None:
        """The worker thread's loop (until ``stop``)."""
        while True:
            item = self._queue.get()
            if item is None:
                return
            self._answer(*item)

    def stop(self) -> None:
        self._queue.put(None)

    def _answer(self, samples: list[Any], issued: float) -> None:
        import mlperf_loadgen as lg

        try:
            batch = self._batch_size(len(samples))
            for start in range(0, len(samples), batch):
                self._answer_batch(lg, samples[start : start + batch], issued)
        except BaseException as error:  # a workload error: complete the queries, then the run fails
            self.error = self.error or error
            lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])

    def _batch_size(self, count: int) -> int:
        return max(1, int(self.workload.params.get("batch_size", 1))) if self.scenario == "offline" else count

    def _answer_batch(self, lg: Any, samples: list[Any], issued: float) -> None:
        import numpy as np

        indices = [s.index for s in samples]
        first_at: list[float] = []
        if self.tokens:

            def first_token(tokens: Any) -> None:
                first_at.append(time.perf_counter())
                data = np.ascontiguousarray(tokens.cpu().numpy().astype(np.int32).reshape(len(samples), -1))
                self._keep.append(data)
                lg.FirstTokenComplete([lg.QuerySampleResponse(s.id, data[i].ctypes.data, data[i].nbytes)
                                       for i, s in enumerate(samples)])  # fmt: skip

            output = self.workload.generate(indices, first_token)
        else:
            output = _run_queries(self.workload, indices)
        done = time.perf_counter()
        self._complete(lg, samples, output, issued, first_at[0] if first_at else None, done)

    def _complete(
        self, lg: Any, samples: list[Any], output: Any, issued: float, first: float | None, done: float
    ) -> None:
        import numpy as np

        responses = []
        if self.tokens:
            data = np.ascontiguousarray(output.cpu().numpy().astype(np.int32))
            self._keep.append(data)
            n = data.shape[1]
            responses = [
                lg.QuerySampleResponse(s.id, data[i].ctypes.data, data[i].nbytes, n)
                for i, s in enumerate(samples)
            ]
            self.token_count += n * len(samples)
            self.ttft_s += [first - issued] * len(samples)
            if n > 1:
                self.tpot_s += [(done - first) / (n - 1)] * len(samples)
        else:
            responses = [lg.QuerySampleResponse(s.id, 0, 0) for s in samples]
        self.latency_s += [done - issued] * len(samples)
        self.samples += len(samples)
        lg.QuerySamplesComplete(responses)


def _run_queries(workload: Any, indices: list[int]) -> None:
    batch = getattr(workload, "query_batch", None)
    if batch is not None:
        batch(indices)
    else:
        for index in indices:
            workload.query(index)
    workload.sync()


class LoadGenEngine:
    """Runs ``protocol.repeats`` LoadGen tests of one scenario over a set-up workload; ``run()`` returns the
    ``Measurement`` (``loadgen`` holds each test's LoadGen results)."""

    def __init__(self, workload: Any, protocol: Protocol, *, log_dir: Path, meter: Any = None,
                 on_repeat: Callable[[Measurement], None] | None = None,
                 on_event: Callable[[str, str, Any, dict[str, Any]], None] | None = None) -> None:  # fmt: skip
        self.workload, self.protocol, self.meter, self.on_repeat = workload, protocol, meter, on_repeat
        self.on_event = on_event
        self.log_dir = Path(log_dir)
        self.tokens = bool(getattr(workload, "token_metrics", False))
        self.measurement = Measurement(protocol.scenario)
        self.runs: list[LoadGenRun] = []

    def run(self) -> Measurement:
        started = time.perf_counter()
        try:
            for repeat in range(self.protocol.repeats):
                self._one_test(repeat)
            self.measurement.stop_reason = f"{self.measurement.repeats} LoadGen test(s) done"
        finally:
            self.measurement.wall_s = time.perf_counter() - started
        done = {"samples_count": sum(self.measurement.samples)}
        self._emit("start", "eval_start", None, done)
        quality = {name: float(value) for name, value in self.workload.evaluate().items()}
        self._emit("end", "eval_stop", None, done)
        self._emit("point", "quality", quality, done)
        self.measurement.quality.append(quality)
        return self.measurement

    def _emit(self, kind: str, key: str, value: Any, metadata: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(kind, key, value, metadata)

    def _one_test(self, repeat: int) -> None:
        import mlperf_loadgen as lg

        scenario = self.protocol.scenario
        sut = _SUT(self.workload, scenario, self.tokens)
        count = (
            self.workload.sample_count() if hasattr(self.workload, "sample_count") else self.protocol.queries
        )
        out = self.log_dir / f"repeat-{repeat}"
        scratch = out.with_name(out.name + ".loadgen")
        scratch.mkdir(parents=True, exist_ok=True)
        log_settings = lg.LogSettings()
        log_settings.log_output.outdir = str(scratch)
        log_settings.log_output.copy_summary_to_stdout = False
        worker = threading.Thread(target=sut.serve, name="carpentry-loadgen-sut", daemon=True)
        worker.start()
        handle = lg.ConstructSUT(sut.issue, lambda: None)
        qsl = lg.ConstructQSL(count, min(count, 1024), lambda _s: None, lambda _s: None)
        try:
            self._block("block_start", repeat)
            self._begin_window()
            began = time.perf_counter()
            lg.StartTestWithLogSettings(
                handle, qsl, test_settings(self.protocol, scenario, self.tokens), log_settings
            )
            elapsed = time.perf_counter() - began
            window = self.meter.end() if self.meter is not None else None
            self._block("block_stop", repeat, samples=sut.samples)
        finally:
            sut.stop()
            worker.join()
            lg.DestroyQSL(qsl)
            lg.DestroySUT(handle)
        if sut.error is not None:
            raise sut.error
        self._record(repeat, sut, elapsed, window, scratch, out)

    def _block(self, key: str, repeat: int, samples: int = 0) -> None:
        """MLPerf's block_start/block_stop around each LoadGen test, as the harness logs its repeats."""
        if self.on_event is not None:
            done = sum(self.measurement.samples) + samples
            self.on_event(
                "start" if key == "block_start" else "end",
                key,
                None,
                {"samples_count": done, "repeat": repeat},
            )

    def _begin_window(self) -> None:
        self.workload.sync()
        if self.meter is not None:
            self.meter.begin()

    def _record(self, repeat: int, sut: _SUT, elapsed: float, window: Any, scratch: Path, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        for name in KEPT_LOGS:
            if (scratch / name).exists():
                shutil.move(str(scratch / name), out / name)
        shutil.rmtree(scratch, ignore_errors=True)
        scenario = self.protocol.scenario
        per_query = self.protocol.loadgen.samples_per_query if scenario == "multi-stream" else 1
        results = read_detail_log(out / KEPT_LOGS[1])
        run = LoadGenRun(scenario, self.protocol.loadgen.mode, results, str(out), samples_per_query=per_query)
        if not run.valid:
            run.reasons = invalid_reasons(out / KEPT_LOGS[0]) or [
                f"LoadGen: {run.results.get('result_invalid_reason', 'INVALID')}"
            ]
        self.runs.append(run)
        m = self.measurement
        m.loadgen.append(run.to_dict())
        m.query_latency_s.extend(sut.latency_s)
        m.ttft_s.extend(sut.ttft_s)
        m.tpot_s.extend(sut.tpot_s)
        m.tokens.append(sut.token_count)
        m.repeat_s.append(elapsed)
        m.samples.append(sut.samples)
        if window is not None:
            m.energy_windows.append(window)
            m.energy_per_repeat_j.append(window.total_j)
        if self.on_repeat is not None:
            self.on_repeat(m)


_FLOOR: dict[str, float] = {}


class _NullWorkload:
    """A SUT that does nothing: what is left of a query's latency is LoadGen's and Python's own cost."""

    params: dict[str, Any] = {}
    token_metrics = False

    def query(self, index: int) -> None:
        return None

    def sync(self) -> None:
        return None

    def sample_count(self) -> int:
        return 64

    def evaluate(self) -> dict[str, float]:
        return {}


def harness_floor(log_dir: Path) -> dict[str, float]:
    """The latency floor of LoadGen + this SUT path: a null SUT's SingleStream p50 and p90 (seconds), measured
    once per process (about 0.3 s) and reported with every inference result."""
    if not _FLOOR:
        from carpentry_kit.spec.model import Protocol

        protocol = Protocol(
            scenario="single-stream", repeats=1, loadgen={"min_duration_s": 0.2, "min_query_count": 256}
        )
        engine = LoadGenEngine(_NullWorkload(), protocol, log_dir=log_dir)
        engine.run()
        run = engine.runs[0]
        _FLOOR.update(p50_s=run.latency_s("50.00") or 0.0, p90_s=run.latency_s("90.00") or 0.0)
        shutil.rmtree(log_dir, ignore_errors=True)
    return dict(_FLOOR)
