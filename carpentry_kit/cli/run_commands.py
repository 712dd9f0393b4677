"""``carpentry run`` and ``carpentry workloads``.

``carpentry run SPEC`` prints a summary table (metric, median, IQR, unit, n; energy with its method and
whether it is measured or ESTIMATED; validity and reasons) and exits 0 for a VALID result, 1 for an INVALID
one (including a failed run) and 2 for bad input. ``carpentry workloads`` lists the registered workloads.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from carpentry_kit.cli.main import add_set_option
from carpentry_kit.energy.select import METHODS

ENERGY_CHOICES = ("auto", *METHODS)


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "workloads":
        return
    parser.add_argument("spec", metavar="SPEC", help="the spec file (YAML) to run")
    add_set_option(parser)
    parser.add_argument(
        "--energy", choices=ENERGY_CHOICES, default="auto", help="energy method (default: auto)"
    )
    parser.add_argument("--repeats", type=_positive_int, help="timed repeats (overrides protocol.repeats)")
    parser.add_argument("--out", metavar="DIR", help="results directory (default: the spec's results.dir)")
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), help="device (default: from the spec and machine)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_command(args: argparse.Namespace) -> int:
    if args.command == "workloads":
        return _list_workloads()
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from carpentry_kit.errors import SpecError, UsageError
    from carpentry_kit.measure.runner import RunInterrupted, run
    from carpentry_kit.spec.load import parse_overrides

    try:
        overrides = parse_overrides(args.overrides)
        result = run(
            args.spec,
            overrides=overrides,
            energy=args.energy,
            repeats=args.repeats,
            out=args.out,
            progress=not args.quiet,
            device=args.device,
        )
    except (SpecError, UsageError) as error:
        print(error, file=sys.stderr)
        return 2
    except RunInterrupted as interrupt:  # Ctrl-C or SIGTERM: show what was measured before it, as recorded
        _print_result(interrupt.result, args)
        reason = interrupt.result.record["error"]
        print(f"{reason}: the partial run is recorded with status 'interrupted'", file=sys.stderr)
        return 130
    _print_result(result, args)
    return 0 if result.valid else 1


def _print_result(result: Any, args: argparse.Namespace) -> None:
    print(result)
    store = args.out or result.record["spec"]["results"]["dir"]
    print(f"record {result.run_id} appended to {store}/runs.jsonl")


def _list_workloads() -> int:
    from carpentry_kit.workloads import list_workloads

    for name, info in list_workloads().items():
        print(f"{name}: {info.summary}")
        print(f"  scenarios: {', '.join(info.scenarios)}")
        print(f"  quality metrics: {', '.join(info.quality_metrics) or '-'}")
        params = ", ".join(f"{key}={value!r}" for key, value in info.defaults.items())
        print(f"  parameters: {params or '-'}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
