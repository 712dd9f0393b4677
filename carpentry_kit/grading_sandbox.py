"""Run ``nbgrader autograde`` on one submission, isolated from the course and from other submissions.

The submission and its source assignment are copied into a fresh temporary course with its own gradebook;
nbgrader runs there in a child process with resource limits (CPU time, address space, file size, process
count, a wall-clock timeout), ``HOME`` and the working directory inside the temporary directory and a
scrubbed environment. Where the machine allows it the child also gets its own mount, PID and network
namespaces (``unshare``), in which the course's private directories (``submitted/``, ``autograded/``,
``feedback/``, ``solutions/``, the gradebook) are hidden and the course is read-only; when started as root
the child drops to the ``nobody`` user. The trusted parent then reads the scores from the temporary gradebook
(see ``carpentry_kit.grading``).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

NOBODY = 65534
PRIVATE_DIRS = ("submitted", "autograded", "feedback", "solutions", ".exchange")
PRIVATE_FILES = ("gradebook.db",)
# Appended to the course's nbgrader_config.py in the temporary course: a kernel crash fails only the cell
# it happened in, and huge outputs are cut.
SANDBOX_CONFIG = """
from carpentry_kit.grading_sandbox import autograde_preprocessors
c.Autograde.autograde_preprocessors = autograde_preprocessors()
c.LimitOutput.max_lines = 200
c.NbGraderApp.logfile = ""
"""
MAX_OUTPUT_CHARS = 20_000


@dataclass(frozen=True)
class Limits:
    """Resource limits of one isolated autograding run."""

    wall_s: float = 600.0
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


def prepare_course(workdir: Path, course_root: Path, assignment: str, student: str, submission: Path) -> Path:
    """A fresh course in ``workdir``: the course config, the source assignment and the one submission."""
    course = workdir / "course"
    shutil.copytree(course_root / "solutions" / assignment, course / "solutions" / assignment)
    copy_regular_files(submission, course / "submitted" / student / assignment)
    config = (course_root / "nbgrader_config.py").read_text()
    (course / "nbgrader_config.py").write_text(config + SANDBOX_CONFIG)
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
    home = course.parent / "home"
    prefix, isolation = _isolation_prefix(course_root)
    if "nobody" in isolation:
        _give_to_nobody(course.parent)
    env = _clean_environment(home)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            prefix + argv,
            cwd=course,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=limits.apply,
            start_new_session=True,
        )
        timed_out = _wait(process, limits.wall_s)
        log.seek(0)
        text = log.read()[-MAX_OUTPUT_CHARS:].decode(errors="replace")
    return IsolatedRun(process.returncode, timed_out, text, isolation)


def _wait(process: subprocess.Popen, wall_s: float) -> bool:
    try:
        process.wait(timeout=wall_s)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True


def _clean_environment(home: Path) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "MPLCONFIGDIR": str(home / "matplotlib"),
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1",
    }


def _give_to_nobody(workdir: Path) -> None:
    for path in [workdir, *workdir.rglob("*")]:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


def _isolation_prefix(course_root: Path) -> tuple[list[str], list[str]]:
    """The command prefix that isolates the child, and a list of the isolation layers it provides."""
    root = os.geteuid() == 0
    namespaces = _namespaces_available(root)
    if not namespaces:
        return [], ["rlimits", "tempdir"] + (["nobody"] if root and _setpriv() else [])
    script = _mount_script(course_root, drop_to_nobody=root and bool(_setpriv()))
    prefix = ["unshare", *namespaces, "--fork", "--kill-child", "--propagation", "private"]
    layers = ["rlimits", "tempdir", "namespaces:" + ",".join(n.strip("-") for n in namespaces)]
    return [*prefix, "sh", "-c", script, "sandbox"], layers + (["nobody"] if root and _setpriv() else [])


@cache
def _namespaces_available(root: bool) -> list[str]:
    """The ``unshare`` options that work here (a trial run), or [] when namespaces are not allowed."""
    if shutil.which("unshare") is None:
        return []
    options = ["--mount", "--pid", "--net"] + ([] if root else ["--user", "--map-root-user"])
    trial = "ip link set lo up && mount -t tmpfs none /mnt && true"
    try:
        done = subprocess.run(
            ["unshare", *options, "--fork", "--propagation", "private", "sh", "-c", trial],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return options if done.returncode == 0 else []


@cache
def _setpriv() -> str | None:
    return shutil.which("setpriv")


def _mount_script(course_root: Path, drop_to_nobody: bool) -> str:
    """Shell run inside the namespaces: loopback up, course read-only, private parts hidden, then exec."""
    quoted = _shell_quote(str(course_root))
    lines = [
        "set -e",
        "ip link set lo up",
        f"mount --bind {quoted} {quoted}",
        f"mount -o remount,bind,ro {quoted}",
    ]
    for name in PRIVATE_DIRS:
        path = _shell_quote(str(course_root / name))
        lines.append(f"if [ -d {path} ]; then mount -t tmpfs -o size=1m,mode=755 none {path}; fi")
    for name in PRIVATE_FILES:
        path = _shell_quote(str(course_root / name))
        lines.append(f"if [ -f {path} ]; then mount --bind /dev/null {path}; fi")
    if drop_to_nobody:
        lines.append(f'exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups --inh-caps=-all -- "$@"')
    else:
        lines.append('exec "$@"')
    return "\n".join(lines)


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def autograde_preprocessors() -> list[type]:
    """nbgrader's autograde pipeline with an ``Execute`` that survives a kernel crash in one cell."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import Execute

    return [resilient_execute_class() if cls is Execute else cls for cls in Autograde.autograde_preprocessors.default()]


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
                cell.outputs.append(_error_output("DeadKernelError", f"the kernel died in this cell: {error}"))
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
