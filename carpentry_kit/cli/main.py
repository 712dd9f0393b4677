"""The ``carpentry`` command line: one sub-command per stage of the data path.

Each sub-command lives in its own module, imported only when that command runs, so ``carpentry --help``
stays fast. A command module defines ``add_arguments(parser, name)`` and ``run_command(args) -> int``.
Exit codes: 0 ok (a run: VALID), 1 a run is INVALID, 2 bad input (or out of memory: one line, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Callable

# name -> (module, one-line help). Order is the order `carpentry --help` shows.
COMMANDS: dict[str, tuple[str, str]] = {
    "new": ("carpentry_kit.cli.spec_commands", "write a commented starter spec"),
    "validate": ("carpentry_kit.cli.spec_commands", "check one or more specs and report every problem"),
    "rate": ("carpentry_kit.cli.spec_commands", "score a spec against the six-category rubric, with advice"),
    "schema": ("carpentry_kit.cli.spec_commands", "print the JSON Schema of the spec format (for editors)"),
    "export": ("carpentry_kit.cli.spec_commands", "export a spec as an MLCommons Science collection entry"),
    "import": (
        "carpentry_kit.cli.spec_commands",
        "turn an MLCommons Science collection entry into a spec skeleton",
    ),
    "croissant": ("carpentry_kit.cli.spec_commands", "write Croissant metadata for a spec's file dataset"),
    "overlap": (
        "carpentry_kit.cli.data_commands",
        "find training rows repeated (exactly or nearly) in a spec's test and other splits",
    ),
    "workloads": ("carpentry_kit.cli.run_commands", "list the registered workloads and their parameters"),
    "run": (
        "carpentry_kit.cli.run_commands",
        "run a spec: timing, energy, validity, results with provenance",
    ),
    "sweep": (
        "carpentry_kit.cli.explore_commands",
        "run a spec over a grid of overrides (locally or on Dask)",
    ),
    "compare": ("carpentry_kit.cli.explore_commands", "compare stored results against a baseline, with CIs"),
    "report": (
        "carpentry_kit.cli.explore_commands",
        "write a self-contained HTML report of a results directory",
    ),
    "history": (
        "carpentry_kit.cli.explore_commands",
        "a benchmark's results across its spec and dataset versions, significant changes flagged",
    ),
    "calibrate": ("carpentry_kit.cli.predict_commands", "measure this machine, write its hardware profile"),
    "predict": ("carpentry_kit.cli.predict_commands", "predict time and energy on hardware you do not have"),
    "doctor": ("carpentry_kit.cli.teaching_commands", "check this machine is ready for the workshop"),
    "grade": ("carpentry_kit.cli.teaching_commands", "autograde nbgrader submissions, each one isolated"),
    "assess": ("carpentry_kit.cli.assess_commands", "learning gains from pre/post assessment and survey"),
}


def build_parser(wanted: str | None = None) -> argparse.ArgumentParser:
    """The ``carpentry`` parser; only the ``wanted`` command's module is imported to add its arguments."""
    parser = argparse.ArgumentParser(
        prog="carpentry",
        description="AI Benchmark Carpentry: write, run, rate and publish benchmark specifications.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == wanted:  # import only the module of the command being run
            _command_module(name).add_arguments(sub, name)
    return parser


def _command_module(name: str):
    return importlib.import_module(COMMANDS[name][0])


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("carpentry-kit")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """Run ``carpentry ARGV``; returns the exit code. Every command's errors go through one handler:
    bad input (``SpecError``, ``UsageError``) one line each and 2, Ctrl-C 130, a VALID/INVALID run 0/1."""
    if argv is None:  # the command itself (not a call from Python): warnings are for the user, one line each
        warnings.formatwarning = _one_line_warning
    argv = list(sys.argv[1:] if argv is None else argv)
    wanted = next((word for word in argv if not word.startswith("-")), None)
    parser = build_parser(wanted if wanted in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return handle_errors(args.command, lambda: _command_module(args.command).run_command(args))


def handle_errors(command: str, call: Callable[[], int | None]) -> int:
    """The one mapping of errors to exit codes for every command."""
    from carpentry_kit.errors import SpecError, UsageError

    try:
        return int(call() or 0)
    except SpecError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2
    except UsageError as error:
        print(f"carpentry {command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        partial = getattr(interrupt, "result", None)  # RunInterrupted carries the recorded partial run
        if partial is not None:
            print(partial)
            reason = partial.record.get("error") or "interrupted"
            print(f"{reason}: the partial run is recorded with status 'interrupted'", file=sys.stderr)
        else:
            print("interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(
            f"carpentry {command}: out of memory — free some memory or give the command less data "
            "(e.g. a results directory with fewer runs)",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:  # output piped into a reader that stopped early, e.g. `carpentry rate X | head`
        _silence_stdout()
        return 0


def _one_line_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    """A warning as ``warning: MESSAGE`` on one line (no source path, no code line): it is for the user."""
    return f"warning: {message}\n"


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's final flush of a closed pipe prints no traceback."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    raise SystemExit(main())
