"""YAML with positions: every value's and key's file line and column, unsafe input refused as problems."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from carpentry_kit.errors import Loc, Problem, field_path

TEXT_SOURCE = "<text>"


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
MAX_DEPTH = 64  # a spec nests about five levels; deeper input would exhaust Python's recursion
MAX_BYTES = 1 << 20  # a spec is a few kilobytes; data belongs in a dataset file, not in the spec


class _TooManyValues(Exception):
    """Raised by ``NodeReader`` when aliases expand a document past ``MAX_VALUES`` values."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class LineLoader(yaml.SafeLoader):
    """The safe loader; nodes are composed here and turned into data by ``NodeReader``.

    Composing deeper than ``MAX_DEPTH`` is a ``ComposerError`` (a ``YAMLError``), not a ``RecursionError``.
    """

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", mark
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class NodeReader:
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
class Document:
    """What reading a YAML file gives: its data (None when unreadable), positions and early problems."""

    file: str
    data: Any
    reader: NodeReader | None
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


def _read_yaml(text: str, file: str) -> Document:
    if not text.strip() or all(line.lstrip().startswith("#") for line in text.splitlines() if line.strip()):
        problem = Problem(file, 1, 1, "", "the file is empty", "start from `carpentry new -o FILE`")
        return Document(file, None, None, [problem])
    too_big = _shape_problem(text, file)
    if too_big is not None:  # refused before composing: that is where size costs time and memory
        return Document(file, None, None, [too_big])
    loader = LineLoader(text)
    try:
        node = loader.get_single_node()
        reader = NodeReader(loader, file)
        data = reader.read(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        return Document(file, None, None, [_syntax_problem(error, file)])
    except _TooManyValues as error:
        return Document(file, None, None, [error.problem])
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
        return Document(file, None, reader, [*reader.problems, problem])
    return Document(file, data, reader, list(reader.problems))


def _shape_problem(text: str, file: str) -> Problem | None:
    """A problem when the text is too big, nests too deep or holds too many values to be a spec.

    Scans the parser's events (libyaml's when installed; no node tree is built) and stops at the first
    limit, so a huge or hostile document is refused fast, in little memory. A syntax error is left to the
    full read, which reports it with its position.
    """
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        return _size_problem(file, size)
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = values = 0
    try:
        for event in yaml.parse(text, Loader=loader_class):
            if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent, yaml.AliasEvent)):
                values += 1
            depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
            if depth > MAX_DEPTH or values > MAX_VALUES:
                return _limit_problem(file, event, depth > MAX_DEPTH)
    except yaml.YAMLError:
        return None
    return None


def _size_problem(file: str, size: int) -> Problem:
    message = f"the file is {size / 2**20:,.1f} MiB, more than the {MAX_BYTES / 2**20:g} MiB a spec may be"
    return Problem(file, None, None, "", message, "keep data in a dataset file and name it under `datasets:`")


def _limit_problem(file: str, event: yaml.Event, too_deep: bool) -> Problem:
    mark = event.start_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
    if too_deep:
        message = f"the document nests more than {MAX_DEPTH} levels deep"
        hint = "a spec nests a few levels: check the indentation and that every [ and { is closed"
    else:
        message = f"the document holds more than {MAX_VALUES:,} values"
        hint = "keep data in a dataset file and name it under `datasets:`"
    return Problem(file, line, column, "", message, hint)


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


def read_source(path_or_text: str | Path) -> Document:
    """Read a file (a Path, or a str without newlines) or YAML text (a str with newlines)."""
    if isinstance(path_or_text, str) and "\n" in path_or_text:
        return _read_yaml(path_or_text, TEXT_SOURCE)
    path = Path(path_or_text)
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:  # refused unread
            return Document(file, None, None, [_size_problem(file, size)])
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = "check the path, or write a starter spec with `carpentry new -o FILE`"
        return Document(file, None, None, [Problem(file, None, None, "", "file not found", hint)])
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        problem = Problem(file, None, None, "", f"cannot read the file: {reason}", "give a YAML text file")
        return Document(file, None, None, [problem])
    return _read_yaml(text, file)
