"""A measurement turned into the record's metrics (statistics and samples) and its energy summary."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from carpentry_kit.measure.harness import Measurement
from carpentry_kit.ontology import producible_metrics

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Spec


def metric_problems(
    spec: Spec, workload_class: type, work: dict[str, float] | None = None
) -> list[tuple[tuple, str, str]]:
    """A problem for every spec metric the run cannot produce, listing the ones it can."""
    from carpentry_kit.spec.registry_checks import unproducible_metric

    scenario = spec.protocol.scenario
    known = producible_metrics(scenario, workload_class, work)
    return [
        (("metrics", index, "name"), *unproducible_metric(workload_class.name, metric.name, scenario, known))
        for index, metric in enumerate(spec.metrics)
        if metric.name not in known
    ]


def build_metrics(spec: Spec, measurement: Measurement, work: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Every spec metric: kind, unit, goal, target, headline value, statistics and raw samples."""
    from carpentry_kit.stats import summarize

    series = _metric_series(measurement, work)
    metrics = {}
    for metric in spec.metrics:
        samples, headline = series.get(metric.name, ([], None))
        samples = [sample for sample in samples if math.isfinite(sample)]  # see non_finite_error
        headline = headline if headline is None or math.isfinite(headline) else None
        stats = summarize(samples) if samples else None
        value = headline if headline is not None else (stats.median if stats else None)
        metrics[metric.name] = {
            "kind": metric.kind,
            "unit": metric.unit,
            "goal": metric.goal,
            "target": metric.target,
            "value": value,
            "stats": stats.to_dict() if stats else None,
            "samples": list(samples),
        }
    return metrics


def non_finite_error(spec: Spec, measurement: Measurement, work: dict[str, float]) -> str | None:
    """Why the run failed when it produced NaN or infinity for a spec metric (e.g. a diverged training),
    or None. ``build_metrics`` keeps only the finite samples; this says what was left out."""
    series = _metric_series(measurement, work)
    bad = []
    for metric in spec.metrics:
        samples, headline = series.get(metric.name, ([], None))
        values = [*samples, *([] if headline is None else [headline])]
        shown = sorted({repr(float(v)) for v in values if not math.isfinite(v)})
        if shown:
            count = sum(not math.isfinite(v) for v in samples)
            bad.append(f"{metric.name} was {'/'.join(shown)} in {count} of {len(samples)} samples")
    joules = [reading.total_j for reading in measurement.energy_windows]
    broken = sum(not math.isfinite(value) for value in joules)
    if broken:
        bad.append(f"the energy meter read {broken} of {len(joules)} windows as non-finite")
    if not bad:
        return None
    return (
        "the run produced non-finite numbers: " + "; ".join(bad) + " — a diverged training"
        " (learning rate too high?) or a broken measurement; only the finite samples are kept"
    )


def _metric_series(measurement: Measurement, work: dict[str, float]) -> dict[str, tuple[list[float], Any]]:
    """name -> (samples, headline or None for the median of the samples)."""
    m = measurement
    series: dict[str, tuple[list[float], Any]] = {}
    rates = [count / seconds for count, seconds in zip(m.samples, m.repeat_s, strict=True) if seconds > 0]
    series["throughput"] = (rates, None)
    if "flop" in work:
        series["gflops"] = ([rate * work["flop"] / 1e9 for rate in rates], None)
    if m.scenario == "offline":
        series["latency_s"] = (list(m.repeat_s), None)
    elif m.scenario == "single-stream":
        series.update(_latency_series(m))
    else:
        reached = [index for index, ok in enumerate(m.reached) if ok]
        series["time_to_target_s"] = ([m.repeat_s[i] for i in reached], None)
        series["epochs_to_target"] = ([float(m.epochs[i]) for i in reached], None)
    series.update(_energy_series(m))
    for name in {name for quality in m.quality for name in quality}:
        series[name] = ([quality[name] for quality in m.quality if name in quality], None)
    return series


def _latency_series(m: Measurement) -> dict[str, tuple[list[float], Any]]:
    """Per-query latency; percentiles as MLPerf reports them (over all queries), with per-repeat samples."""
    import numpy as np

    latencies = np.asarray(m.query_latency_s)
    if latencies.size == 0:
        return {}
    per_repeat = np.array_split(latencies, len(m.repeat_s)) if m.repeat_s else [latencies]
    series: dict[str, tuple[list[float], Any]] = {"latency_s": (latencies.tolist(), None)}
    for percent in (50, 90, 99):
        pooled = float(np.percentile(latencies, percent))
        samples = [float(np.percentile(chunk, percent)) for chunk in per_repeat if chunk.size]
        series[f"latency_p{percent}_s"] = (samples, pooled)
    return series


def _energy_series(m: Measurement) -> dict[str, tuple[list[float], Any]]:
    if not m.energy_per_repeat_j:
        return {}
    per_sample = [
        joules / count for joules, count in zip(m.energy_per_repeat_j, m.samples, strict=False) if count > 0
    ]
    powers = [
        joules / seconds
        for joules, seconds in zip(m.energy_per_repeat_j, m.repeat_s, strict=False)
        if seconds
    ]
    return {
        "energy_j": (list(m.energy_per_repeat_j), None),
        "energy_per_sample_j": (per_sample, None),
        "avg_power_w": (powers, None),
    }


def energy_summary(measurement: Measurement) -> dict[str, Any] | None:
    """The record's ``energy``: all timed windows added up, with the method and whether it is measured."""
    from carpentry_kit.energy import EnergyError, carbon_estimate

    windows = measurement.energy_windows
    if not windows:
        return None
    first = windows[0]
    components: dict[str, float] = {}
    for reading in windows:
        for part, joules in reading.components_j.items():
            components[part] = components.get(part, 0.0) + joules
    total = sum(reading.total_j for reading in windows)
    duration = sum(reading.duration_s for reading in windows)
    samples = sum(measurement.samples)
    try:
        carbon_kg, carbon_method = carbon_estimate(total)
    except EnergyError as error:  # no grid data here: the energy figures still stand
        carbon_kg, carbon_method = None, f"no carbon estimate: {error}"
    summary = {
        "method": first.method,
        "measured": first.measured,
        "layer": first.layer,
        "components_j": _finite(components),
        "total_j": total,
        "duration_s": duration,
        "avg_power_w": total / duration if duration > 0 else None,
        "per_sample_j": total / samples if samples else None,
        "per_repeat_j": total / len(measurement.energy_per_repeat_j),
        "carbon_kg": carbon_kg,
        "carbon_method": carbon_method,
        "notes": first.notes,
    }
    return _finite(summary)  # a NaN reading is reported by non_finite_error; JSON cannot hold it


def _finite(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every NaN or infinite float replaced by None."""
    return {key: None if isinstance(v, float) and not math.isfinite(v) else v for key, v in values.items()}
