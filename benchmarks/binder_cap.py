"""A Binder-like cap for a child process: 2 CPUs and 2.5 GB of memory, with another process busy alongside.

mybinder.org gives a user at most 2 CPUs (shared with neighbours) and 2-8 GB; we take the low end. The cap is
a cgroup made under this process's own (cgroup v2 ``memory.max``/``cpu.max``, or v1 ``memory`` and ``cpu``
controllers): creating one needs root, as CI runs. The background load is ``stress-ng --cpu 1``: one core
kept busy the whole time, as a neighbour's notebook would. ``cap = BinderCap(); cap.start()`` then pass
``preexec_fn=cap.enter`` to ``subprocess.Popen``; ``cap.oom_kills()``; ``cap.stop()``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

MEMORY_BYTES = int(2.5e9)
CPUS = 2
PERIOD_US = 100_000
CGROUP = Path("/sys/fs/cgroup")


class CapUnavailable(RuntimeError):
    """No cgroup can be made here (not root, no cgroup filesystem) or stress-ng is missing."""


def _own_cgroup(controller: str) -> str:
    """This process's cgroup path for ``controller`` (v1) or the unified path (v2, controller '')."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    raise CapUnavailable(f"this process is in no '{controller or 'unified'}' cgroup")


class BinderCap:
    """The cgroups (memory, CPU) a capped child enters, and the background load."""

    def __init__(self, memory_bytes: int = MEMORY_BYTES, cpus: int = CPUS) -> None:
        self.memory_bytes, self.cpus = memory_bytes, cpus
        self.name = f"carpentry-bench-binder-{os.getpid()}"
        self.groups: list[Path] = []
        self.load: subprocess.Popen | None = None
        self.v2 = (CGROUP / "cgroup.controllers").is_file()

    def start(self) -> None:
        if os.geteuid() != 0:
            raise CapUnavailable("making a cgroup needs root — run as root (CI does), or drop --binder")
        stress = shutil.which("stress-ng")
        if stress is None:
            raise CapUnavailable("stress-ng is not installed — apt-get install -y stress-ng")
        try:
            self._make_groups()
        except OSError as error:
            self.stop()
            raise CapUnavailable(f"cannot make a cgroup: {error}") from None
        self.load = subprocess.Popen([stress, "--cpu", "1", "--quiet"], stdout=subprocess.DEVNULL)

    def _make_groups(self) -> None:
        quota = f"{self.cpus * PERIOD_US} {PERIOD_US}"
        if self.v2:
            group = self._group(CGROUP / _own_cgroup("").lstrip("/"))
            (group / "memory.max").write_text(str(self.memory_bytes))
            (group / "memory.swap.max").write_text("0")
            (group / "cpu.max").write_text(quota)
            return
        memory = self._group(CGROUP / "memory" / _own_cgroup("memory").lstrip("/"))
        (memory / "memory.limit_in_bytes").write_text(str(self.memory_bytes))
        cpu = self._group(CGROUP / "cpu" / _own_cgroup("cpu").lstrip("/"))
        (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (cpu / "cpu.cfs_quota_us").write_text(str(self.cpus * PERIOD_US))

    def _group(self, parent: Path) -> Path:
        group = parent / self.name
        group.mkdir()
        self.groups.append(group)
        return group

    def enter(self) -> None:
        """Move the calling process (a child, before exec) into the cap."""
        for group in self.groups:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    def oom_kills(self) -> int:
        """How many processes the memory cap has killed so far."""
        events = self.groups[0] / "memory.events" if self.v2 else self.groups[0] / "memory.oom_control"
        for line in events.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def stop(self) -> None:
        if self.load is not None:
            self.load.terminate()
            self.load.wait(timeout=30)
            self.load = None
        for group in reversed(self.groups):
            group.rmdir()  # empty: every capped child has exited
        self.groups = []
