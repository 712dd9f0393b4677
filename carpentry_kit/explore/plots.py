"""Plots of stored results (matplotlib), for the lessons and the report. Nothing here re-runs anything.

Each function takes a results directory (read as ``load_results(dir, samples="summary")``: memory bounded by
the runs) or a tidy results frame (``load_results(dir, samples=True)`` for every raw sample),
draws on ``ax`` (a new figure when ``None``) and returns the Axes, labelled with units and titled.
Energy that was *estimated* rather than measured is always drawn differently — hatched boxes and bars,
hollow markers — and the legend says "estimated" with the method, so an estimate never passes for a
measurement.

* ``plot_distributions(results, metric)`` — the repeat samples of each configuration (box + strip; a
  summary frame holds at most ``SUMMARY_POINTS`` quantiles a run, a strip draws at most
  ``MAX_STRIP_POINTS``, and the title says when not every sample is drawn).
* ``plot_metric_vs_param(results, metric, param)`` — median and its CI against a swept parameter (over the
  runs' medians where a point has several runs, as ``compare`` does).
* ``plot_tradeoff(results, x, y)`` — one metric against another, Pareto front highlighted (goal-aware).
* ``plot_energy_breakdown(results)`` — energy per timed repeat, stacked by component, labelled by layer.
* ``plot_history(history)`` — a metric's median and CI over a benchmark's versions, significant changes marked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.errors import UsageError
from carpentry_kit.explore.compare import (
    check_metric,
    completed,
    configuration_estimate,
    configuration_key,
    configuration_label,
    configuration_sort_key,
    groups_in_order,
    pooled_samples,
    resolve_column,
    results_frame,
    sample_count,
    varying_keys,
    varying_overrides,
    with_configurations,
)
from carpentry_kit.results.units import missing

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

_ESTIMATE_HATCH = "//"
MAX_STRIP_POINTS = 2000  # a configuration's strip draws at most this many points (evenly spaced quantiles)
MAX_LABELLED_POINTS = 12  # a trade-off plot with more points labels only its Pareto front
_SI_UNITS = ("s", "J", "W")  # axes in these units get SI-prefixed ticks (500 µs, 2 mJ) instead of 5e-4
_LABEL_POINTS = 7.0  # font size of point labels, in points


def plot_distributions(
    results: Any, metric: str, by: list[str] | None = None, ax: Axes | None = None
) -> Axes:
    """Box plot plus the samples (strip) of ``metric`` for each configuration."""
    import numpy as np

    rows = _metric_rows(results, metric, by)
    ax = _axes(ax)
    groups = groups_in_order(rows)
    data = [pooled_samples(group) for _, group in groups]
    every = all(len(d) == sample_count(group) for d, (_, group) in zip(data, groups, strict=True))
    estimated = [_is_estimate(group) for _, group in groups]
    boxes = ax.boxplot(data, patch_artist=True, widths=0.5, showfliers=False)
    jitter = np.random.default_rng(0)
    for position, (samples, estimate, box) in enumerate(
        zip(data, estimated, boxes["boxes"], strict=True), start=1
    ):
        box.set(facecolor="none" if estimate else "#cfe2f3", hatch=_ESTIMATE_HATCH if estimate else None)
        shown = _strip(samples)
        every &= len(shown) == len(samples)
        xs = position + jitter.uniform(-0.12, 0.12, len(shown))
        ax.scatter(xs, shown, s=14, zorder=3, **_scatter_style(estimate, "C0"))
    ax.set_xticks(range(1, len(groups) + 1), [configuration_label(key) for key, _ in groups])
    _rotate_if_crowded(ax, len(groups))
    ax.set_xlabel("configuration")
    ax.set_ylabel(_metric_label(rows))
    _si_ticks(ax.yaxis, rows["unit"].iloc[0])
    what = "every repeat sample" if every else f"repeat samples (≤ {MAX_STRIP_POINTS:,} quantiles drawn)"
    ax.set_title(f"{_benchmarks(rows)}: {metric}, {what}")
    _estimate_note(ax, rows, any(estimated))
    _fit_to_axes(ax)
    return ax


def _strip(samples: list[float]) -> Any:
    """The points of a strip: all samples, or ``MAX_STRIP_POINTS`` evenly spaced order statistics."""
    import numpy as np

    if len(samples) <= MAX_STRIP_POINTS:
        return samples
    ordered = np.sort(np.asarray(samples, dtype=float))
    return ordered[np.linspace(0, ordered.size - 1, MAX_STRIP_POINTS).round().astype(int)]


def plot_metric_vs_param(
    results: Any, metric: str, param: str, hue: list[str] | None = None, ax: Axes | None = None
) -> Axes:
    """Median of ``metric`` with its confidence interval against the swept parameter ``param``.

    Other swept parameters (``hue``, default: every other override that varies) each get their own line.
    """
    frame = completed(results_frame(results))
    check_metric(frame, metric)
    param = resolve_column(frame, param)
    hue = [c for c in varying_overrides(frame) if c != param] if hue is None else hue
    rows = with_configurations(frame[frame["metric"] == metric], hue)
    ax = _axes(ax)
    numeric = _all_numeric(rows[param])
    categories = sorted({str(v) for v in rows[param]}) if not numeric else []
    levels: list[float] = []
    for index, (key, line) in enumerate(groups_in_order(rows)):
        points = _points_by_value(line, param)
        levels += [summary[3] for _, summary in points]
        xs = [value if numeric else categories.index(str(value)) for value, _ in points]
        medians = [summary[0] for _, summary in points]
        errors = [
            [m - s[1] for m, (_, s) in zip(medians, points, strict=True)],
            [s[2] - m for m, (_, s) in zip(medians, points, strict=True)],
        ]
        estimate = _is_estimate(line)
        label = configuration_label(key) if hue else None
        ax.errorbar(
            xs, medians, yerr=errors, capsize=4, label=label, **_errorbar_style(estimate, f"C{index}")
        )
    if not numeric:
        ax.set_xticks(range(len(categories)), categories)
    elif _spans_decades(rows[param]):
        ax.set_xscale("log", base=2)
        values = sorted({float(v) for v in rows[param]})
        ax.set_xticks(values, [f"{v:g}" for v in values])
        ax.minorticks_off()
    ax.set_xlabel(param)
    ax.set_ylabel(_metric_label(rows))
    _si_ticks(ax.yaxis, rows["unit"].iloc[0])
    ax.set_title(
        f"{_benchmarks(rows)}: median {metric} vs {param.split('.')[-1]} (bars: {_levels_text(levels)})"
    )
    if hue:
        ax.legend(title=", ".join(h.split(".")[-1] for h in hue), fontsize="small")
    _estimate_note(ax, rows, _is_estimate(rows))
    _fit_to_axes(ax)
    return ax


def plot_tradeoff(
    results: Any, x: str = "energy_per_sample_j", y: str | None = None, ax: Axes | None = None
) -> Axes:
    """Each configuration's median ``y`` against its median ``x``; the Pareto front is highlighted.

    A point is on the front when no other configuration is at least as good on both metrics and better on
    one, where "good" follows each metric's goal. Points are labelled with their configuration (only the
    front's when there are more than ``MAX_LABELLED_POINTS``). ``y`` defaults to the first quality metric
    other than ``x``, else the first performance metric, else the first energy metric.
    """
    frame = completed(results_frame(results))
    check_metric(frame, x)
    y = y or _default_partner(frame, x)
    check_metric(frame, y)
    table = _medians_table(with_configurations(frame), [x, y])
    front = pareto_front(table[[x, y]].to_numpy().tolist(), [_goal(frame, x), _goal(frame, y)])
    ax = _axes(ax)
    for on_front, colour, name in ((False, "0.55", "dominated"), (True, "C3", "Pareto front")):
        for estimate in (False, True):
            chosen = table[(front == on_front) & (table["estimated"] == estimate)]
            if not chosen.empty:
                label = name + (" (estimated energy)" if estimate else "")
                ax.scatter(
                    chosen[x], chosen[y], s=60, zorder=3, label=label, **_scatter_style(estimate, colour)
                )
    best = table[front].sort_values(x)
    # the staircase bounds the region the front dominates: it turns at each point towards worse x
    steps = "steps-pre" if _goal(frame, x) == "maximize" else "steps-post"
    ax.plot(best[x], best[y], color="C3", linewidth=1, drawstyle=steps, zorder=2)
    labelled = table if len(table) <= MAX_LABELLED_POINTS else table[front]
    _label_points(ax, labelled[x].tolist(), labelled[y].tolist(), labelled["label"].tolist())
    ax.set_xlabel(f"{x} ({_unit(frame, x)}, {_goal(frame, x)})")
    ax.set_ylabel(f"{y} ({_unit(frame, y)}, {_goal(frame, y)})")
    _si_ticks(ax.xaxis, _unit(frame, x))
    _si_ticks(ax.yaxis, _unit(frame, y))
    ax.set_title(f"{_benchmarks(frame)}: {y} vs {x}")
    ax.legend(fontsize="small")
    _estimate_note(ax, frame[frame["metric"].isin([x, y])], bool(table["estimated"].any()))
    _fit_to_axes(ax)
    return ax


def plot_energy_breakdown(results: Any, by: list[str] | None = None, ax: Axes | None = None) -> Axes:
    """Energy per timed repeat of each configuration, stacked by component and labelled by layer.

    ``results`` is a results directory or an iterable of run records (dicts): the breakdown by component is
    in the records, not in the tidy frame. Estimated energy is hatched, and the legend names the method.
    """
    import numpy as np

    table = energy_components(results, by)
    if table.empty:
        raise UsageError("results: no completed run has an energy reading — run with an energy method")
    ax = _axes(ax)
    orders = dict(zip(table["configuration"], table["order"], strict=True))
    labels = sorted(orders, key=orders.__getitem__)
    bottom = np.zeros(len(labels))
    for index, ((component, layer), part) in enumerate(table.groupby(["component", "layer"], sort=True)):
        heights = part.groupby("configuration")["joules"].mean().reindex(labels, fill_value=0.0)
        estimated = part.groupby("configuration")["estimated"].any().reindex(labels, fill_value=False)
        bars = ax.bar(
            labels, heights.to_numpy(), bottom=bottom, color=f"C{index}", label=f"{component} ({layer})"
        )
        for bar, estimate in zip(bars, estimated, strict=True):
            if estimate:
                bar.set(hatch=_ESTIMATE_HATCH, alpha=0.6, edgecolor="black")
        bottom += heights.to_numpy()
    _rotate_if_crowded(ax, len(labels))
    ax.set_xlabel("configuration")
    ax.set_ylabel("energy per timed repeat (J)")
    _si_ticks(ax.yaxis, "J")
    ax.set_title(f"{', '.join(table['benchmark'].unique())}: energy by component (layer)")
    methods = sorted(set(table.loc[table["estimated"], "method"]))
    if methods:
        ax.bar([labels[0]], [0], hatch=_ESTIMATE_HATCH, color="white", edgecolor="black",
               label="hatched: estimated")  # fmt: skip
        ax.set_xlabel(
            f"configuration\nhatched: estimated energy, not measured (method: {', '.join(methods)})"
        )
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    _fit_to_axes(ax)
    return ax


def plot_latency_throughput(
    results: Any,
    rate: str = "protocol.loadgen.target_qps",
    latency: str = "latency_p99_s",
    throughput: str = "tokens_per_s",
    ax: Axes | None = None,
) -> Axes:
    """Tail latency (left axis) and throughput (right axis) against the offered load ``rate`` (a swept
    override: the Server scenario's target QPS, or a batch size), with the largest rate whose run LoadGen
    judged VALID marked: past it, the system can no longer keep its latency promise."""
    frame = completed(results_frame(results))
    for metric in (latency, throughput):
        check_metric(frame, metric)
    rate = resolve_column(frame, rate)
    ax = _axes(ax)
    lines = {}
    for axis, metric, colour in ((ax, latency, "C0"), (ax.twinx(), throughput, "C1")):
        points = _points_by_value(frame[frame["metric"] == metric], rate)
        xs, medians = [float(value) for value, _ in points], [summary[0] for _, summary in points]
        (lines[metric],) = axis.plot(
            xs, medians, "o-", color=colour, label=f"{metric} ({_unit(frame, metric)})"
        )
        axis.set_ylabel(f"{metric} ({_unit(frame, metric)})", color=colour)
    valid = frame[(frame["metric"] == latency) & (frame["validity"] == "VALID")][rate]
    if len(valid):
        best = max(float(value) for value in valid)
        ax.axvline(best, color="green", linestyle="--")
        ax.annotate(f"largest VALID rate: {best:g}", (best, 0.95), xycoords=("data", "axes fraction"),
                    ha="right", va="top", color="green")  # fmt: skip
    ax.set_xlabel(rate)
    ax.set_title("Latency and throughput against offered load")
    ax.legend(handles=list(lines.values()), loc="upper left")
    return ax


def plot_history(history: Any, metric: str | None = None, ax: Axes | None = None) -> Axes:
    """A metric's median with its confidence interval over a benchmark's versions (``explore.history``).

    ``history`` is a ``History`` or what ``benchmark_history`` takes (results directories, records). Each
    benchmark is one line, its versions in order along the x axis (labelled with ``benchmark.version`` and
    the first run's date); a version whose change from the one before is significant is circled in red.
    """
    from carpentry_kit.explore.history import History, benchmark_history

    if not isinstance(history, History):
        history = benchmark_history(history, metric)
    table = history.table
    ax = _axes(ax)
    for index, (benchmark, rows) in enumerate(table.groupby("benchmark", sort=False)):
        xs = list(rows["version"])
        medians = list(rows["median"])
        low = [
            m - (lo if not missing(lo) else m) for m, lo in zip(medians, rows["median_ci_low"], strict=True)
        ]
        high = [
            (hi if not missing(hi) else m) - m for m, hi in zip(medians, rows["median_ci_high"], strict=True)
        ]
        ax.errorbar(xs, medians, yerr=[low, high], capsize=4, marker="o", color=f"C{index}", label=benchmark)
        flagged = rows[rows["flagged"]]
        ax.scatter(
            flagged["version"], flagged["median"], s=180, facecolors="none", edgecolors="C3", linewidths=2,
            label="significant change" if index == 0 and len(flagged) else None, zorder=3,
        )  # fmt: skip
    first = table.drop_duplicates("version")
    ax.set_xticks(
        list(first["version"]),
        [f"{v}\n{d[:10]}" for v, d in zip(first["benchmark_version"], first["first_run"], strict=True)],
    )
    ax.set_xlabel("benchmark version (first run)")
    unit = str(table["unit"].dropna().iloc[0]) if table["unit"].notna().any() else ""
    ax.set_ylabel(f"{history.metric} ({unit}, median)")
    _si_ticks(ax.yaxis, unit)
    ax.set_title(
        f"{', '.join(table['benchmark'].unique())}: {history.metric} over versions (bars: CI of the median)"
    )
    ax.legend(fontsize="small")
    return ax


def largest_valid_rate(results: Any, rate: str = "protocol.loadgen.target_qps") -> float | None:
    """The largest value of ``rate`` among completed VALID runs (None when no run is VALID)."""
    frame = completed(results_frame(results))
    rate = resolve_column(frame, rate)
    valid = frame[frame["validity"] == "VALID"][rate].dropna()
    return float(valid.max()) if len(valid) else None


def pareto_front(points: Sequence[Sequence[float]], goals: Sequence[str]) -> Any:
    """Boolean numpy mask of the points no other point dominates (``goals``: maximize/minimize each)."""
    import numpy as np

    values = np.asarray(points, dtype=float).reshape(len(points), len(goals))
    signs = np.array([1.0 if goal == "maximize" else -1.0 for goal in goals])
    oriented = values * signs  # larger is better on every axis now
    front = np.ones(len(values), dtype=bool)
    for i, point in enumerate(oriented):
        dominates = np.all(oriented >= point, axis=1) & np.any(oriented > point, axis=1)
        front[i] = not dominates.any()
    return front


def energy_components(results: Any, by: list[str] | None = None) -> pd.DataFrame:
    """Tidy energy breakdown of completed runs: ``benchmark, configuration, order, run_id, component, layer,
    joules, estimated, method`` with joules per timed repeat (``order`` sorts configurations naturally)."""
    import pandas as pd

    records = [r for r in _records(results) if r.get("status") == "completed" and r.get("energy")]
    by = varying_keys(r.get("overrides") or {} for r in records) if by is None else by
    rows = []
    for record in records:
        energy = record["energy"]
        scale = _per_repeat_scale(energy)
        overrides = record.get("overrides") or {}
        key = configuration_key(overrides, [path for path in by if path in overrides])
        for component, joules in (energy.get("components_j") or {"total": energy["total_j"]}).items():
            rows.append(
                {
                    "benchmark": record.get("benchmark", "unknown"),
                    "configuration": configuration_label(key),
                    "order": configuration_sort_key(key),
                    "run_id": record["run_id"],
                    "component": component,
                    "layer": energy.get("layer", "unknown"),
                    "joules": float(joules) * scale,
                    "estimated": not energy.get("measured", False),
                    "method": energy.get("method", "unknown"),
                }
            )
    columns = ["benchmark", "configuration", "order", "run_id", "component", "layer", "joules"]
    columns += ["estimated", "method"]
    return pd.DataFrame(rows, columns=columns)


# --- shared helpers -------------------------------------------------------------------------------


def _metric_rows(results: Any, metric: str, by: list[str] | None) -> pd.DataFrame:
    frame = completed(results_frame(results))
    check_metric(frame, metric)
    by = [resolve_column(frame, c) for c in by] if by is not None else varying_overrides(frame)
    return with_configurations(frame[frame["metric"] == metric], by)


def _records(results: Any) -> list[dict[str, Any]]:
    if isinstance(results, (str, Path)):
        from carpentry_kit.results.store import ResultStore

        return [_as_dict(record) for record in ResultStore(results).records()]
    return [_as_dict(record) for record in results]


def _as_dict(record: Any) -> dict[str, Any]:
    return record if isinstance(record, dict) else record.to_dict()


def _per_repeat_scale(energy: dict[str, Any]) -> float:
    total, per_repeat = energy.get("total_j"), energy.get("per_repeat_j")
    return per_repeat / total if total and per_repeat is not None else 1.0


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 4.5), layout="constrained")[1]


def _scatter_style(estimate: bool, colour: str) -> dict[str, Any]:
    """Scatter markers: filled for measurements, hollow for estimates."""
    return {"marker": "o", "facecolors": "none" if estimate else colour, "edgecolors": colour}


def _errorbar_style(estimate: bool, colour: str) -> dict[str, Any]:
    """Error-bar lines: solid with filled markers for measurements, dashed and hollow for estimates."""
    face = "white" if estimate else colour
    return {"marker": "o", "color": colour, "markerfacecolor": face, "linestyle": "--" if estimate else "-"}


def _is_estimate(rows: pd.DataFrame) -> bool:
    if "energy_measured" not in rows.columns:
        return False
    energy = rows[rows["kind"] == "energy"]
    return bool((energy["energy_measured"] == False).any())  # noqa: E712 - a pandas mask


def _estimate_note(ax: Axes, rows: pd.DataFrame, estimated: bool) -> None:
    """Say in the plot that (some) energy figures are estimates, and by which method."""
    if not estimated:
        return
    methods = sorted({str(m) for m in rows.loc[rows["energy_measured"] == False, "energy_method"]})  # noqa: E712
    note = f"hollow/hatched: estimated energy, not measured (method: {', '.join(methods)})"
    ax.set_xlabel(f"{ax.get_xlabel()}\n{note}")


def _fit_to_axes(ax: Axes) -> None:
    """Wrap the title and the x label to the width of the axes: side-by-side plots' texts never overlap."""
    import textwrap

    width_in = ax.get_position().width * ax.figure.get_figwidth()
    for text in (ax.title, ax.xaxis.label):
        chars = max(24, int(width_in * 72 / (text.get_fontsize() * 0.6)))  # ~0.6 em per character
        text.set_text("\n".join(textwrap.fill(line, chars) for line in text.get_text().split("\n")))


def _metric_label(rows: pd.DataFrame) -> str:
    return f"{rows['metric'].iloc[0]} ({rows['unit'].iloc[0]})"


def _benchmarks(rows: pd.DataFrame) -> str:
    return ", ".join(sorted(rows["benchmark"].astype(str).unique()))


def _unit(frame: pd.DataFrame, metric: str) -> str:
    return str(frame.loc[frame["metric"] == metric, "unit"].iloc[0])


def _goal(frame: pd.DataFrame, metric: str) -> str:
    return str(frame.loc[frame["metric"] == metric, "goal"].iloc[0])


def _default_partner(frame: pd.DataFrame, x: str) -> str:
    for kind in ("quality", "performance", "energy"):
        names = [m for m in dict.fromkeys(frame.loc[frame["kind"] == kind, "metric"]) if m != x]
        if names:
            return names[0]
    raise UsageError(f"metric: only '{x}' is in these results — a trade-off needs a second metric")


def _medians_table(frame: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for key, group in groups_in_order(frame):
        row: dict[str, Any] = {"label": configuration_label(key), "estimated": _is_estimate(group)}
        for metric in metrics:
            row[metric] = configuration_estimate(group[group["metric"] == metric]).median
        rows.append(row)
    return pd.DataFrame(rows).dropna(subset=metrics).reset_index(drop=True)


def _levels_text(levels: list[float]) -> str:
    """What the error bars are: ``96.8 % CI`` or, when the levels differ, ``75.0-96.8 % CI``."""
    from carpentry_kit.stats import format_level

    shown = [level for level in levels if level > 0]
    if not shown:
        return "no CI: one sample per point"
    low, high = format_level(min(shown)), format_level(max(shown))
    return f"{high} CI" if low == high else f"{low.removesuffix(' %')}-{high} CI"


def _points_by_value(rows: pd.DataFrame, param: str) -> list[tuple[Any, tuple[float, float, float, float]]]:
    """Per value of ``param``: the median and its CI (over runs when there are several, as compare does)."""
    points = []
    for _, group in rows.groupby(rows[param].astype(str), sort=False):
        estimate = configuration_estimate(group)
        if _missing_number(estimate.low):  # one sample: the point itself, no interval
            estimate = estimate._replace(low=estimate.median, high=estimate.median, level=0.0)
        point = (estimate.median, estimate.low, estimate.high, estimate.level)
        points.append((group[param].iloc[0], point))
    return sorted(points, key=lambda point: _sort_key(point[0]))


def _missing_number(value: float) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, float(value)) if _is_number(value) else (1, str(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or hasattr(value, "dtype")


def _all_numeric(values: Any) -> bool:
    return all(_is_number(v) and not (isinstance(v, float) and math.isnan(v)) for v in values)


def _spans_decades(values: Any) -> bool:
    numbers = [float(v) for v in values if float(v) > 0]
    return len(numbers) == len(list(values)) and max(numbers) / min(numbers) >= 8


def _rotate_if_crowded(ax: Axes, count: int) -> None:
    if count > 4:
        ax.tick_params(axis="x", labelrotation=30 if count <= 6 else 45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")


def _si_ticks(axis: Any, unit: str) -> None:
    """SI-prefixed tick labels with the unit (``500 µs``, ``2 mJ``) for seconds, joules and watts."""
    if unit in _SI_UNITS:
        from matplotlib.ticker import EngFormatter

        axis.set_major_formatter(EngFormatter(unit=unit))


def _label_points(ax: Axes, xs: list[float], ys: list[float], labels: list[str]) -> None:
    """Label points without overlapping labels: text to the right of a point in the left half of the plot,
    to its left in the right half, moved down or up past a label already placed."""
    ax.autoscale_view()
    to_points = ax.transData + ax.figure.dpi_scale_trans.inverted()  # data -> inches
    middle = sum(ax.get_xlim()) / 2
    placed: list[tuple[float, float, float, float]] = []
    height = 1.3 * _LABEL_POINTS
    for x, y, label in sorted(zip(xs, ys, labels, strict=True), key=lambda item: -item[1]):
        px, py = (72 * v for v in to_points.transform((x, y)))
        width = 0.62 * _LABEL_POINTS * len(label)
        right = x <= middle
        left_edge = px + 4 if right else px - 4 - width
        for dy in (3, -3 - height, 3 + height, -3 - 2 * height, 3 + 2 * height, -3 - 3 * height):
            box = (left_edge, py + dy, left_edge + width, py + dy + height)
            if not any(_overlap(box, other) for other in placed):
                break
        placed.append(box)
        leader = {"arrowprops": {"arrowstyle": "-", "color": "0.6", "linewidth": 0.5}} if dy != 3 else {}
        ax.annotate(label, (x, y), xytext=(4 if right else -4, dy), textcoords="offset points",
                    ha="left" if right else "right", va="bottom", fontsize=_LABEL_POINTS, **leader)  # fmt: skip


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
