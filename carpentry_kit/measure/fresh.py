"""Quality on fresh data: the public test split against data no one tuned on, and the gap between them.

A dataset with a fresh draw (``fresh: {seed}``) or a reserved ``fresh`` split gets, after the timed run and
untimed, each quality metric measured on both from the workload's per-sample values
(``Workload.sample_quality``), the gap ``fresh - public`` with a 95% percentile-bootstrap interval (the two
splits resampled independently, ``stats.bootstrap_difference_ci``), and whether the spec's target is met on
each. A target met on the public split but not on the fresh data is *flagged*: the public score is not one the
benchmark can trust (overfitting to the test split, or contamination). The model scored is the one the run
left (for time-to-quality, the last repeat's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from carpentry_kit.ontology import FRESH_SPLIT
from carpentry_kit.stats import bootstrap_difference_ci, exp_mean

if TYPE_CHECKING:
    from carpentry_kit.spec.model import Metric, Spec

GAP_CONFIDENCE = 0.95
_STATISTICS = {"mean": np.mean, "exp_mean": exp_mean}


def needs_fresh(spec: Spec) -> bool:
    """Whether a run of ``spec`` measures quality on fresh data."""
    return any(dataset.has_fresh() for dataset in spec.datasets)


def fresh_gap(spec: Spec, workload: Any) -> dict[str, Any]:
    """The record's ``fresh`` section: per quality metric the public and fresh values, the gap and its
    interval, the sample counts and the target met on each; ``flagged`` and its reason."""
    public, fresh = workload.sample_quality("test"), workload.sample_quality(FRESH_SPLIT)
    quality = [metric for metric in spec.metrics if metric.kind == "quality" and metric.name in public]
    finite = [m for m in quality if np.isfinite(public[m.name]).all() and np.isfinite(fresh[m.name]).all()]
    metrics = {m.name: _metric_gap(m, public[m.name], fresh[m.name], workload) for m in finite}
    flagged = [name for name, gap in metrics.items() if gap["met_public"] and gap["met_fresh"] is False]
    section = {"metrics": metrics, "flagged": bool(flagged), "reason": _reason(flagged, metrics)}
    if len(finite) < len(quality):  # a diverged model: NaN quality has no gap (the run records the failure)
        section["not_finite"] = [m.name for m in quality if m not in finite]
    return section


def _metric_gap(metric: Metric, public: np.ndarray, fresh: np.ndarray, workload: Any) -> dict[str, Any]:
    statistic = _STATISTICS[workload.quality_statistic(metric.name)]
    gap, low, high = bootstrap_difference_ci(public, fresh, statistic, GAP_CONFIDENCE)
    public_value = float(statistic(np.asarray(public, dtype=float)))
    fresh_value = float(statistic(np.asarray(fresh, dtype=float)))
    return {
        "public": public_value,
        "fresh": fresh_value,
        "gap": gap,
        "gap_ci": [low, high],
        "confidence": GAP_CONFIDENCE,
        "method": "percentile bootstrap, splits resampled independently",
        "n_public": int(len(public)),
        "n_fresh": int(len(fresh)),
        "target": metric.target,
        "goal": metric.goal,
        "met_public": _meets(metric, public_value),
        "met_fresh": _meets(metric, fresh_value),
    }


def _meets(metric: Metric, value: float) -> bool | None:
    if metric.target is None:
        return None
    return value >= metric.target if metric.goal == "maximize" else value <= metric.target


def _reason(flagged: list[str], metrics: dict[str, dict[str, Any]]) -> str | None:
    if not flagged:
        return None
    gap = metrics[flagged[0]]
    return (
        f"{flagged[0]} meets its target {gap['target']:g} on the public test split ({gap['public']:.4g}) but"
        f" not on fresh data ({gap['fresh']:.4g}): the public score overstates what the model does on new data"
        " (tuned on the test split, or trained on it)"
    )
