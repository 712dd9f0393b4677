"""A benchmark's history: one metric across the benchmark's spec versions and dataset versions, and dates.

``benchmark_history(["results/v1", "results/v2"], metric="gflops")`` reads stored records (directories or
record dicts; nothing is re-run) and groups each benchmark's completed runs into *versions*: one per distinct
spec (``spec_hash``, the canonical spec with its overrides applied: ``benchmark.version``, the parameters,
the protocol, the datasets' sources and checksums) and dataset version, in the order of their first run.
A ``builtin:`` dataset ships with carpentry-kit, so its version is the carpentry-kit version that ran it.

Each version gives the pooled samples' median with its distribution-free interval, and against the version
before it the ratio of medians with its interval and verdict — the same statistics ``compare`` uses
(``compare.ratio_verdict``) — and the cause: which spec fields changed (the records hold the canonical
spec; consecutive versions' specs are diffed, ``spec_changes``) and which dataset versions. A version whose
interval excludes 1 is ``flagged``: a significant change. As in ``compare``, significant does not mean
large, and one run per version leaves out run-to-run variation. A sweep's points are versions too (their
overridden specs differ, and the diff says how): give history the runs of one configuration per version.
"""

from __future__ import annotations

import json
import math
import os
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.errors import UsageError
from carpentry_kit.explore.compare import (
    CONFIDENCE,
    configuration_estimate,
    count_noun,
    format_number,
    ratio_interval_text,
    ratio_verdict,
    sample_count,
    short_value,
    significance_note,
)
from carpentry_kit.results.units import format_quantity, missing
from carpentry_kit.stats import format_level

if TYPE_CHECKING:
    import pandas as pd

Source = str | os.PathLike[str] | dict[str, Any]
ABSENT = "(absent)"
MAX_CHANGES_SHOWN = 6  # per version in the terminal table; the frame holds them all
# the columns of History.table, in order
COLUMNS = [
    "benchmark",
    "version",
    "benchmark_version",
    "spec_hash",
    "datasets",
    "division",
    "first_run",
    "last_run",
    "runs",
    "metric",
    "kind",
    "unit",
    "goal",
    "n",
    "median",
    "median_ci_low",
    "median_ci_high",
    "median_ci_level",
    "previous",
    "ratio",
    "ci_low",
    "ci_high",
    "ci_level",
    "significant",
    "better",
    "verdict",
    "flagged",
    "changes",
    "runs_previous",
]


@dataclass(frozen=True)
class Change:
    """One spec field that differs between two versions (``ABSENT`` where a version has no such field)."""

    path: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.path}: {_shown(self.old)} → {_shown(self.new)}"


def spec_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """The fields of two canonical specs that differ, as dotted paths (list items by index), in order."""
    before, after = dict(_leaves(old)), dict(_leaves(new))
    paths = sorted(set(before) | set(after), key=_path_order)
    return [
        Change(path, before.get(path, ABSENT), after.get(path, ABSENT))
        for path in paths
        if json.dumps(before.get(path, ABSENT), sort_keys=True, default=str)
        != json.dumps(after.get(path, ABSENT), sort_keys=True, default=str)
    ]


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted path, value)`` of every leaf: mappings and lists of mappings are walked, other lists kept."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{prefix}.{index}" if prefix else str(index))
    else:
        yield prefix, value


def _path_order(path: str) -> tuple[Any, ...]:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in path.split("."))


def _shown(value: Any) -> str:
    return ABSENT if value == ABSENT else short_value(value)


def dataset_versions(record: dict[str, Any]) -> str:
    """The versions of a record's datasets: ``digits=builtin (carpentry-kit 0.1.0)``, ``x=sha256 3fa2c1d0a9b4``."""
    kit = (record.get("software") or {}).get("carpentry_kit", "unknown")
    parts = []
    for dataset in (record.get("spec") or {}).get("datasets") or []:
        source = str(dataset.get("source", ""))
        if source.startswith("builtin:"):
            version = f"{source} (carpentry-kit {kit})"
        else:
            version = f"sha256 {str(dataset.get('sha256') or 'unknown')[:12]}"
        parts.append(f"{dataset.get('name', '?')}={version}")
    return ", ".join(parts) or "none"


# --- the history -----------------------------------------------------------------------------------


@dataclass
class History:
    """A metric's history: ``table`` (one row per benchmark version, columns ``COLUMNS``), the ``flagged``
    rows (a significant change from the version before), ``format()`` for the terminal and
    ``_repr_html_`` for notebooks. ``carpentry_kit.explore.plots.plot_history(history)`` draws it."""

    table: pd.DataFrame
    metric: str
    sources: list[str]

    @property
    def flagged(self) -> pd.DataFrame:
        """The versions whose change from the version before is significant (compare's interval excludes 1)."""
        return self.table[self.table["flagged"]]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def format(self) -> str:
        """The history as plain text: a table per benchmark, each version's changes under it, the notes."""
        blocks = [_format_benchmark(rows) for _, rows in self.table.groupby("benchmark", sort=False)]
        notes = history_notes(self.table)
        return "\n\n".join(blocks) + "\n\n" + "\n".join(textwrap.fill(note, width=100) for note in notes)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return self.format()

    def _repr_html_(self) -> str:
        from html import escape

        headers = ["benchmark", "#", "version", "spec", "datasets", "dates", "runs", "median [CI]"]
        headers += ["vs previous", "CI", "verdict", "changes"]
        body = []
        for _, row in self.table.iterrows():
            cells = [str(row["benchmark"]), *_cells(row), "; ".join(map(str, row["changes"])) or "—"]
            style = " style='background:#fde2e1'" if row["flagged"] else ""
            body.append(f"<tr{style}>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells) + "</tr>")
        head = "".join(f"<th>{escape(cell)}</th>" for cell in headers)
        notes = "".join(f"<p>{escape(note)}</p>" for note in history_notes(self.table))
        return (
            f"<div><b>History of {escape(self.metric)}</b><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{notes}</div>"
        )


def benchmark_history(
    sources: Source | Iterable[Source],
    metric: str | None = None,
    *,
    confidence: float = CONFIDENCE,
) -> History:
    """The history of ``metric`` (default: the latest spec's first metric) over each benchmark's versions.

    ``sources``: results directories and/or records (dicts, ``RunRecord``s or ``RunResult``s). Bad input (no records, an unreadable or missing
    directory, an unknown metric) raises a one-line ``UsageError``.
    """
    import pandas as pd

    records, names = _read(sources)
    done = [record for record in records if record.get("status") == "completed"]
    if not done:
        raise UsageError(
            f"history: no completed runs in {', '.join(names)} — run a spec into it first "
            "(`carpentry run SPEC --out DIR`)"
        )
    done.sort(key=lambda record: record["started_at"])
    metric = metric or _default_metric(done)
    _check_metric(done, metric)
    rows = []
    for benchmark in dict.fromkeys(record["benchmark"] for record in done):
        versions = _versions([r for r in done if r["benchmark"] == benchmark])
        previous = None
        for number, members in enumerate(versions, start=1):
            rows.append(_row(benchmark, number, members, previous, metric, confidence))
            previous = members
    return History(pd.DataFrame(rows, columns=COLUMNS), metric, names)


def _read(sources: Source | Iterable[Source]) -> tuple[list[dict[str, Any]], list[str]]:
    from carpentry_kit.results.store import ResultStore

    single = isinstance(sources, (str, os.PathLike, dict)) or hasattr(sources, "to_dict")
    items = [sources] if single or hasattr(sources, "record") else list(sources)
    if not items:
        raise UsageError("history: no results given — give one or more results directories")
    records, names = [], []
    for item in items:
        item = getattr(item, "record", item)  # a RunResult holds its record
        item = item.to_dict() if hasattr(item, "to_dict") else item  # a RunRecord
        if isinstance(item, dict):
            records.append(item)
            names += [] if "(records)" in names else ["(records)"]
            continue
        names.append(str(item))
        if Path(item).exists() and not Path(item).is_dir():
            raise UsageError(
                f"{item}: is a file, not a results directory — give the directory runs.jsonl is in"
            )
        found = ResultStore(item).records()  # a missing or unreadable directory: a one-line UsageError
        if not found:
            raise UsageError(f"{item}: holds no runs — run `carpentry run SPEC --out {item}` first")
        records += found
    return records, names


def _default_metric(records: list[dict[str, Any]]) -> str:
    """The latest record's spec's first metric that was recorded."""
    latest = records[-1]
    declared = [metric.get("name") for metric in (latest.get("spec") or {}).get("metrics") or []]
    return next(
        (name for name in declared if name in latest.get("metrics", {})), next(iter(latest["metrics"]))
    )


def _check_metric(records: list[dict[str, Any]], metric: str) -> None:
    names = sorted({name for record in records for name in record.get("metrics", {})})
    if metric not in names:
        raise UsageError(
            f"--metric: '{metric}' is not in these results — choose one of: {', '.join(names) or '(none)'}"
        )


def _versions(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The records grouped by (spec hash, dataset versions), in the order of each group's first run."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault((record["spec_hash"], dataset_versions(record)), []).append(record)
    return list(groups.values())


def _row(
    benchmark: str,
    number: int,
    members: list[dict[str, Any]],
    previous: list[dict[str, Any]] | None,
    metric: str,
    confidence: float,
) -> dict[str, Any]:
    first, rows = members[0], _metric_rows(members, metric)
    described = next((r["metrics"][metric] for r in members if metric in r.get("metrics", {})), {})
    estimate = configuration_estimate(rows, confidence)
    low, high, level = (None,) * 3 if missing(estimate.low) else estimate[1:4]
    row = {
        "benchmark": benchmark,
        "version": number,
        "benchmark_version": str(((first.get("spec") or {}).get("benchmark") or {}).get("version", "?")),
        "spec_hash": first["spec_hash"],
        "datasets": dataset_versions(first),
        "division": "+".join(sorted({r.get("division", "open") for r in members})),
        "first_run": members[0]["started_at"],
        "last_run": members[-1]["started_at"],
        "runs": len(members),
        "metric": metric,
        **{key: described.get(key) for key in ("kind", "unit", "goal")},
        "n": sample_count(rows),
        "median": estimate.median,
        "median_ci_low": low,
        "median_ci_high": high,
        "median_ci_level": level,
    }
    row.update(_against(previous, members, metric, described, confidence))
    return row


def _against(
    previous: list[dict[str, Any]] | None,
    members: list[dict[str, Any]],
    metric: str,
    described: dict[str, Any],
    confidence: float,
) -> dict[str, Any]:
    """The change from the version before: compare's ratio, interval and verdict, and the spec diff."""
    nothing = {"ratio": None, "ci_low": None, "ci_high": None, "ci_level": None, "better": False}
    if previous is None:
        return {
            **nothing,
            "previous": None,
            "significant": False,
            "verdict": "first version",
            "flagged": False,
            "changes": [],
            "runs_previous": 0,
        }
    changes: list[Any] = spec_changes(previous[0].get("spec") or {}, members[0].get("spec") or {})
    if dataset_versions(previous[0]) != dataset_versions(members[0]):
        changes.append(Change("datasets", dataset_versions(previous[0]), dataset_versions(members[0])))
    before = next((r["metrics"][metric] for r in previous if metric in r.get("metrics", {})), {})
    unlike = [key for key in ("kind", "unit", "goal") if before.get(key) != described.get(key)]
    if unlike or not before or not described:
        judged = {**nothing, "significant": False, "verdict": "not comparable"}
        if unlike and before and described:
            judged["verdict"] = f"not comparable ({unlike[0]} changed)"
    else:
        side = math.sqrt(confidence)
        mine = configuration_estimate(_metric_rows(members, metric), side)
        base = configuration_estimate(_metric_rows(previous, metric), side)
        judged = ratio_verdict(mine, base, described["goal"])
    return {
        **judged,
        "previous": str(((previous[0].get("spec") or {}).get("benchmark") or {}).get("version", "?")),
        "flagged": bool(judged["significant"]),
        "changes": changes,
        "runs_previous": len(previous),
    }


def _metric_rows(records: list[dict[str, Any]], metric: str) -> pd.DataFrame:
    """The results-frame rows of ``metric`` in ``records`` (with their samples): what compare reads."""
    from carpentry_kit.results.frame import records_frame

    frame = records_frame(records, samples=True)
    return frame[frame["metric"] == metric]


# --- text ------------------------------------------------------------------------------------------


def flagged_summary(table: pd.DataFrame) -> str:
    """``1 significant change: matmul version 2 (1.1) is worse than the version before (1.0).``"""
    flagged = table[table["flagged"]]
    if flagged.empty:
        return "No significant change between consecutive versions."
    parts = [
        f"{row['benchmark']} version {row['version']} ({row['benchmark_version']}) is {row['verdict']} than "
        f"the version before ({row['previous']})"
        for _, row in flagged.iterrows()
    ]
    return f"{count_noun(len(flagged), 'significant change')} (flagged): " + "; ".join(parts) + "."


def history_notes(table: pd.DataFrame) -> list[str]:
    """What is flagged, and what compare's verdicts mean (each version's baseline is the one before)."""
    return [
        flagged_summary(table),
        "Each version is compared with the version before it (its baseline). "
        + significance_note(_as_comparison(table)),
    ]


def _as_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """The columns ``significance_note`` reads, for the versions compared with the one before."""
    compared = table[table["runs_previous"] > 0]
    return compared.assign(baseline_runs=compared["runs_previous"])


def _format_benchmark(rows: pd.DataFrame) -> str:
    first = rows.iloc[0]
    title = (
        f"{first['benchmark']} — {first['metric']} ({first['unit']}, {first['goal']}) over "
        f"{count_noun(len(rows), 'version')}"
    )
    header = (
        "#",
        "version",
        "spec",
        "datasets",
        "dates",
        "runs",
        "median [CI]",
        "vs previous",
        "CI",
        "verdict",
    )
    lines = [header] + [tuple(_cells(row)) for _, row in rows.iterrows()]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    rendered = [title]
    for index, line in enumerate(lines):
        rendered.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if index == 0:
            rendered.append("  ".join("-" * w for w in widths))
            continue
        changes = rows.iloc[index - 1]["changes"]
        shown = [str(change) for change in changes[:MAX_CHANGES_SHOWN]]
        if len(changes) > MAX_CHANGES_SHOWN:
            shown.append(f"+{len(changes) - MAX_CHANGES_SHOWN} more (History.table['changes'])")
        if shown:
            rendered.append("   changed: " + "; ".join(shown))
    return "\n".join(rendered)


def _cells(row: Any) -> list[str]:
    """A version's cells: number, benchmark.version, spec hash, datasets, dates, runs, median, change."""
    unit = row["unit"] or ""
    median = format_quantity(row["median"], unit)
    if not missing(row["median_ci_low"]):
        interval = (
            f"[{format_quantity(row['median_ci_low'], unit)}, {format_quantity(row['median_ci_high'], unit)}]"
        )
        median += f" {interval} {format_level(float(row['median_ci_level']))}"
    flag = " FLAGGED" if row["flagged"] else ""
    return [
        str(row["version"]),
        str(row["benchmark_version"]) + ("" if row["division"] == "open" else f" ({row['division']})"),
        str(row["spec_hash"])[:8],
        str(row["datasets"]),
        _dates(row["first_run"], row["last_run"]),
        str(row["runs"]),
        median,
        "—" if missing(row["previous"]) else format_number(row["ratio"]),
        "—" if missing(row["previous"]) else ratio_interval_text(row),
        str(row["verdict"]) + flag,
    ]


def _dates(first: str, last: str) -> str:
    start, end = first[:16].replace("T", " "), last[:16].replace("T", " ")
    if start == end:
        return start
    return f"{start} .. {end[11:] if end[:10] == start[:10] else end}"
