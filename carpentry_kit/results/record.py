"""The run record: what one run stored, with its provenance, and how older records are upgraded.

Record format history (``record_version``) — bump the version and add an upgrade step for every change:
    1: first version (the fields of ``RunRecord``).
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
    pass

RECORD_VERSION = 1
STORE_FILE = "runs.jsonl"
RUNNING_DIR = "running"  # notes of runs in progress, one JSON file per run
KILLED_REASON = "the process running it ended before the run finished (killed, or the machine stopped)"

# version -> function turning a record of that version into one of the next version
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

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
    status: str = "completed"  # completed | interrupted | failed | predicted (carpentry_kit.predict)
    error: str | None = None
    validity: str = "INVALID"  # VALID | INVALID
    reasons: list[str] = field(default_factory=list)
    started_at: str = field(default_factory=utc_now)
    finished_at: str | None = None
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    energy: dict[str, Any] | None = None
    peak_memory_mb: float | None = None
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
