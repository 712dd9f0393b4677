"""Load and check benchmark specs: YAML with line numbers, plain-English problems, overrides, hashing.

Every problem in a spec is reported at once, one line each::

    digits.yaml:7:3: benchmark.nmae: unknown field 'nmae' — did you mean 'name'?

``load_spec`` returns a validated ``Spec`` or raises ``SpecError`` carrying the ``Problem`` list;
``check_spec`` returns the list. Nothing here imports torch: the workload registry is asked for names and
parameter defaults only.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from carpentry_kit.errors import Loc, Problem, SpecError, UsageError, did_you_mean, field_path
from carpentry_kit.spec.division import check_division
from carpentry_kit.spec.messages import validate_document
from carpentry_kit.spec.model import Spec
from carpentry_kit.spec.yaml_source import Document, LineLoader, Mark, NodeReader, read_source

EXAMPLES_DIR = Path(__file__).parent.parent / "examples"


def check_spec(path_or_text: str | Path, overrides: dict[str, Any] | None = None) -> list[Problem]:
    """Every problem in a spec file (or YAML text), in file order, then the overrides a closed division
    refuses; empty when the spec is valid."""
    spec, problems = _load(path_or_text, overrides)
    return problems + (spec.division_problems(overrides) if spec is not None and overrides else [])


def load_spec(path_or_text: str | Path, overrides: dict[str, Any] | None = None) -> Spec:
    """A validated Spec from a file (or YAML text with newlines); raises SpecError listing every problem.

    ``overrides`` maps dotted paths to values (``{"task.params.size": 512}``), applied before validation;
    one a closed division does not allow raises ``DivisionError`` (``spec/division.py``).
    """
    spec, problems = _load(path_or_text, overrides)
    if problems or spec is None:
        raise SpecError(problems)
    check_division(spec, overrides or {})
    return spec


def _load(path_or_text: str | Path, overrides: dict[str, Any] | None) -> tuple[Spec | None, list[Problem]]:
    document = read_source(path_or_text)
    if overrides and document.data is not None:
        override_problems = _apply_to_data(document.data, overrides, document)
        if override_problems:
            return None, [*document.problems, *override_problems]
    spec, problems = validate_document(document)
    if spec is not None:
        _attach(spec, document)
    return spec, problems


def apply_overrides(spec: Spec, overrides: dict[str, Any]) -> Spec:
    """A new Spec with each dotted path set to its value (``metrics.0.target`` indexes a list).

    The result is validated again; a bad path or value raises SpecError naming the override, and an
    override a closed division does not allow raises ``DivisionError`` (``spec/division.py``).
    """
    # Only what was written (exclude_unset): defaults stay defaults, so rating a spec is unchanged.
    data = spec.model_dump(mode="json", exclude_unset=True)
    if spec._source is not None and spec._source.reader is not None:
        reader = copy.copy(spec._source.reader)
        reader.values, reader.keys = dict(reader.values), dict(reader.keys)
        document = Document(spec._source.file, data, reader, [])
    else:
        document = Document("<spec>", data, NodeReader(LineLoader(""), "<spec>"), [])
    problems = _apply_to_data(document.data, overrides, document)
    if problems:
        raise SpecError(problems)
    new_spec, problems = validate_document(document)
    if problems or new_spec is None:
        raise SpecError(problems)
    _attach(new_spec, document)
    check_division(new_spec, overrides)
    return new_spec


def _apply_to_data(data: dict[str, Any], overrides: dict[str, Any], document: Document) -> list[Problem]:
    problems = []
    for path, value in overrides.items():
        source = f"--set {path}={json.dumps(value)}"
        try:
            loc = _set_path(data, path, value)
        except UsageError as error:
            problems.append(Problem(source, None, None, path, *str(error).split(" — ", 1)))
            continue
        if document.reader is not None:
            for key in [key for key in document.reader.values if key[: len(loc)] == loc]:
                del document.reader.values[key]
            document.reader.values[loc] = Mark(source)
            document.reader.keys[loc] = Mark(source)
    return problems


def _set_path(data: dict[str, Any], path: str, value: Any) -> Loc:
    """Set ``value`` at dotted ``path`` in nested dicts/lists, creating missing mappings."""
    parts = path.split(".")
    if not path or any(not part for part in parts):
        raise UsageError(f"'{path}' is not a field path — write it like task.params.size")
    node: Any = data
    loc: list[str | int] = []
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise UsageError(
                    f"no item '{part}' in {field_path(tuple(loc))} — use an index below {len(node)}"
                )
            key: str | int = int(part)
        elif isinstance(node, dict):
            key = part
            if not last and node.get(key) is None:
                node[key] = {}
        else:
            raise UsageError(
                f"{field_path(tuple(loc))} holds a single value — set it directly, not a sub-field"
            )
        loc.append(key)
        if last:
            node[key] = value
        else:
            node = node[key]
    return tuple(loc)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["task.params.size=512", "protocol.seeds=[1,2]"]`` -> ``{path: value}``; values are YAML."""
    overrides: dict[str, Any] = {}
    for item in items:
        path, equals, text = item.partition("=")
        if not equals or not path.strip():
            raise UsageError(f"--set {item}: expected PATH=VALUE — e.g. --set task.params.size=512")
        try:
            value = yaml.load(text, Loader=LineLoader) if text.strip() else None
        except yaml.YAMLError:
            raise UsageError(f"--set {item}: the value is not valid YAML — quote text, e.g. 'a b'") from None
        overrides[path.strip()] = value
    return overrides


def example_names() -> list[str]:
    """Names of the example specs shipped with carpentry-kit."""
    return sorted(path.stem for path in EXAMPLES_DIR.glob("*.yaml"))


def example_spec_path(name: str) -> Path:
    """The path of a shipped example spec, e.g. ``example_spec_path("matmul")``."""
    path = EXAMPLES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UsageError(f"no example spec '{name}' — {did_you_mean(name, example_names())}")
    return path


def _attach(spec: Spec, document: Document) -> None:
    """Give ``spec`` its document (for overrides) and a plain table of where each value was written."""
    spec._source, spec._file = document, document.file
    if document.reader is not None:
        spec._positions = {
            loc: (mark.file, mark.line, mark.column) for loc, mark in document.reader.values.items()
        }
