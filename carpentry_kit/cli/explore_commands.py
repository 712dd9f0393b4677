"""The explore commands of ``carpentry``: sweep, compare, report, history.

Bad input is printed as one line per problem and exits 2; nothing here prints a traceback. ``sweep`` exits
0 when every point completed VALID and 1 otherwise (a point failed or was INVALID).
"""

from __future__ import annotations

import argparse
import sys

from carpentry_kit.cli.options import (
    add_device_option,
    add_energy_option,
    add_out_option,
    add_repeats_option,
    add_set_option,
)

EXIT_OK, EXIT_INVALID = 0, 1

SWEEP_EPILOG = """\
examples:
  carpentry sweep matmul.yaml --grid task.params.size=64,128,256 --repeats 3 --out results/sizes
  carpentry sweep matmul.yaml --grid task.params.size=64,128 --grid task.params.dtype=float32,float64
  carpentry sweep matmul.yaml --grid task.params.size=64,128 --dask tcp://scheduler:8786

Points run one after another, not in parallel: runs that share a machine compete for its cores, caches,
memory bandwidth and power, which distorts their timings and energy. Re-running the same command skips
the points already completed in --out and tries failed ones again.

On an HPC cluster, dask-jobqueue (pip install "carpentry-kit[dask]") starts Dask workers as batch
jobs, one single-threaded worker per node. On a login node, save this as cluster.py and keep it running:

  from dask_jobqueue import SLURMCluster
  cluster = SLURMCluster(queue="compute", account="my-project", cores=1, processes=1, memory="4GB",
                         walltime="00:30:00", job_extra_directives=["--exclusive"])
  cluster.scale(jobs=4)                     # four batch jobs, one worker each
  print(cluster.scheduler_address, flush=True)
  input("press Enter to stop the workers\\n")

then, in a second shell, run the same sweep command with --dask and the address it printed. The
records come back to the login node: the results directory need not be on a shared file system.
"""


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """Add the arguments of command ``name`` to its sub-parser."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    {
        "sweep": _sweep_arguments,
        "compare": _compare_arguments,
        "report": _report_arguments,
        "history": _history_arguments,
    }[name](parser)


def _sweep_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = SWEEP_EPILOG
    parser.add_argument("spec", metavar="SPEC", help="the spec file to sweep")
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        required=True,
        metavar="PATH=V1,V2,...",
        help="a swept field and its values (YAML), e.g. task.params.size=64,128; repeat for more fields",
    )
    add_set_option(parser, "fix a field for every point")
    add_out_option(parser)
    add_repeats_option(parser, "timed repeats per point")
    add_energy_option(parser)
    add_device_option(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--dask", metavar="ADDRESS", help="run each point as a task on this Dask scheduler")
    where.add_argument(
        "--dask-local",
        type=int,
        metavar="N",
        help="start N local Dask workers (a demo: they share this machine)",
    )


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", metavar="RESULTS_DIR", help="a results directory")
    parser.add_argument(
        "--baseline",
        action="append",
        required=True,
        metavar="PATH=VALUE",
        help="the baseline configuration, e.g. task.params.size=256 (repeat for more keys), or a pandas query",
    )
    parser.add_argument(
        "--metric", action="append", metavar="M", help="compare only this metric (repeatable)"
    )
    parser.add_argument("--csv", metavar="FILE", help="also write the comparison as CSV")
    add_division_options(parser)


def add_division_options(parser: argparse.ArgumentParser) -> None:
    """``--division closed|open`` and ``--mixed-divisions``: which divisions' results to rank."""
    divisions = parser.add_mutually_exclusive_group()
    divisions.add_argument(
        "--division", choices=("closed", "open"), help="only the results of this division (protocol.division)"
    )
    divisions.add_argument(
        "--mixed-divisions",
        action="store_true",
        help="rank closed and open results together, each labelled with its division (refused without it)",
    )


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", metavar="RESULTS_DIR", help="a results directory")
    parser.add_argument(
        "-o", "--output", default="report.html", metavar="FILE", help="the HTML report to write"
    )
    parser.add_argument("--md", metavar="FILE", help="also write the MLCommons-style Markdown results table")
    parser.add_argument(
        "--baseline",
        action="append",
        metavar="PATH=VALUE",
        help="compare against this baseline, as `carpentry compare --baseline` (default: the first run's)",
    )


HISTORY_EPILOG = """\
example:
  carpentry history results/v1.0 results/v1.1 --metric gflops

One row per version of the benchmark (a distinct spec hash or dataset version), in the order of their first
run: the median with its interval, and against the version before the ratio of medians with compare's
interval and verdict; FLAGGED when the interval excludes 1. Under each version: the spec fields that changed.
"""


def _history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = HISTORY_EPILOG
    parser.add_argument("results", nargs="+", metavar="DIR", help="results directories (one or more)")
    parser.add_argument("--metric", metavar="NAME", help="the metric (default: the latest spec's first)")
    parser.add_argument("--csv", metavar="FILE", help="also write the history as CSV")


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command (errors are mapped to exit codes by ``cli.main.handle_errors``)."""
    commands = {"sweep": _sweep, "compare": _compare, "report": _report, "history": _history}
    return commands[args.command](args)


def _history(args: argparse.Namespace) -> int:
    from carpentry_kit.explore.history import benchmark_history

    history = benchmark_history(args.results, metric=args.metric)
    print(history.format())
    if args.csv:
        frame = history.to_frame()
        frame["changes"] = ["; ".join(map(str, changes)) for changes in frame["changes"]]
        frame.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}", file=sys.stderr)
    return EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    from carpentry_kit.errors import UsageError
    from carpentry_kit.explore.sweep import parse_grid, sweep
    from carpentry_kit.spec.load import parse_overrides

    if args.dask_local is not None and args.dask_local < 1:
        raise UsageError(f"--dask-local {args.dask_local}: must be at least 1 worker")
    result = sweep(
        args.spec,
        parse_grid(args.grid),
        overrides=parse_overrides(args.overrides),
        out=args.out,
        repeats=args.repeats,
        energy=args.energy,
        device=args.device,
        dask=args.dask,
        dask_local=args.dask_local,
        log=lambda line: print(line, flush=True),
    )
    invalid = [r for r in result.done if r["validity"] != "VALID"]
    return EXIT_INVALID if result.failed or invalid else EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    from carpentry_kit.explore.compare import compare, format_comparison, parse_baseline

    table = compare(
        args.results,
        parse_baseline(args.baseline),
        metric=args.metric,
        division=args.division,
        mixed_divisions=args.mixed_divisions,
    )
    print(format_comparison(table))
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}", file=sys.stderr)
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from carpentry_kit.explore.compare import parse_baseline
    from carpentry_kit.explore.report import write_report

    baseline = parse_baseline(args.baseline) if args.baseline else None
    path = write_report(args.results, args.output, markdown=args.md, baseline=baseline)
    print(f"wrote {path}" + (f" and {args.md}" if args.md else ""), file=sys.stderr)
    return EXIT_OK
