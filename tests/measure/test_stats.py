"""Statistics against distributions whose median, quantiles and spread are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from carpentry_kit.stats import (
    GrowingSeries,
    bootstrap_ci,
    ci_label,
    interval_coverage,
    median_ci,
    median_interval,
    order_statistic_rank,
    ratio_ci,
    summarize,
)


def test_normal_sample_matches_known_quantiles():
    rng = np.random.default_rng(1)
    summary = summarize(rng.normal(10.0, 2.0, size=20_000))
    assert summary.median == pytest.approx(10.0, abs=0.05)
    assert summary.mean == pytest.approx(10.0, abs=0.05)
    assert summary.stdev == pytest.approx(2.0, rel=0.02)
    assert summary.iqr == pytest.approx(2 * 0.6744898 * 2.0, rel=0.03)  # normal IQR = 1.349 sigma
    assert summary.mad == pytest.approx(0.6744898 * 2.0, rel=0.03)
    assert summary.p90 == pytest.approx(10.0 + 1.2815516 * 2.0, abs=0.1)  # 4 standard errors
    assert summary.p50 == summary.median
    assert summary.ci_low < 10.0 < summary.ci_high
    assert summary.ci_high - summary.ci_low < 0.1


def test_exponential_sample_matches_known_quantiles():
    rng = np.random.default_rng(2)
    summary = summarize(rng.exponential(1.0, size=20_000))
    assert summary.median == pytest.approx(math.log(2), abs=0.03)
    assert summary.p90 == pytest.approx(math.log(10), rel=0.04)
    assert summary.p99 == pytest.approx(math.log(100), rel=0.08)
    assert summary.unstable  # stdev equals the mean: far too noisy


@pytest.mark.parametrize("n", [9, 25, 60])
def test_median_ci_covers_true_median_at_least_95_percent(n):
    rng = np.random.default_rng(n)
    trials = 2000
    covered = 0
    for _ in range(trials):
        low, high = median_ci(rng.exponential(1.0, size=n))
        covered += low <= math.log(2) <= high
    assert covered / trials >= 0.93  # exact coverage >= 95%; slack for the finite number of trials


def test_median_ci_uses_order_statistics_when_possible():
    values = np.arange(1.0, 10.0)  # n = 9: P(Bin(9, .5) <= 1) = 0.0195 <= 0.025, so ranks 2 and 8
    assert median_ci(values) == (2.0, 8.0)


def test_small_n_gives_min_max_with_the_level_it_really_has():
    values = [1.0, 1.2, 0.9, 1.1]
    assert median_interval(values) == (0.9, 1.2, 0.875)  # 1 - 2 * 0.5**4: no pair reaches 95%
    assert ci_label(0.875, 4) == "87.5 % CI, n = 4"
    assert summarize(values).ci_level == 0.875
    assert summarize(np.arange(9.0)).ci_level == pytest.approx(1 - 2 * 10 / 512)  # ranks 2 and 8
    assert ci_label(summarize([3.0]).ci_level, 1) == "no CI, n = 1"


def test_single_sample_and_stability_rule():
    one = summarize([3.0])
    assert (one.n, one.median, one.ci_low, one.ci_high, one.stdev, one.unstable) == (
        1,
        3.0,
        3.0,
        3.0,
        0.0,
        False,
    )
    assert not summarize([1.0, 1.01, 0.99, 1.02, 1.0]).unstable
    assert summarize([1.0, 1.5, 0.7, 1.3, 1.0]).unstable


def test_to_dict_has_record_fields_and_optional_samples():
    summary = summarize([1.0, 2.0, 3.0])
    stats = summary.to_dict()
    expected = {"n", "median", "mean", "stdev", "iqr", "mad", "min", "max", "p50", "p90", "p99"}
    assert expected | {"ci_low", "ci_high", "ci_level", "unstable"} == set(stats)
    assert stats["ci_level"] == 0.75
    assert summary.to_dict(samples=True)["samples"] == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")]])
def test_bad_samples_are_refused_with_a_message(bad):
    with pytest.raises(ValueError, match="samples"):
        summarize(bad)


def test_ratio_ci_detects_a_real_difference_and_not_a_fake_one():
    rng = np.random.default_rng(3)
    slow = rng.normal(2.0, 0.1, size=30)
    fast = rng.normal(1.0, 0.05, size=30)
    ratio, low, high, level = ratio_ci(slow, fast)
    assert ratio == pytest.approx(np.median(slow) / np.median(fast))
    assert 1.0 < low <= ratio <= high
    assert 0.95 <= level < 1.0  # a lower bound on the coverage, at least the confidence asked for
    same_a, same_b = rng.normal(1.0, 0.1, size=30), rng.normal(1.0, 0.1, size=30)
    _, low, high, _ = ratio_ci(same_a, same_b)
    assert low < 1.0 < high


def test_ratio_ci_of_tiny_samples_states_its_low_level():
    _, low, high, level = ratio_ci([2.0, 2.2], [1.0, 1.1])
    assert (low, high) == (pytest.approx(2.0 / 1.1), pytest.approx(2.2))
    assert level == 0.25  # [min, max] covers each median half the time at n = 2


def test_bootstrap_ci_of_mean_contains_the_mean():
    rng = np.random.default_rng(4)
    values = rng.normal(5.0, 1.0, size=200)
    low, high = bootstrap_ci(values, np.mean)
    assert low < values.mean() < high
    assert high - low == pytest.approx(2 * 1.96 / math.sqrt(200), rel=0.25)


def _exact_rank(n: int, confidence: float) -> int:
    """The rank from every term of the binomial sum (the formula used up to EXACT_CDF_MAX_N)."""
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in range((n + 1) // 2)]
    coverages = 1.0 - 2.0 * np.cumsum(np.exp(np.array(terms) + n * math.log(0.5)))
    return max(1, int(np.sum(coverages >= confidence)))


@pytest.mark.parametrize("n", [1001, 1002, 2500, 10_000, 54_321, 100_000])
def test_the_windowed_binomial_sum_gives_the_exact_rank_and_level(n):
    for confidence in (0.95, 0.95**0.5, 0.99):
        rank, level = order_statistic_rank(n, confidence)
        assert rank == _exact_rank(n, confidence)
        assert level >= confidence
        assert level == pytest.approx(interval_coverage(n, rank), abs=1e-9)


def test_a_growing_series_gives_summarize_figures_bit_for_bit():
    rng = np.random.default_rng(11)
    series = GrowingSeries(capacity=1)
    values: list[float] = []
    for value in np.concatenate([rng.lognormal(0, 1, 1500), rng.integers(1, 3, 500).astype(float)]):
        series.append(float(value))
        values.append(float(value))
        if len(values) in (1, 2, 3, 6, 7, 20, 999, 1000, 1001, 1500, 2000):
            summary = summarize(values)
            assert series.median_interval() == (
                summary.median,
                summary.ci_low,
                summary.ci_high,
                summary.ci_level,
            )
            assert series.rel_ci_width() == (summary.rel_ci_width, summary.ci_level)
    with pytest.raises(ValueError, match="no samples"):
        GrowingSeries().median_interval()
