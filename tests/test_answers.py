"""The property checks of the graded exercises accept right answers and name the misconception of wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from carpentry_kit.teaching import answers


def _median_iqr(sample):
    q25, q50, q75 = np.percentile(sample, [25, 50, 75])
    return float(q50), float(q75 - q25)


def _fails(check, *args) -> str:
    with pytest.raises(AssertionError) as error:
        check(*args)
    return str(error.value)


@pytest.mark.parametrize("kind", ["odd", "even", "edge"])
def test_statistics_against_their_definition(kind):
    answers.check_median(_median_iqr, kind)
    answers.check_iqr(_median_iqr, kind)
    mean = _fails(answers.check_median, lambda s: (float(np.mean(s)), 0.0), kind)
    assert answers.MEAN_FOR_MEDIAN in mean
    spread = _fails(answers.check_iqr, lambda s: (_median_iqr(s)[0], max(s) - min(s)), kind)
    assert answers.RANGE_FOR_IQR in spread


def test_even_middle_and_unsorted_middle_are_told_apart():
    upper = _fails(answers.check_median, lambda s: (sorted(s)[len(s) // 2], 0.0), "even")
    assert answers.EVEN_MIDDLE in upper
    unsorted = _fails(answers.check_median, lambda s: (s[len(s) // 2], 0.0), "odd")
    assert answers.UNSORTED_MIDDLE in unsorted


def test_relative_spread_consistent_with_the_learners_own_median_and_iqr_passes():
    wrong_iqr = lambda s: (_median_iqr(s)[0], max(s) - min(s))  # noqa: E731
    answers.check_relative_spread(lambda s: wrong_iqr(s)[1] / wrong_iqr(s)[0], wrong_iqr)
    cv = _fails(answers.check_relative_spread, lambda s: float(np.std(s) / np.mean(s)))
    assert answers.CV_MEAN_STD in cv
    inverted = _fails(answers.check_relative_spread, lambda s: _median_iqr(s)[0] / _median_iqr(s)[1])
    assert answers.INVERTED_SPREAD in inverted


def test_energy_by_its_units():
    answers.check_energy_j(lambda p, s: p * s)
    assert answers.POWER_OVER_TIME in _fails(answers.check_energy_j, lambda p, s: p / s)
    assert "watt-hours (Wh)" in _fails(answers.check_energy_j, lambda p, s: p * s / 3600)
    assert answers.LOAD_PERCENT in _fails(answers.check_estimate_value, lambda t, load, s: t * load / 100 * s)


def test_verdict_needs_three_outcomes():
    answers.check_verdict(
        lambda low, high: "faster" if low > 1 else "slower" if high < 1 else "no clear difference"
    )
    assert answers.TWO_WAY in _fails(
        answers.check_verdict, lambda low, high: "faster" if low > 1 else "slower"
    )


def test_bootstrap_checks_tell_a_percentile_bootstrap_from_a_padded_range():
    def bootstrap(b, c, n_boot=2000, seed=0):
        rng = np.random.default_rng(seed)
        b, c = np.asarray(b), np.asarray(c)
        ratios = np.median(rng.choice(b, (n_boot, len(b))), 1) / np.median(rng.choice(c, (n_boot, len(c))), 1)
        low, high = np.percentile(ratios, [2.5, 97.5])
        return float(low), float(high)

    def padded(b, c, n_boot=2000, seed=0):
        ratios = [np.mean(np.random.default_rng(seed).permutation(b)) / np.mean(c) for _ in range(n_boot)]
        return min(ratios) - 0.01, max(ratios) + 0.01

    for check in (
        answers.check_bootstrap_resamples_both,
        answers.check_bootstrap_interval,
        answers.check_bootstrap_coverage,
        answers.check_bootstrap_shrinks,
        answers.check_bootstrap_seeded,
    ):
        check(bootstrap)
    assert "never resampled with replacement" in _fails(answers.check_bootstrap_resamples_both, padded)
    assert answers.NOT_SHRINKING in _fails(answers.check_bootstrap_shrinks, padded)


def test_measure_is_checked_call_by_call_with_an_instrumented_workload():
    import time

    def measure(fn, warmup, repeats):
        for _ in range(warmup):
            fn()
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
        return samples

    def averaged(fn, warmup, repeats):
        for _ in range(warmup):
            fn()
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        return [(time.perf_counter() - start) / repeats] * repeats

    answers.check_measure_each_call(measure)
    answers.check_measure_warmup(measure)
    assert answers.SAME_EVERY_CALL in _fails(answers.check_measure_each_call, averaged)
