"""Options several commands share, each built by one function: the same flags, choices and messages everywhere."""

from __future__ import annotations

import argparse

from carpentry_kit.energy.select import METHODS

ENERGY_CHOICES = ("auto", *METHODS)


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return value


def add_set_option(parser: argparse.ArgumentParser, what: str = "override a field") -> None:
    """``--set PATH=VALUE`` (repeatable); values land in ``args.overrides``."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help=f"{what} (repeatable); VALUE is YAML, e.g. --set task.params.size=512",
    )


def add_energy_option(parser: argparse.ArgumentParser) -> None:
    """``--energy METHOD``: the energy meter, one of ``ENERGY_CHOICES``."""
    parser.add_argument(
        "--energy", choices=ENERGY_CHOICES, default="auto", help="energy method (default: auto)"
    )


def add_device_option(parser: argparse.ArgumentParser) -> None:
    """``--device cpu|cuda|cuda:N`` (checked against this machine when the command runs)."""
    parser.add_argument(
        "--device", metavar="DEVICE", help="cpu, cuda or cuda:N (default: from the spec and machine)"
    )


def add_repeats_option(parser: argparse.ArgumentParser, what: str = "timed repeats") -> None:
    """``--repeats N`` (at least 1): overrides ``protocol.repeats``."""
    parser.add_argument(
        "--repeats", type=positive_int, metavar="N", help=f"{what} (overrides protocol.repeats)"
    )


def add_out_option(parser: argparse.ArgumentParser) -> None:
    """``--out DIR``: the results directory."""
    parser.add_argument("--out", metavar="DIR", help="results directory (default: the spec's results.dir)")
