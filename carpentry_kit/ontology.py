"""Controlled vocabularies for a benchmark's identity: domain, ML motif and task type.

Seeded with the terms of the MLCommons Science benchmark collection. Extend a vocabulary here, in one
place: the spec validator, the JSON Schema, the rating rubric and the MLCommons export all read these tuples.
"""

from __future__ import annotations

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


def closest_term(value: str, vocabulary: tuple[str, ...]) -> str | None:
    """The vocabulary term closest to ``value`` (case-insensitive), or None when nothing is close."""
    import difflib

    lowered = {term.lower(): term for term in vocabulary}
    if value.lower() in lowered:
        return lowered[value.lower()]
    match = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[match[0]] if match else None
