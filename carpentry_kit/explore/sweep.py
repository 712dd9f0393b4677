"""Sweeps: run one spec over the cartesian product of a grid of overrides, resumably, locally or on Dask.

``sweep(spec, {"task.params.size": [64, 128], "task.params.dtype": ["float32", "float64"]})`` runs the four
points and writes every record into one results store. The grid uses the same dotted paths as ``--set``.

* **Sequential by default.** On one machine, points run one after another, not in parallel: runs that
  share a machine compete for its cores, caches, memory bandwidth and power, which distorts their
  timings and energy.
* **Resumable.** A point is identified by the ``spec_hash`` of its overridden spec; a point whose hash has a
  ``completed`` record in the store is skipped, so re-running an interrupted sweep only runs what is left.
  (The energy method and device are not part of the spec: change ``--out`` to measure again with another.)
* **Failures are recorded.** A point that fails at run time is stored with status ``failed`` and its error,
  and the sweep goes on. A point in flight is noted in the store (``ResultStore.begin``), so if the sweep
  itself is killed (``kill -9``, a scheduler's limit) the next reader of the store records it as
  ``interrupted``; SIGTERM and Ctrl-C record it with the samples so far. A grid value the spec rejects
  (a bad path, a value out of range) is reported for every point before anything runs, and so is a grid
  field a closed-division spec does not list in ``protocol.tunable`` (``spec/division.py``).
* **Tuning budget.** Every record of a sweep carries ``tuning: {configurations, sweep_id, grid}``: how many
  configurations the sweep tried, so the best of them is reported as "best of N configurations".
* **Dask.** With ``dask=`` a scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``, each
  point is one task on a worker; the records come back to the client, which is the store's only writer,
  however many workers there are (the store would also take several writers: each record is one locked
  ``O_APPEND`` write). One task per worker thread is in flight at a time, the next submitted as one
  finishes, so a client killed mid-sweep leaves ``interrupted`` records only for the points that were
  running, and the same sweep run again completes just the missing points.
  ``dask_local=N`` starts a ``LocalCluster`` of N single-threaded workers — a demo, since they share this
  machine. The sweep warns when workers would run points side by side on one machine (a worker with
  several threads, several workers on one host).

On an HPC cluster, start the workers through the batch system with ``dask-jobqueue`` and hand the client
to ``sweep`` (the command-line route, ``carpentry sweep --dask ADDRESS``, is in ``carpentry sweep
--help``)::

    # sweep_on_slurm.py — run with: python sweep_on_slurm.py (on a login node)
    from dask.distributed import Client
    from dask_jobqueue import SLURMCluster
    import carpentry_kit as ck

    cluster = SLURMCluster(
        queue="compute", account="my-project",   # your partition and allocation
        cores=1, processes=1, memory="4GB",      # one single-threaded worker per job: no shared cores
        walltime="00:30:00",
        job_extra_directives=["--exclusive"],    # a node to itself: no noisy neighbours in the timings
    )
    cluster.scale(jobs=4)                        # four batch jobs, one worker each
    result = ck.sweep("matmul.yaml", {"task.params.size": [256, 512, 1024, 2048]},
                      out="results/matmul-sweep", dask=Client(cluster))
    print(result)

Each worker must see the same software (``pip install carpentry-kit`` in the environment the jobs
activate); the records come back to the login node, so the results directory need not be shared.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.errors import DivisionError, SpecError, UsageError
from carpentry_kit.explore.compare import count_noun

if TYPE_CHECKING:
    import pandas as pd

    from carpentry_kit.results.store import ResultStore
    from carpentry_kit.spec.model import Spec

SEQUENTIAL_NOTE = (
    "running {points} one after another, not in parallel: runs that share a machine compete for its "
    "cores, caches, memory bandwidth and power, which distorts their timings and energy. To run points "
    "in parallel, give --dask (dask=) a scheduler whose workers each have a machine to themselves."
)
LOCAL_CLUSTER_NOTE = (
    "{workers} on this machine: points running at the same time distort each other's timings and "
    "energy — fine for a demo, not for measurements"
)
SHARED_WORKER_NOTE = (
    "Dask worker {worker} has {threads} threads, so it runs up to {threads} points at once on one machine "
    "and they distort each other's timings and energy — start workers with --nthreads 1"
)
SHARED_HOST_NOTE = (
    "{workers} run on host {host}: their points share that machine and distort each other's timings and "
    "energy — start one single-threaded worker per machine (dask-jobqueue: cores=1, processes=1, "
    "--exclusive)"
)
NO_WORKERS_NOTE = "no Dask worker has joined the scheduler yet: the points wait until workers start"


@dataclass
class SweepResult:
    """What a sweep did: the records of points run now (``done``, ``failed``) and found in the store
    (``skipped``), plus every point's record in grid order (``records``)."""

    out: Path
    points: list[dict[str, Any]]
    done: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    def to_frame(self, samples: bool = False) -> pd.DataFrame:
        """The records of every point as the tidy frame ``load_results`` returns."""
        from carpentry_kit.results.frame import records_frame

        return records_frame(self.records, samples=samples)

    def summary(self) -> str:
        return (
            f"{count_noun(len(self.points), 'point')}: {len(self.done)} done, {len(self.skipped)} skipped "
            f"(already completed), {len(self.failed)} failed — results in {self.out}"
        )

    def __repr__(self) -> str:
        return f"SweepResult({self.summary()})"


@dataclass
class _Point:
    """One grid point: its overrides, its overridden spec and that spec's hash (the resume key)."""

    index: int
    overrides: dict[str, Any]
    grid_values: dict[str, Any]
    spec: Spec
    spec_hash: str


# --- the grid -------------------------------------------------------------------------------------


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["task.params.size=64,128", "protocol.seeds=[1,2],[3]"]`` -> ``{path: [values]}`` (YAML values)."""
    import yaml

    from carpentry_kit.spec.yaml_source import LineLoader  # safe, and refuses nesting too deep

    grid: dict[str, list[Any]] = {}
    for item in items:
        path, equals, text = item.partition("=")
        path = path.strip()
        if not equals or not path or not text.strip():
            raise UsageError(f"--grid {item}: expected PATH=V1,V2,... — e.g. --grid task.params.size=64,128")
        try:
            values = yaml.load(f"[{text}]", Loader=LineLoader)
        except yaml.YAMLError:
            raise UsageError(
                f"--grid {item}: the values are not valid YAML — quote text with commas"
            ) from None
        if path in grid:
            raise UsageError(f"--grid {path}: given twice — list all its values in one --grid")
        grid[path] = values
    return grid


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of the grid, first key varying slowest: ``[{path: value, ...}, ...]``."""
    for path, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise UsageError(f"grid: {path} needs a non-empty list of values, got {values!r}")
    paths = list(grid)
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*grid.values())]


# --- the sweep ------------------------------------------------------------------------------------


def sweep(
    spec: Spec | str | os.PathLike[str],
    grid: dict[str, list[Any]],
    *,
    overrides: dict[str, Any] | None = None,
    out: str | os.PathLike[str] | None = None,
    repeats: int | None = None,
    energy: str = "auto",
    device: str | None = None,
    dask: Any = None,
    dask_local: int | None = None,
    log: Callable[[str], None] | None = print,
) -> SweepResult:
    """Run ``spec`` at every point of ``grid`` (plus fixed ``overrides``) and store the records in ``out``.

    Points already completed in ``out`` are skipped; failed points are recorded and the sweep goes on.
    ``dask`` (a scheduler address or a ``distributed.Client``) or ``dask_local`` (a worker count) run the
    points as Dask tasks; on an HPC cluster, ``dask=Client(SLURMCluster(cores=1, processes=1, ...))``
    (dask-jobqueue; the module's documentation has the full recipe). ``log`` receives one line per
    event (``None``: silent).
    """
    say = log or (lambda _line: None)
    base, spec_path = _base_spec(spec)
    if device is not None and dask is None:  # bad input for every point: refuse before any runs
        from carpentry_kit.measure.preflight import check_device_option

        check_device_option(device)
    fixed = dict(overrides or {})
    if repeats is not None:
        fixed["protocol.repeats"] = repeats
    points = _prepare_points(base, grid, fixed)
    tuning = tuning_budget(base, grid, fixed)
    from carpentry_kit.results.store import ResultStore

    store = ResultStore(out if out is not None else base.results.dir)
    store.prepare()  # an unwritable --out is refused before any point runs
    result = SweepResult(out=store.dir, points=[p.grid_values for p in points])
    finished = _completed_by_hash(store)
    todo = [p for p in points if p.spec_hash not in finished]
    for point in points:
        if point.spec_hash in finished:
            result.skipped.append(finished[point.spec_hash])
            say(f"[{point.index}/{len(points)}] {_label(point)}: skipped (already completed)")
    job = _Job(base=base, spec_path=spec_path, energy=energy, device=device)
    notes = _InFlight(store, job)
    outcomes = _run_points(todo, job, dask, dask_local, say, notes.begin)
    by_hash = dict(finished)
    try:
        for point, record, mllog in outcomes:
            record = dict(record, tuning=tuning)
            _store(store, record, mllog, replaces=notes.pop(point))
            (result.done if record["status"] == "completed" else result.failed).append(record)
            by_hash[point.spec_hash] = record
            say(f"[{point.index}/{len(points)}] {_label(point)}: {_outcome_text(record)}")
    except KeyboardInterrupt as interrupt:  # keep the interrupted run's record; a re-run resumes
        for record in getattr(interrupt, "records", []):
            _store(
                store,
                dict(record, spec_path=spec_path, tuning=tuning),
                None,
                replaces=notes.pop_hash(record["spec_hash"]),
            )
        notes.discard_all()  # points not reached were not run: nothing to record for them
        say(f"interrupted — {count_noun(len(result.done), 'point')} done; run the same sweep again to resume")
        raise
    result.records = [by_hash[p.spec_hash] for p in points if p.spec_hash in by_hash]
    say(result.summary())
    return result


def tuning_budget(base: Spec, grid: dict[str, list[Any]], fixed: dict[str, Any]) -> dict[str, Any]:
    """A sweep's tuning budget, stored with each of its records: how many configurations it tries (the
    grid's points), which fields it varies, and an id shared by every run of the same sweep (the base
    spec, grid and fixed overrides), so a resumed sweep keeps its id."""
    import hashlib
    import json

    from carpentry_kit.spec.model import spec_hash

    identity = json.dumps([spec_hash(base), grid, fixed], sort_keys=True, default=str)
    return {
        "configurations": len(grid_points(grid)),
        "sweep_id": hashlib.sha256(identity.encode()).hexdigest()[:12],
        "grid": list(grid),
    }


def _base_spec(spec: Spec | str | os.PathLike[str]) -> tuple[Spec, str | None]:
    from carpentry_kit.spec.load import load_spec
    from carpentry_kit.spec.model import Spec

    if isinstance(spec, Spec):
        return spec, None
    return load_spec(Path(spec)), str(spec)


def _prepare_points(base: Spec, grid: dict[str, list[Any]], fixed: dict[str, Any]) -> list[_Point]:
    """Every point's overridden spec and hash; every problem of every point is reported before running."""
    from carpentry_kit.spec.load import apply_overrides
    from carpentry_kit.spec.model import spec_hash

    clash = sorted(set(grid) & set(fixed))
    if clash:
        raise UsageError(f"--grid {clash[0]}: also fixed by --set/--repeats — keep it in one place only")
    points, problems, refusals = [], [], []
    for index, values in enumerate(grid_points(grid), start=1):
        overrides = {**fixed, **values}
        try:
            spec = apply_overrides(base, overrides)
        except SpecError as error:
            problems += [p for p in error.problems if p not in problems]
            refusals.append(isinstance(error, DivisionError))
            continue
        points.append(_Point(index, overrides, values, spec, spec_hash(spec)))
    if problems:  # a closed division's refusals alone stay a DivisionError
        raise (DivisionError if all(refusals) else SpecError)(problems)
    return points


def _completed_by_hash(store: ResultStore) -> dict[str, dict[str, Any]]:
    if not store.dir.exists():
        return {}
    return {r["spec_hash"]: r for r in store.records() if r["status"] == "completed"}


def _label(point: _Point) -> str:
    from carpentry_kit.explore.compare import short_value

    return ", ".join(f"{path}={short_value(v)}" for path, v in point.grid_values.items()) or "(no grid)"


def _outcome_text(record: dict[str, Any]) -> str:
    if record["status"] != "completed":
        return f"{record['status']} — {record.get('error')}"
    reasons = f" ({'; '.join(record['reasons'])})" if record.get("reasons") else ""
    return f"completed, {record['validity']}{reasons}"


def _store(
    store: ResultStore, record: dict[str, Any], mllog: str | None, replaces: str | None = None
) -> None:
    """Append the record (the sweep is the store's only writer) and its MLLOG file beside it; ``replaces``
    is the run id of the point's in-flight note, dropped with the append."""
    store.append(record, replaces=replaces)
    if mllog is not None:
        log_path = store.mllog_path(record["run_id"])
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(mllog, encoding="utf-8")


# --- running points -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """What every point shares; sent to Dask workers with each task."""

    base: Spec
    spec_path: str | None
    energy: str
    device: str | None


class _InFlight:
    """The store's notes of points in flight (``ResultStore.begin``), so a killed sweep leaves a trace."""

    def __init__(self, store: ResultStore, job: _Job) -> None:
        self.store, self.job = store, job
        self.notes: dict[str, str] = {}  # spec_hash -> run id of the note
        self.provenance: dict[str, Any] | None = None  # the machine's description, taken once per sweep

    def begin(self, point: _Point) -> None:
        from carpentry_kit.results.record import RunRecord
        from carpentry_kit.system import describe_system, software_versions

        if self.provenance is None:
            self.provenance = {"system": describe_system(), "software": software_versions()}
        note = RunRecord.from_dict(_point_record(self.job, point.overrides, point.spec, **self.provenance))
        self.store.begin(note)
        self.notes[point.spec_hash] = note.run_id

    def pop(self, point: _Point) -> str | None:
        return self.pop_hash(point.spec_hash)

    def pop_hash(self, spec_hash: str) -> str | None:
        return self.notes.pop(spec_hash, None)

    def discard_all(self) -> None:
        for run_id in self.notes.values():
            self.store.discard_note(run_id)
        self.notes.clear()


def _run_points(
    points: list[_Point],
    job: _Job,
    dask: Any,
    dask_local: int | None,
    say: Callable[[str], None],
    begin: Callable[[_Point], None],
) -> Iterator[tuple[_Point, dict[str, Any], str | None]]:
    if not points:
        return iter(())
    if dask is None and not dask_local:
        say(SEQUENTIAL_NOTE.format(points=count_noun(len(points), "point")))
        return _run_sequentially(points, job, begin)
    return _run_on_dask(points, job, dask, dask_local, say, begin)


def _run_sequentially(
    points: list[_Point], job: _Job, begin: Callable[[_Point], None]
) -> Iterator[tuple[_Point, dict[str, Any], str | None]]:
    for point in points:
        begin(point)
        yield (point, *run_point(job, point.overrides))


def run_point(job: _Job, overrides: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Run one point into a private temporary store; return its record and MLLOG text.

    A failure the runner does not record itself (it raised before the workload started) becomes a
    ``failed`` record here, so every point leaves a record. Ctrl-C is not caught.
    """
    from carpentry_kit.measure.runner import run
    from carpentry_kit.results.store import ResultStore

    with tempfile.TemporaryDirectory(prefix="carpentry-sweep-") as scratch:
        try:
            result = run(
                job.base, overrides, energy=job.energy, out=scratch, progress=False, device=job.device
            )
        except KeyboardInterrupt as interrupt:  # the runner recorded it as interrupted: pass that on
            interrupt.records = ResultStore(scratch).records()  # type: ignore[attr-defined]
            raise
        except Exception as error:  # raised before the workload ran (infrastructure, data): record it
            return _failed_record(job, overrides, error), None
        record = dict(result.record, spec_path=job.spec_path)
        log_path = ResultStore(scratch).mllog_path(record["run_id"])
        mllog = log_path.read_text(encoding="utf-8") if log_path.exists() else None
    return record, mllog


def _failed_record(job: _Job, overrides: dict[str, Any], error: BaseException) -> dict[str, Any]:
    from carpentry_kit.results.record import utc_now

    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    return _point_record(
        job,
        overrides,
        status="failed",
        error=f"{type(error).__name__}: {message}",
        reasons=["the run failed before it could be measured"],
        finished_at=utc_now(),
    )


def _point_record(
    job: _Job, overrides: dict[str, Any], spec: Spec | None = None, **fields: Any
) -> dict[str, Any]:
    """A record of one point made by the sweep itself (not by a run): its spec, hash and provenance."""
    from carpentry_kit.results.record import new_record
    from carpentry_kit.spec.load import apply_overrides

    spec = spec if spec is not None else apply_overrides(job.base, overrides)
    record = new_record(spec, job.spec_path, overrides, job.device or "not started", **_provenance(fields))
    for name, value in {"validity": "INVALID", **fields}.items():
        setattr(record, name, value)
    return record.to_dict()


def _provenance(fields: dict[str, Any]) -> dict[str, Any]:
    """The system description and software versions among ``fields`` (taken out), if the caller has them."""
    return {key: fields.pop(key) for key in ("system", "software") if key in fields}


def _run_on_dask(
    points: list[_Point],
    job: _Job,
    dask: Any,
    dask_local: int | None,
    say: Callable[[str], None],
    begin: Callable[[_Point], None],
) -> Iterator[tuple[_Point, dict[str, Any], str | None]]:
    """Submit one task per point; yield each outcome as it arrives (the caller writes it)."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if isinstance(dask, Client):
        client, owned = dask, False
    elif dask is not None:
        client, owned = Client(dask, timeout="30s"), True
    else:
        say(LOCAL_CLUSTER_NOTE.format(workers=count_noun(dask_local or 0, "local Dask worker")))
        cluster = LocalCluster(
            n_workers=dask_local, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client, owned = Client(cluster), True
    try:
        say(
            f"running {count_noun(len(points), 'point')} as Dask tasks (scheduler {client.scheduler.address})"
        )
        if cluster is None:
            for note in concurrency_notes(client.scheduler_info().get("workers", {})):
                say(note)
        yield from _windowed(client, points, job, begin, as_completed())
    finally:
        if owned:
            client.close()
        if cluster is not None:
            cluster.close()


def _windowed(
    client: Any, points: list[_Point], job: _Job, begin: Callable[[_Point], None], pending: Any
) -> Iterator[tuple[_Point, dict[str, Any], str | None]]:
    """Keep one task per worker thread in flight (submitting the next as one finishes) and yield each
    outcome. So the in-flight notes are the points actually running: a killed client leaves interrupted
    records for those only, not for every point still queued, and its memory holds a window, not the grid.
    Task keys carry a token of this sweep, so clients sharing a scheduler never collide."""
    token, remaining, futures = uuid.uuid4().hex[:8], iter(points), {}

    def fill() -> None:
        window = max(sum(client.nthreads().values()), 1)  # workers may join or leave as the sweep runs
        while len(futures) < window and (point := next(remaining, None)) is not None:
            begin(point)
            future = client.submit(
                run_point, job, point.overrides, pure=False, key=f"point-{point.index}-{token}"
            )
            futures[future] = point
            pending.add(future)

    fill()
    for future in pending:
        point = futures.pop(future)
        outcome = _task_outcome(future, job, point)
        fill()
        yield (point, *outcome)


def concurrency_notes(workers: dict[str, dict[str, Any]]) -> list[str]:
    """Warnings for Dask workers that would run points side by side on one machine.

    ``workers`` is ``Client.scheduler_info()["workers"]``: worker address -> ``{"host", "nthreads", ...}``.
    """
    if not workers:
        return [NO_WORKERS_NOTE]
    notes = [
        SHARED_WORKER_NOTE.format(worker=address, threads=info["nthreads"])
        for address, info in workers.items()
        if info.get("nthreads", 1) > 1
    ]
    hosts = Counter(str(info.get("host", "?")) for info in workers.values())
    notes += [
        SHARED_HOST_NOTE.format(workers=count_noun(n, "worker"), host=host)
        for host, n in hosts.items()
        if n > 1
    ]
    return notes


def _task_outcome(future: Any, job: _Job, point: _Point) -> tuple[dict[str, Any], str | None]:
    """A task's (record, mllog); a task that died (worker lost, unpicklable error) becomes a failed record."""
    try:
        return future.result()
    except Exception as error:  # anything a worker raised: record it, the sweep goes on
        return _failed_record(job, point.overrides, error), None
