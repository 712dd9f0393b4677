"""Result records and the results store: one JSON object per line in ``<dir>/runs.jsonl``.

A record carries everything needed to read a result later without re-running it: the canonical spec and
its hash, overrides, validity and reasons, every metric with its statistics and raw samples, the energy
reading with its method, peak memory, the system description and software versions.

Appends are atomic: each record is one ``os.write`` of a complete line to a file opened with ``O_APPEND``,
under an exclusive ``fcntl`` lock, followed by ``fsync``; concurrent writers never interleave. A writer
killed mid-way can leave at most a truncated last line: readers skip it (with a warning) and the next
append cuts it off before writing.

A run in progress is noted in ``<dir>/running/<run_id>.json`` (``ResultStore.begin``) and the note is removed
when its record is appended. A process killed outright (SIGKILL, a scheduler's time limit, a power cut) cannot
record anything itself, so the next reader or writer of the store on the same machine finds the note of a
process that no longer exists and appends that run as ``interrupted``: no run disappears without a trace.

Record format history (``record_version``) — bump the version and add an upgrade step for every change:
    1: first version (the fields of ``RunRecord``).
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

RECORD_VERSION = 1
STORE_FILE = "runs.jsonl"
RUNNING_DIR = "running"  # notes of runs in progress, one JSON file per run
KILLED_REASON = "the process running it ended before the run finished (killed, or the machine stopped)"

# version -> function turning a record of that version into one of the next version
_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

# Columns copied from the record's own fields, then the energy and per-metric columns.
RECORD_COLUMNS = [
    "run_id",
    "benchmark",
    "spec_hash",
    "status",
    "validity",
    "started_at",
    "scenario",
    "device",
]
FRAME_COLUMNS = [
    *RECORD_COLUMNS,
    "energy_method",
    "energy_measured",
    "metric",
    "kind",
    "unit",
    "goal",
    "value",
    "median",
    "mean",
    "stdev",
    "iqr",
    "ci_low",
    "ci_high",
    "n",
    "unstable",
]


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
        return json.dumps(self.to_dict(), default=_json_default, allow_nan=False) + "\n"

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


class ResultStore:
    """A results directory holding ``runs.jsonl`` (and ``mllog/`` logs beside it)."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.dir = Path(directory)
        self.path = self.dir / STORE_FILE

    def __repr__(self) -> str:
        return f"ResultStore({str(self.dir)!r})"

    def append(self, record: RunRecord | dict[str, Any]) -> None:
        """Append one record atomically (one write, locked, fsynced) and drop its in-progress note."""
        record = record if isinstance(record, RunRecord) else RunRecord.from_dict(record)
        self.dir.mkdir(parents=True, exist_ok=True)
        with self._locked() as fd:
            self._recover_killed(fd)
            self._write_record(fd, record)

    def begin(self, record: RunRecord) -> None:
        """Note that ``record``'s run is in progress in this process (see the module docstring)."""
        import socket

        folder = self.dir / RUNNING_DIR
        folder.mkdir(parents=True, exist_ok=True)
        killed = dict(record.to_dict(), status="interrupted", error=KILLED_REASON)
        killed.update(validity="INVALID", reasons=[f"the run was interrupted: {KILLED_REASON}"])
        note = {"pid": os.getpid(), "host": socket.gethostname(), "started": _process_started(os.getpid())}
        text = json.dumps(dict(note, record=killed), default=_json_default)
        temporary = folder / f".{record.run_id}.tmp"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, folder / f"{record.run_id}.json")  # atomic: a reader sees all of it or none

    def records(self) -> list[dict[str, Any]]:
        """Every complete record, upgraded to the current version, oldest first (killed runs recovered)."""
        if (self.dir / RUNNING_DIR).is_dir():
            try:
                with self._locked() as fd:
                    self._recover_killed(fd)
            except OSError:  # a read-only store: its killed runs wait for a writer
                pass
        return [record for _, record in self._numbered_records()]

    @contextmanager
    def _locked(self) -> Iterator[int]:
        """``runs.jsonl`` opened for appending under an exclusive lock (released when closed)."""
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)

    def _write_record(self, fd: int, record: RunRecord) -> None:
        self._cut_truncated_tail(fd)
        _write_all(fd, record.to_json_line().encode("utf-8"))
        os.fsync(fd)
        (self.dir / RUNNING_DIR / f"{record.run_id}.json").unlink(missing_ok=True)

    def _recover_killed(self, fd: int) -> None:
        """Append, as interrupted, every noted run whose process on this machine no longer exists."""
        import socket

        host = socket.gethostname()
        for note_path in sorted((self.dir / RUNNING_DIR).glob("*.json")):
            try:
                note = json.loads(note_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # gone meanwhile, or not a note
                continue
            if note.get("host") != host or _process_started(note.get("pid")) == note.get("started"):
                continue  # still running, or on another machine: nothing to say yet
            record = RunRecord.from_dict(note["record"])  # finished_at stays None: when it died is unknown
            self._write_record(fd, record)
            warnings.warn(
                f"{self.path}: run {record.run_id[:12]} was killed; recorded as interrupted", stacklevel=4
            )

    def _numbered_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if not self.dir.is_dir():
            from carpentry_kit.spec import UsageError

            raise UsageError(
                f"{self.dir}: no such results directory — run `carpentry run SPEC --out {self.dir}`"
            )
        if not self.path.exists():
            return
        lines = self._read_lines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            if not line.endswith("\n"):
                warnings.warn(
                    f"{self.path}:{number}: skipped a truncated last line (a writer was stopped mid-way)",
                    stacklevel=3,
                )
                return
            yield number, self._parse(line, number)

    def _read_lines(self) -> list[str]:
        with open(self.path, encoding="utf-8") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
            return handle.readlines()

    def _parse(self, line: str, number: int) -> dict[str, Any]:
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("a line must hold one JSON object")
            return RunRecord.from_dict(data).to_dict()
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            from carpentry_kit.spec import UsageError

            raise UsageError(
                f"{self.path}:{number}: corrupt record ({error}) — remove or fix that line"
            ) from None

    def _cut_truncated_tail(self, fd: int) -> None:
        """Drop a partial last line left by a killed writer, so the next line starts clean."""
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return
        keep = _after_last_newline(fd, size)
        os.ftruncate(fd, keep)
        warnings.warn(f"{self.path}: removed a truncated last line ({size - keep} bytes)", stacklevel=3)


def load_results(directory: str | os.PathLike[str] | ResultStore, samples: bool = False) -> pd.DataFrame:
    """All runs in a results directory as a tidy DataFrame: one row per run x metric.

    Columns are ``FRAME_COLUMNS`` plus one column per override path; ``samples=True`` adds a ``samples``
    column holding each metric's raw samples.
    """
    store = directory if isinstance(directory, ResultStore) else ResultStore(directory)
    return records_frame(store.records(), samples=samples)


def records_frame(records: list[dict[str, Any]], samples: bool = False) -> pd.DataFrame:
    """The tidy DataFrame of a list of record dicts (what ``load_results`` returns)."""
    import pandas as pd

    override_paths = sorted({path for record in records for path in record.get("overrides", {})})
    rows = [row for record in records for row in _record_rows(record, override_paths, samples)]
    columns = FRAME_COLUMNS + override_paths + (["samples"] if samples else [])
    return pd.DataFrame(rows, columns=columns)


def _record_rows(
    record: dict[str, Any], override_paths: list[str], samples: bool
) -> Iterator[dict[str, Any]]:
    energy = record.get("energy") or {}
    shared = {key: record.get(key) for key in RECORD_COLUMNS}
    shared["energy_method"] = energy.get("method")
    shared["energy_measured"] = energy.get("measured")
    overrides = record.get("overrides", {})
    shared.update({path: overrides.get(path) for path in override_paths})
    for name, metric in record.get("metrics", {}).items():
        stats = metric.get("stats") or {}
        row = dict(shared, metric=name, value=metric.get("value"))
        row.update({key: metric.get(key) for key in ("kind", "unit", "goal")})
        row.update({key: stats.get(key) for key in ("median", "mean", "stdev", "iqr", "ci_low", "ci_high")})
        row["n"] = stats.get("n", 0)
        row["unstable"] = stats.get("unstable", False)
        if samples:
            row["samples"] = list(metric.get("samples", []))
        yield row


def _process_started(pid: Any) -> float | None:
    """When process ``pid`` started (tells it apart from a later process given the same pid), or None."""
    import psutil

    try:
        return psutil.Process(int(pid)).create_time()
    except (psutil.Error, TypeError, ValueError):
        return None


def _after_last_newline(fd: int, size: int, chunk: int = 1 << 16) -> int:
    """Offset just past the last newline in the file (0 if there is none), reading backwards."""
    end = size
    while end > 0:
        start = max(0, end - chunk)
        position = os.pread(fd, end - start, start).rfind(b"\n")
        if position >= 0:
            return start + position + 1
        end = start
    return 0


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    while written < len(data):  # a regular file takes it in one call; finish if it ever did not
        written += os.write(fd, data[written:])


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# ---------------------------------------------------------------- human-readable summaries

SUMMARY_HEADER = ("metric", "value", "median", "IQR", "unit", "n", "95% CI of median", "note")


def summary_rows(record: dict[str, Any]) -> list[tuple[str, ...]]:
    """One row per metric: name, headline, median, IQR, unit, n, CI and a note (ESTIMATED, unstable)."""
    estimated = not (record.get("energy") or {}).get("measured", False)
    rows = []
    for name, metric in record.get("metrics", {}).items():
        stats = metric.get("stats") or {}
        notes = []
        if metric.get("kind") == "energy" and estimated:
            notes.append("ESTIMATED")
        if stats.get("unstable"):
            notes.append("unstable")
        ci = f"[{_number(stats.get('ci_low'))}, {_number(stats.get('ci_high'))}]" if stats else "-"
        rows.append(
            (
                name,
                _number(metric.get("value")),
                _number(stats.get("median")),
                _number(stats.get("iqr")),
                metric.get("unit", ""),
                str(stats.get("n", 0)),
                ci,
                ", ".join(notes),
            )
        )
    return rows


def energy_lines(record: dict[str, Any]) -> list[str]:
    """How much energy, over how long, by which method, measured or ESTIMATED; how; and the carbon estimate."""
    energy = record.get("energy")
    if not energy:
        return ["energy: not measured"]
    kind = "measured" if energy.get("measured") else "ESTIMATED"
    power = energy.get("avg_power_w")
    power_text = f", {power:.3g} W average" if power is not None else ""
    lines = [
        f"energy: {energy['total_j']:.4g} J over {energy['duration_s']:.3g} s timed{power_text}"
        f" — {kind}, method {energy['method']}"
    ]
    if energy.get("notes"):
        lines.append(f"  how: {energy['notes']}")
    if energy.get("carbon_kg") is not None:
        method = (energy.get("carbon_method") or "").removeprefix("estimate: ")
        lines.append(f"carbon: {_grams(energy['carbon_kg'])} CO2e — ESTIMATED ({kind.lower()} {method})")
    elif energy.get("carbon_method"):
        lines.append(f"carbon: {energy['carbon_method']}")
    return lines


def _grams(kilograms: float) -> str:
    grams = kilograms * 1000.0
    return f"{grams * 1000:.3g} mg" if grams < 1 else f"{grams:.3g} g"


def _heading(record: dict[str, Any]) -> str:
    return (
        f"{record['benchmark']} — {record['scenario']} on {record['device']}, run {record['run_id'][:12]}"
        f" ({record['status']})"
    )


def _footer(record: dict[str, Any]) -> list[str]:
    """Peak memory and the error, if any: the lines between the energy and the verdict."""
    peak = record.get("peak_memory_mb")
    lines = [f"peak memory: {peak:.0f} MiB" if peak is not None else "peak memory: not measured"]
    if record.get("error"):
        lines.append(f"error: {record['error']}")
    return lines


def format_record(record: dict[str, Any]) -> str:
    """A record as a plain-text summary table, ending with LoadGen's 'Result is: VALID/INVALID' line."""
    rows = [SUMMARY_HEADER, *summary_rows(record)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(SUMMARY_HEADER))]
    table = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines = [_heading(record), *table, *energy_lines(record), *_footer(record)]
    lines.append(f"Result is: {record['validity']}")
    lines += [f"  - {reason}" for reason in record.get("reasons", [])]
    return "\n".join(lines)


def record_html(record: dict[str, Any]) -> str:
    """The same summary as an HTML table, for notebooks."""
    from html import escape

    head = "".join(f"<th>{escape(cell)}</th>" for cell in SUMMARY_HEADER)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in summary_rows(record)
    )
    colour = "green" if record["validity"] == "VALID" else "firebrick"
    reasons = "".join(f"<li>{escape(reason)}</li>" for reason in record.get("reasons", []))
    notes = "<br>".join(escape(line.strip()) for line in [*energy_lines(record), *_footer(record)])
    return (
        f"<div><b>{escape(_heading(record))}</b><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        f"</table><p>{notes}</p>"
        f"<p>Result is: <b style='color:{colour}'>{record['validity']}</b></p><ul>{reasons}</ul></div>"
    )


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
