"""``predict(spec, hardware)``: a spec's metrics on a hardware profile, as ranges, stored as a record.

The record has ``status: predicted`` (never ``completed``), ``validity: INVALID`` with the reason "a
prediction, not a measurement", and each predicted metric holds ``value`` (the geometric middle of the
range), no samples and no statistics, and ``predicted: {low, high, bound, why}``. Everything that reads
measurements (``compare``, the plots, the report's tables) takes completed runs only, so a prediction is
never mixed with a measurement; ``load_results`` keeps it, labelled by its ``status`` column.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carpentry_kit.predict.hardware import Profile, load_profile
from carpentry_kit.predict.roofline import TimeEstimate, Work, estimate_time, quantity
from carpentry_kit.predict.work import measure_work

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Spec

PREDICTED = "predicted"
NOT_A_MEASUREMENT = "a prediction by the roofline model, not a measurement: nothing was timed"
TIME_METRICS = ("latency_s", "latency_p50_s", "latency_p90_s", "latency_p99_s", "time_to_target_s")


@dataclass
class Prediction:
    """What ``predict`` returns: the stored ``record`` (a dict), the ``work`` and the ``time`` estimate."""

    record: dict[str, Any]
    work: Work
    time: TimeEstimate
    profile: Profile

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        return self.record["metrics"]

    def __str__(self) -> str:
        return format_prediction(self)


def predict(
    spec_or_path: Spec | str | os.PathLike[str],
    hardware: str | os.PathLike[str] | Profile = "this",
    overrides: dict[str, Any] | None = None,
    epochs: int | None = None,
    out: str | os.PathLike[str] | None = None,
    store: bool = True,
) -> Prediction:
    """Predict ``spec`` on ``hardware`` (a catalogue name, a profile file, ``"this"`` — calibrate now — or a
    ``Profile``); the record goes to ``out`` (default: the spec's ``results.dir``) unless ``store`` is False.
    ``epochs`` (time-to-quality) is the number of epochs to the target; by default it is taken from measured
    runs of the same spec in the store, else the range 1 .. the workload's epoch cap."""
    from carpentry_kit.results.store import ResultStore

    spec, spec_path = _load(spec_or_path, overrides or {})
    profile = _profile(hardware)
    work, workload = measure_work(spec, spec_path)
    threads = spec.infrastructure.threads
    time = estimate_time(work, profile, threads)
    results = ResultStore(out if out is not None else spec.results.dir)
    epoch_range = _epochs(spec, workload, epochs, results)
    record = _record(spec, spec_path, overrides or {}, profile, work, time, epoch_range, threads)
    if store:
        results.append(record)
    return Prediction(record.to_dict(), work, time, profile)


def _load(spec_or_path: Any, overrides: dict[str, Any]) -> tuple[Spec, str | None]:
    from carpentry_kit.spec.load import apply_overrides, load_spec
    from carpentry_kit.spec.model import Spec

    if isinstance(spec_or_path, Spec):
        return (apply_overrides(spec_or_path, overrides) if overrides else spec_or_path), None
    return load_spec(Path(spec_or_path), overrides or None), str(spec_or_path)


def _profile(hardware: Any) -> Profile:
    if isinstance(hardware, Profile):
        return hardware
    if str(hardware) == "this":
        from carpentry_kit.predict.calibrate import calibrated_profile

        return calibrated_profile()
    return load_profile(hardware)


def _epochs(spec: Spec, workload: Any, epochs: int | None, results: Any) -> tuple[Any, ...] | None:
    """(low, typical, high, where from) epochs to the target, for time-to-quality; None otherwise."""
    if spec.protocol.scenario != "time-to-quality":
        return None
    if epochs is not None:
        return float(epochs), float(epochs), float(epochs), "given (--epochs)"
    from carpentry_kit.errors import UsageError
    from carpentry_kit.spec.model import spec_hash

    wanted = spec_hash(spec)
    try:
        records = results.records()
    except UsageError:  # no results directory yet: nothing measured
        records = []
    measured = [
        sample
        for record in records
        if record["status"] == "completed" and record["spec_hash"] == wanted
        for sample in (record["metrics"].get("epochs_to_target") or {}).get("samples", [])
    ]
    if measured:
        import statistics

        typical = statistics.median(measured)
        return (
            min(measured),
            typical,
            max(measured),
            f"measured: epochs_to_target of {len(measured)} stored repeat(s) of this spec",
        )
    cap = workload.max_steps() or 1
    return (
        1.0,
        float(cap) ** 0.5,
        float(cap),
        f"not known: 1 to the epoch cap {cap} (measure once, or give --epochs)",
    )


# ---------------------------------------------------------------- the record


def _record(spec, spec_path, overrides, profile, work, time, epoch_range, threads) -> Any:
    from carpentry_kit.results.record import RunRecord, division_fields, utc_now
    from carpentry_kit.spec.model import canonical_spec, spec_hash
    from carpentry_kit.system import software_versions

    power = _power(profile, threads)
    metrics = {metric.name: _metric(metric, spec, work, time, epoch_range, power) for metric in spec.metrics}
    return RunRecord(
        benchmark=spec.benchmark.name,
        spec_hash=spec_hash(spec),
        spec=canonical_spec(spec),
        spec_path=spec_path,
        overrides=overrides,
        **division_fields(spec, overrides),
        scenario=spec.protocol.scenario,
        device=f"{profile.name} ({PREDICTED})",
        status=PREDICTED,
        validity="INVALID",
        reasons=[NOT_A_MEASUREMENT],
        finished_at=utc_now(),
        metrics=metrics,
        energy=_energy(power),
        system=_system(profile),
        software=software_versions(),
    )


def _system(profile: Profile) -> dict[str, Any]:
    return {
        "hardware_profile": profile.name,
        "hardware_title": profile.title,
        "hardware_file": profile.path,
        "hardware_measured": profile.measured,
    }


def _power(profile: Profile, threads: int) -> dict[str, Any] | None:
    """Power range (W) while the run works, and how it was obtained (``Profile.power``)."""
    power = profile.power(threads)
    if power is None:
        return None
    return {"low_w": power[0], "high_w": power[1], "how": power[2]}


def _energy(power: dict[str, Any] | None) -> dict[str, Any] | None:
    if power is None:
        return None
    return {
        "method": PREDICTED,
        "measured": False,
        "layer": "device",
        "components_j": {},
        "notes": f"predicted: time range x power range; {power['how']}",
    }


def _metric(
    metric: Any, spec: Spec, work: Work, time: TimeEstimate, epoch_range: Any, power: Any
) -> dict[str, Any]:
    entry = {"kind": metric.kind, "unit": metric.unit, "goal": metric.goal, "target": metric.target}
    band, note = _range(metric.name, spec, work, time, epoch_range, power)
    if band is None:
        return {**entry, "value": None, "stats": None, "samples": [], PREDICTED: {"note": note}}
    low, value, high = sorted(band)
    why = {"bound": time.bound, "why": time.why}
    return {
        **entry,
        "value": value,
        "stats": None,
        "samples": [],
        PREDICTED: {"low": low, "high": high, **why, "note": note},
    }


def _range(name: str, spec: Spec, work: Work, time: TimeEstimate, epochs: Any, power: Any) -> tuple[Any, str]:
    """(low, typical, high) of one metric, or (None, why it is not predicted)."""
    unit = (time.low_s, time.typical_s, time.high_s)
    repeat, repeat_note = _repeat(spec, unit, epochs)
    if name in TIME_METRICS:
        if name.startswith("latency_p"):
            return unit, "the model predicts no spread between queries: every percentile is the same range"
        return (repeat if name == "time_to_target_s" else unit), repeat_note
    if name == "throughput":
        return tuple(work.samples / t for t in unit), "samples / predicted time"
    if name == "gflops":
        return tuple(work.flop / t / 1e9 for t in unit), "flop / predicted time"
    if name == "epochs_to_target" and epochs is not None:
        return epochs[:3], epochs[3]
    if name in ("energy_j", "energy_per_sample_j", "avg_power_w"):
        return _energy_range(name, work, unit, repeat, power)
    return None, "not predicted: it depends on the algorithm and data, not on the hardware (measure it)"


def _repeat(spec: Spec, unit: tuple[float, ...], epochs: Any) -> tuple[tuple[float, ...], str]:
    """Seconds of one timed repeat: a step (offline), the queries of a repeat, or the run to the target."""
    if spec.protocol.scenario == "single-stream":
        queries = spec.protocol.queries
        return tuple(t * queries for t in unit), f"{queries} queries a repeat"
    if epochs is not None:
        return tuple(t * e for t, e in zip(unit, epochs[:3], strict=True)), f"epochs to target: {epochs[3]}"
    return unit, "one step a repeat"


def _energy_range(name, work, unit, repeat, power) -> tuple[Any, str]:
    if power is None:
        return None, "not predicted: the profile has no power figure"
    watts = (power["low_w"], (power["low_w"] + power["high_w"]) / 2, power["high_w"])
    note = f"predicted time x power; {power['how']}"
    if name == "avg_power_w":
        return watts, note
    per = 1 / work.samples if name == "energy_per_sample_j" else 1.0
    seconds = unit if name == "energy_per_sample_j" else repeat
    return tuple(t * w * per for t, w in zip(seconds, watts, strict=True)), note


# ---------------------------------------------------------------- against a measurement


def prediction_error(predicted: dict[str, Any], measured: dict[str, Any]) -> list[dict[str, Any]]:
    """Per metric in both records: measured value, predicted range and middle, error of the middle
    (``predicted / measured - 1``) and whether the measurement falls inside the range."""
    rows = []
    for name, guess in predicted["metrics"].items():
        actual = (measured["metrics"].get(name) or {}).get("value")
        band = guess.get(PREDICTED) or {}
        if actual is None or guess.get("value") is None or not actual:
            continue
        rows.append(
            {
                "metric": name,
                "unit": guess.get("unit"),
                "measured": actual,
                "predicted": guess["value"],
                "low": band.get("low"),
                "high": band.get("high"),
                "error": guess["value"] / actual - 1.0,
                "inside": band.get("low") <= actual <= band.get("high"),
                "bound": band.get("bound"),
            }
        )
    return rows


def latest_measurement(results: Any, spec_hash_value: str) -> dict[str, Any] | None:
    """The newest completed (measured) record of a spec hash in a store, or None."""
    from carpentry_kit.errors import UsageError

    try:
        records = results.records()
    except UsageError:  # no results directory yet
        return None
    done = [r for r in records if r["status"] == "completed" and r["spec_hash"] == spec_hash_value]
    return max(done, key=lambda r: r["started_at"]) if done else None


def format_prediction(prediction: Prediction) -> str:
    """A terminal summary: each metric's range, the bound and why, and where the figures came from."""
    record, time, work = prediction.record, prediction.time, prediction.work
    lines = [
        f"{record['benchmark']} on {prediction.profile.title}: PREDICTED (roofline model), not measured",
        f"  work of one {'query' if record['scenario'] == 'single-stream' else 'step'}: {work.samples} sample(s),"
        f" {work.flop:.3g} flop, {work.bytes:.3g} B, {work.calls} framework calls ({work.dtype})",
        f"  {time.why}",
    ]
    for name, metric in record["metrics"].items():
        band = metric[PREDICTED]
        if metric["value"] is None:
            lines.append(f"  {name:<22} —  ({band['note']})")
            continue
        unit = metric["unit"]
        lines.append(
            f"  {name:<22} {quantity(metric['value'], unit)}"
            f"  [{quantity(band['low'], unit)} .. {quantity(band['high'], unit)}]"
        )
    lines += [f"  source of {key}: {source}" for key, source in time.sources.items()]
    return "\n".join(lines)
