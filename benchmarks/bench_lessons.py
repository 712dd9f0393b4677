"""Lesson budgets: each lesson executes in <= 60 s wall and <= 1.5 GiB peak memory; the book builds in <= 5 min.

Each lesson runs headless (nbclient, the python3 kernel) in a subprocess, in a temporary copy of
``lessons/``; psutil samples the resident memory of the kernel's process tree (the kernel and anything it
starts) every 50 ms and keeps the peak of the sum. Wall time includes starting the kernel. Then the whole
book is built with every lesson executed (``jupyter-book build -W -n`` into a temporary directory).
Prints a table; exits 1 if a target is missed or a lesson or the build fails.

    python benchmarks/bench_lessons.py [--skip-book] [LESSON.ipynb ...]
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
from pathlib import Path

import psutil

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


def measure(command: list[str], cwd: Path) -> tuple[float, int, int, str]:
    """(wall seconds, peak bytes of the child tree, exit status, output tail) of ``command``."""
    start = time.perf_counter()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with tempfile.TemporaryFile("w+") as log:
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        process, peak = psutil.Process(child.pid), 0
        while child.poll() is None:
            peak = max(peak, _tree_rss(process))
            time.sleep(SAMPLE_S)
        log.seek(0)
        return time.perf_counter() - start, peak, child.returncode, log.read()[-2000:]


def bench_lesson(path: Path) -> tuple[float, int, int, str]:
    with tempfile.TemporaryDirectory(prefix="bench-lesson-") as scratch:
        copy = Path(scratch) / "lessons"
        shutil.copytree(path.parent, copy, ignore=shutil.ignore_patterns("results", ".ipynb_checkpoints"))
        return measure([sys.executable, "-c", _EXECUTE, str(copy / path.name), str(copy)], copy)


def bench_book() -> tuple[float, int, int, str]:
    with tempfile.TemporaryDirectory(prefix="bench-book-") as output:
        jupyter_book = str(Path(sys.executable).parent / "jupyter-book")
        return measure([jupyter_book, "build", "-W", "-n", "--path-output", output, "book/"], ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", type=Path, help="lessons to time (default: all)")
    parser.add_argument("--skip-book", action="store_true", help="do not time the book build")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from carpentry_kit.teaching.curriculum import lesson_paths

    lessons = [path.resolve() for path in args.lessons] or lesson_paths(ROOT / "lessons")
    print(f"{'what':<40} {'wall s':>8} {'target':>7} {'peak GiB':>9} {'target':>7}  result")
    failed = False
    for path in lessons:
        wall, peak, status, tail = bench_lesson(path)
        ok = status == 0 and wall <= LESSON_WALL_S and peak / 2**30 <= LESSON_PEAK_GIB
        failed |= not ok
        print(
            f"{path.name:<40} {wall:>8.1f} {LESSON_WALL_S:>7.0f} {peak / 2**30:>9.2f} {LESSON_PEAK_GIB:>7.1f}  {_verdict(ok, status)}"
        )
        if status:
            print(tail, file=sys.stderr)
    if not args.skip_book:
        wall, peak, status, tail = bench_book()
        ok = status == 0 and wall <= BOOK_WALL_S
        failed |= not ok
        print(
            f"{'book build (all lessons executed)':<40} {wall:>8.1f} {BOOK_WALL_S:>7.0f} {peak / 2**30:>9.2f} {'-':>7}  {_verdict(ok, status)}"
        )
        if status:
            print(tail, file=sys.stderr)
    return 1 if failed else 0


def _verdict(ok: bool, status: int) -> str:
    return "ok" if ok else (f"FAILED (exit status {status})" if status else "MISSED")


if __name__ == "__main__":
    raise SystemExit(main())
