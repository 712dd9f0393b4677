"""The run record: what one run stored, with its provenance, and how older records are upgraded.

Record format history (``record_version``) — bump the version and add an upgrade step for every change:
    1: first version (the fields of ``RunRecord``).
    2: ``peak_memory_mb`` renamed ``peak_memory_mib`` (it always held MiB), in the record and its spec's
       constraints; ``loadgen`` added (LoadGen's results and the harness floor of an inference run).
    3: ``division`` (``closed`` or ``open``, from ``protocol.division``), ``overrides_tunable`` (true: every
       override was checked against ``protocol.tunable``, closed; null: not restricted, open) and ``tuning``
       (a sweep's tuning budget: ``{configurations, sweep_id, grid}``; null for a single run) added. Older
       records become ``open`` — every MLLOG file they wrote said ``submission_division: open`` and no
       override was restricted — with ``overrides_tunable`` and ``tuning`` null (not known).
    4: ``fresh`` added: quality on the public test split and on fresh data, the gap with its interval, and
       ``flagged`` when a target is met on the public split only (``measure/fresh.py``); null when the spec
       has no fresh data, as for every older record.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Spec

RECORD_VERSION = 4
STORE_FILE = "runs.jsonl"
RUNNING_DIR = "running"  # notes of runs in progress, one JSON file per run
MLLOG_DIR = "mllog"  # MLPerf-style event logs, one file per run
LOADGEN_DIR = "loadgen"  # LoadGen's summary and detail logs, one folder per run
KILLED_REASON = "the process running it ended before the run finished (killed, or the machine stopped)"

# version -> function turning a record of that version into one of the next version


def _mb_to_mib(record: dict[str, Any]) -> dict[str, Any]:
    """Version 1 -> 2: the peak memory fields say their unit (MiB) exactly."""
    record = dict(record, record_version=2)
    record["peak_memory_mib"] = record.pop("peak_memory_mb", None)
    record.setdefault("loadgen", None)
    constraints = (record.get("spec") or {}).get("constraints")
    if isinstance(constraints, dict) and "peak_memory_mb" in constraints:
        constraints["peak_memory_mib"] = constraints.pop("peak_memory_mb")
    return record


def _add_division(record: dict[str, Any]) -> dict[str, Any]:
    """Version 2 -> 3: the division (open: nothing was restricted), whether overrides were checked, tuning."""
    return dict(record, record_version=3, division="open", overrides_tunable=None, tuning=None)


def _add_fresh(record: dict[str, Any]) -> dict[str, Any]:
    """Version 3 -> 4: no fresh-data section (older runs measured none)."""
    return dict(record, record_version=4, fresh=None)


_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _mb_to_mib,
    2: _add_division,
    3: _add_fresh,
}


def utc_now() -> str:
    """The current time as ISO 8601 UTC, the timestamp format of records."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class RunRecord:
    """One run, as stored. ``metrics`` and ``energy`` follow ARCHITECTURE.md."""

    benchmark: str
    spec_hash: str
    spec: dict[str, Any]
    scenario: str
    device: str
    spec_path: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    division: str = "open"  # closed | open: the spec's protocol.division (spec/division.py)
    overrides_tunable: bool | None = None  # closed: True, every override was checked tunable; open: None
    tuning: dict[str, Any] | None = None  # a sweep's tuning budget: {configurations, sweep_id, grid}
    status: str = "completed"  # completed | interrupted | failed | predicted (carpentry_kit.predict)
    error: str | None = None
    validity: str = "INVALID"  # VALID | INVALID
    reasons: list[str] = field(default_factory=list)
    started_at: str = field(default_factory=utc_now)
    finished_at: str | None = None
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    energy: dict[str, Any] | None = None
    peak_memory_mib: float | None = None
    loadgen: dict[str, Any] | None = (
        None  # inference scenarios: LoadGen's results per test, the harness floor
    )
    fresh: dict[str, Any] | None = (
        None  # quality on public vs fresh data, the gap, flagged (measure/fresh.py)
    )
    system: dict[str, Any] = field(default_factory=dict)
    software: dict[str, Any] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    record_version: int = RECORD_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The record's fields as a dict (shallow: nested values are shared, not deep-copied like asdict)."""
        return {name: getattr(self, name) for name in _FIELD_NAMES}

    def to_json_line(self) -> str:
        """The record as one line of JSON (no newline inside, ``\\n`` at the end)."""
        return json.dumps(self.to_dict(), default=json_default, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """A record from its dict, upgraded to the current version; raises ``ValueError`` if unreadable."""
        upgraded = upgrade_record(data)
        missing = [f.name for f in fields(cls) if f.name not in upgraded and _required(f)]
        unknown = sorted(set(upgraded) - set(_FIELD_NAMES))
        if missing or unknown:
            what = f"missing {', '.join(missing)}" if missing else f"unknown field {', '.join(unknown)}"
            raise ValueError(f"not a run record: {what}")
        record = cls(**upgraded)
        check_types(record)
        return record


_FIELD_NAMES = tuple(f.name for f in fields(RunRecord))


def new_record(
    spec: Spec,
    spec_path: str | None,
    overrides: dict[str, Any],
    device: str,
    system: dict[str, Any] | None = None,
    software: dict[str, Any] | None = None,
) -> RunRecord:
    """A fresh record for a run of ``spec`` (as overridden) on ``device``, with its provenance: the
    canonical spec and its hash, its division and overrides (refused with ``DivisionError`` if the closed
    division does not allow one), the system description and the software versions (described now unless
    the caller has them already, as a sweep does once for all its points)."""
    from carpentry_kit.spec.model import canonical_spec, spec_hash
    from carpentry_kit.system import describe_system, software_versions

    return RunRecord(
        benchmark=spec.benchmark.name,
        spec_hash=spec_hash(spec),
        spec=canonical_spec(spec),
        spec_path=spec_path,
        overrides=dict(overrides),
        **division_fields(spec, overrides),
        scenario=spec.protocol.scenario,
        device=device,
        system=system if system is not None else describe_system(),
        software=software if software is not None else software_versions(),
    )


def division_fields(spec: Spec, overrides: dict[str, Any]) -> dict[str, Any]:
    """A record's ``division`` and ``overrides_tunable`` (true: closed, every override checked tunable; null:
    open, not restricted). Raises ``DivisionError`` for an override the closed division refuses: the runner
    has checked already, and a record never hides one."""
    from carpentry_kit.errors import DivisionError

    refused = spec.division_problems(overrides)
    if refused:
        raise DivisionError(refused)
    closed = spec.protocol.division == "closed"
    return {"division": spec.protocol.division, "overrides_tunable": True if closed else None}


def _required(item: Any) -> bool:
    return item.default is MISSING and item.default_factory is MISSING


_NUMBER = (int, float)
# field -> the types its value may have (None: the field may be null)
_FIELD_TYPES: dict[str, tuple[type | None, ...]] = {
    **dict.fromkeys(("benchmark", "spec_hash", "scenario", "device", "status", "validity"), (str,)),
    **dict.fromkeys(("run_id", "started_at"), (str,)),
    **dict.fromkeys(("spec_path", "error", "finished_at"), (str, None)),
    **dict.fromkeys(("spec", "overrides", "metrics", "system", "software"), (dict,)),
    "energy": (dict, None),
    "reasons": (list,),
    "peak_memory_mib": (*_NUMBER, None),
    "loadgen": (dict, None),
    "division": (str,),
    "overrides_tunable": (bool, None),
    "tuning": (dict, None),
    "fresh": (dict, None),
}


_STATS_NUMBERS = {
    "n",
    "median",
    "mean",
    "stdev",
    "iqr",
    "mad",
    "min",
    "max",
    "p50",
    "p90",
    "p99",
    "ci_low",
    "ci_high",
}
_ENERGY_NUMBERS = {"total_j", "duration_s", "avg_power_w", "per_sample_j", "per_repeat_j", "carbon_kg"}


def check_types(record: RunRecord) -> None:
    """Raise ``ValueError`` naming the first field whose value has the wrong type for a record."""
    for name, allowed in _FIELD_TYPES.items():
        _check_type(name, getattr(record, name), allowed)
    if record.division not in ("closed", "open"):
        raise ValueError(f"division is {record.division!r}, expected 'closed' or 'open'")
    for name, metric in record.metrics.items():
        where = f"metrics.{name}"
        _check_type(where, metric, (dict,))
        _check_type(f"{where}.value", metric.get("value"), (*_NUMBER, None))
        _check_type(f"{where}.stats", metric.get("stats"), (dict, None))
        samples = metric.get("samples", [])
        _check_type(f"{where}.samples", samples, (list,))
        kinds = {type(s) for s in samples}  # a few types, checked once each: fast for long series
        if any(kind is bool or not issubclass(kind, _NUMBER) for kind in kinds):
            raise ValueError(f"{where}.samples holds a value that is not a number")
        stats = metric.get("stats") or {}
        for key in _STATS_NUMBERS & set(stats):  # only the keys readers compute with: others may be added
            _check_type(f"{where}.stats.{key}", stats[key], (*_NUMBER, None))
        if "unstable" in stats:
            _check_type(f"{where}.stats.unstable", stats["unstable"], (bool,))
    energy = record.energy or {}
    for key in _ENERGY_NUMBERS & set(energy):
        _check_type(f"energy.{key}", energy[key], (*_NUMBER, None))
    for key, allowed in (("method", (str,)), ("measured", (bool,))):
        if key in energy:
            _check_type(f"energy.{key}", energy[key], allowed)


def _check_type(where: str, value: Any, allowed: tuple[type | None, ...]) -> None:
    if value is None and None in allowed:
        return
    types = tuple(kind for kind in allowed if kind is not None)
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        names = " or ".join("null" if kind is None else kind.__name__ for kind in allowed)
        raise ValueError(f"{where} is {type(value).__name__}, expected {names}")


def upgrade_record(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored record to ``RECORD_VERSION``; raises ``ValueError`` for unknown versions."""
    version = data.get("record_version")
    if not isinstance(version, int):
        raise ValueError("record has no integer record_version — it was not written by carpentry-kit")
    if version > RECORD_VERSION:
        raise ValueError(
            f"record_version {version} is newer than this carpentry-kit reads ({RECORD_VERSION}) — upgrade it"
        )
    record = dict(data)
    while record["record_version"] < RECORD_VERSION:
        step = _UPGRADES.get(record["record_version"])
        if step is None:
            raise ValueError(f"record_version {record['record_version']} is not a known version")
        record = step(record)
    return record


def json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
