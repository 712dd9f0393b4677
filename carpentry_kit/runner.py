"""Run a spec: check the machine, build the workload, time it with an energy meter, judge validity, store.

``run(spec)`` follows MLPerf's habits: the machine is checked first (a spec whose required infrastructure is
missing is refused with a ``SpecError`` naming each missing thing, and nothing is recorded); the workload is
set up untimed; the harness times only the work, with the energy meter's windows around exactly that; the
result is judged VALID or INVALID with reasons ("Result is: VALID"), written to the results store with its
provenance and an MLLOG file, and returned as a ``RunResult``.

A run that raises inside the workload is recorded with status ``failed`` and its error (and returned, INVALID);
Ctrl-C is recorded as ``interrupted`` and re-raised as ``RunInterrupted`` (a ``KeyboardInterrupt`` carrying
the partial ``RunResult``). A process killed outright is recorded as ``interrupted`` by the store's next
reader or writer (``ResultStore.begin``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.harness import Harness, Measurement, QualityTarget
from carpentry_kit.ontology import producible_metrics
from carpentry_kit.results import ResultStore, RunRecord, format_record, record_html, records_frame, utc_now

if TYPE_CHECKING:
    import pandas as pd

    from carpentry_kit.spec_model import Spec


def run(
    spec_or_path: Spec | str | os.PathLike[str],
    overrides: dict[str, Any] | None = None,
    energy: str = "auto",
    repeats: int | None = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool = True,
    device: str | None = None,
) -> RunResult:
    """Run a spec (a ``Spec`` or a YAML path) and return its ``RunResult``; the record goes to ``out``
    (default: the spec's ``results.dir``). ``repeats`` is a shortcut for the override ``protocol.repeats``.
    Bad input raises ``SpecError``/``UsageError`` (one line each) before anything runs."""
    overrides = dict(overrides or {})
    if repeats is not None:
        overrides["protocol.repeats"] = repeats
    spec, spec_path = _load(spec_or_path, overrides)
    device = check_infrastructure(spec, spec_path, device)
    workload_class = _workload_class(spec, spec_path)
    _raise_problems(spec, spec_path, metric_problems(spec, workload_class))
    _check_carbon_country()
    record = _new_record(spec, spec_path, overrides, device)
    store = ResultStore(out if out is not None else spec.results.dir)
    return _Run(spec, spec_path, record, store, workload_class, energy, progress).execute()


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run, after the partial run was recorded; ``result`` is that ``RunResult``."""

    def __init__(self, result: RunResult):
        super().__init__(f"run {result.run_id[:12]} interrupted; recorded as such")
        self.result = result


@dataclass
class RunResult:
    """What a run produced: the stored ``record`` (a dict) and the harness's raw ``measurement``."""

    record: dict[str, Any]
    measurement: Measurement | None = None

    @property
    def valid(self) -> bool:
        return self.record["validity"] == "VALID"

    @property
    def run_id(self) -> str:
        return self.record["run_id"]

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        return self.record["metrics"]

    def to_frame(self) -> pd.DataFrame:
        """This run as the tidy DataFrame ``load_results`` returns (one row per metric)."""
        return records_frame([self.record])

    def __repr__(self) -> str:
        return format_record(self.record)

    def _repr_html_(self) -> str:
        return record_html(self.record)


# ---------------------------------------------------------------- preparing


def _load(spec_or_path: Any, overrides: dict[str, Any]) -> tuple[Spec, str | None]:
    from carpentry_kit.spec import apply_overrides, load_spec
    from carpentry_kit.spec_model import Spec

    if isinstance(spec_or_path, Spec):
        return (apply_overrides(spec_or_path, overrides) if overrides else spec_or_path), None
    return load_spec(Path(spec_or_path), overrides or None), str(spec_or_path)


def _check_carbon_country() -> None:
    """A bad ``CARPENTRY_COUNTRY_ISO_CODE`` is bad input: refuse it now, not after the run."""
    from carpentry_kit.energy import EnergyUnavailable, carbon_estimate

    with contextlib.suppress(EnergyUnavailable):  # no grid data installed: the record will say so
        carbon_estimate(0.0)


def _workload_class(spec: Spec, spec_path: str | None) -> type:
    from carpentry_kit.spec import did_you_mean
    from carpentry_kit.workloads import UnknownWorkloadError, get_workload, list_workloads

    try:
        return get_workload(spec.task.workload)
    except UnknownWorkloadError:
        names = sorted(list_workloads())
        hint = f"{did_you_mean(spec.task.workload, names)} (`carpentry workloads` lists them)"
        _raise_problems(
            spec, spec_path, [(("task", "workload"), f"'{spec.task.workload}' is not a workload", hint)]
        )
        raise  # not reached


def _raise_problems(spec: Spec, spec_path: str | None, problems: list[tuple[tuple, str, str]]) -> None:
    """Raise a ``SpecError`` with each ``(loc, message, hint)`` placed where the spec set it."""
    if not problems:
        return
    from carpentry_kit.spec import SpecError, problem_at

    raise SpecError([problem_at(spec, loc, message, hint, spec_path) for loc, message, hint in problems])


def _new_record(spec: Spec, spec_path: str | None, overrides: dict[str, Any], device: str) -> RunRecord:
    from carpentry_kit.spec import canonical_spec, spec_hash
    from carpentry_kit.system import describe_system, software_versions

    return RunRecord(
        benchmark=spec.benchmark.name,
        spec_hash=spec_hash(spec),
        spec=canonical_spec(spec),
        spec_path=spec_path,
        overrides=overrides,
        scenario=spec.protocol.scenario,
        device=device,
        system=describe_system(),
        software=software_versions(),
    )


# ---------------------------------------------------------------- running


class _Run:
    """One run in progress: holds what is needed to record it however it ends."""

    def __init__(self, spec, spec_path, record, store, workload_class, energy, progress):
        self.spec, self.spec_path, self.record, self.store = spec, spec_path, record, store
        self.workload_class, self.energy, self.show_progress = workload_class, energy, progress
        self.harness: Harness | None = None
        self.memory = PeakMemory()
        self.work: dict[str, float] = {}

    def execute(self) -> RunResult:
        from carpentry_kit.spec import SpecError

        with self.memory, _torch_threads(self.spec.infrastructure.threads):
            workload = self._build_workload()
            meter = _make_meter(self.energy, self.record.device)
            self.log = _RunLog(self.store, self.record)
            self.store.begin(self.record)
            try:
                self._measure(workload, meter)
            except KeyboardInterrupt:
                raise RunInterrupted(
                    self._finish("interrupted", "interrupted by the user (Ctrl-C)")
                ) from None
            except SpecError:  # a metric the workload cannot produce, found after setup: bad input
                raise
            except Exception as error:  # the workload's own failure: recorded, reported, not raised
                return self._finish("failed", _describe_error(error))
            finally:
                meter.close()
            return self._finish("completed", None)

    def _build_workload(self) -> Any:
        datasets = load_datasets(self.spec, self.spec_path)
        task = self.spec.task
        try:
            return self.workload_class(dict(task.params), datasets, self.record.device, task.seed)
        except ValueError as error:  # WorkloadError: the params or datasets do not fit this workload
            from carpentry_kit.spec import UsageError

            raise UsageError(f"{self.spec_path or '<spec>'}: {error}") from None

    def _measure(self, workload: Any, meter: Any) -> None:
        self.log.start("init_start")
        workload.setup()
        self.log.end("init_stop")
        self.work = dict(workload.work_per_sample())
        _raise_problems(self.spec, self.spec_path, metric_problems(self.spec, self.workload_class, self.work))
        target = self.spec.quality_target()
        self.harness = Harness(
            workload,
            self.spec.protocol,
            time_budget_s=self.spec.constraints.time_budget_s,
            target=QualityTarget.from_metric(target) if target else None,
            meter=meter,
            max_epochs=workload.max_steps(),
        )
        self.log.start("run_start")
        with _progress_bar(self.harness, self.spec, self.show_progress):
            self.harness.run()

    def _finish(self, status: str, error: str | None) -> RunResult:
        record, measurement = self.record, self.harness.measurement if self.harness else None
        record.status, record.error, record.finished_at = status, error, utc_now()
        record.peak_memory_mb = self.memory.peak_mb()
        if measurement is not None:
            record.metrics = build_metrics(self.spec, measurement, self.work)
            record.energy = energy_summary(measurement)
        record.validity, record.reasons = judge(self.spec, record, measurement)
        self.store.append(record)
        self.log.finish(record, measurement)
        return RunResult(record.to_dict(), measurement)


def _make_meter(method: str, device: str) -> Any:
    """The energy meter for ``--energy method``; a method that cannot work here is bad input."""
    from carpentry_kit.energy import EnergyError, make_meter
    from carpentry_kit.spec import UsageError

    try:
        return make_meter(method, device=device)
    except EnergyError as error:  # unknown method, or one that cannot work here
        raise UsageError(f"--energy {method}: {error}") from None


def _describe_error(error: BaseException) -> str:
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" (at {Path(frame.filename).name}:{frame.lineno} in {frame.name})" if frame else ""
    return f"{type(error).__name__}: {error}{where}"


class _torch_threads:
    """Set torch's thread count for the run and restore it afterwards."""

    def __init__(self, threads: int):
        self.threads, self.previous = threads, None

    def __enter__(self) -> None:
        import torch

        self.previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)

    def __exit__(self, *exc: object) -> None:
        import torch

        torch.set_num_threads(self.previous)


class _progress_bar:
    """A tqdm bar counting timed repeats; off when asked, or when stderr is not a terminal."""

    def __init__(self, harness: Harness, spec: Spec, enabled: bool):
        self.harness, self.bar = harness, None
        if enabled and sys.stderr.isatty():
            from tqdm.auto import tqdm

            protocol = spec.protocol  # a minimum duration or adaptive stopping adds repeats: no fixed total
            open_ended = protocol.min_duration_s > 0 or protocol.adaptive.enabled
            total = None if open_ended else protocol.repeats
            self.bar = tqdm(total=total, desc=spec.benchmark.name, unit="repeat", leave=False)
            harness.on_repeat = lambda measurement: self.bar.update(1)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


class _RunLog:
    """MLPerf-style events of one run in ``<dir>/mllog/<run_id>.log``, written as the run goes.

    A logging problem never loses a run: the record is already stored, so it becomes a warning.
    """

    def __init__(self, store: ResultStore, record: RunRecord):
        from carpentry_kit.mllog import MLLogger

        self.logger = MLLogger(store.dir / "mllog" / f"{record.run_id}.log", namespace=record.benchmark)
        self.safely(self.logger.event, "submission_benchmark", record.benchmark)
        self.safely(self.logger.event, "submission_division", "open")
        self.safely(self.logger.event, "submission_status", "research")
        self.safely(self.logger.event, "submission_platform", record.system.get("system_name", "unknown"))

    def start(self, key: str) -> None:
        self.safely(self.logger.start, key)

    def end(self, key: str) -> None:
        self.safely(self.logger.end, key)

    def finish(self, record: RunRecord, measurement: Measurement | None) -> None:
        for index, (seed, quality) in enumerate(_repeat_quality(measurement)):
            if seed is not None:
                self.safely(self.logger.event, "seed", seed, repeat=index)
            for name, value in quality.items():
                key = "eval_accuracy" if name.endswith("accuracy") else name
                self.safely(self.logger.event, key, value, repeat=index, metric=name)
        if record.energy:
            energy = record.energy
            self.safely(
                self.logger.event, "power_reading", energy["avg_power_w"], unit="W", method=energy["method"]
            )
        status = "success" if record.validity == "VALID" else "aborted"
        if self.logger.is_open("run_start"):  # a run that failed in setup never started measuring
            self.safely(self.logger.end, "run_stop", status=status, validity=record.validity)
        self.logger.close()

    def safely(self, call: Any, *args: Any, **metadata: Any) -> None:
        import warnings

        try:
            call(*args, **metadata)
        except (TypeError, ValueError) as error:
            warnings.warn(f"MLLOG: {error}", stacklevel=2)


def _repeat_quality(measurement: Measurement | None) -> list[tuple[int | None, dict[str, float]]]:
    if measurement is None:
        return []
    seeds: list[int | None] = list(measurement.seeds) or [None] * len(measurement.quality)
    return list(zip(seeds, measurement.quality, strict=False))


# ---------------------------------------------------------------- infrastructure and datasets


def check_infrastructure(spec: Spec, spec_path: str | None, device: str | None = None) -> str:
    """The device to run on; a ``SpecError`` naming every required thing this machine lacks."""
    problems = _machine_problems(spec) + _software_problems(spec)
    device, device_problems = _resolve_device(spec, device)
    _raise_problems(spec, spec_path, problems + device_problems)
    return device


def _machine_problems(spec: Spec) -> list[tuple[tuple, str, str]]:
    import psutil

    needs, problems = spec.infrastructure, []
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if cores < needs.cpu_cores:
        message = f"needs {needs.cpu_cores} CPU cores, this machine gives {cores}"
        problems.append((("infrastructure", "cpu_cores"), message, "run on a bigger machine or lower it"))
    available_gb = psutil.virtual_memory().available / 2**30
    if available_gb < needs.memory_gb:
        message = (
            f"needs {needs.memory_gb:g} GiB of memory available, this machine has {available_gb:.1f} GiB"
        )
        problems.append((("infrastructure", "memory_gb"), message, "close other programs or lower it"))
    return problems


def _software_problems(spec: Spec) -> list[tuple[tuple, str, str]]:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from packaging.specifiers import SpecifierSet

    software, problems = spec.infrastructure.software, []
    python = platform.python_version()
    if not SpecifierSet(software.python).contains(python, prereleases=True):
        message = f"needs Python {software.python}, this is Python {python}"
        problems.append((("infrastructure", "software", "python"), message, "use a matching Python"))
    for package, specifier in software.packages.items():
        loc = ("infrastructure", "software", "packages", package)
        try:
            installed = version(package)
        except PackageNotFoundError:
            problems.append(
                (loc, f"package '{package}' is not installed", f"pip install '{package}{specifier}'")
            )
            continue
        if not SpecifierSet(specifier).contains(installed, prereleases=True):
            message = f"needs {package}{specifier}, {installed} is installed"
            problems.append((loc, message, f"pip install '{package}{specifier}'"))
    return problems


def _resolve_device(spec: Spec, device: str | None) -> tuple[str, list[tuple[tuple, str, str]]]:
    use = spec.infrastructure.accelerator.use
    if device is None and use == "none":
        return "cpu", []
    import torch

    has_cuda = torch.cuda.is_available()
    if device is not None:
        if device.startswith("cuda") and not has_cuda:
            from carpentry_kit.spec import UsageError

            raise UsageError(f"--device {device}: torch sees no CUDA device here — use --device cpu")
        return device, []
    if use == "required" and not has_cuda:
        loc = ("infrastructure", "accelerator", "use")
        return "cpu", [(loc, "requires a CUDA accelerator, torch sees none here", "run on a GPU node")]
    return ("cuda" if has_cuda else "cpu"), []


def load_datasets(spec: Spec, spec_path: str | None) -> dict[str, Any]:
    """Every spec dataset, loaded, verified and split; a ``SpecError`` at the dataset's line otherwise."""
    from carpentry_kit.datasets import DatasetError, load_dataset

    spec_dir = Path(spec_path).parent if spec_path else Path.cwd()
    loaded = {}
    for index, dataset in enumerate(spec.datasets):
        try:
            loaded[dataset.name] = load_dataset(dataset, spec_dir, seed=spec.task.seed)
        except DatasetError as error:
            _raise_problems(spec, spec_path, [(("datasets", index, error.key), error.message, error.hint)])
    return loaded


# ---------------------------------------------------------------- metrics


def metric_problems(
    spec: Spec, workload_class: type, work: dict[str, float] | None = None
) -> list[tuple[tuple, str, str]]:
    """A problem for every spec metric the run cannot produce, listing the ones it can."""
    from carpentry_kit.spec import unproducible_metric

    scenario = spec.protocol.scenario
    known = producible_metrics(scenario, workload_class, work)
    return [
        (("metrics", index, "name"), *unproducible_metric(workload_class.name, metric.name, scenario, known))
        for index, metric in enumerate(spec.metrics)
        if metric.name not in known
    ]


def build_metrics(spec: Spec, measurement: Measurement, work: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Every spec metric: kind, unit, goal, target, headline value, statistics and raw samples."""
    from carpentry_kit.stats import summarize

    series = _metric_series(measurement, work)
    metrics = {}
    for metric in spec.metrics:
        samples, headline = series.get(metric.name, ([], None))
        stats = summarize(samples) if samples else None
        value = headline if headline is not None else (stats.median if stats else None)
        metrics[metric.name] = {
            "kind": metric.kind,
            "unit": metric.unit,
            "goal": metric.goal,
            "target": metric.target,
            "value": value,
            "stats": stats.to_dict() if stats else None,
            "samples": list(samples),
        }
    return metrics


def _metric_series(measurement: Measurement, work: dict[str, float]) -> dict[str, tuple[list[float], Any]]:
    """name -> (samples, headline or None for the median of the samples)."""
    m = measurement
    series: dict[str, tuple[list[float], Any]] = {}
    rates = [count / seconds for count, seconds in zip(m.samples, m.repeat_s, strict=True) if seconds > 0]
    series["throughput"] = (rates, None)
    if "flop" in work:
        series["gflops"] = ([rate * work["flop"] / 1e9 for rate in rates], None)
    if m.scenario == "offline":
        series["latency_s"] = (list(m.repeat_s), None)
    elif m.scenario == "single-stream":
        series.update(_latency_series(m))
    else:
        reached = [index for index, ok in enumerate(m.reached) if ok]
        series["time_to_target_s"] = ([m.repeat_s[i] for i in reached], None)
        series["epochs_to_target"] = ([float(m.epochs[i]) for i in reached], None)
    series.update(_energy_series(m))
    for name in {name for quality in m.quality for name in quality}:
        series[name] = ([quality[name] for quality in m.quality if name in quality], None)
    return series


def _latency_series(m: Measurement) -> dict[str, tuple[list[float], Any]]:
    """Per-query latency; percentiles as MLPerf reports them (over all queries), with per-repeat samples."""
    import numpy as np

    latencies = np.asarray(m.query_latency_s)
    if latencies.size == 0:
        return {}
    per_repeat = np.array_split(latencies, len(m.repeat_s)) if m.repeat_s else [latencies]
    series: dict[str, tuple[list[float], Any]] = {"latency_s": (latencies.tolist(), None)}
    for percent in (50, 90, 99):
        pooled = float(np.percentile(latencies, percent))
        samples = [float(np.percentile(chunk, percent)) for chunk in per_repeat if chunk.size]
        series[f"latency_p{percent}_s"] = (samples, pooled)
    return series


def _energy_series(m: Measurement) -> dict[str, tuple[list[float], Any]]:
    if not m.energy_per_repeat_j:
        return {}
    per_sample = [
        joules / count for joules, count in zip(m.energy_per_repeat_j, m.samples, strict=False) if count > 0
    ]
    powers = [
        joules / seconds
        for joules, seconds in zip(m.energy_per_repeat_j, m.repeat_s, strict=False)
        if seconds
    ]
    return {
        "energy_j": (list(m.energy_per_repeat_j), None),
        "energy_per_sample_j": (per_sample, None),
        "avg_power_w": (powers, None),
    }


def energy_summary(measurement: Measurement) -> dict[str, Any] | None:
    """The record's ``energy``: all timed windows added up, with the method and whether it is measured."""
    from carpentry_kit.energy import EnergyError, carbon_estimate

    windows = measurement.energy_windows
    if not windows:
        return None
    first = windows[0]
    components: dict[str, float] = {}
    for reading in windows:
        for part, joules in reading.components_j.items():
            components[part] = components.get(part, 0.0) + joules
    total = sum(reading.total_j for reading in windows)
    duration = sum(reading.duration_s for reading in windows)
    samples = sum(measurement.samples)
    try:
        carbon_kg, carbon_method = carbon_estimate(total)
    except EnergyError as error:  # no grid data here: the energy figures still stand
        carbon_kg, carbon_method = None, f"no carbon estimate: {error}"
    return {
        "method": first.method,
        "measured": first.measured,
        "layer": first.layer,
        "components_j": components,
        "total_j": total,
        "duration_s": duration,
        "avg_power_w": total / duration if duration > 0 else None,
        "per_sample_j": total / samples if samples else None,
        "per_repeat_j": total / len(measurement.energy_per_repeat_j),
        "carbon_kg": carbon_kg,
        "carbon_method": carbon_method,
        "notes": first.notes,
    }


# ---------------------------------------------------------------- validity


def judge(spec: Spec, record: RunRecord, measurement: Measurement | None) -> tuple[str, list[str]]:
    """VALID or INVALID, with one reason per broken rule (LoadGen's "Result is: INVALID" and why)."""
    if record.status == "failed":
        reasons = [f"the run failed: {record.error}"]
    elif record.status == "interrupted":
        reasons = ["the run was interrupted before it finished"]
    else:
        reasons = []
    if measurement is not None:
        reasons += _protocol_reasons(spec, measurement) + _quality_reasons(spec, record, measurement)
    reasons += _constraint_reasons(spec, record)
    return ("INVALID" if reasons else "VALID"), reasons


def _protocol_reasons(spec: Spec, m: Measurement) -> list[str]:
    budget = spec.constraints.time_budget_s
    if m.repeats == 0:
        return ["no timed repeat finished"]
    if m.budget_exhausted:
        return [m.stop_reason]
    if budget is not None and m.wall_s > budget:
        return [f"the run took {m.wall_s:.3g} s, over the time budget of {budget:g} s"]
    return []


def _quality_reasons(spec: Spec, record: RunRecord, m: Measurement) -> list[str]:
    target = spec.quality_target()
    reasons = []
    if m.scenario == "time-to-quality":
        rule = QualityTarget.from_metric(target)
        for index, (seed, epochs, ok, quality) in enumerate(
            zip(m.seeds, m.epochs, m.reached, m.quality, strict=True)
        ):
            if not ok:
                got = quality.get(rule.metric)
                shown = f"{got:.4g}" if got is not None else "not measured"
                reasons.append(
                    f"repeat {index + 1} (seed {seed}): {rule} not reached — {shown} after {epochs} epoch{'' if epochs == 1 else 's'}"
                )
    for metric in spec.metrics:
        if metric.kind != "quality" or metric.target is None:
            continue
        if m.scenario == "time-to-quality" and metric is target:  # judged per repeat above
            continue
        value = record.metrics.get(metric.name, {}).get("value")
        rule = QualityTarget.from_metric(metric)
        if value is None or not rule.reached({metric.name: value}):
            reasons.append(
                f"{metric.name} = {value if value is None else f'{value:.4g}'} misses the target {rule}"
            )
    return reasons


def _constraint_reasons(spec: Spec, record: RunRecord) -> list[str]:
    limits, energy, reasons = spec.constraints, record.energy or {}, []
    kind = "measured" if energy.get("measured") else "estimated"
    if limits.energy_budget_j is not None and energy.get("total_j", 0) > limits.energy_budget_j:
        reasons.append(
            f"{kind} energy {energy['total_j']:.3g} J is over the budget of {limits.energy_budget_j:g} J"
        )
    power = energy.get("avg_power_w")
    if limits.max_power_w is not None and power is not None and power > limits.max_power_w:
        reasons.append(f"{kind} average power {power:.3g} W is over the limit of {limits.max_power_w:g} W")
    peak = record.peak_memory_mb
    if limits.peak_memory_mb is not None and peak is not None and peak > limits.peak_memory_mb:
        reasons.append(f"peak memory {peak:.0f} MiB is over the limit of {limits.peak_memory_mb:g} MiB")
    return reasons


# ---------------------------------------------------------------- peak memory


class PeakMemory:
    """Peak resident memory of this process during a ``with`` block, in MiB.

    A background thread samples psutil's RSS every ``interval_s``; ``getrusage``'s ``ru_maxrss`` catches
    peaks between samples when it rose during the block (before, it may hold an older, higher peak).
    """

    def __init__(self, interval_s: float = 0.02):
        import threading

        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: Any = None
        self._peak_bytes = 0
        self._maxrss_before = 0

    def __enter__(self) -> PeakMemory:
        import threading

        self._maxrss_before = _maxrss_bytes()
        self._sample()
        self._thread = threading.Thread(target=self._watch, name="carpentry-peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def peak_mb(self) -> float:
        peak = self._peak_bytes
        maxrss = _maxrss_bytes()
        if maxrss > self._maxrss_before:
            peak = max(peak, maxrss)
        return peak / 2**20

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        import psutil

        self._peak_bytes = max(self._peak_bytes, psutil.Process().memory_info().rss)


def _maxrss_bytes() -> int:
    import resource

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024  # Linux reports KiB, macOS bytes
