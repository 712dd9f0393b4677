"""``carpentry calibrate`` and ``carpentry predict``.

``carpentry calibrate -o profile.yaml`` measures this machine (matmul ladder, streaming bandwidth, overhead
floor, power where a meter exists) and writes a hardware profile. ``carpentry predict SPEC --hardware
NAME|FILE|this`` predicts the spec's metrics with the roofline model, prints them as ranges with the bound
that applies and why, and stores the prediction as a record with ``status: predicted``. With ``--hardware
this`` and a measured run of the same spec in the results directory, it also prints the error per metric.
"""

from __future__ import annotations

import argparse
import sys

from carpentry_kit.cli.options import add_out_option, add_set_option


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "calibrate":
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="write the profile here (default: print it)"
        )
        parser.add_argument("--quick", action="store_true", help="a shorter ladder and smaller arrays (~3 s)")
        return
    parser.add_argument("spec", metavar="SPEC", help="the spec file (YAML) to predict")
    parser.add_argument(
        "--hardware",
        default="this",
        metavar="NAME|FILE|this",
        help="a catalogue profile (a wrong name lists them), a profile file, or 'this' (calibrate now; default)",
    )
    add_set_option(parser)
    parser.add_argument(
        "--epochs", type=int, help="time-to-quality: epochs to the target (default: measured)"
    )
    add_out_option(parser)
    parser.add_argument("--no-record", action="store_true", help="print the prediction, store nothing")


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command (errors are mapped to exit codes by ``cli.main.handle_errors``)."""
    return _calibrate(args) if args.command == "calibrate" else _predict(args)


def _calibrate(args: argparse.Namespace) -> int:
    import yaml

    from carpentry_kit.predict.calibrate import calibrate, write_profile

    profile = calibrate(quick=args.quick, log=lambda message: print(message, file=sys.stderr))
    if args.output:
        write_profile(profile, args.output)
        print(f"profile written to {args.output} ({profile['calibration']['duration_s']} s)")
    else:
        print(yaml.safe_dump(profile, sort_keys=False, width=110), end="")
    if not profile["calibration"]["power_measured"]:
        print(f"no measured power: {profile['calibration']['power_note']}", file=sys.stderr)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from carpentry_kit.predict.predictor import latest_measurement, predict
    from carpentry_kit.results.store import ResultStore
    from carpentry_kit.spec.load import parse_overrides

    prediction = predict(
        args.spec,
        args.hardware,
        overrides=parse_overrides(args.overrides),
        epochs=args.epochs,
        out=args.out,
        store=not args.no_record,
    )
    print(prediction)
    store = args.out or prediction.record["spec"]["results"]["dir"]
    if not args.no_record:
        print(f"prediction {prediction.record['run_id']} appended to {store}/runs.jsonl (status: predicted)")
    if args.hardware == "this":
        _print_error(prediction, latest_measurement(ResultStore(store), prediction.record["spec_hash"]))
    return 0


def _print_error(prediction, measured) -> None:
    from carpentry_kit.predict.predictor import prediction_error, quantity

    if measured is None:
        print(
            "no measured run of this spec in the results directory: `carpentry run SPEC` gives the error per metric"
        )
        return
    print(f"against measured run {measured['run_id'][:12]} ({measured['started_at']}):")
    for row in prediction_error(prediction.record, measured):
        inside = "inside the range" if row["inside"] else "OUTSIDE the range"
        print(
            f"  {row['metric']:<22} measured {quantity(row['measured'], row['unit'])}, predicted"
            f" {quantity(row['predicted'], row['unit'])}: error {row['error']:+.0%} ({inside})"
        )
