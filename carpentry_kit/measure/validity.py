"""VALID or INVALID, with one reason per broken rule (LoadGen's "Result is: INVALID" and why)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from carpentry_kit.measure.harness import Measurement, QualityTarget
from carpentry_kit.results.record import RunRecord

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Spec


def judge(spec: Spec, record: RunRecord, measurement: Measurement | None) -> tuple[str, list[str]]:
    """VALID or INVALID, with one reason per broken rule (LoadGen's "Result is: INVALID" and why)."""
    if record.status == "failed":
        reasons = [f"the run failed: {record.error}"]
    elif record.status == "interrupted":
        reasons = ["the run was interrupted before it finished"]
    else:
        reasons = []
    if measurement is not None:
        reasons += _protocol_reasons(spec, measurement) + _quality_reasons(spec, record, measurement)
    reasons += _constraint_reasons(spec, record)
    return ("INVALID" if reasons else "VALID"), reasons


def _protocol_reasons(spec: Spec, m: Measurement) -> list[str]:
    budget = spec.constraints.time_budget_s
    if m.repeats == 0:
        return ["no timed repeat finished"]
    if m.budget_exhausted:
        return [m.stop_reason]
    if budget is not None and m.wall_s > budget:
        return [f"the run took {m.wall_s:.3g} s, over the time budget of {budget:g} s"]
    return _loadgen_reasons(m)


def _loadgen_reasons(m: Measurement) -> list[str]:
    """LoadGen's own verdict: each INVALID test's reasons (MLPerf's "Result is: INVALID" and why)."""
    reasons = []
    for index, run in enumerate(m.loadgen):
        if run.get("validity") != "VALID":
            where = f"LoadGen test {index + 1} of {len(m.loadgen)}: " if len(m.loadgen) > 1 else ""
            reasons += [where + reason for reason in run.get("reasons") or ["LoadGen: INVALID"]]
    return reasons


def _quality_reasons(spec: Spec, record: RunRecord, m: Measurement) -> list[str]:
    target = spec.quality_target()
    reasons = []
    if m.scenario == "time-to-quality":
        rule = QualityTarget.from_metric(target)
        for index, (seed, epochs, ok, quality) in enumerate(
            zip(m.seeds, m.epochs, m.reached, m.quality, strict=True)
        ):
            if not ok:
                got = quality.get(rule.metric)
                shown = f"{got:.4g}" if got is not None else "not measured"
                reasons.append(
                    f"repeat {index + 1} (seed {seed}): {rule} not reached — {shown} after {epochs} epoch{'' if epochs == 1 else 's'}"
                )
    for metric in spec.metrics:
        if metric.kind != "quality" or metric.target is None:
            continue
        if m.scenario == "time-to-quality" and metric is target:  # judged per repeat above
            continue
        value = record.metrics.get(metric.name, {}).get("value")
        rule = QualityTarget.from_metric(metric)
        if value is None or not rule.reached({metric.name: value}):
            reasons.append(
                f"{metric.name} = {value if value is None else f'{value:.4g}'} misses the target {rule}"
            )
    return reasons


def _constraint_reasons(spec: Spec, record: RunRecord) -> list[str]:
    limits, energy, reasons = spec.constraints, record.energy or {}, []
    kind = "measured" if energy.get("measured") else "estimated"
    if limits.energy_budget_j is not None and (energy.get("total_j") or 0) > limits.energy_budget_j:
        reasons.append(
            f"{kind} energy {energy['total_j']:.3g} J is over the budget of {limits.energy_budget_j:g} J"
        )
    power = energy.get("avg_power_w")
    if limits.max_power_w is not None and power is not None and power > limits.max_power_w:
        reasons.append(f"{kind} average power {power:.3g} W is over the limit of {limits.max_power_w:g} W")
    peak = record.peak_memory_mib
    if limits.peak_memory_mib is not None and peak is not None and peak > limits.peak_memory_mib:
        reasons.append(f"peak memory {peak:.0f} MiB is over the limit of {limits.peak_memory_mib:g} MiB")
    return reasons
