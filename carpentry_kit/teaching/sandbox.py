"""Run ``nbgrader autograde`` on one submission, isolated from the course and from other submissions.

The submission and its source assignment are copied into a fresh temporary course with its own gradebook;
nbgrader runs there in a child process with resource limits (CPU time, address space, file size, process
count, a wall-clock timeout), ``HOME`` and the working directory inside the temporary directory and a
scrubbed environment. Where the machine allows it (root, or unprivileged user namespaces) the child also
gets its own mount, PID and network namespaces (``unshare``), in which the course's private directories
(``submitted/``, ``autograded/``, ``feedback/``, ``solutions/``, the gradebook) are hidden, every file system
but the temporary directory is read-only, and all capabilities are dropped so nothing can be remounted. The trusted parent then reads the scores from the temporary gradebook
(see ``carpentry_kit.teaching.grading``).
"""

from __future__ import annotations

import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

PRIVATE_DIRS = ("submitted", "autograded", "feedback", "solutions", ".exchange")
PRIVATE_FILES = ("gradebook.db",)
# Appended to the course's nbgrader_config.py in the temporary course: a kernel crash fails only the cell
# it happened in, and huge outputs are cut.
SANDBOX_CONFIG = """
from carpentry_kit.teaching.sandbox import autograde_preprocessors
c.Autograde.autograde_preprocessors = autograde_preprocessors()
c.LimitOutput.max_lines = 200
c.NbGraderApp.logfile = ""
"""
CELL_TIMEOUT_CONFIG = "c.Execute.timeout = {0}\nc.ExecutePreprocessor.timeout = {0}\n"
MAX_OUTPUT_CHARS = 20_000
# every unshare run (the trial and the sandbox): a forked child, killed with unshare, private mounts
UNSHARE_FLAGS = ("--fork", "--kill-child", "--propagation", "private")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one isolated autograding run."""

    wall_s: float = 600.0
    cell_s: int | None = None  # per-cell timeout; None keeps the course's (nbgrader_config.py)
    cpu_s: int = 900
    memory_bytes: int = 6 * 2**30
    file_bytes: int = 256 * 2**20
    processes: int = 512

    def apply(self) -> None:
        """Set the limits on the current process (called in the child before exec)."""
        for name, value in (
            ("RLIMIT_CPU", self.cpu_s),
            ("RLIMIT_AS", self.memory_bytes),
            ("RLIMIT_FSIZE", self.file_bytes),
            ("RLIMIT_NPROC", self.processes),
            ("RLIMIT_CORE", 0),
        ):
            resource.setrlimit(getattr(resource, name), (value, value))


@dataclass
class IsolatedRun:
    """What happened to one isolated nbgrader run."""

    returncode: int
    timed_out: bool
    log: str
    isolation: list[str] = field(default_factory=list)


def prepare_course(
    workdir: Path,
    course_root: Path,
    assignment: str,
    student: str,
    submission: Path,
    gradebook: Path,
    cell_s: int | None = None,
) -> Path:
    """A fresh course in ``workdir``: the course config, the source assignment, a copy of the trusted
    ``gradebook`` in which it is already generated, and the one submission."""
    course = workdir / "course"
    shutil.copytree(course_root / "solutions" / assignment, course / "solutions" / assignment)
    shutil.copyfile(gradebook, course / "gradebook.db")
    copy_regular_files(submission, course / "submitted" / student / assignment)
    config = (course_root / "nbgrader_config.py").read_text()
    extra = CELL_TIMEOUT_CONFIG.format(int(cell_s)) if cell_s else ""
    (course / "nbgrader_config.py").write_text(config + SANDBOX_CONFIG + extra)
    (workdir / "home").mkdir()
    return course


def copy_regular_files(source: Path, destination: Path) -> None:
    """Copy a submitted directory, keeping only regular files: links could point anywhere."""
    destination.mkdir(parents=True)
    for path in sorted(source.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        target = destination / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def run_isolated(argv: list[str], course: Path, course_root: Path, limits: Limits) -> IsolatedRun:
    """Run ``argv`` in the temporary ``course`` with the limits and whatever isolation this machine allows."""
    workdir = course.parent
    prefix, isolation = _isolation_prefix(course_root, workdir)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            prefix + argv,
            cwd=course,
            env=_clean_environment(workdir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=limits.apply,
            start_new_session=True,
        )
        timed_out = _wait(process, limits.wall_s)
        log.seek(0, os.SEEK_END)
        log.seek(max(0, log.tell() - MAX_OUTPUT_CHARS))
        text = log.read().decode(errors="replace")
    return IsolatedRun(process.returncode, timed_out, text, isolation)


def _wait(process: subprocess.Popen, wall_s: float) -> bool:
    try:
        process.wait(timeout=wall_s)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True


def _clean_environment(workdir: Path) -> dict[str, str]:
    home = workdir / "home"
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "MPLCONFIGDIR": str(home / "matplotlib"),
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1",
    }


def _isolation_prefix(course_root: Path, workdir: Path) -> tuple[list[str], list[str]]:
    """The command prefix that isolates the child, and the isolation layers it provides."""
    options = _namespaces_available()
    if not options:
        return [], ["rlimits", "tempdir"]
    prefix = _unshare_command(options, _namespace_script(course_root, workdir), "sandbox")
    return prefix, ["rlimits", "tempdir", "namespaces", "read-only-fs", "no-network", "no-caps"]


def _unshare_command(options: tuple[str, ...], script: str, name: str) -> list[str]:
    """``unshare`` running ``script`` (as ``$0`` ``name``) in new namespaces; the command follows as ``$@``."""
    return ["unshare", *options, *UNSHARE_FLAGS, "sh", "-c", script, name]


@cache
def _namespaces_available() -> tuple[str, ...]:
    """The ``unshare`` options that work here (a trial run of the real command), or () when not allowed."""
    if not (shutil.which("unshare") and shutil.which("setpriv") and shutil.which("ip")):
        return ()
    user = () if os.geteuid() == 0 else ("--user", "--map-root-user")
    options = ("--mount", "--pid", "--net", *user)
    with tempfile.TemporaryDirectory(prefix="carpentry-trial-") as trial:
        script = _namespace_script(Path(trial) / "course", Path(trial))
        argv = [*_unshare_command(options, script, "trial"), "true"]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return ()
    return options if done.returncode == 0 else ()


def _namespace_script(course_root: Path, workdir: Path) -> str:
    """Shell run inside the new namespaces: loopback up, the course's private parts hidden, every file
    system read-only except ``workdir``, then all capabilities dropped so nothing can be remounted."""
    work = shlex.quote(str(workdir))
    lines = ["set -e", "ip link set lo up", f"mount --bind {work} {work}"]
    for name in PRIVATE_DIRS:
        path = shlex.quote(str(course_root / name))
        lines.append(f"if [ -d {path} ]; then mount -t tmpfs -o size=1m,mode=755 none {path}; fi")
    for name in PRIVATE_FILES:
        path = shlex.quote(str(course_root / name))
        lines.append(f"if [ -f {path} ]; then mount --bind /dev/null {path}; fi")
    lines += [
        "awk '{print $5}' /proc/self/mountinfo | while read -r m; do",
        f'  case "$m" in {work}|/proc*|/sys*|/dev*) ;; *) mount -o remount,bind,ro "$m" 2>/dev/null || true ;; esac',
        "done",
        "if touch /.carpentry-rw-check 2>/dev/null; then rm -f /.carpentry-rw-check; exit 97; fi",
        'exec setpriv --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"',
    ]
    return "\n".join(lines)


def autograde_preprocessors() -> list[type]:
    """nbgrader's autograde pipeline with an ``Execute`` that survives a kernel crash in one cell."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import Execute

    return [
        resilient_execute_class() if cls is Execute else cls
        for cls in Autograde.autograde_preprocessors.default()
    ]


def resilient_execute_class() -> type:
    """An nbgrader ``Execute`` in which a dead kernel fails the cell it died in, restarts, and continues;
    each cell's output is cut to ``MAX_OUTPUT_CHARS`` characters. Built on demand: nbgrader is heavy."""
    from nbclient.exceptions import DeadKernelError
    from nbformat.notebooknode import NotebookNode
    from nbgrader.preprocessors import Execute

    class _ResilientExecute(Execute):
        def preprocess_cell(self, cell, resources, cell_index):
            try:
                cell, resources = super().preprocess_cell(cell, resources, cell_index)
            except DeadKernelError as error:
                cell.outputs.append(
                    _error_output("DeadKernelError", f"the kernel died in this cell: {error}")
                )
                self._restart_kernel()
            _truncate_outputs(cell)
            return cell, resources

        def _restart_kernel(self):
            from jupyter_core.utils import run_sync

            run_sync(self.km.restart_kernel)(now=True)
            self.kc.stop_channels()
            self.kc = self.km.client()
            self.kc.start_channels()
            run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)

    def _error_output(name: str, message: str) -> NotebookNode:
        return NotebookNode(output_type="error", ename=name, evalue=message, traceback=[f"{name}: {message}"])

    def _truncate_outputs(cell: NotebookNode) -> None:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and len(output.text) > MAX_OUTPUT_CHARS:
                output.text = output.text[:MAX_OUTPUT_CHARS] + "\n... output truncated by the grader ...\n"

    return _ResilientExecute
