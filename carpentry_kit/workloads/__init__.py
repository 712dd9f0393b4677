"""The workload registry: what ``task.workload`` names, and the ``Workload`` interface a run drives.

A workload is a class with fixed metadata (``name``, ``summary``, ``scenarios``, ``defaults``,
``quality_metrics``) and the methods the harness times (``step``, ``query``) or calls untimed (``setup``,
``evaluate``, ``reset``). The built-ins live in ``matmul.py``, ``mlp.py`` and ``heat.py``; they import torch
only inside their methods, so listing and validating workloads stays light. Other packages add workloads
through the entry-point group ``carpentry_kit.workloads`` (``name = "package.module:WorkloadClass"``).
"""

from __future__ import annotations

import abc
import importlib
import math
import warnings
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar

from carpentry_kit.errors import UsageError, close_match
from carpentry_kit.ontology import SCENARIOS

if TYPE_CHECKING:
    from carpentry_kit.data.datasets import LoadedDataset

ENTRY_POINT_GROUP = "carpentry_kit.workloads"
_BUILTIN_MODULES = ("matmul", "mlp", "heat", "tiny_lm")


class UnknownWorkloadError(KeyError):
    """``task.workload`` names no registered workload; the message suggests the closest and lists all."""

    def __str__(self) -> str:
        return str(self.args[0])


class WorkloadError(UsageError):
    """A workload cannot run with what it was given (parameters, datasets, scenario): one line."""


@dataclass(frozen=True)
class WorkloadInfo:
    """What spec validation and ``carpentry workloads`` need to know, without importing torch."""

    name: str
    summary: str
    scenarios: tuple[str, ...]
    defaults: dict[str, Any]
    quality_metrics: dict[str, str]
    choices: dict[str, tuple[Any, ...]]
    token_metrics: bool = False  # generates tokens: TTFT, TPOT, tokens/s, energy per token


class Workload(abc.ABC):
    """One benchmarkable piece of work. The runner builds it, calls ``setup`` once, then times it."""

    name: ClassVar[str]
    summary: ClassVar[str]
    scenarios: ClassVar[tuple[str, ...]]
    defaults: ClassVar[dict[str, Any]]  # every parameter with its default; unknown params are errors
    quality_metrics: ClassVar[dict[str, str]]  # metric name -> unit, produced by evaluate()
    choices: ClassVar[dict[str, tuple[Any, ...]]] = {}  # parameter -> the values it may take
    minimums: ClassVar[dict[str, float]] = {}  # parameter -> smallest value allowed
    token_metrics: ClassVar[bool] = False  # True for a workload that generates tokens (``generate``)
    inference: ClassVar[bool] = False  # answers queries: LoadGen runs its inference scenarios
    # quality metric -> how its per-sample values aggregate: "mean" (default) or "exp_mean" (perplexity)
    quality_statistics: ClassVar[dict[str, str]] = {}

    def __init__(
        self, params: dict[str, Any], datasets: dict[str, LoadedDataset], device: str = "cpu", seed: int = 0
    ) -> None:
        problems = _check_params(type(self), params)
        if problems:
            key, message = problems[0]
            raise WorkloadError(f"task.params.{key}: {message}")
        self.params: dict[str, Any] = {**self.defaults, **params}
        self.datasets = datasets
        self.device = device
        self.seed = seed

    @classmethod
    def info(cls) -> WorkloadInfo:
        return WorkloadInfo(
            cls.name,
            cls.summary,
            tuple(cls.scenarios),
            dict(cls.defaults),
            dict(cls.quality_metrics),
            dict(cls.choices),
            cls.token_metrics,
        )

    @abc.abstractmethod
    def setup(self) -> None:
        """Untimed: prepare data and model (an inference workload trains here)."""

    @abc.abstractmethod
    def step(self) -> int:
        """One timed unit of work (offline: a batch or a multiply; time-to-quality: an epoch); samples done."""

    def query(self, index: int) -> None:
        """single-stream: process one sample."""
        raise WorkloadError(f"workload '{self.name}' has no single-stream scenario")

    @abc.abstractmethod
    def evaluate(self) -> dict[str, float]:
        """Untimed quality metrics, named as in ``quality_metrics``."""

    def sample_quality(self, split: str) -> dict[str, Any]:
        """Untimed: each quality metric's per-sample values (a numpy array) on ``split`` — ``"test"`` (the
        public split ``evaluate`` scores) or ``"fresh"`` (data no one tuned on). A metric is the aggregate of
        its values (``quality_statistics``). Workloads without per-sample quality raise ``WorkloadError``."""
        raise WorkloadError(f"workload '{self.name}' has no per-sample quality, so no fresh-data gap")

    def quality_statistic(self, metric: str) -> str:
        """How ``metric``'s per-sample values aggregate: ``"mean"`` or ``"exp_mean"``."""
        return self.quality_statistics.get(metric, "mean")

    @abc.abstractmethod
    def reset(self, seed: int) -> None:
        """A fresh model (or fresh inputs) for another repeat under ``seed``."""

    def work_per_sample(self) -> dict[str, float]:
        """Work done per sample: ``{"flop": ..., "bytes": ...}`` — floating-point operations (the runner
        derives GFLOP/s) and bytes moved to and from memory (the roofline model, ``carpentry predict``)."""
        return {}

    def memory_bytes(self) -> int | None:
        """About how many bytes of host memory ``setup`` and a repeat need at their peak; None: unknown.

        Checked before ``setup`` against ``constraints.peak_memory_mib`` and the memory available, so a
        size that cannot fit is refused with one line instead of being killed by the OOM killer.
        """
        return None

    def max_steps(self) -> int | None:
        """time-to-quality gives up after this many steps (e.g. ``max_epochs``); None: no limit."""
        return None

    def sample_counts(self) -> dict[str, int]:
        """Data set sizes for the MLLOG (``train_samples``, ``eval_samples``); empty when it has none."""
        return {}

    def sync(self) -> None:
        """Wait for queued device work, so a timer stops after the work (CUDA is asynchronous)."""
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize(self.device)  # this workload's GPU, not only the current one

    def dataset(self, preferred: str) -> LoadedDataset:
        """The dataset named ``preferred``, or the only one given."""
        if preferred in self.datasets:
            return self.datasets[preferred]
        if len(self.datasets) == 1:
            return next(iter(self.datasets.values()))
        given = ", ".join(self.datasets) or "none"
        raise WorkloadError(
            f"datasets: workload '{self.name}' needs one dataset (ideally '{preferred}'), got: {given}"
            f" — add `- {{name: {preferred}, source: builtin:{preferred}}}` under datasets"
        )


# ---------------------------------------------------------------- registry

_REGISTRY: dict[str, type[Workload]] = {}


def register_workload(cls: type[Workload]) -> type[Workload]:
    """Class decorator: add a ``Workload`` subclass to the registry under ``cls.name``."""
    if not (isinstance(cls, type) and issubclass(cls, Workload)):
        raise TypeError(f"{cls!r} is not a Workload subclass")
    missing = [
        attr
        for attr in ("name", "summary", "scenarios", "defaults", "quality_metrics")
        if not hasattr(cls, attr)
    ]
    if missing:
        raise TypeError(f"workload class {cls.__qualname__} lacks {', '.join(missing)}")
    unknown = [scenario for scenario in cls.scenarios if scenario not in SCENARIOS]
    if unknown:
        raise TypeError(
            f"workload '{cls.name}': unknown scenario '{unknown[0]}' — use {', '.join(SCENARIOS)}"
        )
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise TypeError(
            f"workload name '{cls.name}' is taken by {existing.__module__}.{existing.__qualname__}"
        )
    _REGISTRY[cls.name] = cls
    return cls


def _builtin_workloads() -> dict[str, type[Workload]]:
    for module in _BUILTIN_MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return dict(_REGISTRY)


def _entry_point_workloads(taken: set[str]) -> dict[str, type[Workload]]:
    """Workloads other packages declare; a broken or clashing one is skipped with a warning."""
    found: dict[str, type[Workload]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = point.load()
        except Exception as error:  # a third-party import can fail in any way
            warnings.warn(
                f"workload entry point '{point.name}' ({point.value}) failed to load: {error}", stacklevel=3
            )
            continue
        if not (isinstance(cls, type) and issubclass(cls, Workload)):
            warnings.warn(
                f"workload entry point '{point.name}' ({point.value}) is not a Workload class", stacklevel=3
            )
            continue
        if cls.name in taken and _REGISTRY.get(cls.name) is not cls:
            warnings.warn(
                f"workload entry point '{point.name}': name '{cls.name}' is taken; skipped", stacklevel=3
            )
            continue
        found[cls.name] = cls
    return found


_PLUGIN_CACHE: dict[tuple[Any, frozenset[str]], dict[str, type[Workload]]] = {}


def _all_workloads() -> dict[str, type[Workload]]:
    workloads = _builtin_workloads()
    # Scanning installed distributions costs ~25 ms: do it once per process (keyed on the lookup
    # function, so a test that swaps `entry_points` sees its own plugins).
    key = (entry_points, frozenset(workloads))
    if key not in _PLUGIN_CACHE:
        _PLUGIN_CACHE[key] = _entry_point_workloads(set(workloads))
    workloads.update(_PLUGIN_CACHE[key])
    return workloads


def list_workloads() -> dict[str, WorkloadInfo]:
    """Name -> metadata of every workload: built-ins, then those from entry points. Does not import torch."""
    return {name: cls.info() for name, cls in sorted(_all_workloads().items())}


def get_workload(name: str) -> type[Workload]:
    """The workload class registered as ``name``; ``UnknownWorkloadError`` with did-you-mean otherwise."""
    workloads = _all_workloads()
    if name in workloads:
        return workloads[name]
    close = close_match(name, workloads)
    hint = f"did you mean '{close}'? " if close else ""
    raise UnknownWorkloadError(f"unknown workload '{name}' — {hint}known: {', '.join(sorted(workloads))}")


def validate_params(name: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """``(key, message)`` for each unknown key or wrongly typed value in ``params`` of workload ``name``."""
    return _check_params(get_workload(name), params)


def _check_params(cls: type[Workload], params: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for key, value in params.items():
        if key not in cls.defaults:
            problems.append((key, _unknown_key_message(cls, key)))
            continue
        message = _value_problem(cls, key, value)
        if message:
            problems.append((key, message))
    return problems


def _unknown_key_message(cls: type[Workload], key: str) -> str:
    close = close_match(key, cls.defaults)
    hint = f"did you mean '{close}'? " if close else ""
    return f"'{cls.name}' has no parameter '{key}' — {hint}known: {', '.join(cls.defaults)}"


def _value_problem(cls: type[Workload], key: str, value: Any) -> str | None:
    default = cls.defaults[key]
    if not _same_kind(value, default):
        return f"{value!r} is {type(value).__name__}, expected {type(default).__name__} (like {default!r})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a finite number — write an ordinary number (like {default!r})"
    allowed = cls.choices.get(key)
    if allowed is not None and value not in allowed:
        return f"{value!r} is not allowed — choose one of: {', '.join(map(str, allowed))}"
    minimum = cls.minimums.get(key)
    if minimum is not None and value < minimum:
        return f"{value!r} is too small — use at least {minimum:g}"
    return None


def _same_kind(value: Any, default: Any) -> bool:
    """Types match the default's; an int is fine where a float is expected, a bool never passes as a number."""
    if default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))
