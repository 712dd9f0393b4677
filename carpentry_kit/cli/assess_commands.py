"""``carpentry assess``: learning gains from the pre/post concept inventory, and the survey summary.

The work is done by ``carpentry_kit.teaching.assess``; this module only connects it to the command line.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    from carpentry_kit.teaching import assess

    assess.add_arguments(parser, name)


def run_command(args: argparse.Namespace) -> int:
    from carpentry_kit.teaching import assess

    return assess.run_command(args)
