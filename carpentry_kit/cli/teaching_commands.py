"""``carpentry doctor``: is this machine ready for the workshop?"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from carpentry_kit.teaching.doctor import format_checks, run_checks


def add_arguments(parser: argparse.ArgumentParser, name: str = "doctor") -> None:
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
    checks = run_checks(args.results)
    if args.json:
        print(json.dumps([asdict(check) for check in checks], indent=2))
    else:
        print(format_checks(checks))
    return 1 if any(check.status == "FAIL" for check in checks) else 0
