"""Run a spec: check the machine, build the workload, time it with an energy meter, judge validity, store.

``run(spec)`` follows MLPerf's habits: the machine is checked first (a spec whose required infrastructure is
missing is refused with a ``SpecError`` naming each missing thing, and nothing is recorded); the workload is
set up untimed; the harness times only the work, with the energy meter's windows around exactly that; the
result is judged VALID or INVALID with reasons ("Result is: VALID"), written to the results store with its
provenance and an MLLOG file, and returned as a ``RunResult``.

A run that raises inside the workload is recorded with status ``failed`` and its error (and returned, INVALID);
so is one whose metrics come out NaN or infinite (a diverged training). Ctrl-C or SIGTERM is recorded as
``interrupted`` and re-raised as ``RunInterrupted`` (a ``KeyboardInterrupt`` carrying the partial
``RunResult``). A process killed outright is recorded as ``interrupted`` by the store's next reader or writer
(``ResultStore.begin``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.measure.fresh import fresh_gap, needs_fresh
from carpentry_kit.measure.harness import Harness, Measurement, QualityTarget
from carpentry_kit.measure.loadgen import LoadGenEngine, harness_floor, uses_loadgen
from carpentry_kit.measure.memory import PeakMemory
from carpentry_kit.measure.metrics import (
    build_metrics,
    energy_summary,
    non_finite_error,
    unproducible_after_setup,
)
from carpentry_kit.measure.preflight import check_infrastructure, check_memory, load_datasets, raise_problems
from carpentry_kit.measure.protocols import TimedWorkload, WindowMeter
from carpentry_kit.measure.signals import interrupt_reason, terminate_as_interrupt
from carpentry_kit.measure.validity import judge
from carpentry_kit.results.frame import records_frame
from carpentry_kit.results.mllog import RunLog
from carpentry_kit.results.record import new_record, utc_now
from carpentry_kit.results.store import ResultStore
from carpentry_kit.results.summary import format_record, record_html
from carpentry_kit.workloads import get_workload

if TYPE_CHECKING:
    import pandas as pd

    from carpentry_kit.spec.model import Spec


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
    spec, spec_path = _load(spec_or_path, overrides)  # the spec stage; from here on the Spec is trusted
    device = check_infrastructure(spec, device)
    workload_class = get_workload(spec.task.workload)  # load_spec checked it is registered
    _check_carbon_country()
    record = new_record(spec, spec_path, overrides, device)
    store = ResultStore(out if out is not None else spec.results.dir)
    store.prepare()  # a read-only --out, or a file in its place: refused before anything runs
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
    from carpentry_kit.spec.load import apply_overrides, load_spec
    from carpentry_kit.spec.model import Spec

    if isinstance(spec_or_path, Spec):
        return (apply_overrides(spec_or_path, overrides) if overrides else spec_or_path), None
    return load_spec(Path(spec_or_path), overrides or None), str(spec_or_path)


def _check_carbon_country() -> None:
    """A bad ``CARPENTRY_COUNTRY_ISO_CODE`` is bad input: refuse it now, not after the run."""
    from carpentry_kit.energy import EnergyUnavailable, carbon_estimate

    with contextlib.suppress(EnergyUnavailable):  # no grid data installed: the record will say so
        carbon_estimate(0.0)


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
        from carpentry_kit.errors import SpecError

        with self.memory, _torch_threads(self.spec.infrastructure.threads), terminate_as_interrupt():
            workload = self._build_workload()
            check_memory(self.spec, workload)
            meter = _make_meter(self.energy, self.record.device)
            self.log = RunLog(self.store, self.record, organisation=self.spec.benchmark.contact.name)
            self.store.begin(self.record)
            try:
                self._measure(workload, meter)
            except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM (measure/signals.py)
                raise RunInterrupted(self._finish("interrupted", interrupt_reason(interrupt))) from None
            except SpecError:  # a metric the workload cannot produce, found after setup: bad input,
                self.store.discard_note(
                    self.record.run_id
                )  # so nothing is recorded (no phantom interrupted run)
                raise
            except Exception as error:  # the workload's own failure: recorded, reported, not raised
                return self._finish("failed", _describe_error(error))
            finally:
                meter.close()
            return self._finish("completed", None)

    def _build_workload(self) -> TimedWorkload:
        datasets = load_datasets(self.spec, self.spec_path)
        task = self.spec.task
        try:
            return self.workload_class(dict(task.params), datasets, self.record.device, task.seed)
        except ValueError as error:  # WorkloadError: the params or datasets do not fit this workload
            from carpentry_kit.errors import UsageError

            raise UsageError(f"{self.spec_path or '<spec>'}: {error}") from None

    def _measure(self, workload: TimedWorkload, meter: WindowMeter) -> None:
        self.log.start("init_start")
        workload.setup()
        self.log.end("init_stop")
        self.log.sizes(workload.sample_counts())
        self.work = dict(workload.work_per_sample())
        raise_problems(self.spec, unproducible_after_setup(self.spec, self.workload_class, self.work))
        self.harness = self._engine(workload, meter)
        self.log.start("run_start")
        with _progress_bar(self.harness, self.spec, self.show_progress):
            self.harness.run()
        if needs_fresh(self.spec):  # untimed, after the run: public test split against fresh data
            self.record.fresh = fresh_gap(self.spec, workload)

    def _engine(self, workload: TimedWorkload, meter: WindowMeter) -> Harness | LoadGenEngine:
        """MLPerf's LoadGen for an inference workload's scenarios; the harness's loops for the others."""
        protocol = self.spec.protocol
        if uses_loadgen(self.workload_class, protocol.scenario):
            log_dir = self.store.loadgen_dir(self.record.run_id)
            self.record.loadgen = {
                "harness_floor": harness_floor(log_dir.parent / f".floor-{self.record.run_id}")
            }
            return LoadGenEngine(workload, protocol, log_dir=log_dir, meter=meter, on_event=self.log.on_event)
        target = self.spec.quality_target()
        self.log.quality_metric = target.name if target else None
        return Harness(
            workload,
            protocol,
            time_budget_s=self.spec.constraints.time_budget_s,
            target=QualityTarget.from_metric(target) if target else None,
            meter=meter,
            max_epochs=workload.max_steps(),
            on_event=self.log.on_event,
        )

    def _finish(self, status: str, error: str | None) -> RunResult:
        record, measurement = self.record, self.harness.measurement if self.harness else None
        diverged = non_finite_error(self.spec, measurement, self.work) if measurement else None
        if diverged and status == "completed":  # NaN or infinity in a metric: not a result
            status, error = "failed", diverged
        record.status, record.error, record.finished_at = status, error, utc_now()
        record.peak_memory_mib = self.memory.peak_mib()
        if measurement is not None:
            record.metrics = build_metrics(self.spec, measurement, self.work)
            record.energy = energy_summary(measurement)
            if measurement.loadgen:
                record.loadgen = {**(record.loadgen or {}), "tests": measurement.loadgen}
        record.validity, record.reasons = judge(self.spec, record, measurement)
        self.store.append(record)
        self.log.finish(record, measurement)
        return RunResult(record.to_dict(), measurement)


def _make_meter(method: str, device: str) -> WindowMeter:
    """The energy meter for ``--energy method``; a method that cannot work here is bad input."""
    from carpentry_kit.energy import EnergyError, make_meter
    from carpentry_kit.errors import UsageError

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
