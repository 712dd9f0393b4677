"""carpentry-kit: AI Benchmark Carpentry.

The data path, one module a stage: **spec** (load, validate, rate) → **run** (harness, energy meter,
workload) → **results** (records with provenance, a store, DataFrames) → **report** (plots, tables).

The public API is imported lazily, so ``import carpentry_kit`` stays light (no torch, pandas,
matplotlib or codecarbon until a function that needs them is called)::

    import carpentry_kit as ck
    spec = ck.load_spec("my-benchmark.yaml")
    result = ck.run(spec)
    frame = ck.load_results("results")
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_API: dict[str, str] = {
    # spec
    "Spec": "carpentry_kit.spec_model",
    "SpecError": "carpentry_kit.spec",
    "load_spec": "carpentry_kit.spec",
    "check_spec": "carpentry_kit.spec",
    "spec_hash": "carpentry_kit.spec",
    "canonical_spec": "carpentry_kit.spec",
    "rate_spec": "carpentry_kit.rating",
    "to_mlcommons_entry": "carpentry_kit.mlcommons",
    "from_mlcommons_entry": "carpentry_kit.mlcommons",
    "example_spec_path": "carpentry_kit.spec",
    "example_names": "carpentry_kit.spec",
    "apply_overrides": "carpentry_kit.spec",
    "parse_overrides": "carpentry_kit.spec",
    "json_schema": "carpentry_kit.spec",
    "Problem": "carpentry_kit.spec",
    "UsageError": "carpentry_kit.spec",
    "Rating": "carpentry_kit.rating",
    # run
    "run": "carpentry_kit.runner",
    "RunResult": "carpentry_kit.runner",
    "summarize": "carpentry_kit.stats",
    "make_meter": "carpentry_kit.energy",
    "energy_methods": "carpentry_kit.energy",
    "EnergyReading": "carpentry_kit.energy",
    "carbon_estimate": "carpentry_kit.energy",
    "describe_system": "carpentry_kit.system",
    "software_versions": "carpentry_kit.system",
    "Workload": "carpentry_kit.workloads",
    "register_workload": "carpentry_kit.workloads",
    "get_workload": "carpentry_kit.workloads",
    "list_workloads": "carpentry_kit.workloads",
    "load_dataset": "carpentry_kit.datasets",
    # results
    "load_results": "carpentry_kit.results",
    "ResultStore": "carpentry_kit.results",
    "MLLogger": "carpentry_kit.mllog",
    # explore and report
    "sweep": "carpentry_kit.sweep",
    "SweepResult": "carpentry_kit.sweep",
    "compare": "carpentry_kit.compare",
    "write_report": "carpentry_kit.report",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'carpentry_kit' has no attribute '{name}'")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


class _PublicAPIModule(types.ModuleType):
    """The package module: importing a submodule named like a public function (``carpentry_kit.compare``,
    ``carpentry_kit.sweep``) must not replace that function with the submodule."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return  # the submodule stays reachable in sys.modules and via `from carpentry_kit.x import y`
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PublicAPIModule
