"""Compare stored results against a baseline: ratio of medians with a distribution-free confidence interval.

``compare(results, baseline)`` reads the tidy results frame (``load_results(dir, samples="summary")``),
groups the runs into *configurations* (one per distinct set of override values) and, per configuration
and metric, divides its median by the baseline's. **Runs are the independent units**: a configuration of
several runs is summarised by its runs' medians — its median is the median of the per-run medians, and its
side of the interval is the order-statistic interval of that median over the runs (repeats inside one run
share its machine state, so pooling them over runs would overstate the evidence); a configuration of one
run by that run's repeats. The interval combines the two sides' order-statistic intervals (each at
√confidence, ``stats.ratio_of_sides``); its ``ci_level`` is a guaranteed lower bound on its coverage — at
least 95% when both sides have 7 units (runs, or repeats of a single run) or more, lower (and printed) for
fewer (≥ 56.2% at 3 runs a side). The work is O(runs), never a resample of every sample; the coverage is
checked by simulation with run-to-run variation in ``tests/test_stats_coverage.py``.
A difference is ``significant`` when the interval excludes 1 (then the data show
a difference; an interval containing 1 shows none, which is not evidence that there is none), and
``better`` follows the metric's goal (a smaller latency
is better, a larger throughput is better). The ``verdict`` is ``baseline``, ``better``, ``worse``, ``no
significant difference``, ``too few samples`` (fewer than 2 units on a side) or ``not comparable`` (no
baseline with the same other settings). Significant does not mean large, and with one run per
configuration the interval covers only the repeats inside that run, not run-to-run variation.

The baseline is a dict ``{"task.params.size": 256}`` (a key may be shortened to its last part, ``size``),
a string ``"size=256"``, a run id (or its first 6+ hex digits; use ``by=["run_id"]`` to compare run by
run), or a pandas query (``"`task.params.size` == 256 and device == 'cpu'"``).
Columns that vary *inside* the baseline are held fixed: ``baseline size=256`` in a size × dtype sweep
compares every size against size 256 **of the same dtype**.

Only like is compared with like: if the benchmark, unit or kind of a metric differ — or, for an energy
metric, how the energy was obtained — the comparison is refused and the key that differs is named.

Divisions (``protocol.division``, ``spec/division.py``): a closed result is not ranked against an open one
without saying so. Results that mix the divisions are refused, with the number of runs of each, unless
``division="closed"`` (or ``open``; ``--division``) keeps one of them, or ``mixed_divisions=True``
(``--mixed-divisions``) ranks them together — then every row carries its ``division`` and
``baseline_division`` and the printed table shows them with a note. A sweep's tuning budget is shown too:
``configurations_tried`` is the number of configurations its sweep tried (``tuning`` in the record), and the
printed table says that the best of them is "best of N configurations".
Nothing is re-run; everything is read from stored results.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from carpentry_kit.errors import UsageError
from carpentry_kit.results.units import format_quantity, missing
from carpentry_kit.stats import format_level, median_interval, ratio_of_sides

if TYPE_CHECKING:
    import pandas as pd

CONFIDENCE = 0.95
MAX_VALUE_CHARS = 32  # a longer override value is summarised in labels, headings and log lines

# keys that must agree before two results of one metric may be compared
_LIKE_KEYS = ("benchmark", "unit", "kind")
_ENERGY_LIKE_KEYS = ("energy_method", "energy_measured")
_KEY_COLUMN = "configuration"
_QUERY_MARKERS = re.compile(r"==|!=|<|>|\band\b|\bor\b|\bin\b|`")
_RUN_ID = re.compile(r"^[0-9a-f]{6,32}$")
_KEY_VALUE = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*=(?!=)(.*)$")


def override_columns(frame: pd.DataFrame) -> list[str]:
    """The override-path columns of a results frame: dotted paths (``task.params.size``) and whole spec
    sections (``metrics``, ``datasets``)."""
    from carpentry_kit.results.frame import FRAME_COLUMNS
    from carpentry_kit.spec.model import Spec

    sections = set(Spec.model_fields) - set(FRAME_COLUMNS)
    return [column for column in frame.columns if "." in str(column) or column in sections]


def varying_overrides(frame: pd.DataFrame) -> list[str]:
    """The override columns whose value differs between rows: what tells configurations apart."""
    return [c for c in override_columns(frame) if frame[c].astype(str).nunique(dropna=False) > 1]


def varying_keys(overrides: Iterable[Mapping[str, Any]]) -> list[str]:
    """The keys whose value differs between override dicts (missing counts as a value), sorted."""
    dicts = list(overrides)
    keys = sorted({key for d in dicts for key in d})
    return [k for k in keys if len({json.dumps(d.get(k, "<unset>"), default=str) for d in dicts}) > 1]


def results_frame(results: pd.DataFrame | str | Path, samples: bool | str = "summary") -> pd.DataFrame:
    """A tidy results frame: ``results`` itself, or ``load_results(results, samples=...)`` for a directory
    (by default the bounded summary of each run's samples: memory does not grow with the samples)."""
    import pandas as pd

    if isinstance(results, pd.DataFrame):
        return results
    from carpentry_kit.results.frame import load_results

    return load_results(results, samples=samples)


def completed(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the rows of completed runs (failed and interrupted runs have no trustworthy figures)."""
    return frame[frame["status"] == "completed"] if "status" in frame.columns else frame


def check_metric(frame: pd.DataFrame, metric: str) -> None:
    """Raise a one-line ``UsageError`` listing the valid metrics if ``metric`` is not in ``frame``."""
    valid = sorted(frame["metric"].dropna().unique()) if "metric" in frame.columns else []
    if metric not in valid:
        raise UsageError(
            f"metric: '{metric}' is not in these results — choose one of: {', '.join(valid) or '(none)'}"
        )


def resolve_column(frame: pd.DataFrame, key: str) -> str:
    """The column a (possibly shortened) key names: ``size`` -> ``task.params.size`` if unambiguous."""
    if key in frame.columns:
        return key
    matches = [column for column in override_columns(frame) if column.split(".")[-1] == key]
    if len(matches) == 1:
        return matches[0]
    choices = ", ".join(override_columns(frame)) or "(no overrides in these results)"
    if matches:
        raise UsageError(
            f"baseline: '{key}' is ambiguous — write the full path, one of: {', '.join(matches)}"
        )
    raise UsageError(f"baseline: '{key}' is not a column of the results — use an override path: {choices}")


def configuration_key(row: Mapping[str, Any], by: Iterable[str]) -> str:
    """A stable text key for the configuration of one row (missing values left out)."""
    values = {column: _plain(row[column]) for column in by if not _missing(row[column])}
    return json.dumps(values, sort_keys=True, default=str)


def configuration_label(key: str) -> str:
    """A short human label for a configuration key: ``size=256, dtype=float32`` (``default`` if none)."""
    values = json.loads(key)
    if not values:
        return "default"
    short = [column.split(".")[-1] for column in values]
    names = short if len(set(short)) == len(short) else list(values)
    return ", ".join(
        f"{name}={short_value(value)}" for name, value in zip(names, values.values(), strict=True)
    )


def short_value(value: Any, width: int = MAX_VALUE_CHARS) -> str:
    """An override value as text for a label: itself when short, else a summary and a hash of the whole.

    ``[{"name": "gflops", ...}, {"name": "latency_s", ...}]`` -> ``[gflops, latency_s] #3fa2c1``: a list
    of named items shows its names (``[a, b, +3 more]``), a dict its keys, other long values are cut with
    an ellipsis; the 6-digit hash keeps two different long values apart.
    """
    text = _format_value(value)
    if len(text) <= width:
        return text
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:6]
    return f"{_summary(value, text, width)} #{digest}"


def _summary(value: Any, text: str, width: int) -> str:
    if isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
        names = [str(item["name"]) for item in value]
        shown = [names[0]]  # as many whole names as fit, then how many more
        for name in names[1:]:
            if len(", ".join([*shown, name])) > width - 10:
                break
            shown.append(name)
        more = f", +{len(names) - len(shown)} more" if len(shown) < len(names) else ""
        return "[" + _clip(", ".join(shown), width - 2) + more + "]"
    if isinstance(value, dict):
        return "{" + _clip(", ".join(str(key) for key in value), width - 2) + "}"
    return _clip(text, width)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip(" ,") + "…"


def configuration_sort_key(key: str) -> tuple[Any, ...]:
    """Order configuration keys naturally: numbers by value (64 before 128), then text."""
    return tuple((name, _value_order(value)) for name, value in json.loads(key).items())


def with_configurations(frame: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """``frame`` plus a ``configuration`` key column built from the ``by`` columns (default: the overrides
    that vary)."""
    by = varying_overrides(frame) if by is None else by
    frame = frame.copy()
    frame[_KEY_COLUMN] = (
        [
            configuration_key(dict(zip(by, values, strict=True)), by)
            for values in frame[by].itertuples(index=False, name=None)
        ]
        if by
        else "{}"
    )
    return frame


def pooled_samples(rows: pd.DataFrame) -> list[float]:
    """All samples of the given rows (falling back to each row's headline value): the raw samples, or in
    a summary frame each row's bounded summary of them. For pictures of a distribution — the figures and
    intervals of a configuration come from ``configuration_estimate``."""
    samples = rows["samples"] if "samples" in rows.columns else [None] * len(rows)
    pooled: list[float] = []
    for row_samples, value in zip(samples, rows["value"], strict=True):
        if isinstance(row_samples, (list, tuple, np.ndarray)) and len(row_samples) > 0:
            pooled.extend(float(s) for s in row_samples)
        elif not _missing(value):
            pooled.append(float(value))
    return pooled


class Estimate(NamedTuple):
    """A configuration's median of one metric and the median's order-statistic interval."""

    median: float
    low: float  # NaN when there is no interval (fewer than 2 units)
    high: float
    level: float  # the interval's exact coverage (NaN without one)
    units: str  # what the interval is over: "runs" (their medians) or "repeats" (of the only run)
    count: int  # how many units


def configuration_estimate(rows: pd.DataFrame, confidence: float = CONFIDENCE) -> Estimate:
    """The median of one metric over ``rows`` (a configuration) and its interval at ``confidence``.

    Runs are the units: with two runs or more, the median and the interval are those of the per-run
    medians (the record's ``median``, else its ``value``); with one run, those of its repeats — from its
    raw samples, else from the exact figures a summary frame or the record holds for this confidence.
    O(runs) work: never a resample, never the samples of more than one run.
    """
    runs = rows.drop_duplicates("run_id") if "run_id" in rows.columns else rows
    centres = [float(c) for c in _run_centres(runs) if not _missing(c)]
    if len(centres) >= 2:
        low, high, level = median_interval(centres, confidence)
        return Estimate(median_or_nan(centres), low, high, level, "runs", len(centres))
    if not centres:
        return Estimate(math.nan, math.nan, math.nan, math.nan, "runs", 0)
    return _single_run_estimate(runs.iloc[0], centres[0], confidence)


def _run_centres(runs: pd.DataFrame) -> list[Any]:
    """Each run's median (its ``median`` column, else its headline ``value``)."""
    medians = runs["median"] if "median" in runs.columns else [None] * len(runs)
    return [
        value if _missing(median) else median for median, value in zip(medians, runs["value"], strict=True)
    ]


def _single_run_estimate(row: pd.Series, centre: float, confidence: float) -> Estimate:
    """One run: its repeats are the units (run-to-run variation is not in this interval)."""
    from carpentry_kit.results.frame import RATIO_SIDE_CONFIDENCE

    summary = "ratio_side_level" in row.index  # its samples are thinned: never an interval from them
    samples = row.get("samples")
    if not summary and isinstance(samples, (list, tuple, np.ndarray)) and len(samples) > 0:
        low, high, level = median_interval(samples, confidence)
        return Estimate(median_or_nan([float(v) for v in samples]), low, high, level, "repeats", len(samples))
    count = int(row.get("n") or 1)
    stored = None
    if summary and math.isclose(confidence, RATIO_SIDE_CONFIDENCE):
        stored = (row["ratio_side_low"], row["ratio_side_high"], row["ratio_side_level"])
    elif math.isclose(confidence, CONFIDENCE) and "ci_level" in row.index:
        stored = (row.get("ci_low"), row.get("ci_high"), row.get("ci_level"))
    if count < 2 or stored is None or any(_missing(value) for value in stored):
        return Estimate(centre, math.nan, math.nan, math.nan, "repeats", min(count, 1))
    low, high, level = (float(value) for value in stored)
    return Estimate(centre, low, high, level, "repeats", count)


def parse_baseline(text: str | Iterable[str]) -> dict[str, Any] | str:
    """``"size=256"`` or ``["size=256", "dtype=float32"]`` -> dict (YAML values); anything else: a query."""
    import yaml

    texts = [text] if isinstance(text, str) else list(text)
    if len(texts) == 1 and (_QUERY_MARKERS.search(texts[0]) or not _KEY_VALUE.match(texts[0])):
        return texts[0]
    baseline: dict[str, Any] = {}
    for item in texts:
        match = _KEY_VALUE.match(item)
        if not match:
            raise UsageError(
                f"--baseline: '{item}' is not key=value — write e.g. --baseline task.params.size=256"
            )
        baseline[match.group(1)] = yaml.safe_load(match.group(2)) if match.group(2).strip() else ""
    return baseline


def compare(
    results: pd.DataFrame | str | Path,
    baseline: Mapping[str, Any] | str,
    metric: str | list[str] | None = None,
    by: list[str] | None = None,
    *,
    confidence: float = CONFIDENCE,
    division: str | None = None,
    mixed_divisions: bool = False,
) -> pd.DataFrame:
    """Per configuration and metric, the ratio of medians to the baseline with a distribution-free CI.

    Configurations are told apart by the ``by`` columns (default: the override columns that vary).
    Returns a tidy frame, one row per configuration × metric, with the ``by`` columns, ``configuration``
    (a label), ``baseline`` (the label of the baseline it is compared with), ``metric, kind, unit, goal,
    baseline_median, median, ratio, ci_low, ci_high, ci_level, interval_units, significant, better, verdict,
    n_baseline, n, baseline_runs, runs, division, baseline_division, configurations_tried`` (``n``: samples,
    ``runs``: runs, of each side; ``ci_level``: a lower bound on the interval's coverage; ``interval_units``:
    what each side's interval is over, ``runs`` (their medians) or ``repeats`` (of a configuration's only run),
    e.g. ``runs vs repeats``; ``configurations_tried``: the tuning budget of the sweep the runs came from, NaN
    for single runs). ``division`` keeps only the results of that division; results of both divisions are
    refused unless ``mixed_divisions`` is true.
    """
    import pandas as pd

    frame_samples = "summary" if math.isclose(confidence, CONFIDENCE) else True
    everything = in_division(results_frame(results, frame_samples), division)
    frame = completed(everything)
    if frame.empty:
        raise UsageError("results: no completed runs to compare — run or sweep a spec first")
    check_divisions(frame, mixed_divisions)
    by = varying_overrides(everything) if by is None else [resolve_column(frame, column) for column in by]
    frame = with_configurations(frame, by)
    metrics = _chosen_metrics(frame, metric)
    base_rows = _baseline_rows(frame, baseline)
    strata = [column for column in by if base_rows[column].astype(str).nunique(dropna=False) > 1]
    rows = []
    for name in metrics:
        metric_rows = frame[frame["metric"] == name]
        metric_base = base_rows[base_rows["metric"] == name]
        if metric_base.empty:
            raise UsageError(f"baseline: has no '{name}' results — choose another baseline or --metric")
        _check_like(metric_rows, name)
        for key, group in groups_in_order(metric_rows):
            reference = _matching_baseline(metric_base, group.iloc[0], strata)
            rows.append(_comparison_row(group, reference, key, by, confidence))
    return pd.DataFrame(rows)


def division_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Runs per division in a results frame (records before version 3 are read as open)."""
    if "division" not in frame.columns or frame.empty:
        return {}
    runs = frame.drop_duplicates("run_id")
    return {str(k): int(v) for k, v in runs["division"].fillna("open").value_counts().sort_index().items()}


def in_division(frame: pd.DataFrame, division: str | None) -> pd.DataFrame:
    """Only the rows of ``division`` (``closed`` or ``open``); all rows when it is None."""
    if division is None:
        return frame
    from carpentry_kit.spec.division import DIVISIONS

    if division not in DIVISIONS:
        raise UsageError(f"division: '{division}' is not a division — use closed or open")
    chosen = frame[frame["division"].fillna("open") == division] if "division" in frame.columns else frame
    if chosen.empty:
        counts = ", ".join(f"{n} {d}" for d, n in division_counts(frame).items()) or "none"
        raise UsageError(f"division: no {division} results here (runs: {counts}) — choose the other division")
    return chosen


def check_divisions(frame: pd.DataFrame, mixed_divisions: bool = False) -> None:
    """Refuse results of both divisions (one line, with the runs of each) unless ``mixed_divisions``."""
    counts = division_counts(frame)
    if len(counts) > 1 and not mixed_divisions:
        runs = " and ".join(f"{count_noun(n, 'run')} in {d}" for d, n in counts.items())
        raise UsageError(
            f"compare: these results mix divisions ({runs}); a closed result is not ranked against an open "
            "one, which may have changed what closed fixes — keep one with --division closed (or open), or "
            "rank them together, labelled, with --mixed-divisions"
        )


def _chosen_metrics(frame: pd.DataFrame, metric: str | list[str] | None) -> list[str]:
    if metric is None:
        return list(dict.fromkeys(frame["metric"]))
    names = [metric] if isinstance(metric, str) else list(metric)
    for name in names:
        check_metric(frame, name)
    return names


def _baseline_rows(frame: pd.DataFrame, baseline: Mapping[str, Any] | str) -> pd.DataFrame:
    if isinstance(baseline, str):
        baseline = parse_baseline(baseline)
    if isinstance(baseline, str) and _RUN_ID.match(baseline):
        chosen = frame[frame["run_id"].astype(str).str.startswith(baseline)]
        if chosen.empty:
            raise UsageError(f"baseline: no completed run has a run_id starting {baseline!r} — check the id")
        return chosen
    if isinstance(baseline, str):
        try:
            chosen = frame.query(baseline)
        except Exception as error:  # pandas raises many kinds for a bad expression
            raise UsageError(
                f"baseline: cannot evaluate query {baseline!r} ({error}) — "
                "quote dotted columns with backticks, e.g. `task.params.size` == 256"
            ) from None
        description = baseline
    else:
        chosen = frame
        for key, value in baseline.items():
            column = resolve_column(frame, key)
            chosen = chosen[chosen[column].map(lambda cell, v=value: _same(cell, v))]
            if chosen.empty:
                available = sorted({_format_value(_plain(v)) for v in frame[column] if not _missing(v)})
                raise UsageError(
                    f"baseline: no completed run has {column}={_format_value(value)} — "
                    f"available values: {', '.join(available) or '(none)'}"
                )
        description = ", ".join(f"{k}={_format_value(v)}" for k, v in baseline.items())
    if chosen.empty:
        raise UsageError(f"baseline: {description!r} matches no completed run — check the key and value")
    return chosen


def _check_like(rows: pd.DataFrame, metric: str) -> None:
    keys = list(_LIKE_KEYS)
    if (rows["kind"] == "energy").any():
        keys += [key for key in _ENERGY_LIKE_KEYS if key in rows.columns]
    for key in keys:
        values = rows[key].astype(str).unique()
        if len(values) > 1:
            first = rows[rows[key].astype(str) == values[0]].iloc[0]
            other = rows[rows[key].astype(str) == values[1]].iloc[0]
            raise UsageError(
                f"compare: metric '{metric}': {key} differs — '{values[0]}' (run {first['run_id']}) vs "
                f"'{values[1]}' (run {other['run_id']}); compare only like with like: "
                f"filter the results to one {key} first"
            )


def groups_in_order(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    groups = list(frame.groupby(_KEY_COLUMN, sort=False))
    return sorted(groups, key=lambda item: configuration_sort_key(item[0]))


def _matching_baseline(base: pd.DataFrame, row: pd.Series, strata: list[str]) -> pd.DataFrame:
    chosen = base
    for column in strata:
        chosen = chosen[chosen[column].map(lambda cell, v=row[column]: _same(cell, v))]
    return chosen


def _comparison_row(
    group: pd.DataFrame, reference: pd.DataFrame, key: str, by: list[str], confidence: float
) -> dict[str, Any]:
    first = group.iloc[0]
    side = math.sqrt(confidence)
    mine, base = configuration_estimate(group, side), configuration_estimate(reference, side)
    base_label = (
        configuration_label(reference[_KEY_COLUMN].iloc[0])
        if base.count
        else "none (no baseline run with the same other settings)"
    )
    is_baseline = set(group["run_id"]) == set(reference["run_id"])
    judged = ratio_verdict(mine, base, first["goal"], is_baseline=is_baseline)
    row = {column: first[column] for column in by}
    row.update(
        configuration=configuration_label(key),
        baseline=base_label,
        metric=first["metric"],
        kind=first["kind"],
        unit=first["unit"],
        goal=first["goal"],
        baseline_median=base.median,
        median=mine.median,
        **judged,
        n_baseline=sample_count(reference),
        n=sample_count(group),
        baseline_runs=len(reference["run_id"].unique()),
        runs=len(group["run_id"].unique()),
        division=_division_of(group),
        baseline_division=_division_of(reference),
        configurations_tried=_configurations_tried(group),
    )
    return row


def _division_of(rows: pd.DataFrame) -> str:
    """The division of some rows: ``closed``, ``open`` or ``closed+open`` (older records count as open)."""
    if "division" not in rows.columns or rows.empty:
        return "open"
    return "+".join(sorted(set(rows["division"].fillna("open").astype(str))))


def _configurations_tried(rows: pd.DataFrame) -> float:
    """The largest tuning budget among the rows' sweeps; NaN when none came from a sweep."""
    if "tuning_configurations" not in rows.columns:
        return math.nan
    budgets = rows["tuning_configurations"].dropna()
    return float(budgets.max()) if len(budgets) else math.nan


def ratio_verdict(mine: Estimate, base: Estimate, goal: str, *, is_baseline: bool = False) -> dict[str, Any]:
    """Compare's statistics for one pair of estimates (``configuration_estimate`` at √confidence each):
    ``ratio`` of medians, ``ci_low, ci_high, ci_level`` (``stats.ratio_of_sides``), ``interval_units``,
    ``significant`` (the interval excludes 1), ``better`` (by ``goal``) and the ``verdict``. The one place a
    difference is judged: ``compare`` and ``history`` both call it."""
    ratio, low, high, level = _ratio_interval(mine, base)
    if is_baseline:  # compared with itself: ratio 1, no interval to speak of
        low = high = level = math.nan
    significant = bool(not math.isnan(low) and (low > 1 or high < 1))
    better = significant and ((ratio > 1) == (goal == "maximize"))
    return {
        "ratio": ratio,
        "ci_low": low,
        "ci_high": high,
        "ci_level": level,
        "interval_units": mine.units if mine.units == base.units else f"{mine.units} vs {base.units}",
        "significant": significant,
        "better": better,
        "verdict": _verdict(is_baseline, ratio, low, significant, better),
    }


def sample_count(rows: pd.DataFrame) -> int:
    """How many samples the rows' runs hold (their ``n``; else their samples, else one per value)."""
    total = 0
    for n, value, samples in zip(
        rows["n"] if "n" in rows.columns else [0] * len(rows),
        rows["value"],
        rows["samples"] if "samples" in rows.columns else [None] * len(rows),
        strict=True,
    ):
        if not _missing(n) and int(n) > 0:
            total += int(n)
        elif samples is not None and len(samples) > 0:
            total += len(samples)
        elif not _missing(value):
            total += 1
    return total


def _verdict(is_baseline: bool, ratio: float, low: float, significant: bool, better: bool) -> str:
    """One of: baseline, better, worse, no significant difference, too few samples, not comparable."""
    if is_baseline:
        return "baseline"
    if math.isnan(ratio):
        return "not comparable"
    if math.isnan(low):
        return "too few samples"
    if significant:
        return "better" if better else "worse"
    return "no significant difference"


def significance_note(table: pd.DataFrame) -> str:
    """What the verdicts of a ``compare()`` table mean, and what their intervals leave out."""
    note = (
        "Ratio: the median divided by the baseline's median, with a distribution-free interval whose "
        "coverage is at least the level printed beside it (below 95% when a side has fewer than 7 "
        "units). The units are runs: a configuration run several times is summarised by its runs' "
        "medians, and its interval is over those runs; one run, by its repeats. 'better' or 'worse' "
        "(by the metric's goal) only when the interval excludes 1: the data "
        "show a difference, which does not mean a large one — and at a 95% level up to 1 in 20 "
        "comparisons of identical set-ups still excludes 1. 'no significant difference': a difference is not shown, "
        "which does not prove there is none. 'too few samples': fewer than 2 units on a side."
    )
    if len(table) and ((table["runs"] == 1) | (table["baseline_runs"] == 1)).any():
        note += (
            " Where a configuration has a single run, its interval reflects the repeats inside that run "
            "only, not run-to-run variation (other processes, clock frequency, a reboot): repeat whole runs "
            "before trusting a small difference."
        )
    return note


def _ratio_interval(mine: Estimate, base: Estimate) -> tuple[float, float, float, float]:
    """Ratio of medians, its CI and the CI's level; no CI unless both sides have two units or more."""
    if _missing(mine.median) or _missing(base.median) or base.median == 0:
        return math.nan, math.nan, math.nan, math.nan
    ratio = mine.median / base.median
    if mine.count < 2 or base.count < 2 or _missing(mine.low) or _missing(base.low):
        return ratio, math.nan, math.nan, math.nan
    try:
        return ratio_of_sides(mine[:4], base[:4])
    except ValueError:  # a negative quantity: no ratio interval
        return ratio, math.nan, math.nan, math.nan


def mixed_divisions(table: pd.DataFrame) -> bool:
    """Whether a ``compare()`` table ranks results of both divisions together."""
    if "division" not in table.columns or table.empty:
        return False
    return len(set("+".join([*table["division"], *table["baseline_division"]]).split("+"))) > 1


MIXED_DIVISIONS_NOTE = (
    "Mixed divisions (--mixed-divisions): closed and open results are ranked together. A closed run changed "
    "only the fields its spec lists as tunable; an open run may have changed anything (each record lists its "
    "overrides), so a difference between them may come from those changes, not from the system."
)


def tuning_notes(table: pd.DataFrame) -> list[str]:
    """``best of 12 configurations``: what a sweep's tuning budget means for the rows it produced."""
    if "configurations_tried" not in table.columns:
        return []
    budgets = sorted({int(n) for n in table["configurations_tried"].dropna()})
    return [
        f"Tuning budget: these results come from a sweep of {count_noun(n, 'configuration')}; the best one "
        f"is the best of {n} tries, and part of its lead may be luck — confirm it with fresh runs."
        for n in budgets
        if n > 1
    ]


def format_comparison(table: pd.DataFrame) -> str:
    """A plain-text table of a ``compare()`` result, for the terminal."""
    mixed = mixed_divisions(table)
    header = ("configuration", "metric", "median", "baseline", "ratio", "CI (coverage)", "CI over", "verdict")
    header += ("division", "baseline division") if mixed else ()
    lines = [header]
    for _, row in table.iterrows():
        lines.append(
            (
                str(row["configuration"]),
                str(row["metric"]),
                format_quantity(row["median"], row["unit"]),
                format_quantity(row["baseline_median"], row["unit"]),
                format_number(row["ratio"]),
                ratio_interval_text(row),
                str(row.get("interval_units", "")) if ratio_interval_text(row) != "n/a" else "",
                str(row["verdict"]),
            )
            + ((str(row["division"]), str(row["baseline_division"])) if mixed else ())
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    rendered = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    notes = [significance_note(table), *tuning_notes(table), *([MIXED_DIVISIONS_NOTE] if mixed else [])]
    return "\n".join(rendered) + "\n\n" + "\n".join(textwrap.fill(note, width=100) for note in notes)


def ratio_interval_text(row: Mapping[str, Any]) -> str:
    """``[1.12, 1.31] ≥ 95.7 %``: a comparison row's interval with its level; ``n/a`` when it has none."""
    level = row.get("ci_level")
    if _missing(row.get("ci_low")) or _missing(level):
        return "n/a"
    interval = f"[{format_number(row['ci_low'])}, {format_number(row['ci_high'])}]"
    return f"{interval} {format_level(float(level), at_least=True)}"


def median_or_nan(values: list[float]) -> float:
    """The median of ``values``; NaN when there are none."""
    import statistics

    return statistics.median(values) if values else math.nan


def count_noun(n: int, noun: str) -> str:
    """``1 run``, ``3 runs``: a count with its noun, plural when not one."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def format_number(value: Any) -> str:
    """A figure for a table: 4 significant digits, ``n/a`` when missing (None or NaN)."""
    if _missing(value):
        return "n/a"
    return f"{float(value):.4g}"


_missing = missing


def _plain(value: Any) -> Any:
    """Numpy scalars -> Python scalars; integral floats -> int (pandas turns int columns with gaps to float)."""
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _same(cell: Any, value: Any) -> bool:
    if _missing(cell):
        return _missing(value)
    cell = _plain(cell)
    if isinstance(cell, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(cell) == float(value)
    return json.dumps(cell, default=str) == json.dumps(value, default=str) or str(cell) == str(value)


def _value_order(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value))
    return (1, json.dumps(value, default=str))


def _format_value(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)
