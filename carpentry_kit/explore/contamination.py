"""Contamination made visible: two ways a benchmark's public score stops meaning anything, shown on fresh data.

* ``demonstrate_lm_contamination`` — the test text leaks into a language model's training data (three times,
  as popular benchmarks get copied across the web). The ``tiny-lm`` workload trains on counting text with
  random tokens mixed in (``counting_corpus.noisy_sequences``: text no rule predicts, only memory), once
  clean and once with the test split added; its perplexity is measured on the public test split and on a
  reserved fresh split.
* ``demonstrate_test_tuning`` — hyperparameters (here: the seed of each of many equally good configurations)
  are chosen by their score on a small public test split of the digits; the winner is then scored on a large
  fresh split. Picking the maximum of many noisy scores overstates the winner's (the winner's curse).

Each rerun redraws the splits and the models; a ``Demonstration`` holds every rerun's public and fresh score
(with the gap's bootstrap interval, ``stats.bootstrap_difference_ci``) and the mean gap over the reruns with
its Student-t interval — the uncertainty a claim "the gap survives reruns" needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from carpentry_kit.data.datasets import LoadedDataset, split_indices
from carpentry_kit.stats import bootstrap_difference_ci, exp_mean

CONFIDENCE = 0.95
LEAKED_COPIES = 3  # how many times the test text appears in the contaminated training data
LM_PARAMS = {"width": 32, "layers": 2, "heads": 2, "train_steps": 400, "prompt_tokens": 4, "output_tokens": 8}
DIGITS_PARAMS = {"hidden": 32, "train_epochs": 10, "learning_rate": 0.01, "batch_size": 64}


@dataclass(frozen=True)
class Rerun:
    """One rerun: a model's score on the public test split and on fresh data, the gap and its interval."""

    seed: int
    public: float
    fresh: float
    gap: float  # fresh - public
    gap_ci: tuple[float, float]
    baseline_public: float  # the clean model (LM) or the average configuration (tuning)
    baseline_fresh: float


@dataclass(frozen=True)
class Demonstration:
    """Every rerun of one demonstration, and the mean gap over them with its Student-t interval."""

    title: str
    metric: str
    goal: str  # "minimize" or "maximize": which way the public score flatters
    baseline: str
    reruns: tuple[Rerun, ...]

    @property
    def mean_gap(self) -> float:
        return float(np.mean([rerun.gap for rerun in self.reruns]))

    @property
    def mean_gap_ci(self) -> tuple[float, float]:
        """Student-t interval of the mean gap over the reruns (each rerun one independent draw)."""
        from scipy import stats

        gaps = np.array([rerun.gap for rerun in self.reruns])
        if len(gaps) < 2:
            return (math.nan, math.nan)
        half = stats.t.ppf(0.5 + CONFIDENCE / 2, len(gaps) - 1) * gaps.std(ddof=1) / math.sqrt(len(gaps))
        return (float(gaps.mean() - half), float(gaps.mean() + half))

    def rows(self) -> list[dict[str, Any]]:
        """One row per rerun (for a DataFrame)."""
        return [
            {
                "seed": r.seed,
                f"public {self.metric}": r.public,
                f"fresh {self.metric}": r.fresh,
                "gap (fresh - public)": r.gap,
                "gap 95% CI": f"[{r.gap_ci[0]:+.3g}, {r.gap_ci[1]:+.3g}]",
                f"{self.baseline}: public": r.baseline_public,
                f"{self.baseline}: fresh": r.baseline_fresh,
            }
            for r in self.reruns
        ]

    def summary(self) -> str:
        low, high = self.mean_gap_ci
        return (
            f"{self.title}: {self.metric} gap (fresh - public) {self.mean_gap:+.3g} on average over"
            f" {len(self.reruns)} reruns, {CONFIDENCE:.0%} CI [{low:+.3g}, {high:+.3g}]"
        )

    def __repr__(self) -> str:
        lines = [self.summary()]
        for r in self.reruns:
            lines.append(
                f"  seed {r.seed}: public {r.public:.4g}, fresh {r.fresh:.4g}, gap {r.gap:+.3g}"
                f" [{r.gap_ci[0]:+.3g}, {r.gap_ci[1]:+.3g}]; {self.baseline}: public {r.baseline_public:.4g},"
                f" fresh {r.baseline_fresh:.4g}"
            )
        return "\n".join(lines)


# ---------------------------------------------------------------- the language model trained on its test


def demonstrate_lm_contamination(
    reruns: int = 3, noise: float = 0.1, params: dict[str, Any] | None = None
) -> Demonstration:
    """A tiny-lm trained with the test text leaked in (``LEAKED_COPIES`` times) against one trained clean:
    perplexity on the public test split and on a reserved fresh split, per rerun (seeds 0, 1, ...)."""
    runs = tuple(_lm_rerun(seed, noise, {**LM_PARAMS, **(params or {})}) for seed in range(reruns))
    return Demonstration(
        "A language model trained on its test set", "perplexity", "minimize", "clean model", runs
    )


def _lm_rerun(seed: int, noise: float, params: dict[str, Any]) -> Rerun:
    from carpentry_kit.data.counting_corpus import all_sequences, noisy_sequences

    X = noisy_sequences(all_sequences(24, seed=seed), noise, seed=seed)
    splits = split_indices(X[:, 1], {"train": 0.7, "test": 0.15, "fresh": 0.15}, seed, stratify=False)
    leaked = {**splits, "train": np.concatenate([splits["train"], *[splits["test"]] * LEAKED_COPIES])}
    contaminated = _tiny_lm_quality(X, leaked, params, seed)
    clean = _tiny_lm_quality(X, splits, params, seed)
    return _rerun(seed, contaminated, clean, exp_mean)


def _tiny_lm_quality(X: np.ndarray, splits: dict[str, np.ndarray], params: dict[str, Any], seed: int):
    from carpentry_kit.workloads import get_workload

    data = LoadedDataset("counting", "builtin:counting", X, X[:, 1], splits, False, {"numbers": 64})
    workload = get_workload("tiny-lm")(params, {"counting": data}, "cpu", seed)
    workload.setup()
    return {split: workload.sample_quality(split)["perplexity"] for split in ("test", "fresh")}


# ---------------------------------------------------------------- hyperparameters tuned on the test split


def demonstrate_test_tuning(
    reruns: int = 4, configurations: int = 40, params: dict[str, Any] | None = None
) -> Demonstration:
    """The best of ``configurations`` digits MLPs chosen by their accuracy on a small public test split (5%
    of the digits), scored on a fresh split of 40%; against the average configuration, per rerun."""
    runs = tuple(
        _tuning_rerun(seed, configurations, {**DIGITS_PARAMS, **(params or {})}) for seed in range(reruns)
    )
    return Demonstration(
        f"The best of {configurations} configurations, chosen on the test split",
        "test_accuracy",
        "maximize",
        "average configuration",
        runs,
    )


def _tuning_rerun(seed: int, configurations: int, params: dict[str, Any]) -> Rerun:
    from pathlib import Path

    from carpentry_kit.data.datasets import load_dataset
    from carpentry_kit.spec.model import Dataset

    fractions = {"train": 0.55, "test": 0.05, "fresh": 0.4}
    data = load_dataset(
        Dataset(name="digits", source="builtin:digits", splits=fractions), Path("."), seed=seed
    )
    scores = [_digits_quality(data, params, seed * 1000 + config) for config in range(configurations)]
    best = max(scores, key=lambda score: float(score["test"].mean()))
    average = {split: np.concatenate([score[split] for score in scores]) for split in ("test", "fresh")}
    return _rerun(seed, best, average, np.mean)


def _digits_quality(data: LoadedDataset, params: dict[str, Any], seed: int) -> dict[str, np.ndarray]:
    from carpentry_kit.workloads import get_workload

    workload = get_workload("mlp-inference")(params, {"digits": data}, "cpu", seed)
    workload.setup()
    return {split: workload.sample_quality(split)["test_accuracy"] for split in ("test", "fresh")}


def _rerun(
    seed: int, model: dict[str, np.ndarray], baseline: dict[str, np.ndarray], statistic: Callable[..., Any]
) -> Rerun:
    gap, low, high = bootstrap_difference_ci(model["test"], model["fresh"], statistic, CONFIDENCE)
    score = {split: float(statistic(np.asarray(values, dtype=float))) for split, values in model.items()}
    base = {split: float(statistic(np.asarray(values, dtype=float))) for split, values in baseline.items()}
    return Rerun(seed, score["test"], score["fresh"], gap, (low, high), base["test"], base["fresh"])


if __name__ == "__main__":  # python -m carpentry_kit.explore.contamination
    import torch

    torch.set_num_threads(1)
    print(demonstrate_lm_contamination())
    print(demonstrate_test_tuning())
