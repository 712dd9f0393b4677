"""``carpentry doctor`` (is this machine ready for the workshop?) and ``carpentry grade`` (autograde, generate
the exercises, check for leaks)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from carpentry_kit.teaching.doctor import format_checks, run_checks
from carpentry_kit.teaching.grading import (
    RELEASE_DIR,
    SOURCE_DIR,
    GradingError,
    Leak,
    SubmissionGrade,
    find_leaks,
    generate_exercises,
    grade_assignment,
    write_csv,
)
from carpentry_kit.teaching.sandbox import Limits


def add_arguments(parser: argparse.ArgumentParser, name: str = "doctor") -> None:
    if name == "grade":
        return _grade_arguments(parser)
    parser.add_argument(
        "--results",
        default="results",
        metavar="DIR",
        help="results directory to test for write access (default: results)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the checks as a JSON list instead of a table"
    )


def run_command(args: argparse.Namespace) -> int:
    if args.command == "grade":
        return _grade(args)
    checks = run_checks(args.results)
    if args.json:
        print(json.dumps([asdict(check) for check in checks], indent=2))
    else:
        print(format_checks(checks))
    return 1 if any(check.status == "FAIL" for check in checks) else 0


def _grade_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``carpentry grade``."""
    parser.add_argument("assignment", nargs="?", help="assignment to autograde, e.g. lesson01")
    parser.add_argument("--student", action="append", help="only this student id (repeatable)")
    parser.add_argument("--csv", type=Path, help="write the grades to this CSV file")
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="course root (default: here)")
    parser.add_argument(
        "--timeout", type=float, default=Limits.wall_s, help="wall-clock limit per notebook, s"
    )
    parser.add_argument(
        "--cell-timeout", type=float, default=Limits.cell_s, help="limit per cell, s (then it is interrupted)"
    )
    parser.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="run submissions without isolation where no sandbox can be had (only submissions you trust)",
    )
    parser.add_argument("--generate", action="store_true", help="regenerate exercises/ from solutions/")
    parser.add_argument("--check-leaks", nargs="*", type=Path, metavar="PATH", help="check files for leaks")


def _grade(args: argparse.Namespace) -> int:
    """Run ``carpentry grade``: 0 done, 1 leaks or failed submissions, 2 bad input."""
    course = args.course.resolve()
    try:
        if not (course / "nbgrader_config.py").is_file():
            raise GradingError(
                f"{course}: no nbgrader_config.py — run this in the course root or pass --course"
            )
        if args.generate:
            return _report_generated(generate_exercises(course), course)
        if args.check_leaks is not None:
            return _report_leaks(find_leaks(args.check_leaks or [course / RELEASE_DIR], course / SOURCE_DIR))
        if not args.assignment:
            raise GradingError("carpentry grade: name an assignment (e.g. lesson01), or pass --generate")
        limits = Limits(wall_s=args.timeout, cell_s=args.cell_timeout)
        grades = grade_assignment(course, args.assignment, args.student, limits, args.unsafe_no_sandbox)
    except GradingError as error:
        print(error, file=sys.stderr)
        return 2
    return _report_grades(grades, args.csv)


def _report_generated(paths: list[Path], course: Path) -> int:
    for path in paths:
        print(f"wrote {path.relative_to(course)}")
    return _report_leaks(find_leaks([course / RELEASE_DIR], course / SOURCE_DIR))


def _report_leaks(leaks: list[Leak]) -> int:
    for leak in leaks:
        print(leak)
    print(f"{len(leaks)} leak(s) found")
    return 1 if leaks else 0


def _report_grades(grades: list[SubmissionGrade], csv_path: Path | None) -> int:
    layers = next((grade.isolation for grade in grades if grade.isolation), [])
    if layers:
        unsafe = "bwrap" not in layers
        print(("UNSAFE, not sandboxed: " if unsafe else "sandboxed: ") + ", ".join(layers))
    for grade in grades:
        note = f" ({grade.error})" if grade.error else ""
        print(
            f"{grade.assignment} {grade.student}: {grade.status}, auto {grade.auto_score:g}/{grade.auto_max_score:g}"
            f", written answers {grade.manual_max_score:g} to grade by hand{note}"
        )
    if csv_path:
        write_csv(grades, csv_path)
        print(f"wrote {csv_path}")
    return 0 if all(grade.status == "graded" for grade in grades) else 1
