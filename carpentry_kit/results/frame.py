"""Records as a tidy pandas DataFrame: one row per run x metric."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from carpentry_kit.results.store import ResultStore

if TYPE_CHECKING:
    import pandas as pd

# Columns copied from the record's own fields, then the energy and per-metric columns.
RECORD_COLUMNS = [
    "run_id",
    "benchmark",
    "spec_hash",
    "status",
    "validity",
    "started_at",
    "scenario",
    "device",
    "division",
]
# a sweep's tuning budget (record["tuning"]): how many configurations it tried, and which sweep
TUNING_COLUMNS = ["tuning_configurations", "sweep_id"]
FRAME_COLUMNS = [
    *RECORD_COLUMNS,
    *TUNING_COLUMNS,
    "energy_method",
    "energy_measured",
    "metric",
    "kind",
    "unit",
    "goal",
    "value",
    "median",
    "mean",
    "stdev",
    "iqr",
    "ci_low",
    "ci_high",
    "ci_level",  # the coverage of [ci_low, ci_high] (stats.median_interval); missing in older records
    "n",
    "unstable",
]


def load_results(directory: str | os.PathLike[str] | ResultStore, samples: bool = False) -> pd.DataFrame:
    """All runs in a results directory as a tidy DataFrame: one row per run x metric.

    Columns are ``FRAME_COLUMNS`` plus one column per override path; ``samples=True`` adds a ``samples``
    column holding each metric's raw samples.
    """
    store = directory if isinstance(directory, ResultStore) else ResultStore(directory)
    return records_frame(store.records(), samples=samples)


def records_frame(records: list[dict[str, Any]], samples: bool = False) -> pd.DataFrame:
    """The tidy DataFrame of a list of record dicts (what ``load_results`` returns)."""
    import pandas as pd

    override_paths = sorted({path for record in records for path in record.get("overrides", {})})
    rows = [row for record in records for row in _record_rows(record, override_paths, samples)]
    columns = FRAME_COLUMNS + override_paths + (["samples"] if samples else [])
    return pd.DataFrame(rows, columns=columns)


def _record_rows(
    record: dict[str, Any], override_paths: list[str], samples: bool
) -> Iterator[dict[str, Any]]:
    energy = record.get("energy") or {}
    shared = {key: record.get(key) for key in RECORD_COLUMNS}
    tuning = record.get("tuning") or {}
    shared["tuning_configurations"] = tuning.get("configurations")
    shared["sweep_id"] = tuning.get("sweep_id")
    shared["energy_method"] = energy.get("method")
    shared["energy_measured"] = energy.get("measured")
    overrides = record.get("overrides", {})
    shared.update({path: overrides.get(path) for path in override_paths})
    for name, metric in record.get("metrics", {}).items():
        stats = metric.get("stats") or {}
        row = dict(shared, metric=name, value=metric.get("value"))
        row.update({key: metric.get(key) for key in ("kind", "unit", "goal")})
        row.update(
            {
                key: stats.get(key)
                for key in ("median", "mean", "stdev", "iqr", "ci_low", "ci_high", "ci_level")
            }
        )
        row["n"] = stats.get("n", 0)
        row["unstable"] = stats.get("unstable", False)
        if samples:
            row["samples"] = list(metric.get("samples", []))
        yield row
