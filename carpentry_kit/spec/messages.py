"""Pydantic's validation errors in plain English, each placed at the line that caused it."""

from __future__ import annotations

import re
from typing import Any, get_args, get_origin

from carpentry_kit.errors import Loc, Problem, did_you_mean, field_path
from carpentry_kit.spec.division import tunable_problems
from carpentry_kit.spec.model import Spec
from carpentry_kit.spec.registry_checks import workload_problems
from carpentry_kit.spec.yaml_source import Document


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
    if kind == "finite_number":
        return f"must be a finite number, got {_shown(value)}", "write an ordinary number (no .nan or .inf)"
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
def validate_document(document: Document, model: type[Spec] = Spec) -> tuple[Spec | None, list[Problem]]:
    """Validate the document's data as a Spec (or ``model``, e.g. a Draft); every problem, positioned."""
    from pydantic import ValidationError

    from carpentry_kit.spec.croissant import croissant_problems

    problems = list(document.problems)
    if document.data is None:
        return None, problems
    try:
        spec = model.model_validate(document.data)
    except ValidationError as error:
        spec = None
        for item in error.errors(include_url=False):
            loc, message, hint = _translate(item)
            if not document.is_rejected(loc):
                problems.append(_positioned(document, loc, item["type"], message, hint))
    reported = {problem.field for problem in problems}  # a value already wrong is not checked again
    problems.extend(
        _positioned(document, loc, "workload", message, hint)
        for loc, message, hint in workload_problems(document.data) + croissant_problems(document)
        if field_path(loc) not in reported
    )
    if spec is not None and not problems:  # tunable paths are looked up in the validated spec's fields
        problems.extend(
            _positioned(document, loc, "tunable", message, hint)
            for loc, message, hint in tunable_problems(spec)
        )
    return (spec if not problems else None), _sorted(problems)


def _positioned(document: Document, loc: Loc, kind: str, message: str, hint: str) -> Problem:
    if kind == "missing":
        mark = document.parent_mark(loc)
    else:
        mark = document.mark_for(loc, key=kind == "extra_forbidden")
    return Problem(mark.file, mark.line, mark.column, field_path(loc), message, hint)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0, p.field))
