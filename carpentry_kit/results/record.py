"""The run record: what one run stored, with its provenance, and how older records are upgraded.

Record format history (``record_version``) — bump the version and add an upgrade step for every change:
    1: first version (the fields of ``RunRecord``).
    2: ``peak_memory_mb`` renamed ``peak_memory_mib`` (it always held MiB), in the record and its spec's
       constraints; ``loadgen`` added (LoadGen's results and the harness floor of an inference run).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Spec

RECORD_VERSION = 2
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


_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _mb_to_mib}


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
    status: str = "completed"  # completed | interrupted | failed
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
        try:
            return cls(**upgraded)
        except TypeError as error:
            raise ValueError(f"not a run record: {error}") from None


_FIELD_NAMES = tuple(f.name for f in fields(RunRecord))


def new_record(spec: Spec, spec_path: str | None, overrides: dict[str, Any], device: str) -> RunRecord:
    """A fresh record for a run of ``spec`` (as overridden) on ``device``, with its provenance: the
    canonical spec and its hash, the system description and the software versions."""
    from carpentry_kit.spec.model import canonical_spec, spec_hash
    from carpentry_kit.system import describe_system, software_versions

    return RunRecord(
        benchmark=spec.benchmark.name,
        spec_hash=spec_hash(spec),
        spec=canonical_spec(spec),
        spec_path=spec_path,
        overrides=dict(overrides),
        scenario=spec.protocol.scenario,
        device=device,
        system=describe_system(),
        software=software_versions(),
    )


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
