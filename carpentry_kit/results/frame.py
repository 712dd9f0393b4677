"""Records as a tidy pandas DataFrame: one row per run x metric."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
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


SUMMARY = "summary"  # load_results(..., samples=SUMMARY): a bounded summary of each row's samples
SUMMARY_POINTS = 200  # at most this many of a row's samples are kept in a summary (evenly spaced quantiles)
RATIO_SIDE_CONFIDENCE = math.sqrt(0.95)  # one side of a 95 % ratio interval (stats.ratio_ci)
SUMMARY_COLUMNS = ["ratio_side_low", "ratio_side_high", "ratio_side_level"]
_OVERRIDES = object()  # a row's key for its record's overrides (never a column name)


def load_results(
    directory: str | os.PathLike[str] | ResultStore, samples: bool | str = False
) -> pd.DataFrame:
    """All runs in a results directory as a tidy DataFrame: one row per run x metric.

    Columns are ``FRAME_COLUMNS`` plus one column per override path. ``samples=True`` adds a ``samples``
    column holding each metric's raw samples; ``samples="summary"`` keeps memory bounded whatever the
    number of samples: ``samples`` holds at most ``SUMMARY_POINTS`` evenly spaced order statistics of each
    row's samples (all of them when there are fewer; for plots, never for intervals), and
    ``SUMMARY_COLUMNS`` hold the row's exact order-statistic interval of its median at √0.95 and its
    level — its side of a 95 % ratio interval (``explore.compare`` for a configuration of one run). The
    store is read one record at a time (``ResultStore.iter_records``); no record is kept.
    """
    store = directory if isinstance(directory, ResultStore) else ResultStore(directory)
    return records_frame(store.iter_records(), samples=samples)


def records_frame(records: Iterable[dict[str, Any]], samples: bool | str = False) -> pd.DataFrame:
    """The tidy DataFrame of record dicts, consumed one at a time (what ``load_results`` returns)."""
    import pandas as pd

    if samples not in (True, False, SUMMARY):
        raise ValueError(f"samples must be True, False or {SUMMARY!r}, not {samples!r}")
    rows: list[dict[str, Any]] = []
    override_paths: dict[str, None] = {}
    for record in records:
        overrides = record.get("overrides") or {}
        override_paths.update(dict.fromkeys(overrides))
        rows.extend(_record_rows(record, overrides, samples))
    paths = sorted(override_paths)
    extra = (["samples"] if samples else []) + (SUMMARY_COLUMNS if samples == SUMMARY else [])
    data = {column: [row.get(column) for row in rows] for column in FRAME_COLUMNS}
    data.update({path: [row[_OVERRIDES].get(path) for row in rows] for path in paths})
    data.update({column: [row.get(column) for row in rows] for column in extra})
    return pd.DataFrame(data, columns=FRAME_COLUMNS + paths + extra)


def _record_rows(
    record: dict[str, Any], overrides: dict[str, Any], samples: bool | str
) -> Iterator[dict[str, Any]]:
    energy = record.get("energy") or {}
    shared = {key: record.get(key) for key in RECORD_COLUMNS}
    tuning = record.get("tuning") or {}
    shared["tuning_configurations"] = tuning.get("configurations")
    shared["sweep_id"] = tuning.get("sweep_id")
    shared["energy_method"] = energy.get("method")
    shared["energy_measured"] = energy.get("measured")
    shared[_OVERRIDES] = overrides
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
        if samples == SUMMARY:
            row.update(_summary(metric.get("samples") or []))
        elif samples:
            row["samples"] = list(metric.get("samples", []))
        yield row


def _summary(samples: list[float]) -> dict[str, Any]:
    """A row's samples, bounded: evenly spaced order statistics, and its median's interval at √0.95."""
    import numpy as np

    from carpentry_kit.stats import order_statistic_rank

    values = np.sort(np.asarray(samples, dtype=float))
    n = values.size
    if n == 0:
        return {"samples": values, "ratio_side_low": None, "ratio_side_high": None, "ratio_side_level": None}
    rank, level = order_statistic_rank(n, RATIO_SIDE_CONFIDENCE)
    kept = (
        values if n <= SUMMARY_POINTS else values[np.linspace(0, n - 1, SUMMARY_POINTS).round().astype(int)]
    )
    return {
        "samples": kept,
        "ratio_side_low": float(values[rank - 1]),
        "ratio_side_high": float(values[n - rank]),
        "ratio_side_level": level,
    }
