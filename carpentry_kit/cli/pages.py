"""The book's generated pages: the instructor guide's timetables, the spec reference and the CLI reference.

    python -m carpentry_kit.cli.pages            # rewrite the generated pages that are out of date
    python -m carpentry_kit.cli.pages --check    # exit 1 if a generated page is out of date

It lives in ``cli/`` because the CLI reference is built from every command's argument parser.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from carpentry_kit.teaching.curriculum import (
    CLI_REFERENCE_FILE,
    REGENERATE,
    SPEC_REFERENCE_FILE,
    assessment_pages,
    generated_note,
    guide_and_grading_pages,
    spec_reference_markdown,
)


def cli_reference_markdown() -> str:
    """The CLI reference: the ``--help`` text of every ``carpentry`` command."""
    from carpentry_kit.cli.main import COMMANDS

    lines = ["# Command-line reference\n", generated_note("`carpentry COMMAND --help`")]
    lines.append("Exit codes: 0 ok (a run: VALID), 1 a run is INVALID or a check failed, 2 bad input.\n")
    for name in COMMANDS:
        lines += [f"## `carpentry {name}`\n", "```text", _command_help(name).rstrip(), "```\n"]
    return "\n".join(lines)


def _command_help(name: str) -> str:
    from carpentry_kit.cli.main import COMMANDS

    module_name, help_text = COMMANDS[name]
    parser = argparse.ArgumentParser(
        prog=f"carpentry {name}",
        description=help_text,
        formatter_class=lambda prog: argparse.HelpFormatter(prog, width=100),
    )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        return f"(not available in this version: {error})"
    module.add_arguments(parser, name)
    return parser.format_help()


def generated_pages(root: str | Path = ".") -> dict[Path, str]:
    """Every generated page (path -> full text it should have)."""
    root = Path(root)
    return {
        **guide_and_grading_pages(root),
        root / SPEC_REFERENCE_FILE: spec_reference_markdown(),
        root / CLI_REFERENCE_FILE: cli_reference_markdown(),
        **assessment_pages(root),
    }


def stale_pages(root: str | Path = ".") -> list[Path]:
    """Generated pages whose text on disk differs from what the generator makes now."""
    return [
        path
        for path, text in generated_pages(root).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def write_pages(root: str | Path = ".") -> list[Path]:
    """Rewrite the generated pages that are out of date; returns the ones written."""
    written = []
    for path, text in generated_pages(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m carpentry_kit.cli.pages", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="only report stale pages (exit 1 if any)")
    parser.add_argument("--root", default=".", help="repository root (default: the current directory)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_pages(args.root)
            print(
                "\n".join(f"{path}: out of date — run `{REGENERATE}`" for path in stale)
                or "generated pages are up to date"
            )
            return 1 if stale else 0
        for path in write_pages(args.root):
            print(f"wrote {path}")
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
