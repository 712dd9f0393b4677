"""``carpentry run`` and ``carpentry workloads``.

``carpentry run SPEC`` prints a summary table (metric, median, IQR, unit, n; energy with its method and
whether it is measured or ESTIMATED; validity and reasons) and exits 0 for a VALID result, 1 for an INVALID
one (including a failed run) and 2 for bad input. ``carpentry workloads`` lists the registered workloads.
"""

from __future__ import annotations

import argparse

from carpentry_kit.cli.options import (
    add_device_option,
    add_energy_option,
    add_out_option,
    add_repeats_option,
    add_set_option,
)


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "workloads":
        return
    parser.add_argument("spec", metavar="SPEC", help="the spec file (YAML) to run")
    add_set_option(parser)
    add_energy_option(parser)
    add_repeats_option(parser)
    add_out_option(parser)
    add_device_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_command(args: argparse.Namespace) -> int:
    if args.command == "workloads":
        return _list_workloads()
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from carpentry_kit.measure.runner import run
    from carpentry_kit.spec.load import parse_overrides

    result = run(
        args.spec,
        overrides=parse_overrides(args.overrides),
        energy=args.energy,
        repeats=args.repeats,
        out=args.out,
        progress=not args.quiet,
        device=args.device,
    )
    print(result)
    store = args.out or result.record["spec"]["results"]["dir"]
    print(f"record {result.run_id} appended to {store}/runs.jsonl")
    return 0 if result.valid else 1


def _list_workloads() -> int:
    from carpentry_kit.workloads import list_workloads

    for name, info in list_workloads().items():
        print(f"{name}: {info.summary}")
        print(f"  scenarios: {', '.join(info.scenarios)}")
        print(f"  quality metrics: {', '.join(info.quality_metrics) or '-'}")
        params = ", ".join(f"{key}={value!r}" for key, value in info.defaults.items())
        print(f"  parameters: {params or '-'}")
    return 0
