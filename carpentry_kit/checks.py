"""Feedback helpers for the tests in the graded exercises (nbgrader).

Each ``check_*`` function returns quietly when the learner's answer is right and otherwise raises
``AssertionError`` with one friendly message: what is wrong, and how to fix it. The tests in the
exercises call these helpers so that a failing test reads as advice, not as a traceback puzzle::

    from carpentry_kit.checks import check_close
    check_close("gflops", gflops(512, 0.01), 26.8435456, rel=1e-6)
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_UNIT_MARKS = (("(", ")"), ("[", "]"))
ENERGY_LAYERS = ("device", "node", "system", "application")  # lesson 3's layers, smallest first


def _fail(message: str, hint: str = "") -> None:
    raise AssertionError(f"{message} — {hint}" if hint else message)


def check_defined(
    name: str, namespace: Mapping[str, Any], kind: type | tuple[type, ...] | None = None
) -> Any:
    """The value called ``name`` in ``namespace`` (e.g. ``globals()``), checked to exist (and its type)."""
    if name not in namespace:
        _fail(f"`{name}` is not defined", f"run the cell where you define `{name}` (check the spelling)")
    value = namespace[name]
    if kind is not None:
        check_type(name, value, kind)
    return value


def check_type(name: str, value: Any, kind: type | tuple[type, ...]) -> None:
    """``value`` is an instance of ``kind``."""
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        _fail(f"`{name}` is a bool ({value})", "it should be a number")
    if not isinstance(value, kind):
        wanted = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        _fail(f"`{name}` is a {type(value).__name__} ({value!r:.60})", f"it should be a {wanted}")


def check_number(name: str, value: Any) -> float:
    """``value`` is a finite real number (an int, float or numpy scalar); returns it as a float."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        _fail(f"`{name}` is {value!r:.60}, not a number", "return or assign a number (int or float)")
    if isinstance(value, bool) or not math.isfinite(number):
        _fail(f"`{name}` is {value!r}", "it should be a finite number; check for a division by zero")
    return number


def check_choice(name: str, value: Any, choices: str) -> str:
    """``value`` is one of the letters in ``choices`` (case and spaces ignored); returns it upper-cased."""
    if value is None:
        _fail(f"`{name}` is None (you do not know)", "that is a fine answer: it simply scores no point")
    letter = str(value).strip().upper() if isinstance(value, str) else ""
    if len(letter) != 1 or letter not in choices:
        _fail(
            f"`{name}` is {value!r:.60}",
            f'write one of the letters {", ".join(choices)} in quotes, e.g. "{choices[0]}"',
        )
    return letter


def check_close(
    name: str, value: Any, expected: float, rel: float = 1e-6, abs: float = 0.0, hint: str = ""
) -> None:
    """``value`` equals ``expected`` within a relative (``rel``) or absolute (``abs``) tolerance."""
    number = check_number(name, value)
    if math.isclose(number, expected, rel_tol=rel, abs_tol=abs):
        return
    ratio = f" ({number / expected:.3g}x the expected value)" if expected else ""
    _fail(
        f"`{name}` is {number:.6g} but should be {expected:.6g}{ratio}",
        hint or "check the formula and the units (seconds, not milliseconds; joules, not watts)",
    )


def check_in_range(name: str, value: Any, low: float, high: float, hint: str = "") -> None:
    """``low <= value <= high``."""
    number = check_number(name, value)
    if not low <= number <= high:
        _fail(f"`{name}` is {number:.6g}, outside the plausible range [{low:g}, {high:g}]", hint)


def check_samples(name: str, samples: Any, count: int | None = None, positive: bool = True) -> list[float]:
    """``samples`` is a list of finite numbers (``count`` of them, all > 0 when ``positive``)."""
    if isinstance(samples, (str, bytes)) or not isinstance(samples, Iterable):
        _fail(f"`{name}` is a {type(samples).__name__}", "it should be a list of numbers, one per repeat")
    values = [check_number(f"{name}[{i}]", item) for i, item in enumerate(samples)]
    if count is not None and len(values) != count:
        _fail(f"`{name}` has {len(values)} values but should have {count}", "one value per timed repeat")
    if positive and any(v <= 0 for v in values):
        _fail(
            f"`{name}` holds a value <= 0", "a duration or energy is always positive; check the subtraction"
        )
    return values


def check_raises(name: str, call: Callable[[], Any], error: type[BaseException], hint: str = "") -> None:
    """Calling ``call()`` raises ``error`` (e.g. bad input is rejected, not silently accepted)."""
    try:
        call()
    except error:
        return
    except Exception as other:  # noqa: BLE001 - any other exception is the learner's bug to report
        _fail(f"{name} raised {type(other).__name__}: {other} instead of {error.__name__}", hint)
    _fail(f"{name} did not raise {error.__name__}", hint or f"raise {error.__name__} for this input")


def check_text_mentions(name: str, text: Any, words: Iterable[str]) -> None:
    """``text`` is a string that mentions each of ``words`` (case-insensitive)."""
    check_type(name, text, str)
    missing = [word for word in words if word.lower() not in text.lower()]
    if missing:
        _fail(f"`{name}` does not mention {', '.join(repr(w) for w in missing)}", "add them to your text")


def check_plot_labelled(ax_or_fig: Any) -> None:
    """Every axes of a matplotlib figure (or the one axes given) has a title and both axis labels; a
    quantitative axis label gives its unit in brackets, e.g. ``"latency (ms)"`` or ``"energy [J]"``. A
    categorical axis (named ticks such as "A" and "B", or string categories) needs a label but no unit."""
    axes = ax_or_fig.get_axes() if hasattr(ax_or_fig, "get_axes") else [ax_or_fig]
    if not axes:
        _fail("the figure has no axes", "draw the plot into the figure, e.g. `fig, ax = plt.subplots()`")
    for index, ax in enumerate(axes):
        where = f"plot {index + 1}" if len(axes) > 1 else "the plot"
        if not ax.get_title().strip():
            _fail(f"{where} has no title", "call `ax.set_title('what is compared, on which system')`")
        for axis, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())):
            if not label.strip():
                _fail(
                    f"{where} has no {axis}-axis label", f"call `ax.set_{axis}label(...)` with what it shows"
                )
            if _categorical(getattr(ax, f"{axis}axis")):
                continue
            if not any(o in label and label.rstrip().endswith(c) for o, c in _UNIT_MARKS):
                _fail(
                    f"the {axis}-axis label {label!r} of {where} has no unit",
                    "a reader cannot compare numbers without their unit: end the label with it in brackets",
                )


def _categorical(axis: Any) -> bool:
    """Whether an axis shows categories (string units, or every tick named by text that is not a number)."""
    if type(axis.get_converter() if hasattr(axis, "get_converter") else axis.converter).__name__ == (
        "StrCategoryConverter"
    ):
        return True
    labels = [tick.get_text().strip() for tick in axis.get_ticklabels()]
    labels = [text for text in labels if text]
    return bool(labels) and not any(_numeric(text) for text in labels)


def _numeric(text: str) -> bool:
    try:
        float(text.replace("−", "-"))
    except ValueError:
        return False
    return True


def check_spec_valid(path_or_spec: Any) -> Any:
    """A spec (a YAML path, a dict or a ``Spec``) validates; returns the ``Spec``. Each problem is
    reported as ``FILE:LINE: field: what is wrong — how to fix it``."""
    from carpentry_kit.spec.model import Spec

    if isinstance(path_or_spec, Spec):
        return path_or_spec
    if isinstance(path_or_spec, (str, os.PathLike)):
        return _load_spec_file(Path(path_or_spec))
    if isinstance(path_or_spec, Mapping):
        return _validate_spec_dict(path_or_spec)
    _fail(f"expected a spec path, dict or Spec, got a {type(path_or_spec).__name__}", "pass the spec itself")


def _load_spec_file(path: Path) -> Any:
    from carpentry_kit.errors import SpecError
    from carpentry_kit.spec.load import load_spec

    if not path.is_file():
        _fail(f"the spec file {str(path)!r} does not exist", "write it first (check the file name)")
    try:
        return load_spec(path)
    except SpecError as error:
        _fail("the spec is not valid:\n" + "\n".join(str(problem) for problem in error.problems))


def _validate_spec_dict(spec: Mapping[str, Any]) -> Any:
    from pydantic import ValidationError

    from carpentry_kit.spec.model import Spec

    try:
        return Spec.model_validate(dict(spec))
    except ValidationError as error:
        lines = [f"{'.'.join(str(p) for p in e['loc']) or 'spec'}: {e['msg']}" for e in error.errors()]
        _fail("the spec is not valid:\n" + "\n".join(lines), "fix each field listed above")


def _field(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]`` (results are dataclasses or JSON records)."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def check_result_valid(result: Any) -> None:
    """A run result (``RunResult`` or a stored record) completed and is VALID; if not, says why."""
    result = _record(result)
    status = _field(result, "status")
    if status not in (None, "completed"):
        _fail(f"the run's status is {status!r}: {_field(result, 'error')}", "fix the error and run again")
    validity = _field(result, "validity")
    if validity != "VALID":
        reasons = "; ".join(_field(result, "reasons") or []) or "no reason given"
        _fail(f"the run is {validity}: {reasons}", "change the spec so that the run respects its constraints")


def check_run_overrides(result: Any, expected: Mapping[str, Any]) -> None:
    """A run (``RunResult`` or a stored record) was made with exactly the ``expected`` overrides."""
    record = _record(result)
    used = _field(record, "overrides") or {}
    if dict(used) != dict(expected):
        _fail(
            f"the run used the overrides {dict(used)!r} but should use {dict(expected)!r}",
            f"pass overrides={dict(expected)!r} to `ck.run`",
        )


def check_record_fields(name: str, answer: Any, record: Any, fields: Mapping[str, str]) -> None:
    """``answer`` is a dict holding, for each ``key: "dotted.path"`` of ``fields``, the value found at that
    path in the result ``record`` (e.g. ``{"energy_method": "energy.method"}``)."""
    record = _record(record)
    if not isinstance(answer, Mapping):
        _fail(
            f"`{name}` is a {type(answer).__name__}", f"it should be a dict with the keys {', '.join(fields)}"
        )
    for key, path in fields.items():
        where = "record" + "".join(f"[{part!r}]" for part in path.split("."))
        expected = _lookup(record, path)
        if key not in answer:
            _fail(f"`{name}` has no key {key!r}", f"add it, with the value of {where}")
        value = answer[key]
        if value != expected or isinstance(value, bool) != isinstance(expected, bool):
            _fail(f"`{name}[{key!r}]` is {value!r:.70} but the record says {expected!r:.70}", f"copy {where}")


def _record(result: Any) -> Any:
    """The stored record of a ``RunResult``, or the record itself."""
    if result is None:
        _fail("the result is None", "assign the value returned by `ck.run(spec)`")
    return getattr(result, "record", result)


def _lookup(record: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a record (None where a part is missing)."""
    value = record
    for part in path.split("."):
        value = _field(value, part) if value is not None else None
    return value


def check_energy_honest(reading: Any) -> None:
    """An energy figure names its method and its layer (device, node, system or application), and an
    estimate is never presented as a measurement."""
    method = _field(reading, "method")
    if not method:
        _fail(
            "the energy figure has no method", "say how it was obtained: rapl, nvml, codecarbon or estimate"
        )
    if method == "estimate" and _field(reading, "measured"):
        _fail("an estimate is marked as measured", "set measured=False: an estimate is not a measurement")
    layer = _field(reading, "layer")
    if layer not in ENERGY_LAYERS:
        what = "has no layer" if layer is None else f"has the layer {layer!r}"
        _fail(f"the energy figure {what}", f"say what it covers: one of {', '.join(ENERGY_LAYERS)}")
    total = check_number("total_j", _field(reading, "total_j"))
    if total <= 0:
        _fail(f"the energy total is {total} J", "energy over a non-empty window is positive")


def check_rating_at_least(rating: Any, minimum: float) -> None:
    """A spec's ``Rating`` (from ``ck.rate_spec``) totals at least ``minimum`` (of 30); lists the advice
    of the categories that lost points if not."""
    total = check_number("rating total", _field(rating, "total"))
    if total + 1e-9 < minimum:
        tips = [
            f"  - {category.name}: {tip}"
            for category in _field(rating, "categories") or []
            for tip in category.advice
        ]
        _fail(
            f"the spec rates {total:g}/30, below the required {minimum:g}", "improve it:\n" + "\n".join(tips)
        )


# --- per-case partial credit -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    """One checked case of a graded cell: its share of the points, and the failure message ('' if it passed)."""

    name: str
    weight: float
    required: bool
    message: str


class Cases:
    """Per-case partial credit for one graded test cell: each named case is worth its share of ``points``,
    every failing case is reported at once, and the cell's last line, ``cases.score()``, is the number of
    points earned (nbgrader reads a test cell whose output is one number as its partial score)::

        cases = Cases(2, needs={"median_and_iqr": "task 2"})
        with cases.case("odd count"):
            check_close("median", median_and_iqr([1, 2, 3])[0], 2)
        cases.score()

    A ``required`` case is the point of the task (e.g. timing only the work): when it fails the cell earns
    nothing, whatever else passes. ``needs`` maps the names a case may use to the task that defines them: a
    case that meets one of them undefined (or still raising ``NotImplementedError``) says which task to
    finish first, never a raw ``NameError``. Report lines go to standard output (nbgrader zeroes a cell that
    writes to stderr)."""

    def __init__(self, points: float, needs: Mapping[str, str] | None = None) -> None:
        self.points = float(points)
        self.needs = dict(needs or {})
        self.results: list[CaseResult] = []

    def case(self, name: str, weight: float = 1.0, required: bool = False) -> _Case:
        """A ``with`` block checking one named case; a failure is recorded, not raised."""
        return _Case(self, name, weight, required)

    def earned(self) -> float:
        """Points earned: ``points`` times the passing share of the cases' weights (0 if a required case
        failed)."""
        total = sum(r.weight for r in self.results)
        passed = sum(r.weight for r in self.results if not r.message)
        if not total or any(r.required and r.message for r in self.results):
            return 0.0
        return self.points if passed == total else round(self.points * passed / total, 3)

    def score(self) -> float:
        """Print every case (failures with their advice) and return the points earned."""
        earned = self.earned()
        passed = sum(1 for r in self.results if not r.message)
        print(f"{passed} of {len(self.results)} checks pass: {earned:g} of {self.points:g} points")
        for r in self.results:
            mark = (
                "ok  "
                if not r.message
                else ("FAIL (the point of the task: no points without it)" if r.required else "FAIL")
            )
            print(f"  {mark}  {r.name}" + (f": {r.message}" if r.message else ""))
        return earned

    def explain(self, error: BaseException) -> str:
        """The learner-facing message for an exception raised in a case."""
        if isinstance(error, AssertionError):
            return str(error) or "a check failed"
        if isinstance(error, NameError):
            name = getattr(error, "name", None) or str(error)
            if name in self.needs:
                return f"`{name}` is not defined yet: finish {self.needs[name]} (and run its cell) before this test"
            return f"`{name}` is not defined — check the spelling, and run the cell that defines it"
        if isinstance(error, NotImplementedError):
            name, task = _unfinished(error, self.needs)
            if name:
                return f"`{name}` still raises NotImplementedError: finish {task} before this test"
            return "an answer still raises NotImplementedError: finish it before this test"
        if type(error).__name__ == "SpecError":
            return f"the spec is not valid: {error}"
        return f"{type(error).__name__}: {error}"


class _Case:
    """One ``with cases.case(name):`` block; warnings raised inside it are added to its failure message."""

    def __init__(self, cases: Cases, name: str, weight: float, required: bool) -> None:
        self.cases, self.name, self.weight, self.required = cases, name, weight, required

    def __enter__(self) -> _Case:
        self._warnings = warnings.catch_warnings(record=True)
        self._caught = self._warnings.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, kind: Any, error: BaseException | None, tb: Any) -> bool:
        self._warnings.__exit__(None, None, None)
        if error is not None and not isinstance(error, Exception):
            return False  # KeyboardInterrupt (a cell timeout), SystemExit: not the learner's answer
        message = self.cases.explain(error) if error is not None else ""
        notes = sorted({f"{w.category.__name__}: {w.message}" for w in self._caught})
        if notes and message:
            message += f" (warnings: {'; '.join(notes)})"
        self.cases.results.append(CaseResult(self.name, self.weight, self.required, message))
        return True


def _unfinished(error: BaseException, needs: Mapping[str, str]) -> tuple[str, str]:
    """(name, task) of the innermost needed function in the traceback of ``error`` (empty if none)."""
    tb, found = error.__traceback__, ("", "")
    while tb is not None:
        name = tb.tb_frame.f_code.co_name
        if name in needs:
            found = (name, needs[name])
        tb = tb.tb_next
    return found
