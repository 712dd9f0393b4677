"""Lesson budgets: each lesson executes in <= 60 s wall and <= 1.5 GiB peak memory; the book builds in <= 5 min.

Each lesson runs headless (nbclient, the python3 kernel) in a subprocess, in a temporary copy of
``lessons/``; psutil samples the resident memory of the kernel's process tree (the kernel and anything it
starts) every 50 ms and keeps the peak of the sum. Wall time includes starting the kernel. Then the whole
book is built with every lesson executed (``jupyter-book build -W -n`` into a temporary directory).
Prints a table; exits 1 if a target is missed or a lesson or the build fails.

``--binder`` runs each lesson as on a Binder-sized machine instead (``benchmarks/binder_cap.py``): in a
cgroup of 2 CPUs and 2.5 GB (needs root), with ``stress-ng --cpu 1`` keeping one core busy alongside;
the book is not built. The targets are the same.

``--stress N`` runs each lesson N times beside ``stress-ng --cpu 2`` (a CPU hog on every core): a lesson must
not fail under load (no cell may depend on the order of noisy measurements); wall times are shown but, the
machine being oversubscribed on purpose, only a failing cell counts as a miss. The book is not built.

    python benchmarks/bench_lessons.py [--skip-book] [--binder | --stress N] [LESSON.ipynb ...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from binder_cap import CPUS, MEMORY_BYTES, BinderCap, CapUnavailable

ROOT = Path(__file__).resolve().parent.parent
LESSON_WALL_S = 60.0
LESSON_PEAK_GIB = 1.5
BOOK_WALL_S = 300.0
SAMPLE_S = 0.05

_EXECUTE = """
import sys, nbformat, nbclient
notebook = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


def _tree_rss(process: psutil.Process) -> int:
    """Resident bytes of ``process``'s descendants (the kernel and its children)."""
    total = 0
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a child may exit between listing and reading
            total += child.memory_info().rss
    return total


def measure(
    command: list[str], cwd: Path, enter: Callable[[], None] | None = None
) -> tuple[float, int, int, str]:
    """(wall seconds, peak bytes of the child tree, exit status, output tail) of ``command``.

    ``enter`` runs in the child before ``command`` starts (``BinderCap.enter``: join the cap's cgroups).
    """
    start = time.perf_counter()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with tempfile.TemporaryFile("w+") as log:
        child = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=enter
        )
        process, peak = psutil.Process(child.pid), 0
        while child.poll() is None:
            peak = max(peak, _tree_rss(process))
            time.sleep(SAMPLE_S)
        log.seek(0)
        return time.perf_counter() - start, peak, child.returncode, log.read()[-2000:]


def bench_lesson(path: Path, enter: Callable[[], None] | None = None) -> tuple[float, int, int, str]:
    with tempfile.TemporaryDirectory(prefix="bench-lesson-") as scratch:
        copy = Path(scratch) / "lessons"
        shutil.copytree(path.parent, copy, ignore=shutil.ignore_patterns("results", ".ipynb_checkpoints"))
        return measure([sys.executable, "-c", _EXECUTE, str(copy / path.name), str(copy)], copy, enter)


def bench_book() -> tuple[float, int, int, str]:
    with tempfile.TemporaryDirectory(prefix="bench-book-") as output:
        jupyter_book = str(Path(sys.executable).parent / "jupyter-book")
        return measure([jupyter_book, "build", "-W", "-n", "--path-output", output, "book/"], ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", type=Path, help="lessons to time (default: all)")
    parser.add_argument("--skip-book", action="store_true", help="do not time the book build")
    parser.add_argument(
        "--binder",
        action="store_true",
        help="cap each lesson at 2 CPUs and 2.5 GB, with stress-ng --cpu 1 alongside",
    )
    parser.add_argument(
        "--stress", type=int, default=0, metavar="N", help="run each lesson N times beside stress-ng --cpu 2"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from carpentry_kit.teaching.curriculum import lesson_paths

    lessons = [path.resolve() for path in args.lessons] or lesson_paths(ROOT / "lessons")
    if args.stress:
        return 1 if _bench_stress(lessons, args.stress) else 0
    if args.binder:
        failed = _bench_binder(lessons)
    else:
        print(f"{'what':<40} {'wall s':>8} {'target':>7} {'peak GiB':>9} {'target':>7}  result")
        failed = any([not _bench_one(path) for path in lessons])
    if not args.skip_book and not args.binder:
        wall, peak, status, tail = bench_book()
        ok = status == 0 and wall <= BOOK_WALL_S
        failed |= not ok
        print(
            f"{'book build (all lessons executed)':<40} {wall:>8.1f} {BOOK_WALL_S:>7.0f} {peak / 2**30:>9.2f} {'-':>7}  {_verdict(ok, status)}"
        )
        if status:
            print(tail, file=sys.stderr)
    return 1 if failed else 0


def _bench_one(path: Path, cap: BinderCap | None = None) -> bool:
    """Time one lesson and print its row; True when it met both targets."""
    wall, peak, status, tail = bench_lesson(path, cap.enter if cap else None)
    ok = status == 0 and wall <= LESSON_WALL_S and peak / 2**30 <= LESSON_PEAK_GIB
    verdict = _verdict(ok, status)
    if cap is not None and cap.oom_kills():
        verdict += f" (killed by the {MEMORY_BYTES / 1e9:g} GB cap)"
    print(
        f"{path.name:<40} {wall:>8.1f} {LESSON_WALL_S:>7.0f} {peak / 2**30:>9.2f} {LESSON_PEAK_GIB:>7.1f}  {verdict}",
        flush=True,
    )
    if status:
        print(tail, file=sys.stderr)
    return ok


def _bench_stress(lessons: list[Path], times: int) -> bool:
    """Each lesson ``times`` times beside ``stress-ng --cpu 2``; True when any run failed."""
    stress = shutil.which("stress-ng")
    if stress is None:
        raise SystemExit("bench_lessons --stress: stress-ng is not installed — apt-get install -y stress-ng")
    hog = subprocess.Popen([stress, "--cpu", "2", "--quiet"], stdout=subprocess.DEVNULL)
    print(
        f"beside stress-ng --cpu 2 (of {os.cpu_count()} CPUs), {times} runs a lesson; a failing cell is a miss"
    )
    print(f"{'what':<40} {'wall s (each run)':>28}  result")
    failed = False
    try:
        for path in lessons:
            runs = [bench_lesson(path) for _ in range(times)]
            failures = [tail for _, _, status, tail in runs if status]
            failed |= bool(failures)
            walls = ", ".join(f"{wall:.1f}" for wall, _, _, _ in runs)
            print(f"{path.name:<40} {walls:>28}  {'FAIL' if failures else 'ok'}", flush=True)
            for tail in failures:
                print(tail, file=sys.stderr)
    finally:
        hog.terminate()
        hog.wait()
    return failed


def _bench_binder(lessons: list[Path]) -> bool:
    """Each lesson under its own Binder-like cap; True when any missed a target."""
    print(
        f"Binder-like: {CPUS} CPUs, {MEMORY_BYTES / 1e9:g} GB, stress-ng --cpu 1 alongside (of {os.cpu_count()} CPUs)"
    )
    print(f"{'what':<40} {'wall s':>8} {'target':>7} {'peak GiB':>9} {'target':>7}  result")
    missed = False
    for path in lessons:
        cap = BinderCap()
        try:
            cap.start()
        except CapUnavailable as error:
            raise SystemExit(f"bench_lessons --binder: {error}") from None
        try:
            missed |= not _bench_one(path, cap)
        finally:
            cap.stop()
    return missed


def _verdict(ok: bool, status: int) -> str:
    return "ok" if ok else (f"FAILED (exit status {status})" if status else "MISSED")


if __name__ == "__main__":
    raise SystemExit(main())
