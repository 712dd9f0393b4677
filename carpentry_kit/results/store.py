"""Result records and the results store: one JSON object per line in ``<dir>/runs.jsonl``.

A record carries everything needed to read a result later without re-running it: the canonical spec and
its hash, overrides, validity and reasons, every metric with its statistics and raw samples, the energy
reading with its method, peak memory, the system description and software versions.

Appends are atomic: each record is one ``os.write`` of a complete line to a file opened with ``O_APPEND``,
under an exclusive ``fcntl`` lock, followed by ``fsync``; concurrent writers never interleave. A writer
killed mid-way can leave at most a truncated last line: readers skip it (with a warning) and the next
append cuts it off before writing. A line that cannot be read (not UTF-8, not JSON, fields of the wrong
type) is skipped with a warning naming ``runs.jsonl:LINE``: one bad line never hides the others. A write that
fails (a full disk, a read-only directory) is undone — the file is cut back to its size before it — and
raised as a one-line ``StoreError``: nothing already stored is lost.

A run in progress is noted in ``<dir>/running/<run_id>.json`` (``ResultStore.begin``) and the note is removed
when its record is appended. A process killed outright (SIGKILL, a scheduler's time limit, a power cut) cannot
record anything itself, so the next reader or writer of the store on the same machine finds the note of a
process that no longer exists and appends that run as ``interrupted``: no run disappears without a trace.

The record format and its history are in ``results/record.py``.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.errors import UsageError
from carpentry_kit.results.record import (
    KILLED_REASON,
    LOADGEN_DIR,
    MLLOG_DIR,
    RUNNING_DIR,
    STORE_FILE,
    RunRecord,
    json_default,
)

if TYPE_CHECKING:
    pass


class StoreError(UsageError):
    """The results directory cannot be written (read-only, a file, a full disk); the message is one line."""


class ResultStore:
    """A results directory holding ``runs.jsonl`` (and ``mllog/`` logs beside it)."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.dir = Path(directory)
        self.path = self.dir / STORE_FILE

    def __repr__(self) -> str:
        return f"ResultStore({str(self.dir)!r})"

    def append(self, record: RunRecord | dict[str, Any], replaces: str | None = None) -> None:
        """Append one record atomically (one write, locked, fsynced) and drop its in-progress note, and the
        note of run ``replaces`` (a sweep's note of the point this record is the result of)."""
        record = record if isinstance(record, RunRecord) else RunRecord.from_dict(record)
        self.prepare()
        with self._locked() as fd:
            self._recover_killed(fd)
            self._write_record(fd, record)
            if replaces is not None:
                self.discard_note(replaces)

    def discard_note(self, run_id: str) -> None:
        """Forget the in-progress note of ``run_id`` without recording anything (it never ran, or was refused
        for bad input after setup: nothing is recorded for it)."""
        (self.dir / RUNNING_DIR / f"{run_id}.json").unlink(missing_ok=True)

    def prepare(self) -> None:
        """Create the directory and check that records can be written there (a ``StoreError`` if not)."""
        if self.dir.exists() and not self.dir.is_dir():
            raise StoreError(
                f"{self.dir}: is a file, not a results directory — give a directory (e.g. --out results)"
            )
        with self._writing("cannot write results"):
            self.dir.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND))
            else:  # a probe, so that a run refused later leaves no empty store behind
                handle, probe = tempfile.mkstemp(dir=self.dir, prefix=".probe-")
                os.close(handle)
                os.unlink(probe)

    def mllog_path(self, run_id: str) -> Path:
        """Where the MLLOG events of run ``run_id`` go: ``<dir>/mllog/<run_id>.log``."""
        return self.dir / MLLOG_DIR / f"{run_id}.log"

    def loadgen_dir(self, run_id: str) -> Path:
        """Where LoadGen's logs of run ``run_id`` are kept: ``<dir>/loadgen/<run_id>/``."""
        return self.dir / LOADGEN_DIR / run_id

    def begin(self, record: RunRecord) -> None:
        """Note that ``record``'s run is in progress in this process (see the module docstring)."""
        import socket

        folder = self.dir / RUNNING_DIR
        killed = dict(record.to_dict(), status="interrupted", error=KILLED_REASON)
        killed.update(validity="INVALID", reasons=[f"the run was interrupted: {KILLED_REASON}"])
        note = {"pid": os.getpid(), "host": socket.gethostname(), "started": _process_started(os.getpid())}
        text = self._json(
            record.run_id,
            lambda: json.dumps(dict(note, record=killed), default=json_default, allow_nan=False),
        )
        temporary = folder / f".{record.run_id}.tmp"
        with self._writing("cannot note the run in progress", cleanup=temporary):
            folder.mkdir(parents=True, exist_ok=True)
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, folder / f"{record.run_id}.json")  # atomic: all of it or none

    def records(self) -> list[dict[str, Any]]:
        """Every complete record, upgraded to the current version, oldest first (killed runs recovered)."""
        return list(self.iter_records())

    def iter_records(self) -> Iterator[dict[str, Any]]:
        """``records()`` one at a time: the file is read line by line (a shared lock held while reading),
        so a store of any size takes the memory of one record, not of the whole file."""
        if (self.dir / RUNNING_DIR).is_dir():
            try:
                with self._locked() as fd:
                    self._recover_killed(fd)
            except (OSError, StoreError):  # a read-only or full store: its killed runs wait for a writer
                pass
        for _, record in self._numbered_records():
            yield record

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
        data = self._json(record.run_id, record.to_json_line).encode("utf-8")
        self._cut_truncated_tail(fd)
        size = os.fstat(fd).st_size
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except OSError as error:
            os.ftruncate(fd, size)  # undo a partial line: the records before it stay as they were
            self._note_unstored(record.run_id, error.strerror or str(error))
            raise StoreError(
                f"{self.path}: run {record.run_id[:12]} was not stored ({error.strerror or error}) — "
                "free some space or choose another --out; the records already there are intact"
            ) from None
        self.discard_note(record.run_id)

    def _note_unstored(self, run_id: str, why: str) -> None:
        """Make the run's note say its record could not be written, so that the run recovered from it later
        is accurate (not "killed"). Rewritten in place and only when shorter: a full disk has no new room."""
        path = self.dir / RUNNING_DIR / f"{run_id}.json"
        try:
            old = path.read_bytes()
            note = json.loads(old)
            error = f"its record could not be written ({why}): the measurements are lost"
            note["record"].update(status="failed", error=error, reasons=[f"the run failed: {error}"])
            new = json.dumps(note, allow_nan=False).encode("utf-8")
            if len(new) > len(old):
                return
            fd = os.open(path, os.O_WRONLY)
            try:
                _write_all(fd, new)
                os.ftruncate(fd, len(new))
            finally:
                os.close(fd)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            pass  # best effort: the note stays as it was (recovered as interrupted)

    def _json(self, run_id: str, encode: Callable[[], str]) -> str:
        """``encode()``; a value JSON cannot hold (NaN, infinity, an object) is a one-line ``StoreError``."""
        try:
            return encode()
        except (TypeError, ValueError) as error:
            raise StoreError(f"{self.path}: run {run_id[:12]} cannot be stored: {error}") from None

    @contextmanager
    def _writing(self, what: str, cleanup: Path | None = None) -> Iterator[None]:
        """Turn an ``OSError`` (read-only, a file in the way, a full disk) into a one-line ``StoreError``."""
        try:
            yield
        except OSError as error:
            if cleanup is not None:
                cleanup.unlink(missing_ok=True)
            where = error.filename or self.dir
            raise StoreError(
                f"{where}: {what} ({error.strerror or error}) — give a writable directory "
                "(e.g. --out results) or free some space"
            ) from None

    def _recover_killed(self, fd: int) -> None:
        """Append, as interrupted, every noted run whose process on this machine no longer exists."""
        import socket

        host = socket.gethostname()
        for note_path in sorted((self.dir / RUNNING_DIR).glob("*.json")):
            try:
                note = json.loads(note_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # gone meanwhile, or not a note
                continue
            if not isinstance(note, dict) or not isinstance(note.get("record"), dict):
                continue
            if note.get("host") != host or _process_started(note.get("pid")) == note.get("started"):
                continue  # still running, or on another machine: nothing to say yet
            try:
                record = RunRecord.from_dict(note["record"])  # finished_at None: when it died is unknown
            except ValueError as error:
                warnings.warn(f"{note_path}: not a run note ({error}); left as it is", stacklevel=4)
                continue
            self._write_record(fd, record)
            what = "was killed" if record.status == "interrupted" else "could not store its record"
            warnings.warn(
                f"{self.path}: run {record.run_id[:12]} {what}; recorded as {record.status}", stacklevel=4
            )

    def _numbered_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if not self.dir.is_dir():
            from carpentry_kit.errors import UsageError

            raise UsageError(
                f"{self.dir}: no such results directory — run `carpentry run SPEC --out {self.dir}`"
            )
        if not self.path.exists():
            return
        for number, line in enumerate(self._read_lines(), start=1):
            if not line.strip():
                continue
            if not line.endswith(b"\n"):
                warnings.warn(
                    f"{self.path}:{number}: skipped a truncated last line (a writer was stopped mid-way)",
                    stacklevel=3,
                )
                return
            record = self._parse(line, number)
            if record is not None:
                yield number, record

    def _read_lines(self) -> Iterator[bytes]:
        """The lines of ``runs.jsonl`` one at a time, under a shared lock (appends wait until the end)."""
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed by the with below, after the last line
        except OSError as error:
            raise self._unreadable(error) from None
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
                yield from handle
            except OSError as error:
                raise self._unreadable(error) from None

    def _unreadable(self, error: OSError) -> UsageError:
        return UsageError(
            f"{self.path}: cannot read the results ({error.strerror or error}) — check its permissions"
        )

    def _parse(self, line: bytes, number: int) -> dict[str, Any] | None:
        """The record on one line, or None (with a warning naming the line) when it cannot be read."""
        try:
            data = json.loads(line.decode("utf-8"), parse_constant=_no_constant)
            if not isinstance(data, dict):
                raise ValueError("a line must hold one JSON object")
            return RunRecord.from_dict(data).to_dict()
        except (UnicodeDecodeError, RecursionError) as error:
            problem = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else "nested too deeply"
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            problem = str(error)
        warnings.warn(
            f"{self.path}:{number}: skipped a corrupt record ({_short(problem)}) — remove or fix that line",
            stacklevel=4,
        )
        return None

    def _cut_truncated_tail(self, fd: int) -> None:
        """Drop a partial last line left by a killed writer, so the next line starts clean."""
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return
        keep = _after_last_newline(fd, size)
        os.ftruncate(fd, keep)
        warnings.warn(f"{self.path}: removed a truncated last line ({size - keep} bytes)", stacklevel=3)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a record may hold")


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
