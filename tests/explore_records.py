"""Synthetic run records with known samples, for testing compare, plots and report without running."""

from __future__ import annotations

from typing import Any

from carpentry_kit.results.record import RunRecord
from carpentry_kit.results.store import ResultStore
from carpentry_kit.stats import summarize

METRICS = {
    "latency_s": ("performance", "s", "minimize"),
    "gflops": ("performance", "GFLOP/s", "maximize"),
    "test_accuracy": ("quality", "fraction", "maximize"),
    "energy_per_sample_j": ("energy", "J", "minimize"),
}


def metric_entry(name: str, samples: list[float], unit: str | None = None) -> dict[str, Any]:
    kind, default_unit, goal = METRICS[name]
    summary = summarize(samples)
    return {
        "kind": kind,
        "unit": unit or default_unit,
        "goal": goal,
        "target": None,
        "value": summary.median,
        "stats": summary.to_dict(),
        "samples": list(samples),
    }


def make_record(
    overrides: dict[str, Any],
    samples: dict[str, list[float]],
    *,
    benchmark: str = "matmul",
    measured: bool = False,
    method: str = "estimate",
    units: dict[str, str] | None = None,
    status: str = "completed",
    division: str = "open",
    tuning: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A record dict whose metrics have exactly the given samples."""
    units = units or {}
    energy_total = 6.0
    record = RunRecord(
        benchmark=benchmark,
        spec_hash="h" + "-".join(f"{k}={v}" for k, v in sorted(overrides.items())),
        spec={"benchmark": {"name": benchmark}},
        scenario="offline",
        device="cpu",
        overrides=dict(overrides),
        division=division,
        overrides_tunable=True if division == "closed" else None,
        tuning=tuning,
        status=status,
        validity="VALID",
        metrics={name: metric_entry(name, values, units.get(name)) for name, values in samples.items()},
        energy={
            "method": method,
            "measured": measured,
            "layer": "node",
            "components_j": {"cpu": energy_total * 2 / 3, "dram": energy_total / 3},
            "total_j": energy_total,
            "duration_s": 1.0,
            "avg_power_w": energy_total,
            "per_sample_j": 0.1,
            "per_repeat_j": energy_total / 3,
            "carbon_kg": None,
            "carbon_method": None,
            "notes": "synthetic test record",
        },
    )
    return record.to_dict()


def write_store(directory, records: list[dict[str, Any]]) -> ResultStore:
    store = ResultStore(directory)
    for record in records:
        store.append(record)
    return store
