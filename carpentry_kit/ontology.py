"""Controlled vocabularies: a benchmark's domain, ML motif and task type, and the metric names a run produces.

Seeded with the terms of the MLCommons Science benchmark collection. Extend a vocabulary here, in one
place: the spec validator, the JSON Schema, the rating rubric and the MLCommons export all read these tuples.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from carpentry_kit.errors import close_match

# The scenarios of the spec format (``protocol.scenario``), in order.
Scenario = Literal["offline", "single-stream", "multi-stream", "server", "time-to-quality"]
SCENARIOS: tuple[str, ...] = get_args(Scenario)

DOMAINS: tuple[str, ...] = (
    "High Energy Physics",
    "Climate & Earth Science",
    "Biology & Medicine",
    "Materials Science",
    "Chemistry",
    "Computational Science & AI",
    "Mathematics",
    # carpentry-kit additions for teaching and systems benchmarks
    "Computer Systems",
    "Physics",
)

ML_MOTIFS: tuple[str, ...] = (
    "Classification",
    "Regression",
    "Anomaly Detection",
    "Generative",
    "Sequence Prediction/Forecasting",
    "Reasoning & Generalization",
    "Multimodal Reasoning",
    "Reinforcement Learning/Control",
    # carpentry-kit addition: kernels that are not learning tasks
    "Linear Algebra Kernel",
    "Surrogate Modeling",
)

TASK_TYPES: tuple[str, ...] = (
    "Supervised Learning",
    "Unsupervised Learning",
    "Self-Supervised Learning",
    "Reinforcement Learning",
    "Inference",
    "Training",
    "Microbenchmark",
)

# MLCommons collection `type` values.
BENCHMARK_TYPES: tuple[str, ...] = ("Benchmark", "Framework", "Dataset", "Model", "Platform")

VOCABULARIES: dict[str, tuple[str, ...]] = {
    "domain": DOMAINS,
    "ml_motif": ML_MOTIFS,
    "task_type": TASK_TYPES,
}


# Metric names the runner produces (ARCHITECTURE.md, "Metric names the runner produces"), with their units.
PERFORMANCE_UNITS: dict[str, dict[str, str]] = {
    "offline": {"latency_s": "s", "throughput": "samples/s"},
    "single-stream": {
        "latency_s": "s",
        "latency_p50_s": "s",
        "latency_p90_s": "s",
        "latency_p99_s": "s",
        "throughput": "samples/s",
    },
    "multi-stream": {
        "latency_s": "s",
        "latency_p50_s": "s",
        "latency_p90_s": "s",
        "latency_p99_s": "s",
        "throughput": "samples/s",
    },
    "server": {
        "latency_s": "s",
        "latency_p50_s": "s",
        "latency_p90_s": "s",
        "latency_p99_s": "s",
        "throughput": "samples/s",
    },
    "time-to-quality": {"time_to_target_s": "s", "epochs_to_target": "epochs", "throughput": "samples/s"},
}
# Scenarios MLPerf's LoadGen runs (the inference scenarios).
FRESH_SPLIT = "fresh"  # the held-out split no one tunes on: a fresh draw, or reserved rows (measure/fresh.py)
LOADGEN_SCENARIOS = ("single-stream", "multi-stream", "server", "offline")
# What a token-generating workload (``token_metrics = True``) adds, with MLPerf Inference's LLM definitions:
# time to first token, time per output token (after the first), output tokens per second, energy per token.
TOKEN_UNITS: dict[str, str] = {
    "ttft_s": "s",
    "ttft_p99_s": "s",
    "tpot_s": "s",
    "tpot_p99_s": "s",
    "tokens_per_s": "tokens/s",
}
TOKEN_ENERGY_UNITS: dict[str, str] = {"energy_per_token_j": "J"}
ENERGY_UNITS: dict[str, str] = {"energy_j": "J", "energy_per_sample_j": "J", "avg_power_w": "W"}


def producible_metrics(scenario: str, workload_class: Any, work: dict[str, float] | None = None) -> list[str]:
    """Metric names a run of this workload (anything with ``quality_metrics``) in this scenario can produce.

    ``gflops`` needs the workload to count flop; ``work=None`` means not known yet, so it is allowed.
    """
    names = list(PERFORMANCE_UNITS[scenario])
    if scenario != "time-to-quality" and (work is None or "flop" in work):
        names.append("gflops")
    names += list(ENERGY_UNITS)
    if getattr(workload_class, "token_metrics", False) and scenario in LOADGEN_SCENARIOS:
        names += [*TOKEN_UNITS, *TOKEN_ENERGY_UNITS]
    return names + list(workload_class.quality_metrics)


def unproducible_metrics(
    workload: Any, scenario: str, names: list[Any], work: dict[str, float] | None = None
) -> list[tuple[int, str, str]]:
    """``(index, message, hint)`` for each metric name a run of ``workload`` in ``scenario`` cannot produce.

    The one check, used by spec validation (``work=None``: not known yet) and by the runner after setup, once
    the workload's work per sample is known (``gflops`` needs a flop count). The hint lists what it can produce.
    """
    known = producible_metrics(scenario, workload, work)
    problems = []
    for index, name in enumerate(names):
        if isinstance(name, str) and name not in known:
            message = f"workload '{workload.name}' cannot produce '{name}' in the {scenario} scenario"
            close = close_match(name, known)
            hint = (f"did you mean '{close}'? " if close else "") + "it can produce: " + ", ".join(known)
            problems.append((index, message, hint))
    return problems


def metric_kind(name: str, quality_metrics: Any) -> str | None:
    """The kind (performance, energy, quality) of a metric name a run produces; None for other names."""
    if name in quality_metrics:
        return "quality"
    if name in ENERGY_UNITS or name in TOKEN_ENERGY_UNITS:
        return "energy"
    performance = {key for units in PERFORMANCE_UNITS.values() for key in units} | {"gflops", *TOKEN_UNITS}
    return "performance" if name in performance else None


def closest_term(value: str, vocabulary: tuple[str, ...]) -> str | None:
    """The vocabulary term closest to ``value`` (case-insensitive), or None when nothing is close.

    A misspelling finds its term ('Clasification'), and so does a word of it ('Climate').
    """
    import difflib

    lowered = {term.lower(): term for term in vocabulary}
    if value.lower() in lowered:
        return lowered[value.lower()]
    match = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.5)
    if match:
        return lowered[match[0]]
    containing = [term for key, term in lowered.items() if value.strip() and value.lower().strip() in key]
    return containing[0] if len(containing) == 1 else None
