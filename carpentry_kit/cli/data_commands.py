"""``carpentry overlap``: exact and near duplicates between a spec's training split and its other splits.

Each dataset is loaded and split as a run loads it (the spec's seed), then ``carpentry_kit.data.overlap``
compares every non-training split with ``train``. Exit code: 0 no overlap, 1 overlap found, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from carpentry_kit.cli.options import add_set_option, positive_int

if TYPE_CHECKING:
    from carpentry_kit.data.overlap import OverlapReport

EXIT_CLEAN, EXIT_OVERLAP = 0, 1

EPILOG = """\
Exact duplicates: a row whose X and y bytes equal a training row's. Near duplicates: for integer token
sequences, a word 5-gram Jaccard similarity of at least 0.8 with a training row (the highest similarity is
shown, so a near miss is visible); for numeric rows, the same cell of a grid 0.01 standard deviations wide
per feature (defaults; change them with --ngram, --threshold and --tolerance). Examples are (row, training
row) pairs of dataset row indices.

examples:
  carpentry overlap carpentry_kit/examples/*.yaml
  carpentry overlap my-bench.yaml --ngram 13 --threshold 0.5 --json
"""


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files whose datasets to check")
    add_set_option(parser)
    parser.add_argument("--ngram", type=positive_int, default=5, metavar="N", help="shingle length (tokens)")
    parser.add_argument(
        "--threshold", type=_fraction, default=0.8, metavar="J", help="near-duplicate Jaccard similarity"
    )
    parser.add_argument(
        "--tolerance",
        type=_positive_float,
        default=0.01,
        metavar="T",
        help="grid cell, in standard deviations",
    )
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value}: must be above 0")
    return value


def _fraction(text: str) -> float:
    value = _positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{value}: must be between 0 and 1")
    return value


def run_command(args: argparse.Namespace) -> int:
    reports = [(path, report) for path in args.specs for report in _spec_reports(path, args)]
    checked = {path for path, _ in reports}
    for path in args.specs:
        if path not in checked:
            print(f"{path}: no datasets, nothing to compare", file=sys.stderr)
    if args.json:
        print(json.dumps([{"spec": path, **report.to_dict()} for path, report in reports], indent=2))
    else:
        for path, report in reports:
            print(format_report(path, report))
    return EXIT_CLEAN if all(report.clean for _, report in reports) else EXIT_OVERLAP


def _spec_reports(path: str, args: argparse.Namespace) -> list[OverlapReport]:
    from carpentry_kit.data.overlap import find_overlap
    from carpentry_kit.measure.preflight import load_datasets
    from carpentry_kit.spec.load import load_spec, parse_overrides

    spec = load_spec(path, parse_overrides(args.overrides))
    datasets = load_datasets(spec, path).values()
    return [find_overlap(loaded, args.ngram, args.threshold, args.tolerance) for loaded in datasets]


def format_report(path: str, report: OverlapReport) -> str:
    """A short table: one line per split, then the verdict."""
    params = ", ".join(f"{key} {value}" for key, value in report.params.items())
    lines = [f"{path}: dataset {report.dataset} ({report.method}: {params})"]
    lines.append(
        f"  {'split':<12} {'rows':>6} {'exact':>6} {'near':>6} {'overlap':>8}  examples (row, train row)"
    )
    for split in report.splits:
        examples = " ".join(f"({row}, {train})" for row, train in split.examples) or "-"
        if split.max_similarity is not None:
            examples += f"   highest similarity {split.max_similarity:.2f}"
        lines.append(
            f"  {split.split:<12} {split.rows:>6} {split.exact:>6} {split.near:>6} {split.fraction:>8.1%}  {examples}"
        )
    lines.append(
        "  OK: no overlap" if report.clean else "  OVERLAP: rows of other splits repeat training rows"
    )
    return "\n".join(lines)
