"""Divisions, after MLPerf's: which overrides a run may apply (``protocol.division``, ``protocol.tunable``).

MLPerf Training has two divisions. The Closed division requires the same preprocessing, model and training
method as the reference implementation, and by default the same hyperparameters: only the ones its rules
list as tunable may change, within their constraints. The Open division allows arbitrary preprocessing,
model and/or training method, and its results are named as Open results (MLPerf Training rules,
"Divisions" and "Hyperparameters"). Here a spec says which division it is run in and which of its fields are tunable:

    protocol:
      division: closed
      tunable: [task.params.learning_rate, task.params.batch_size]

In ``closed``, an override (``--set``, a sweep's grid, ``--repeats``) of anything but a tunable field — or
a field inside one (``task.params`` makes every parameter tunable) — is refused with a ``DivisionError``.
``--set protocol.division=open`` is always allowed: it moves the run to the open division, where every
override is allowed and recorded. ``open`` is the default, so a spec that says nothing is honest about
being unrestricted. Every record carries its ``division``, its ``overrides`` and, in closed, that all of
them were checked against ``protocol.tunable`` (``overrides_tunable``). The rule itself is the ``Spec``'s
own (``Spec.is_tunable``, ``untunable_overrides``, ``division_problems`` in ``spec/model.py``), so the
record can check it without calling back into this stage.
"""

from __future__ import annotations

from typing import Any

from carpentry_kit.errors import DivisionError, Loc, close_match
from carpentry_kit.spec.model import DIVISION_FIELD, Spec, within_field

DIVISIONS = ("closed", "open")
# fields that may never be tunable: they are what the closed division's rules are made of
UNTUNABLE = (DIVISION_FIELD, "protocol.tunable")


def tunable_problems(spec: Spec) -> list[tuple[Loc, str, str]]:
    """Each ``protocol.tunable`` entry that is not a field of this spec (or may not be tunable): (loc,
    message, hint), the hint a did-you-mean where a field's name is close."""
    data = _fields(spec)
    problems = []
    for index, path in enumerate(spec.protocol.tunable):
        loc: Loc = ("protocol", "tunable", index)
        if any(within_field(path, field) or within_field(field, path) for field in UNTUNABLE):
            problems.append((loc, f"'{path}' cannot be tunable", "the division's own rules are fixed"))
            continue
        missing = _missing_part(data, path)
        if missing is not None:
            problems.append((loc, *missing))
    return problems


def _fields(spec: Spec) -> dict[str, Any]:
    """The spec's fields with every default filled in, and the workload's parameters under task.params."""
    from carpentry_kit.workloads import list_workloads

    data = spec.model_dump(mode="json")
    info = list_workloads().get(spec.task.workload) if spec.task is not None else None
    if info is not None and isinstance(data.get("task"), dict):
        data["task"]["params"] = {**info.defaults, **data["task"]["params"]}
    return data


def _missing_part(data: Any, path: str) -> tuple[str, str] | None:
    """Why ``path`` does not name a value in ``data`` (message, hint), or None when it does."""
    node, walked = data, []
    for part in path.split("."):
        where = ".".join(walked) or "the spec"
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return f"'{path}' is not a field: {where} has no item '{part}'", (
                    f"use an index below {len(node)}"
                )
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                guess = close_match(part, [str(key) for key in node])
                hint = (
                    f"did you mean '{'.'.join([*walked, guess])}'?"
                    if guess
                    else f"{where} has: {', '.join(map(str, node)) or '(nothing)'}"
                )
                return f"'{path}' is not a field of this spec", hint
            node = node[part]
        else:
            return f"'{path}' is not a field: {where} holds a single value", f"list {where} itself"
        walked.append(part)
    return None


def check_division(spec: Spec, overrides: dict[str, Any]) -> None:
    """Raise ``DivisionError`` (one line per refused override) when the closed division refuses one."""
    problems = spec.division_problems(overrides)
    if problems:
        raise DivisionError(problems)
