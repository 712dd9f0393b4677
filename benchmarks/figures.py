"""Shared output of the benchmark scripts: a figures table and a PASS/FAIL verdict (exit code)."""

from __future__ import annotations

from collections.abc import Sequence


def print_figures(title: str, rows: Sequence[tuple[str, object, str]], unit: str = "value") -> None:
    """Print ``(label, value, target)`` rows under a header; floats get two decimals."""
    width = max(len(title), *(len(label) for label, _, _ in rows)) + 2
    print(f"{title:<{width}} {unit:>10}  target")
    for label, value, target in rows:
        shown = f"{value:10.2f}" if isinstance(value, float) else f"{value!s:>10}"
        print(f"{label:<{width}} {shown}  {target}")


def verdict(ok: bool, failure: str) -> int:
    """Print PASS, or FAIL with what missed its target; the exit code for the script."""
    print("PASS" if ok else f"FAIL: {failure}")
    return 0 if ok else 1
