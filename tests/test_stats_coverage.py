"""The confidence levels the library prints are the coverage its intervals have, checked by simulation.

For each distribution (normal, lognormal, heavy-tailed Pareto and Cauchy) and each n from 3 to 50, thousands
of seeded samples with a known median: the fraction whose interval covers it must be the printed level
within 2 points (exact for the median's order statistics); for the ratio of medians, whose level is a
guaranteed lower bound, at least the printed level less 2 points.
"""

from __future__ import annotations

import numpy as np
import pytest

from carpentry_kit.stats import median_intervals, ratio_intervals, summarize

TRIALS = 4000
TOLERANCE = 0.02
SIZES = range(3, 51)

# name -> (draw(rng, shape), true median)
DISTRIBUTIONS = {
    "normal": (lambda rng, shape: rng.normal(10.0, 2.0, shape), 10.0),
    "lognormal": (lambda rng, shape: rng.lognormal(0.0, 1.0, shape), 1.0),
    "pareto": (lambda rng, shape: 1.0 + rng.pareto(1.5, shape), 2.0 ** (1 / 1.5)),
    "cauchy": (lambda rng, shape: 5.0 + rng.standard_cauchy(shape), 5.0),
}


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_median_interval_covers_at_its_printed_level(name):
    draw, median = DISTRIBUTIONS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    misses = []
    for n in SIZES:
        lows, highs, level = median_intervals(draw(rng, (TRIALS, n)))
        coverage = float(np.mean((lows <= median) & (median <= highs)))
        if abs(coverage - level) > TOLERANCE:
            misses.append(f"n={n}: printed {level:.3f}, covered {coverage:.3f}")
    assert not misses, misses


def test_summary_prints_the_level_of_the_vectorised_interval():
    rng = np.random.default_rng(7)
    for n in (3, 4, 5, 6, 12, 40):
        rows = rng.lognormal(0.0, 1.0, (5, n))
        lows, highs, level = median_intervals(rows)
        for row, low, high in zip(rows, lows, highs, strict=True):
            summary = summarize(row)
            assert (summary.ci_low, summary.ci_high, summary.ci_level) == (low, high, level)
    assert summarize(rng.normal(size=3)).ci_level == 0.75  # never a "95%" interval at n = 3


@pytest.mark.parametrize("name", ["lognormal", "pareto"])
@pytest.mark.parametrize(("n_a", "n_b"), [(3, 3), (4, 10), (10, 10), (30, 50)])
def test_ratio_interval_covers_at_least_its_printed_level(name, n_a, n_b):
    draw, median = DISTRIBUTIONS[name]
    rng = np.random.default_rng(n_a * 100 + n_b)
    scale = 1.7  # a is b's distribution stretched: the true ratio of medians is 1.7
    lows, highs, level = ratio_intervals(scale * draw(rng, (TRIALS, n_a)), draw(rng, (TRIALS, n_b)))
    coverage = float(np.mean((lows <= scale) & (scale <= highs)))
    assert coverage >= level - TOLERANCE, f"printed >= {level:.3f}, covered {coverage:.3f}"


# --- runs as the units: compare's interval for configurations run several times ----------------------------

RUN_SPREAD = (
    0.1  # run-to-run variation (lognormal sigma of a run's factor): a busy or differently clocked machine
)
REPEAT_SPREAD = 0.2  # repeats inside a run


def run_medians(rng: np.random.Generator, runs: int, repeats: int, scale: float = 1.0) -> np.ndarray:
    """Per-run medians of ``TRIALS`` configurations of ``runs`` runs x ``repeats`` repeats each; the median
    of a run's median is ``scale`` exactly (its log is a run effect plus a median of normals: symmetric)."""
    factors = rng.lognormal(0.0, RUN_SPREAD, (TRIALS, runs, 1))
    samples = scale * factors * rng.lognormal(0.0, REPEAT_SPREAD, (TRIALS, runs, repeats))
    return np.median(samples, axis=2), samples.reshape(TRIALS, runs * repeats)


@pytest.mark.parametrize(("runs_a", "runs_b"), [(2, 2), (3, 3), (3, 8), (7, 7), (20, 20)])
def test_the_interval_over_runs_covers_at_least_its_printed_level(runs_a, runs_b):
    rng = np.random.default_rng(runs_a * 31 + runs_b)
    scale = 1.3
    medians_a, _ = run_medians(rng, runs_a, 30, scale)
    medians_b, _ = run_medians(rng, runs_b, 30)
    lows, highs, level = ratio_intervals(medians_a, medians_b)  # what compare does with the runs' medians
    coverage = float(np.mean((lows <= scale) & (scale <= highs)))
    assert coverage >= level - TOLERANCE, f"printed >= {level:.3f}, covered {coverage:.3f}"
    if runs_a == runs_b == 3:
        assert level == pytest.approx(0.75**2)  # 3 runs a side: >= 56.2 %, printed as such


def test_pooling_the_repeats_of_several_runs_would_overstate_the_level():
    """Why runs are the units: treated as independent, the pooled repeats of 5 runs a side give an interval
    printed at >= 95 % that covers the true ratio less often than that (87 % here) when runs differ."""
    rng = np.random.default_rng(99)
    _, pooled_a = run_medians(rng, 5, 30, 1.3)
    _, pooled_b = run_medians(rng, 5, 30)
    lows, highs, level = ratio_intervals(pooled_a, pooled_b)
    coverage = float(np.mean((lows <= 1.3) & (highs >= 1.3)))
    assert level >= 0.95 and coverage < level - 0.05, f"printed >= {level:.3f}, covered {coverage:.3f}"
