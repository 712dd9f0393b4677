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
from importlib.metadata import version as _metadata_version
from typing import Any

__version__ = _metadata_version("carpentry-kit")

# public name -> module that defines it
_API: dict[str, str] = {
    # errors (every stage raises these)
    "Problem": "carpentry_kit.errors",
    "SpecError": "carpentry_kit.errors",
    "DivisionError": "carpentry_kit.errors",
    "UsageError": "carpentry_kit.errors",
    # spec
    "Spec": "carpentry_kit.spec.model",
    "load_spec": "carpentry_kit.spec.load",
    "check_spec": "carpentry_kit.spec.load",
    "spec_hash": "carpentry_kit.spec.model",
    "canonical_spec": "carpentry_kit.spec.model",
    "apply_overrides": "carpentry_kit.spec.load",
    "parse_overrides": "carpentry_kit.spec.load",
    "example_spec_path": "carpentry_kit.spec.load",
    "example_names": "carpentry_kit.spec.load",
    "json_schema": "carpentry_kit.spec.schema",
    "rate_spec": "carpentry_kit.spec.rating",
    "load_draft": "carpentry_kit.spec.rating",
    "Rating": "carpentry_kit.spec.rating",
    "to_mlcommons_entry": "carpentry_kit.spec.mlcommons",
    "from_mlcommons_entry": "carpentry_kit.spec.mlcommons",
    "skeleton_yaml": "carpentry_kit.spec.mlcommons",
    "file_croissant": "carpentry_kit.spec.croissant",
    # measure
    "run": "carpentry_kit.measure.runner",
    "RunResult": "carpentry_kit.measure.runner",
    "RunInterrupted": "carpentry_kit.measure.runner",
    "summarize": "carpentry_kit.stats",
    "describe_system": "carpentry_kit.system",
    "software_versions": "carpentry_kit.system",
    "make_meter": "carpentry_kit.energy",
    "energy_methods": "carpentry_kit.energy",
    "EnergyReading": "carpentry_kit.energy",
    "EnergyError": "carpentry_kit.energy",
    "carbon_estimate": "carpentry_kit.energy",
    "Workload": "carpentry_kit.workloads",
    "register_workload": "carpentry_kit.workloads",
    "get_workload": "carpentry_kit.workloads",
    "list_workloads": "carpentry_kit.workloads",
    "load_dataset": "carpentry_kit.data.datasets",
    "DatasetError": "carpentry_kit.data.datasets",
    "find_overlap": "carpentry_kit.data.overlap",
    # results
    "load_results": "carpentry_kit.results.frame",
    "ResultStore": "carpentry_kit.results.store",
    "MLLogger": "carpentry_kit.results.mllog",
    # explore
    "sweep": "carpentry_kit.explore.sweep",
    "SweepResult": "carpentry_kit.explore.sweep",
    "compare": "carpentry_kit.explore.compare",
    "write_report": "carpentry_kit.explore.report",
    "benchmark_history": "carpentry_kit.explore.history",
}
# public name -> module that *is* the value (``from carpentry_kit import plots``)
_MODULES: dict[str, str] = {"plots": "carpentry_kit.explore.plots"}

__all__ = sorted([*_API, *_MODULES])


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
    else:
        raise AttributeError(f"module 'carpentry_kit' has no attribute '{name}'")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
