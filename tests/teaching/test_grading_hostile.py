"""Hostile submissions against the grading sandbox, graded as whoever runs the tests (root in CI).

Each attack is planted in a real lesson01 submission and graded by the real `carpentry grade` machinery
(bubblewrap, cgroups, the parent-side scorer). Attacks that try to raise a score start from the released
notebook (honest score 0); the others from the full solution (honest score 10): either way the exact
score shows the attack gained nothing and broke nothing, and an honest student in the same batch keeps
full marks. The host's settings and files are compared before and after.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from carpentry_kit.teaching import grading
from carpentry_kit.teaching.grading import (
    COURSE_ID,
    CellScore,
    SubmissionGrade,
    grade_assignment,
    record_grade,
)
from carpentry_kit.teaching.sandbox import Limits, sandbox_problem

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(sandbox_problem()), reason=f"no grading sandbox here: {sandbox_problem()}"),
]
FULL = 10.0
# lesson01's benchmark cells take a few seconds; 30 s leaves room on a loaded machine
LIMITS = Limits(wall_s=300, cell_s=30, memory_bytes=2560 * 2**20, processes=300)
HOST_FILES = (
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/vm/drop_caches",
    "/proc/sys/vm/overcommit_memory",
    "/proc/sys/vm/swappiness",
    "/sys/kernel/mm/transparent_hugepage/enabled",
    "/sys/kernel/mm/transparent_hugepage/defrag",
    "/sys/kernel/mm/ksm/run",
)
PERSIST = ("/dev/shm/carpentry-persist", "/tmp/carpentry-persist")

# finds every secret a sandbox could expose (course root through relative paths, the course's .git and
# solutions through the host paths in /proc/self/mountinfo, other graders' /tmp folders, the notebook
# being run through /proc) and uses what it finds: a planted gradebook trigger, solutions run as its own
SECRET_SEARCH = r"""
import glob, os, sqlite3, json, stat
found = []
places = ['.', '..', '../..', '../../..', '../../../..', '/tmp', '/dev/shm', '/']
for line in open('/proc/self/mountinfo'):
    root = line.split()[3]
    places += [root, os.path.dirname(root), os.path.dirname(os.path.dirname(root))]
for place in places:
    for name in ('gradebook.db', 'solutions', '.git', 'submitted', 'autograded', 'carpentry-grade-*',
                 'carpentry-trusted-*', '*/gradebook.db', '*/solutions', '*/.git'):
        found += glob.glob(os.path.join(place, name))
for pid in filter(str.isdigit, os.listdir('/proc')):
    for path in glob.glob(f'/proc/{pid}/fd/*') + [f'/proc/{pid}/environ', f'/proc/{pid}/mem']:
        try:
            if stat.S_ISREG(os.stat(path).st_mode) and 'BEGIN HIDDEN' in open(path, errors='replace').read(10**7):
                found.append(path)
        except OSError:
            pass
for path in sorted(set(found)):
    if path.endswith('gradebook.db'):
        try:
            db = sqlite3.connect(path)
            db.execute("CREATE TRIGGER IF NOT EXISTS cheat AFTER UPDATE ON grade BEGIN "
                       "UPDATE grade SET auto_score = 5 WHERE id = NEW.id; END")
            db.commit()
        except sqlite3.Error:
            pass
    for nb in glob.glob(os.path.join(path, '**', '*.ipynb'), recursive=True):
        for cell in json.load(open(nb)).get('cells', []):
            if cell.get('metadata', {}).get('nbgrader', {}).get('solution') and cell['cell_type'] == 'code':
                exec(''.join(cell['source']), globals())
try:
    sqlite3.connect('../../../gradebook.db').execute('CREATE TABLE grade (id INTEGER)')
    found.append('created ../../../gradebook.db')
except sqlite3.Error as error:
    pass
print('SECRETS', sorted(set(found)))
"""
HOST_WRITES = f"""
import os, subprocess
written = []
for target in {HOST_FILES!r}:
    try:
        with open(target, 'w') as handle:
            handle.write('|/tmp/evil %p' if 'core' in target else '1')
        written.append(target)
    except OSError:
        pass
for path in {PERSIST!r}:
    with open(path, 'w') as handle:
        handle.write('left behind')
try:
    os.setuid(0)
    written.append('setuid(0)')
except OSError:
    pass
# root in a new user namespace of its own, with a sysfs of its own network namespace
nested = ('echo "|/tmp/evil" > /proc/sys/kernel/core_pattern || mkdir -p /tmp/s && mount -t sysfs sysfs /tmp/s '
          '&& echo 1 > /tmp/s/kernel/mm/ksm/run && echo 2 > /tmp/s/kernel/mm/transparent_hugepage/defrag')
done = subprocess.run(['unshare', '--user', '--map-root-user', '--mount', '--net', 'sh', '-c', nested],
                      capture_output=True, text=True)
if done.returncode == 0:
    written.append('nested namespace: ' + done.stdout + done.stderr)
print('HOSTWRITES', written, os.getuid())
"""
FORK_BOMB = r"""
import os, signal, subprocess, sys, time
bomb = subprocess.Popen([sys.executable, '-c', 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass'],
                        start_new_session=True)
time.sleep(4)
peak = sum(1 for name in os.listdir('/proc') if name.isdigit())
for _ in range(100):
    try:
        os.killpg(bomb.pid, signal.SIGKILL)
    except ProcessLookupError:
        break
    time.sleep(0.05)
bomb.wait()
print('FORKBOMB', peak)
"""
MEMORY_HOG = r"""
import subprocess, sys
hog = 'import time\nb = b"x" * 2**30\ntime.sleep(3)'  # 1 GiB, filled at once
hogs = [subprocess.Popen([sys.executable, '-c', hog]) for _ in range(3)]
print('MEMHOG', [h.wait() for h in hogs])
"""
FLOOD = "print('x' * 100_000_000)\n"
READ_PERSISTED = f"import os\nprint('PERSISTED', [p for p in {PERSIST!r} if os.path.exists(p)])\n"
IGNORE_SIGINT = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
SEARCH_OTHERS = r"""
import glob, os, time
seen = set()
for _ in range(40):  # 20 s, while the other grader works
    files = glob.glob('/tmp/*') + glob.glob('/dev/shm/*') + glob.glob('/home/*/*')
    seen.update(f for f in files if 'carpentry' in f or 'bea' in f or 'course' in f)
    seen.update(p for p in os.listdir('/proc') if p.isdigit() and '--course' in open(f'/proc/{p}/cmdline').read())
    time.sleep(0.5)
print('OTHERS', sorted(seen))
"""


def _notebook(kind: str) -> dict:
    folder = "solutions" if kind == "solution" else "exercises"
    return json.loads((ROOT / folder / "lesson01" / "lesson01.ipynb").read_text())


def _prefix(notebook: dict, **code: str) -> dict:
    """Put attack code before the contents of the named answer cells (grade_id with - as _)."""
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id", "").replace("-", "_")
        if grade_id in code:
            cell["source"] = code[grade_id] + "\n" + "".join(cell["source"])
    return notebook


def _course(path: Path, submissions: dict[str, dict]) -> Path:
    shutil.copy(ROOT / "nbgrader_config.py", path)
    shutil.copytree(ROOT / "solutions" / "lesson01", path / "solutions" / "lesson01")
    for student, notebook in submissions.items():
        folder = path / "submitted" / student / "lesson01"
        folder.mkdir(parents=True)
        (folder / "lesson01.ipynb").write_text(json.dumps(notebook))
    return path


def _host_state() -> dict[str, str | None]:
    state = {}
    for path in HOST_FILES + PERSIST:
        try:
            state[path] = Path(path).read_text()
        except OSError as error:
            state[path] = type(error).__name__
    return state


def _printed(course: Path, student: str, marker: str) -> str:
    """The line a planted attack printed, starting with ``marker``, from the autograded notebook."""
    notebook = json.loads((course / "autograded" / student / "lesson01" / "lesson01.ipynb").read_text())
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            for line in ("".join(text) if isinstance(text, list) else text).splitlines():
                if line.startswith(marker):
                    return line
    raise AssertionError(f"{student} printed no {marker} line")


def _full_cells() -> list[CellScore]:
    cells = []
    for cell in _notebook("solution")["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade"):
            manual = bool(meta.get("solution"))
            cells.append(
                CellScore(
                    "lesson01", meta["grade_id"], 0.0 if manual else meta["points"], meta["points"], manual
                )
            )
    return cells


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One `carpentry grade` run: four attackers and an honest student; trent had a stored 10/10."""
    solution = _notebook
    course = _course(
        tmp_path_factory.mktemp("hostile"),
        {
            "mallory": _prefix(solution("release"), matmul_flop=SECRET_SEARCH),
            "oscar": _prefix(solution("solution"), matmul_flop=HOST_WRITES, gflops=FORK_BOMB),
            "peggy": _prefix(
                solution("solution"), matmul_flop=MEMORY_HOG, gflops=FLOOD, time_matmul=READ_PERSISTED
            ),
            "trent": _prefix(solution("solution"), time_matmul=IGNORE_SIGINT),
            "walter": solution("solution"),
        },
    )
    grading.generate_exercises(course, course / "release-check", register=True)
    db_url = grading.course_db_url(course)
    record_grade(db_url, SubmissionGrade("lesson01", "trent", "graded", "", _full_cells()))
    before = _host_state()
    grades = {g.student: g for g in grade_assignment(course, "lesson01", limits=LIMITS)}
    return course, grades, before, _host_state()


def test_honest_student_keeps_full_marks_beside_attackers(batch):
    _, grades, _, _ = batch
    assert (grades["walter"].status, grades["walter"].auto_score) == ("graded", FULL), grades["walter"].error
    assert "uid-65534" in grades["walter"].isolation and "no-network" in grades["walter"].isolation


def test_secret_search_and_gradebook_trigger_find_nothing(batch):
    course, grades, _, _ = batch
    # relative paths, mountinfo's host paths, /tmp, /proc: no solutions, .git, gradebook or hidden tests
    assert _printed(course, "mallory", "SECRETS") == "SECRETS []"
    assert (grades["mallory"].status, grades["mallory"].auto_score) == ("graded", 0), grades["mallory"].error
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone() == (0,)


def test_host_settings_and_files_stay_unwritable(batch):
    course, grades, before, after = batch
    assert _printed(course, "oscar", "HOSTWRITES") == "HOSTWRITES [] 65534"
    assert after == before  # core_pattern, vm, /sys/kernel/mm unchanged; nothing left in /dev/shm or /tmp
    assert (grades["oscar"].status, grades["oscar"].auto_score) == ("graded", FULL), grades["oscar"].error


def test_fork_bomb_stops_at_the_process_limit(batch):
    course, grades, _, _ = batch
    peak = int(_printed(course, "oscar", "FORKBOMB").split()[1])
    assert 50 < peak <= LIMITS.processes  # it did fork, and no further than pids.max
    assert grades["oscar"].auto_score == FULL  # the rest of the notebook still ran


def test_memory_limit_holds_across_processes_and_floods_are_cut(batch):
    course, grades, _, _ = batch
    # three 1 GiB processes under a 2.5 GiB limit for the whole sandbox: the kernel's OOM killer stops one
    codes = json.loads(_printed(course, "peggy", "MEMHOG").split(" ", 1)[1])
    assert -9 in codes
    notebook = course / "autograded" / "peggy" / "lesson01" / "lesson01.ipynb"
    assert notebook.stat().st_size < 2**20  # 100 MB printed, a few kB kept
    assert _printed(course, "peggy", "PERSISTED") == "PERSISTED []"  # oscar's /dev/shm and /tmp files
    assert (grades["peggy"].status, grades["peggy"].auto_score) == ("graded", FULL), grades["peggy"].error


def test_sigint_ignoring_loop_fails_and_keeps_the_stored_grade(batch):
    course, grades, _, _ = batch
    trent = grades["trent"]
    assert trent.status == "failed" and "ignored the interrupt" in trent.error and "\n" not in trent.error
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions("lesson01")}
    assert scores["trent"] == FULL and scores["walter"] == FULL and scores["mallory"] == 0


def test_bad_options_are_refused_before_anything_runs(batch, capsys):
    from carpentry_kit.cli.main import main

    course, _, _, _ = batch
    stored = (course / "gradebook.db").read_bytes()
    started = time.monotonic()
    assert main(["grade", "lesson01", "--course", str(course), "--timeout", "-5"]) == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err.strip()
    assert err == "carpentry grade: --timeout must be a number above 0, not -5.0"
    assert (course / "gradebook.db").read_bytes() == stored


def test_failed_batch_exits_1_and_says_why(batch, capsys):
    from carpentry_kit.cli import teaching_commands

    _, grades, _, _ = batch
    assert teaching_commands._report_grades(list(grades.values()), None) == 1
    out = capsys.readouterr().out
    assert "lesson01 trent: failed" in out and "ignored the interrupt" in out


def test_refuses_without_a_sandbox_unless_told(tmp_path, monkeypatch, capsys):
    from carpentry_kit.cli.main import main

    course = _course(tmp_path, {"walter": _notebook("solution")})
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    sandbox_problem.cache_clear()
    try:
        assert main(["grade", "lesson01", "--course", str(course)]) == 2
        err = capsys.readouterr().err.strip()
        assert "bubblewrap" in err and "--unsafe-no-sandbox" in err and "\n" not in err
        assert not (course / "gradebook.db").exists()
        assert main(["grade", "lesson01", "--course", str(course), "--unsafe-no-sandbox"]) == 0
        assert "walter: graded, auto 10/10" in capsys.readouterr().out
    finally:
        sandbox_problem.cache_clear()


def _descendants(pid: int) -> set[int]:
    children: dict[int, set[int]] = {}
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except (OSError, ValueError):
            continue
        if entry.isdigit():
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), set()).add(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _grade_command(course: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "carpentry_kit", "grade", "lesson01", "--course", str(course), *extra]


def _cgroups() -> set[str]:
    return {
        str(p)
        for depth in ("*", "*/*", "*/*/*")
        for p in Path("/sys/fs/cgroup").glob(f"{depth}/carpentry-grade-*")
    }


def test_ctrl_c_kills_the_sandboxed_kernel(tmp_path):
    cgroups = _cgroups()
    sleeper = _prefix(_notebook("solution"), matmul_flop="import time\ntime.sleep(600)\n")
    course = _course(tmp_path, {"sam": sleeper})
    grader = subprocess.Popen(
        _grade_command(course, "--cell-timeout", "900"), stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 180
    kernels: set[int] = set()
    while not kernels and time.monotonic() < deadline:
        time.sleep(1)
        kernels = {
            p for p in _descendants(grader.pid) if b"ipykernel" in Path(f"/proc/{p}/cmdline").read_bytes()
        }
    assert kernels, "the sandboxed kernel never started"
    sandbox = _descendants(grader.pid)
    time.sleep(2)
    grader.send_signal(signal.SIGINT)
    assert grader.wait(timeout=60) == 130
    assert grader.stderr.read().strip().endswith("interrupted")
    time.sleep(1)
    assert not [p for p in sandbox if _alive(p)], "sandbox processes outlived carpentry grade"
    assert _cgroups() <= cgroups  # its cgroup is gone too


def test_two_concurrent_graders_cannot_see_each_other(tmp_path):
    watcher = _prefix(_notebook("solution"), matmul_flop=SEARCH_OTHERS)
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = _course(tmp_path / "a", {"amy": watcher})
    second = _course(tmp_path / "b", {"bea": _notebook("solution")})
    graders = [
        subprocess.Popen(_grade_command(c), stdout=subprocess.PIPE, text=True) for c in (first, second)
    ]
    outputs = [g.communicate(timeout=600)[0] for g in graders]
    assert [g.returncode for g in graders] == [0, 0], outputs
    assert "amy: graded, auto 10/10" in outputs[0] and "bea: graded, auto 10/10" in outputs[1]
    # nothing of the other grader: not its /tmp/carpentry-grade-* folder, its course, or its processes
    assert _printed(first, "amy", "OTHERS") == "OTHERS []"
