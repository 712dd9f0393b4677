"""The error types every stage shares: a positioned ``Problem``, ``SpecError``, ``UsageError``, did-you-mean.

Bad input anywhere in carpentry-kit becomes one line per problem,
``FILE:LINE:COL: field.path: what is wrong — how to fix it``. This module imports nothing of ours.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, where it is, and how to fix it."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return f"{text} — {self.hint}" if self.hint else text


class SpecError(Exception):
    """A spec (or other input) is wrong; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class DivisionError(SpecError):
    """A closed-division spec refused an override of a field it does not list as tunable (one problem each)."""


class UsageError(ValueError):
    """A bad command-line value or argument (not a spec problem); the message is one line."""


def field_path(loc: Loc) -> str:
    """``("metrics", 1, "name")`` -> ``metrics[1].name``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def close_match(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``word`` (a likely misspelling of it), or None when none is close."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """``"did you mean 'x'?"`` when a choice is close to ``word``, else a list of the choices."""
    close = close_match(word, choices)
    if close:
        return f"did you mean '{close}'?"
    return "allowed: " + ", ".join(choices) if choices else ""
