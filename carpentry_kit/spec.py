"""Load and check benchmark specs: YAML with line numbers, plain-English problems, overrides, hashing.

Every problem in a spec is reported at once, one line each::

    digits.yaml:7:3: benchmark.nmae: unknown field 'nmae' — did you mean 'name'?

``load_spec`` returns a validated ``Spec`` or raises ``SpecError`` carrying the ``Problem`` list;
``check_spec`` returns the list. Nothing here imports torch: the workload registry is asked for names and
parameter defaults only.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml

from carpentry_kit.spec_model import SPEC_VERSION, Spec

EXAMPLES_DIR = Path(__file__).parent / "examples"
SCHEMA_ID = "https://github.com/carpentry-kit/carpentry-kit/raw/main/carpentry-spec.schema.json"
TEXT_SOURCE = "<text>"

Loc = tuple[str | int, ...]


# --------------------------------------------------------------------------------------------- problems
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


# ------------------------------------------------------------------------------- YAML with line numbers
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
}


@dataclass(frozen=True)
class Mark:
    """A 1-based position in a file (line and column are None when there is no file position)."""

    file: str
    line: int | None = None
    column: int | None = None


MAX_VALUES = 20_000  # far above any real spec; stops "billion laughs" alias bombs


class _TooManyValues(Exception):
    """Raised by ``_NodeReader`` when aliases expand a document past ``MAX_VALUES`` values."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _LineLoader(yaml.SafeLoader):
    """The safe loader; nodes are composed here and turned into data by ``_NodeReader``."""


class _NodeReader:
    """Turns a composed YAML node tree into plain data, recording each value's and key's position.

    Duplicate keys, non-scalar keys and unsafe tags become problems instead of exceptions.
    """

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.values: dict[Loc, Mark] = {}
        self.keys: dict[Loc, Mark] = {}
        self.problems: list[Problem] = []
        self.rejected: set[Loc] = set()  # paths already reported: pydantic errors there are not repeated
        self.count = 0

    def mark(self, node: yaml.Node) -> Mark:
        return Mark(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def problem(self, node: yaml.Node, loc: Loc, message: str, hint: str) -> None:
        mark = self.mark(node)
        self.problems.append(Problem(self.file, mark.line, mark.column, field_path(loc), message, hint))
        self.rejected.add(loc)

    def read(self, node: yaml.Node, loc: Loc = ()) -> Any:
        self.values[loc] = mark = self.mark(node)
        self.count += 1
        if self.count > MAX_VALUES:
            message = f"the document expands to more than {MAX_VALUES:,} values (nested YAML aliases)"
            hint = "write the values out; a spec needs no `*alias` inside another"
            raise _TooManyValues(Problem(self.file, mark.line, mark.column, field_path(loc), message, hint))
        if node.tag not in _PLAIN_TAGS:
            self.problem(
                node,
                loc,
                f"unsafe or unknown YAML tag '{node.tag.replace('tag:yaml.org,2002:', '!!')}'",
                "remove the tag: a spec holds plain data (text, numbers, lists, mappings)",
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self.read_mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.read(item, (*loc, index)) for index, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node)
        except (ValueError, yaml.YAMLError):
            self.problem(
                node,
                loc,
                f"'{node.value}' cannot be read as {node.tag.rsplit(':', 1)[-1]}",
                "fix the value or drop the tag",
            )
            return None

    def read_mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        self.loader.flatten_mapping(node)
        data: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, loc, "a key must be a plain name", "write `name: value`")
                continue
            key = str(key_node.value)
            if key in data:
                first = self.keys[(*loc, key)]
                self.problem(
                    key_node,
                    (*loc, key),
                    f"duplicate key '{key}' (first at line {first.line})",
                    "keep only one of them",
                )
                continue
            self.keys[(*loc, key)] = self.mark(key_node)
            data[key] = self.read(value_node, (*loc, key))
        return data


@dataclass
class _Document:
    """What reading a YAML file gives: its data (None when unreadable), positions and early problems."""

    file: str
    data: Any
    reader: _NodeReader | None
    problems: list[Problem]

    def mark_for(self, loc: Loc, key: bool = False) -> Mark:
        """The position of ``loc``; falls back to the nearest enclosing value."""
        if self.reader is None:
            return Mark(self.file)
        if key and loc in self.reader.keys:
            return self.reader.keys[loc]
        for end in range(len(loc), -1, -1):
            prefix = loc[:end]
            if prefix in self.reader.values:
                return self.reader.values[prefix]
        return Mark(self.file, 1, 1)

    def parent_mark(self, loc: Loc) -> Mark:
        """Where a missing field belongs: the key line of its parent mapping (or the item's start)."""
        parent = loc[:-1]
        if parent and isinstance(parent[-1], str) and self.reader and parent in self.reader.keys:
            return self.reader.keys[parent]
        return self.mark_for(parent)

    def is_rejected(self, loc: Loc) -> bool:
        rejected = self.reader.rejected if self.reader else set()
        return any(loc[:end] in rejected for end in range(len(loc) + 1))


def _read_yaml(text: str, file: str) -> _Document:
    if not text.strip() or all(line.lstrip().startswith("#") for line in text.splitlines() if line.strip()):
        problem = Problem(file, 1, 1, "", "the file is empty", "start from `carpentry new -o FILE`")
        return _Document(file, None, None, [problem])
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        reader = _NodeReader(loader, file)
        data = reader.read(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        return _Document(file, None, None, [_syntax_problem(error, file)])
    except _TooManyValues as error:
        return _Document(file, None, None, [error.problem])
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "nothing"
        problem = Problem(
            file,
            1,
            1,
            "",
            f"the top level is a {kind}, not a mapping",
            "write sections as `key: value` lines: spec_version, benchmark, task, metrics, ...",
        )
        return _Document(file, None, reader, [*reader.problems, problem])
    return _Document(file, data, reader, list(reader.problems))


def _syntax_problem(error: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
    what = error.problem or error.context or "invalid YAML"
    if "\\t" in what or "tab" in what:
        hint = "indent with spaces, not tabs"
    elif "expected a single document" in str(error):
        hint = "a spec is one YAML document: remove the extra `---`"
    else:
        hint = "check the indentation, colons and quotes on this line and the one before"
    return Problem(file, line, column, "", f"YAML syntax error: {what}", hint)


def _read_source(path_or_text: str | Path) -> _Document:
    """Read a file (a Path, or a str without newlines) or YAML text (a str with newlines)."""
    if isinstance(path_or_text, str) and "\n" in path_or_text:
        return _read_yaml(path_or_text, TEXT_SOURCE)
    path = Path(path_or_text)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = "check the path, or write a starter spec with `carpentry new -o FILE`"
        return _Document(file, None, None, [Problem(file, None, None, "", "file not found", hint)])
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        problem = Problem(file, None, None, "", f"cannot read the file: {reason}", "give a YAML text file")
        return _Document(file, None, None, [problem])
    return _read_yaml(text, file)


# ------------------------------------------------------------------- pydantic errors in plain English
def _model_at(loc: Loc) -> type | None:
    """The pydantic model class that describes the value at ``loc`` (None for plain values)."""
    model: Any = Spec
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and hasattr(model, "model_fields")):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _unwrap(field.annotation)
    return model if isinstance(model, type) and hasattr(model, "model_fields") else None


def _unwrap(annotation: Any) -> Any:
    """list[X] / dict[str, X] / X | None -> X."""
    while get_origin(annotation) is not None:
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = args[-1] if args else annotation
        if get_origin(annotation) is None:
            break
    return annotation


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _type_name(value: Any) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a whole number",
        float: "a number",
    }
    return names.get(type(value), f"a {type(value).__name__}")


def name_slug(text: str, fallback: str = "my-benchmark") -> str:
    """``text`` made a valid benchmark name (lower case, digits, ``. _ -``); ``fallback`` if nothing is left."""
    return re.sub(r"[^a-z0-9._-]+", "-", str(text).lower()).strip("-._") or fallback


def _translate(error: dict[str, Any]) -> tuple[Loc, str, str]:
    """One pydantic error -> (loc, message, hint) in plain English."""
    loc: Loc = tuple(error["loc"])
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    name = str(loc[-1]) if loc else "spec"
    if kind == "value_error":
        cause = ctx.get("error")
        loc = (*loc, *getattr(cause, "loc", ()))
        message, _, hint = str(cause or error["msg"]).partition(" — ")
        return loc, message, hint
    if kind == "missing":
        parent = field_path(loc[:-1]) or "the top level"
        return loc, "required field is missing", f"add `{name}:` under {parent}"
    if kind == "extra_forbidden":
        fields = list(getattr(_model_at(loc[:-1]), "model_fields", {}))
        return loc, f"unknown field '{name}'", did_you_mean(name, fields)
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'|(\d+)", ctx.get("expected", ""))
        options = [a or b for a, b in choices]
        return loc, f"{_shown(value)} is not allowed", did_you_mean(str(value), options)
    if kind == "string_pattern_mismatch":
        return (
            loc,
            f"{_shown(value)} is not a valid name",
            f"use lower case, digits, . _ - e.g. '{name_slug(value)}'",
        )
    return (loc, *_translate_simple(kind, name, value, ctx, error["msg"]))


_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "greater than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}
_EXPECTED = {
    "string_type": ("text", "write plain text"),
    "int_type": ("a whole number", "write a whole number such as 3"),
    "int_parsing": ("a whole number", "write a whole number such as 3, without quotes or units"),
    "int_from_float": ("a whole number", "drop the fraction, e.g. 3 instead of 3.5"),
    "float_type": ("a number", "write a number such as 0.5, without quotes or units"),
    "float_parsing": ("a number", "write a number such as 0.5, without quotes or units"),
    "bool_type": ("true or false", "write true or false"),
    "bool_parsing": ("true or false", "write true or false"),
    "list_type": ("a list", "write `- item` lines or [a, b]"),
    "dict_type": ("a mapping", "write `key: value` lines indented under this key"),
    "model_type": ("a mapping", "write its fields as `key: value` lines indented under this key"),
    "model_attributes_type": ("a mapping", "write its fields as `key: value` lines indented under this key"),
}


def _translate_simple(kind: str, name: str, value: Any, ctx: dict[str, Any], raw: str) -> tuple[str, str]:
    if kind in _EXPECTED:
        expected, hint = _EXPECTED[kind]
        got = "an empty value" if value is None else f"{_type_name(value)} {_shown(value)}"
        if kind == "string_type" and isinstance(value, (int, float, bool)):
            hint = f'put the value in quotes, e.g. {name}: "{value}"'
        return f"expected {expected}, got {got}", hint
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {ctx[key]}, got {_shown(value)}", f"use a value {words} {ctx[key]}"
    if kind == "string_too_short":
        return "must not be empty", "write a value"
    if kind == "too_short":
        need = ctx.get("min_length", 1)
        return (
            f"needs at least {need} item(s)",
            f"add {'an item' if need == 1 else f'{need} items'} under `{name}:`",
        )
    return raw, "see `carpentry schema` for the allowed values"


# -------------------------------------------------------------------------------------- validation
def _validate(document: _Document) -> tuple[Spec | None, list[Problem]]:
    """Validate the document's data as a Spec; every problem, positioned."""
    from pydantic import ValidationError

    problems = list(document.problems)
    if document.data is None:
        return None, problems
    try:
        spec = Spec.model_validate(document.data)
    except ValidationError as error:
        spec = None
        for item in error.errors(include_url=False):
            loc, message, hint = _translate(item)
            if not document.is_rejected(loc):
                problems.append(_positioned(document, loc, item["type"], message, hint))
    reported = {problem.field for problem in problems}  # a value already wrong is not checked again
    problems.extend(
        _positioned(document, loc, "workload", message, hint)
        for loc, message, hint in workload_problems(document.data)
        if field_path(loc) not in reported
    )
    return (spec if not problems else None), _sorted(problems)


def _positioned(document: _Document, loc: Loc, kind: str, message: str, hint: str) -> Problem:
    if kind == "missing":
        mark = document.parent_mark(loc)
    else:
        mark = document.mark_for(loc, key=kind == "extra_forbidden")
    return Problem(mark.file, mark.line, mark.column, field_path(loc), message, hint)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0, p.field))


def workload_problems(data: dict[str, Any]) -> list[tuple[Loc, str, str]]:
    """The registry's checks: ``task.workload`` is registered, ``task.params`` are its parameters, and
    ``protocol.scenario`` and every metric (name and kind) are ones it supports. Imports no torch."""
    from carpentry_kit.workloads import list_workloads

    task = data.get("task")
    if not isinstance(task, dict) or not isinstance(task.get("workload"), str):
        return []
    infos = list_workloads()
    name = task["workload"]
    if name not in infos:
        hint = did_you_mean(name, sorted(infos)) + " (`carpentry workloads` lists them)"
        return [(("task", "workload"), f"'{name}' is not a registered workload", hint)]
    info = infos[name]
    problems = _param_problems(name, task.get("params"))
    protocol = data.get("protocol") if isinstance(data.get("protocol"), dict) else {}
    scenario = protocol.get("scenario", "offline")
    if isinstance(scenario, str) and scenario not in info.scenarios:
        message = f"workload '{name}' has no {scenario} scenario"
        problems.append((("protocol", "scenario"), message, "use one of: " + ", ".join(info.scenarios)))
    return problems + _metric_problems(name, info, scenario, data.get("metrics"))


def _param_problems(name: str, params: Any) -> list[tuple[Loc, str, str]]:
    from carpentry_kit.workloads import validate_params

    if not isinstance(params, dict):
        return []
    problems = []
    for key, text in validate_params(name, params):
        message, _, hint = text.partition(" — ")
        problems.append((("task", "params", key), message, hint))
    return problems


def _metric_problems(name: str, info: Any, scenario: Any, metrics: Any) -> list[tuple[Loc, str, str]]:
    """Each metric is one the workload produces in this scenario, declared with the right kind."""
    from carpentry_kit.ontology import metric_kind, producible_metrics

    if not isinstance(metrics, list) or scenario not in info.scenarios:
        return []
    known = producible_metrics(scenario, info)
    problems: list[tuple[Loc, str, str]] = []
    for index, metric in enumerate(metrics):
        if not isinstance(metric, dict) or not isinstance(metric.get("name"), str):
            continue
        if metric["name"] not in known:
            problems.append(
                (("metrics", index, "name"), *unproducible_metric(name, metric["name"], scenario, known))
            )
            continue
        kind = metric_kind(metric["name"], info.quality_metrics)
        if metric.get("kind") in ("quality", "performance", "energy") and metric["kind"] != kind:
            article = "an" if kind == "energy" else "a"
            message = f"'{metric['name']}' is {article} {kind} metric, not {metric['kind']}"
            problems.append((("metrics", index, "kind"), message, f"write `kind: {kind}`"))
    return problems


def unproducible_metric(workload: str, metric: str, scenario: str, known: list[str]) -> tuple[str, str]:
    """``(message, hint)`` for a metric a run of ``workload`` in ``scenario`` cannot produce; the hint
    lists the ``known`` ones it can. Shared by validation and the runner's check after setup."""
    message = f"workload '{workload}' cannot produce '{metric}' in the {scenario} scenario"
    close = close_match(metric, known)
    return message, (f"did you mean '{close}'? " if close else "") + "it can produce: " + ", ".join(known)


# ------------------------------------------------------------------------------------------ public API
def check_spec(path_or_text: str | Path, overrides: dict[str, Any] | None = None) -> list[Problem]:
    """Every problem in a spec file (or YAML text), in file order; empty when the spec is valid."""
    return _load(path_or_text, overrides)[1]


def load_spec(path_or_text: str | Path, overrides: dict[str, Any] | None = None) -> Spec:
    """A validated Spec from a file (or YAML text with newlines); raises SpecError listing every problem.

    ``overrides`` maps dotted paths to values (``{"task.params.size": 512}``), applied before validation.
    """
    spec, problems = _load(path_or_text, overrides)
    if problems or spec is None:
        raise SpecError(problems)
    return spec


def problem_at(spec: Spec, loc: Loc, message: str, hint: str, file: str | None = None) -> Problem:
    """A ``Problem`` placed where ``loc`` was written: its file line, or the ``--set`` that gave it.

    Used by later stages (the runner's infrastructure and dataset checks) to report like validation does.
    """
    document = spec._source
    if document is None and file and Path(file).is_file():
        document = _read_source(Path(file))
    if document is None:
        return Problem(file or "<spec>", None, None, field_path(loc), message, hint)
    mark = document.mark_for(loc)
    return Problem(mark.file, mark.line, mark.column, field_path(loc), message, hint)


def _load(path_or_text: str | Path, overrides: dict[str, Any] | None) -> tuple[Spec | None, list[Problem]]:
    document = _read_source(path_or_text)
    if overrides and document.data is not None:
        override_problems = _apply_to_data(document.data, overrides, document)
        if override_problems:
            return None, [*document.problems, *override_problems]
    spec, problems = _validate(document)
    if spec is not None:
        spec._source = document
    return spec, problems


def apply_overrides(spec: Spec, overrides: dict[str, Any]) -> Spec:
    """A new Spec with each dotted path set to its value (``metrics.0.target`` indexes a list).

    The result is validated again; a bad path or value raises SpecError naming the override.
    """
    # Only what was written (exclude_unset): defaults stay defaults, so rating a spec is unchanged.
    data = spec.model_dump(mode="json", exclude_unset=True)
    if spec._source is not None and spec._source.reader is not None:
        reader = copy.copy(spec._source.reader)
        reader.values, reader.keys = dict(reader.values), dict(reader.keys)
        document = _Document(spec._source.file, data, reader, [])
    else:
        document = _Document("<spec>", data, _NodeReader(_LineLoader(""), "<spec>"), [])
    problems = _apply_to_data(document.data, overrides, document)
    if problems:
        raise SpecError(problems)
    new_spec, problems = _validate(document)
    if problems or new_spec is None:
        raise SpecError(problems)
    new_spec._source = document
    return new_spec


def _apply_to_data(data: dict[str, Any], overrides: dict[str, Any], document: _Document) -> list[Problem]:
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
            value = yaml.load(text, Loader=_LineLoader) if text.strip() else None
        except yaml.YAMLError:
            raise UsageError(f"--set {item}: the value is not valid YAML — quote text, e.g. 'a b'") from None
        overrides[path.strip()] = value
    return overrides


def canonical_spec(spec: Spec) -> dict[str, Any]:
    """The spec with every default filled in and keys sorted: plain JSON-able data."""
    return json.loads(json.dumps(spec.model_dump(mode="json"), sort_keys=True))


def spec_hash(spec: Spec) -> str:
    """sha256 (hex) of the canonical JSON: equal for specs that mean the same, whatever their layout."""
    text = json.dumps(canonical_spec(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec format, with the ontology terms as enums (for editor completion)."""
    from carpentry_kit.ontology import VOCABULARIES

    schema = Spec.model_json_schema()
    benchmark = schema["$defs"]["Benchmark"]["properties"]
    for field, terms in VOCABULARIES.items():
        benchmark[field]["enum"] = list(terms)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "$comment": "Generated by `carpentry schema -o carpentry-spec.schema.json`; do not edit by hand.",
        "title": f"carpentry-kit benchmark specification, spec_version {SPEC_VERSION}",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def example_names() -> list[str]:
    """Names of the example specs shipped with carpentry-kit."""
    return sorted(path.stem for path in EXAMPLES_DIR.glob("*.yaml"))


def example_spec_path(name: str) -> Path:
    """The path of a shipped example spec, e.g. ``example_spec_path("matmul")``."""
    path = EXAMPLES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UsageError(f"no example spec '{name}' — {did_you_mean(name, example_names())}")
    return path
