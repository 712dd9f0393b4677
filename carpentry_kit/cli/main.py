"""The ``carpentry`` command line: one sub-command per stage of the data path.

Each sub-command lives in its own module, imported only when that command runs, so ``carpentry --help``
stays fast. A command module defines ``add_arguments(parser, name)`` and ``run_command(args) -> int``.
Exit codes: 0 ok (a run: VALID), 1 a run is INVALID, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help). Order is the order `carpentry --help` shows.
COMMANDS: dict[str, tuple[str, str]] = {
    "new": ("carpentry_kit.cli.spec_commands", "write a commented starter spec"),
    "validate": ("carpentry_kit.cli.spec_commands", "check one or more specs and report every problem"),
    "rate": ("carpentry_kit.cli.spec_commands", "score a spec against the six-category rubric, with advice"),
    "schema": ("carpentry_kit.cli.spec_commands", "print the JSON Schema of the spec format (for editors)"),
    "export": ("carpentry_kit.cli.spec_commands", "export a spec as an MLCommons Science collection entry"),
    "import": ("carpentry_kit.cli.spec_commands", "turn an MLCommons Science collection entry into a spec skeleton"),
    "workloads": ("carpentry_kit.cli.run_commands", "list the registered workloads and their parameters"),
    "run": ("carpentry_kit.cli.run_commands", "run a spec: timing, energy, validity, results with provenance"),
    "sweep": ("carpentry_kit.cli.explore_commands", "run a spec over a grid of overrides (locally or on Dask)"),
    "compare": ("carpentry_kit.cli.explore_commands", "compare stored results against a baseline, with CIs"),
    "report": ("carpentry_kit.cli.explore_commands", "write a self-contained HTML report of a results directory"),
    "doctor": ("carpentry_kit.teaching.doctor", "check this machine is ready for the workshop"),
    "grade": ("carpentry_kit.teaching.grading", "autograde nbgrader submissions, each one isolated"),
    "assess": ("carpentry_kit.cli.assess_commands", "learning gains from pre/post assessment and survey"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carpentry",
        description="AI Benchmark Carpentry: write, run, rate and publish benchmark specifications.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = sys.argv[1] if len(sys.argv) > 1 else None
    for name, (_module, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == wanted:  # import only the module of the command being run
            _command_module(name).add_arguments(sub, name)
    return parser


def add_set_option(parser: argparse.ArgumentParser, what: str = "override a field") -> None:
    """The ``--set PATH=VALUE`` option every spec-reading command shares; values land in ``args.overrides``."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help=f"{what} (repeatable); VALUE is YAML, e.g. --set task.params.size=512",
    )


def _command_module(name: str):
    return importlib.import_module(COMMANDS[name][0])


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("carpentry-kit")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    if argv is not None:
        sys.argv = ["carpentry", *argv]
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:])
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(_command_module(args.command).run_command(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped early, e.g. `carpentry rate X | head`
        _silence_stdout()
        return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's final flush of a closed pipe prints no traceback."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    raise SystemExit(main())
