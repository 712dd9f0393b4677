"""Run one command on one submission in a bubblewrap sandbox whose limits bind root.

The command (``carpentry_kit.teaching.execute``: it only executes a notebook) runs under ``bwrap`` with
its own PID, network, IPC and UTS namespaces, a fresh ``/proc``, no ``/sys`` (but a read-only view of the
CPU topology, ``/sys/devices/system/cpu``, which ``lscpu`` needs), empty private ``/tmp``,
``/dev/shm`` and home directory (memory-backed), and read-only views of only what it needs: the system
(``/usr``, a few ``/etc`` files), the Python installation, the ``carpentry_kit`` package and a copy of the
one submission. Nothing of the course (solutions, ``.git``, other submissions, the gradebook) and no
other grader's temporary folder is visible, and nothing it writes outlives it. It runs as the unprivileged
user 65534 with no capabilities, also when root grades (``setpriv`` inside a root-started ``bwrap``), so
the host's ``/proc/sys`` stays read-only to it. Memory, processes and CPU are limited by a cgroup made
for the run (cgroup v2 where the grader's cgroup delegates ``memory`` and ``pids``, else the cgroup v1
``memory``, ``pids``, ``cpu`` and ``cpuacct`` hierarchies), which binds root where rlimits do not; the
notebook arrives on stdin and the result leaves on stdout, both plain files of the trusted parent.
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

NOBODY = 65534
SANDBOX_HOME = "/home/grader"
SANDBOX_PACKAGE = "/opt/carpentry-kit"
SANDBOX_SUBMISSION = "/submission"
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "fonts",
    "alternatives",
    "passwd",
    "group",
)
CPU_TOPOLOGY = Path("/sys/devices/system/cpu")  # the only part of /sys shown, read-only
TOP_LINKS = ("bin", "lib", "lib64", "sbin")
CGROUP_PREFIX = "carpentry-grade-"
POLL_S = 0.2
MIN_BWRAP = (0, 8)  # --size and --perms for tmpfs


class SandboxUnavailable(Exception):
    """This machine cannot isolate a submission: one line saying what is missing."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed notebook run."""

    wall_s: float = 600.0
    cell_s: float = 90.0  # per cell; a cell past it is interrupted and fails
    cpu_s: float = 900.0  # CPU time of all the sandbox's processes together
    memory_bytes: int = 6 * 2**30  # all processes together, /tmp and /dev/shm included
    output_bytes: int = 64 * 2**20  # the executed notebook returned, and any one file written
    processes: int = 512
    cpus: float = 1.0  # CPU share (cgroup quota)
    max_output_chars: int = 20_000  # output kept per cell: the rest is cut

    def problems(self, names: dict[str, str] | None = None) -> list[str]:
        """What is wrong with these limits (each must be a finite number above zero); ``names`` gives the
        option that sets a field, for the message."""
        bad = []
        for item in fields(self):
            value = getattr(self, item.name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                name = (names or {}).get(item.name, item.name)
                bad.append(f"{name} must be a number above 0, not {value!r}")
        return bad

    def apply_rlimits(self, unsafe: bool) -> None:
        """Per-process limits, set in the child before exec (a second line behind the cgroup)."""
        cpu = math.ceil(self.cpu_s)
        limits = [("RLIMIT_CPU", cpu), ("RLIMIT_FSIZE", self.output_bytes), ("RLIMIT_CORE", 0)]
        if unsafe:  # no cgroup: the per-process limits are all there is
            limits += [("RLIMIT_AS", self.memory_bytes), ("RLIMIT_NPROC", self.processes)]
        for name, value in limits:
            resource.setrlimit(getattr(resource, name), (value, value))


@dataclass
class SandboxRun:
    """What happened to one sandboxed run: its exit status and, when it was stopped, why."""

    returncode: int
    stopped: str  # "" or why the parent stopped it (time, CPU)
    memory_exhausted: bool
    isolation: list[str]


# --- cgroups ---------------------------------------------------------------------------------------------


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, file-system type, super options) of each mount of this process."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        head, _, tail = line.partition(" - ")
        fstype, _, options = (tail.split() + ["", "", ""])[:3]
        found.append((head.split()[4], fstype, set(options.split(","))))
    return found


def _own_cgroups() -> dict[str, str]:
    """Controller (or "" for cgroup v2) -> this process's cgroup path."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


class Cgroup:
    """The cgroup of one sandbox (v2: one directory; v1: one per hierarchy), removed after the run."""

    def __init__(self, dirs: dict[str, Path], version: int):
        self.dirs, self.version = dirs, version

    @classmethod
    def create(cls, limits: Limits) -> Cgroup:
        """A new cgroup with the limits set, or SandboxUnavailable naming what is missing."""
        name = CGROUP_PREFIX + secrets.token_hex(6)
        v2 = _v2_base()
        if v2:
            return cls._made({"": v2 / name}, 2, limits)
        v1 = _v1_bases()
        if v1:
            return cls._made({c: base / name for c, base in v1.items()}, 1, limits)
        raise SandboxUnavailable(
            "no cgroup to limit memory and processes: needs cgroup v2 with memory and pids enabled in "
            "the cgroup.subtree_control of this process's cgroup (a delegated cgroup), or writable "
            "cgroup v1 memory and pids hierarchies (root)"
        )

    @classmethod
    def _made(cls, dirs: dict[str, Path], version: int, limits: Limits) -> Cgroup:
        group = cls(dirs, version)
        try:
            for path in dirs.values():
                path.mkdir(exist_ok=True)  # v1 cpu and cpuacct may share a hierarchy
            group._set_limits(limits)
        except OSError as error:
            group.remove()
            raise SandboxUnavailable(f"cannot set cgroup limits ({error})") from None
        return group

    def _set_limits(self, limits: Limits) -> None:
        period = 100_000
        quota = str(max(1000, int(limits.cpus * period)))
        if self.version == 2:
            self._write("", "memory.max", limits.memory_bytes)
            self._write("", "memory.swap.max", 0, optional=True)
            self._write("", "pids.max", limits.processes)
            self._write("", "cpu.max", f"{quota} {period}", optional=True)
            return
        self._write("memory", "memory.limit_in_bytes", limits.memory_bytes)
        self._write("memory", "memory.memsw.limit_in_bytes", limits.memory_bytes, optional=True)
        self._write("pids", "pids.max", limits.processes)
        if "cpu" in self.dirs:
            self._write("cpu", "cpu.cfs_period_us", period)
            self._write("cpu", "cpu.cfs_quota_us", quota)

    def _write(self, controller: str, name: str, value: object, optional: bool = False) -> None:
        path = self.dirs[controller] / name
        if optional and not path.exists():
            return
        path.write_text(str(value))

    def join(self) -> None:
        """Move the calling process into the cgroup (called in the child, before exec)."""
        for path in self.dirs.values():
            (path / "cgroup.procs").write_text(str(os.getpid()))

    def cpu_seconds(self) -> float:
        """CPU time used by every process of the cgroup so far."""
        try:
            if self.version == 2:
                stat = (self.dirs[""] / "cpu.stat").read_text().split()
                return int(stat[stat.index("usage_usec") + 1]) / 1e6
            if "cpuacct" in self.dirs:
                return int((self.dirs["cpuacct"] / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError):
            pass
        return 0.0

    def memory_exhausted(self) -> bool:
        """Whether the kernel's out-of-memory killer struck inside the cgroup."""
        try:
            if self.version == 2:
                text = (self.dirs[""] / "memory.events").read_text()
            else:
                text = (self.dirs["memory"] / "memory.oom_control").read_text()
        except OSError:
            return False
        counts = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return int(counts.get("oom_kill", 0)) > 0

    def processes(self) -> list[int]:
        path = self.dirs["" if self.version == 2 else "pids"] / "cgroup.procs"
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def kill(self) -> None:
        """SIGKILL every process of the cgroup, until none is left."""
        kill_file = self.dirs.get("", Path("/nonexistent")) / "cgroup.kill"
        for _ in range(100):
            pids = self.processes()
            if not pids:
                return
            if kill_file.exists():
                kill_file.write_text("1")
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)

    def remove(self) -> None:
        self.kill()
        for path in self.dirs.values():
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _v2_base() -> Path | None:
    """This process's cgroup v2 directory, if it delegates memory and pids to new child cgroups."""
    mount = next((point for point, fstype, _ in _mounts() if fstype == "cgroup2"), None)
    own = _own_cgroups().get("")
    if mount is None or own is None:
        return None
    base = Path(mount) / own.lstrip("/")
    control = base / "cgroup.subtree_control"
    try:
        enabled = set(control.read_text().split())
        if not {"memory", "pids"} <= enabled:
            control.write_text("+memory +pids")
            enabled = set(control.read_text().split())
        return base if {"memory", "pids"} <= enabled and os.access(base, os.W_OK) else None
    except OSError:
        return None


def _v1_bases() -> dict[str, Path] | None:
    """Controller -> this process's cgroup v1 directory, if memory and pids are writable hierarchies."""
    own = _own_cgroups()
    bases = {}
    for point, fstype, options in _mounts():
        for controller in ("memory", "pids", "cpu", "cpuacct"):
            if fstype == "cgroup" and controller in options and controller in own:
                base = Path(point) / own[controller].lstrip("/")
                if os.access(base, os.W_OK):
                    bases[controller] = base
    return bases if {"memory", "pids"} <= set(bases) else None


# --- bubblewrap ------------------------------------------------------------------------------------------


@cache
def sandbox_problem() -> str:
    """ "" when this machine can sandbox a submission, else one line saying what is missing."""
    if not shutil.which("bwrap"):
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    version = _bwrap_version()
    if version < MIN_BWRAP:
        wanted = ".".join(map(str, MIN_BWRAP))
        return f"bubblewrap {'.'.join(map(str, version))} is too old: {wanted} or later is needed (--size, --perms)"
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        return "setpriv (util-linux) is not installed: root cannot drop to an unprivileged user without it"
    try:
        group = Cgroup.create(Limits())
    except SandboxUnavailable as error:
        return str(error)
    group.remove()
    try:
        done = subprocess.run(
            [*bwrap_command(Path("/nonexistent-submission")), "true"],
            capture_output=True,
            timeout=30,
            env=sandbox_environment(),
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap could not start ({error})"
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines() or ["no message"]
        return f"bwrap cannot create a sandbox here ({message[-1][:200]})"
    return ""


def _bwrap_version() -> tuple[int, ...]:
    try:
        text = subprocess.run(["bwrap", "--version"], capture_output=True, text=True, timeout=10).stdout
        return tuple(int(part) for part in text.split()[-1].split(".")[:2])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return (0,)


def bwrap_command(submission: Path, workdir: str = SANDBOX_HOME, limits: Limits | None = None) -> list[str]:
    """The ``bwrap ... [setpriv ...]`` prefix that runs a command in the sandbox, in ``workdir``."""
    limits = limits or Limits()
    size = str(limits.memory_bytes)
    argv = [
        "bwrap",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]
    argv += ["--die-with-parent", "--new-session", "--proc", "/proc", "--dev", "/dev"]
    for path in ("/tmp", "/dev/shm", SANDBOX_HOME):
        argv += _parents(path) + ["--perms", "1777", "--size", size, "--tmpfs", path]
    for name in TOP_LINKS:
        top = Path("/") / name
        if top.is_symlink():
            argv += ["--symlink", os.readlink(top), str(top)]
    for source, target in _read_only_views(submission):
        argv += _parents(target) + ["--ro-bind", str(source), target]
    argv += ["--chdir", workdir]
    if os.geteuid() == 0:  # bwrap sets up as root; the command runs as nobody, no capabilities
        ids = str(NOBODY)
        drop = ["--reuid", ids, "--regid", ids, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
        return [*argv, "--", "setpriv", *drop, "--no-new-privs", "--"]
    uid = ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY), "--cap-drop", "ALL"]
    return [*argv, *uid, "--"]


def _parents(target: str) -> list[str]:
    """bwrap options creating the missing parents of ``target`` world-readable (not 0700 like /root)."""
    argv = []
    for parent in reversed(Path(target).parents[:-1]):
        if str(parent) != "/dev":
            argv += ["--perms", "0755", "--dir", str(parent)]
    return argv


def _read_only_views(submission: Path) -> list[tuple[Path, str]]:
    """(host path, sandbox path) of everything the sandbox may read."""
    import carpentry_kit

    views = [(Path("/usr"), "/usr")]
    if CPU_TOPOLOGY.is_dir():  # lscpu (codecarbon) and torch read it; without it lscpu writes to stderr
        views.append((CPU_TOPOLOGY, str(CPU_TOPOLOGY)))
    views += [(Path("/etc") / n, f"/etc/{n}") for n in ETC_FILES if (Path("/etc") / n).exists()]
    pythons = {Path(sys.base_prefix).resolve(), Path(sys.prefix)}
    views += [(p, str(p)) for p in sorted(pythons) if not str(p).startswith("/usr/")]
    views.append((Path(carpentry_kit.__file__).parent, f"{SANDBOX_PACKAGE}/carpentry_kit"))
    if submission.is_dir():
        views.append((submission, SANDBOX_SUBMISSION))
    return views


def sandbox_environment(home: str = SANDBOX_HOME, unsafe: bool = False) -> dict[str, str]:
    """A scrubbed environment: no secrets of the grader's, home and caches in the sandbox."""
    bin_dir = str(Path(sys.executable).parent)
    package = str(Path(__file__).resolve().parents[2]) if unsafe else SANDBOX_PACKAGE
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "USER": "grader",
        "TMPDIR": home if unsafe else "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONPATH": package,
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter-runtime",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1",
    }


# --- running ---------------------------------------------------------------------------------------------


def run_sandboxed(
    command: list[str],
    submission: Path,
    stdin: Path,
    stdout: Path,
    stderr: Path,
    limits: Limits,
    unsafe: bool,
) -> SandboxRun:
    """Run ``command`` (a Python command line) sandboxed, or with rlimits only when ``unsafe``: stdin,
    stdout and stderr are files of the parent's. Ctrl-C (or any exception) kills the whole sandbox."""
    if unsafe:
        home = stdout.parent / "home"
        home.mkdir()
        argv, env, group = command, sandbox_environment(str(home), unsafe=True), None
        isolation = ["rlimits", "tempdir"]
    else:
        argv = bwrap_command(submission, limits=limits) + command
        env, group = sandbox_environment(), Cgroup.create(limits)
        isolation = ["bwrap", "namespaces", "uid-65534", "no-caps", "no-network", f"cgroup-v{group.version}"]
    cwd = str(stdout.parent / "home") if unsafe else "/"

    def child_setup() -> None:
        if group:
            group.join()
        limits.apply_rlimits(unsafe)

    try:
        with stdin.open("rb") as fin, stdout.open("wb") as fout, stderr.open("wb") as ferr:
            process = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=fin, stdout=fout, stderr=ferr, preexec_fn=child_setup,
                start_new_session=True,
            )  # fmt: skip
            try:
                stopped = _supervise(process, group, limits)
            finally:
                _kill(process, group)
        exhausted = bool(group and group.memory_exhausted())
    finally:
        if group:
            group.remove()
    return SandboxRun(process.returncode, stopped, exhausted, isolation)


def _supervise(process: subprocess.Popen, group: Cgroup | None, limits: Limits) -> str:
    """Wait for ``process``; "" when it ended by itself, else why it had to be stopped."""
    deadline = time.monotonic() + limits.wall_s
    while process.poll() is None:
        if time.monotonic() > deadline:
            return f"stopped after {limits.wall_s:g} s (wall-clock limit; raise it with --timeout)"
        if group and group.cpu_seconds() > limits.cpu_s:
            return f"stopped after {limits.cpu_s:g} s of CPU time (all its processes together)"
        time.sleep(POLL_S)
    return ""


def _kill(process: subprocess.Popen, group: Cgroup | None) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    if group:
        group.kill()
