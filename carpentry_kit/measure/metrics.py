"""A measurement turned into the record's metrics (statistics and samples) and its energy summary."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from carpentry_kit.measure.harness import Measurement
from carpentry_kit.ontology import unproducible_metrics

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Spec


def unproducible_after_setup(
    spec: Spec, workload_class: type, work: dict[str, float]
) -> list[tuple[tuple, str, str]]:
    """The spec's metrics this run cannot produce now that the workload's work per sample is known
    (validation allowed ``gflops`` before setup; a workload that counts no flop cannot give it)."""
    names = [metric.name for metric in spec.metrics]
    return [
        (("metrics", index, "name"), message, hint)
        for index, message, hint in unproducible_metrics(workload_class, spec.protocol.scenario, names, work)
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
    if measurement.scenario == "time-to-quality" and "time_to_target_s" in metrics:
        metrics["time_to_target_s"].update(
            mlperf_training_score(measurement, spec.protocol.clock_includes_eval)
        )
    return metrics


MLPERF_CLOCK = "training and evaluation, from the first epoch to the evaluation that met the target (MLPerf)"
NON_CONFORMANT_CLOCK = "training epochs only, evaluation excluded: not MLPerf-conformant"


def mlperf_training_score(measurement: Measurement, clock_includes_eval: bool = True) -> dict[str, Any]:
    """MLPerf Training's score beside the median: the mean of the times to target without the fastest and
    the slowest repeat, with what the clock covered.

    Given only when there are 3 or more repeats and every one reached the target (a repeat that did not has
    no time to target); ``mlperf_score_note`` says why it is missing otherwise.
    """
    from carpentry_kit.stats import olympic_mean

    times = [s for s, ok in zip(measurement.repeat_s, measurement.reached, strict=True) if ok]
    missed = len(measurement.reached) - len(times)
    score, note = None, "mean of the times to target without the fastest and slowest repeat"
    if missed:
        note = f"no MLPerf score: {missed} of {len(measurement.reached)} repeats did not reach the target"
    elif len(times) < 3:
        note = f"no MLPerf score: it needs at least 3 repeats that reach the target, got {len(times)}"
    else:
        score = olympic_mean(times)
    clock = MLPERF_CLOCK if clock_includes_eval else NON_CONFORMANT_CLOCK
    return {"mlperf_score": score, "mlperf_score_note": note, "clock": clock}


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
    if m.loadgen:  # an inference scenario run by LoadGen: its figures
        rates = [
            _loadgen_throughput(run) or (count / seconds if seconds > 0 else 0.0)
            for run, count, seconds in zip(m.loadgen, m.samples, m.repeat_s, strict=True)
        ]
        series["throughput"] = (rates, None)
        if "flop" in work:
            series["gflops"] = ([rate * work["flop"] / 1e9 for rate in rates], None)
        series.update(_loadgen_series(m))
    elif m.scenario == "offline":
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


def _loadgen_series(m: Measurement) -> dict[str, tuple[list[float], Any]]:
    """LoadGen's percentiles (one sample per LoadGen test; the headline is their median), the SUT-side
    per-sample latencies as ``latency_s``, and for a token workload TTFT, TPOT, tokens/s, energy per token."""
    series: dict[str, tuple[list[float], Any]] = {"latency_s": (list(m.query_latency_s), None)}
    for percent, key in (("50", "50.00"), ("90", "90.00"), ("99", "99.00")):
        series[f"latency_p{percent}_s"] = (_per_test(m, f"result_{key}_percentile_latency_ns", 1e-9), None)
    if any(m.tokens):
        for name, key, own in (
            ("ttft", "result_first_token_{}_percentile_latency_ns", m.ttft_s),
            ("tpot", "result_time_per_output_token_{}_percentile_ns", m.tpot_s),
        ):
            series.update(_token_series(m, name, key, own))
        series["tokens_per_s"] = ([t / s for t, s in zip(m.tokens, m.repeat_s, strict=True) if s > 0], None)
        per_token = [j / t for j, t in zip(m.energy_per_repeat_j, m.tokens, strict=False) if t > 0]
        if per_token:
            series["energy_per_token_j"] = (per_token, None)
    return {name: value for name, value in series.items() if value[0]}


def _token_series(
    m: Measurement, name: str, key: str, own: list[float]
) -> dict[str, tuple[list[float], Any]]:
    """LoadGen's TTFT or TPOT percentiles; in Offline, where LoadGen reports none, the SUT's own per-sample
    figures (all samples arrive at once there, so TTFT includes the wait for a batch slot)."""
    import numpy as np

    median, tail = _per_test(m, key.format("50.00"), 1e-9), _per_test(m, key.format("99.00"), 1e-9)
    if not median and own:
        median, tail = list(own), [float(np.percentile(own, 99))]
    return {f"{name}_s": (median, None), f"{name}_p99_s": (tail, None)}


def _per_test(m: Measurement, key: str, scale: float) -> list[float]:
    return [float(run["results"][key]) * scale for run in m.loadgen if run["results"].get(key) is not None]


def _loadgen_throughput(run: dict[str, Any]) -> float | None:
    """Samples per second as LoadGen reports it for the scenario (its own overhead included); None where
    LoadGen reports none (multi-stream): the caller divides samples by the test's duration."""
    results = run["results"]
    for key in ("result_samples_per_second", "result_completed_samples_per_sec"):
        if results.get(key) is not None:
            return float(results[key])
    qps = results.get("result_qps_with_loadgen_overhead")
    return float(qps) * float(run.get("samples_per_query", 1)) if qps is not None else None


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
    """The record's ``energy``: all timed windows added up, with the method and whether it is measured.

    ``static_j`` is the idle part of ``total_j`` and ``above_idle_j`` the rest, where the method models the
    split (the estimate); both None where it does not (a counter reads the sum)."""
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
    statics = [reading.static_j for reading in windows]
    static = None if any(part is None for part in statics) else sum(statics)  # type: ignore[arg-type]
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
        "static_j": static,  # the idle part of total_j, where the method models it (None: unknown)
        "above_idle_j": None if static is None else total - static,
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
