"""Statistics of repeated measurements: robust summaries and confidence intervals (pure numpy).

``summarize(samples)`` gives the figures benchmarking tools report (pyperf, pytest-benchmark, asv): median
and IQR first, then mean, spread, percentiles and a confidence interval of the median.

* **CI of the median.** The distribution-free interval between two order statistics, chosen from the
  Binomial(n, 1/2) distribution (no assumption about the shape of the data). Its *exact* coverage is
  recorded as ``ci_level`` and printed with it: at least the confidence asked for (95%) from n = 6 on
  (96.8% at n = 6, 96.0% at n = 9, 95.0% at n = 17), and below that the coverage ``[min, max]`` really has —
  75% at n = 3, 87.5% at n = 4, 93.7% at n = 5; a single sample has no interval. There is no bootstrap
  fallback: a percentile bootstrap labelled 95% covers only ~75% of the time at n = 3.
* **Ratio of medians.** ``ratio_ci`` combines the two order-statistic intervals; its level is a guaranteed
  lower bound on its coverage, printed as "≥ level".
* **Unstable.** A series is flagged ``unstable`` when it has at least two samples and its spread is more than
  10% of its centre: ``IQR / |median| > 0.1`` or ``stdev / |mean| > 0.1`` (the threshold pyperf warns at).
  An unstable series needs more repeats, a quieter machine, or a longer unit of work.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

UNSTABLE_SPREAD = 0.1  # relative spread (IQR/median or stdev/mean) above which a series is unstable
BOOTSTRAP_SEED = 20240601  # fixed: the same samples always give the same interval
BOOTSTRAP_RESAMPLES = 2000
EXACT_CDF_MAX_N = 1000  # above this, the binomial tail is summed over a window (see _binomial_half_cdf)
CDF_WINDOW = 20  # x sqrt(n): 40 standard deviations; the tail left out below it is < exp(-800), i.e. 0


@dataclass(frozen=True)
class Summary:
    """Summary statistics of one series of samples (all in the samples' unit)."""

    n: int
    median: float
    mean: float
    stdev: float  # sample standard deviation (ddof=1); 0 for a single sample
    iqr: float  # interquartile range, p75 - p25
    mad: float  # median absolute deviation from the median (unscaled)
    min: float
    max: float
    p50: float
    p90: float
    p99: float
    ci_low: float  # confidence interval of the median
    ci_high: float
    unstable: bool
    ci_level: float = 0.0  # the interval's exact coverage (0 for a single sample; see median_interval)
    confidence: float = 0.95
    samples: tuple[float, ...] = field(default=(), repr=False)

    def to_dict(self, samples: bool = False) -> dict[str, float | int | bool | list[float]]:
        """The statistics as a plain dict (the record's ``stats``); raw samples only when asked."""
        data = asdict(self)
        data.pop("samples")
        data.pop("confidence")
        if samples:
            data["samples"] = list(self.samples)
        return data

    @property
    def rel_ci_width(self) -> float:
        """Width of the confidence interval relative to the median (inf when the median is 0)."""
        return _relative(self.ci_high - self.ci_low, self.median)


def summarize(samples: Sequence[float], confidence: float = 0.95) -> Summary:
    """Summarize a series of samples; raises ``ValueError`` when it is empty or not finite."""
    values = _as_array(samples)
    median = float(np.median(values))
    mean = float(values.mean())
    stdev = float(values.std(ddof=1)) if values.size > 1 else 0.0
    p25, p50, p75, p90, p99 = (float(v) for v in np.percentile(values, [25, 50, 75, 90, 99]))
    ci_low, ci_high, ci_level = median_interval(values, confidence)
    return Summary(
        n=int(values.size),
        median=median,
        mean=mean,
        stdev=stdev,
        iqr=p75 - p25,
        mad=float(np.median(np.abs(values - median))),
        min=float(values.min()),
        max=float(values.max()),
        p50=p50,
        p90=p90,
        p99=p99,
        ci_low=ci_low,
        ci_high=ci_high,
        unstable=_is_unstable(values.size, median, mean, stdev, p75 - p25),
        ci_level=ci_level,
        confidence=confidence,
        samples=tuple(float(v) for v in values),
    )


def median_ci(samples: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval of the median between two order statistics (see ``median_interval``)."""
    low, high, _ = median_interval(samples, confidence)
    return low, high


def median_interval(samples: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """``(low, high, level)``: the order-statistic interval of the median and the coverage it has.

    ``level`` is at least ``confidence`` when ``n`` allows it; below that (``n < 6`` at 95%) it is the
    coverage of ``[min, max]``, ``1 - 2 * 0.5**n`` (87.5% at n = 4), and 0 for a single sample.
    """
    values = _as_array(samples)
    lows, highs, level = median_intervals(values[np.newaxis, :], confidence)
    return float(lows[0]), float(highs[0]), level


def median_intervals(rows: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, float]:
    """The median's interval for every row of a 2-D array of samples at once: ``(lows, highs, level)``."""
    ordered = np.sort(np.asarray(rows, dtype=float), axis=1)
    n = ordered.shape[1]
    rank, level = order_statistic_rank(n, confidence)
    return ordered[:, rank - 1], ordered[:, n - rank], level


@functools.lru_cache(maxsize=4096)
def order_statistic_rank(n: int, confidence: float = 0.95) -> tuple[int, float]:
    """The 1-based rank ``r`` of the interval ``[x_(r), x_(n-r+1)]`` and its exact coverage.

    The coverage of that interval is ``1 - 2 P(Bin(n, 1/2) <= r - 1)`` whatever the (continuous)
    distribution, and at least that with ties. ``r`` is the largest rank whose coverage is still at least
    ``confidence``; when even ``[min, max]`` falls short, ``r = 1`` and the coverage returned is the
    lower one it really has. For ``n = 1`` the "interval" is the sample itself, coverage 0.
    """
    if n < 2:
        return 1, 0.0
    coverages = 1.0 - 2.0 * _binomial_half_cdf(n, (n + 1) // 2 - 1)  # coverages[r - 1] for rank r
    rank = max(1, int(np.sum(coverages >= confidence)))  # coverage falls as the rank grows
    return rank, float(max(coverages[rank - 1], 0.0))


def interval_coverage(n: int, rank: int) -> float:
    """Coverage of ``[x_(rank), x_(n-rank+1)]`` for the median of ``n`` samples: 1 - 2 P(Bin <= rank-1)."""
    return float(max(1.0 - 2.0 * _binomial_half_cdf(n, rank - 1)[-1], 0.0))


def _binomial_half_cdf(n: int, last: int) -> np.ndarray:
    """``P(Bin(n, 1/2) <= k)`` for k = 0..last, in log space (no overflow for large n).

    Up to ``EXACT_CDF_MAX_N`` every term is summed (``math.lgamma`` per term); above it the terms more than
    ``CDF_WINDOW * sqrt(n)`` (40 standard deviations) below ``last`` are left out — together less than
    exp(-800), zero in double precision — and the rest come from one ``lgamma`` and a vectorised recurrence:
    O(sqrt(n)) numpy work instead of O(n) Python calls (adaptive stopping asks at every check).
    """
    if n <= EXACT_CDF_MAX_N:
        k = np.arange(last + 1)
        log_pmf = np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in k])
        return np.cumsum(np.exp(log_pmf + n * math.log(0.5)))
    first = max(0, last - int(CDF_WINDOW * math.sqrt(n)))
    k = np.arange(first, last + 1, dtype=float)
    top = math.lgamma(n + 1) - math.lgamma(last + 1) - math.lgamma(n - last + 1) + n * math.log(0.5)
    # log pmf(k - 1) = log pmf(k) + log(k / (n - k + 1)), summed down from the top term
    steps = np.log(k[1:] / (n - k[1:] + 1.0))
    log_pmf = top + np.concatenate((np.cumsum(steps[::-1])[::-1], [0.0]))
    cdf = np.zeros(last + 1)
    cdf[first:] = np.cumsum(np.exp(log_pmf))
    return cdf


def ratio_ci(
    a: Sequence[float], b: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float, float]:
    """``(ratio, low, high, level)``: median(a) / median(b) with a distribution-free interval.

    Each side gets its order-statistic interval at ``sqrt(confidence)`` (or the widest it has); the two
    series are independent, so both cover their medians with probability ``level = level_a * level_b``,
    and whenever they do, ``[low_a / high_b, high_a / low_b]`` covers the ratio. ``level`` is therefore a
    guaranteed *lower bound* on the coverage (the true coverage is higher): print it as "≥ level". The
    samples must not be negative; a baseline interval reaching 0 gives an unbounded ``high``.
    """
    values_a, values_b = _as_array(a), _as_array(b)
    if np.any(values_a < 0) or np.any(values_b < 0):
        raise ValueError("samples of a ratio must not be negative — compare a positive quantity")
    centre_b = float(np.median(values_b))
    if centre_b == 0:
        raise ValueError("the baseline's median is 0 — a ratio to it is undefined")
    lows, highs, level = ratio_intervals(values_a[np.newaxis, :], values_b[np.newaxis, :], confidence)
    return float(np.median(values_a)) / centre_b, float(lows[0]), float(highs[0]), level


def ratio_intervals(
    rows_a: np.ndarray, rows_b: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, float]:
    """``ratio_ci``'s interval for every pair of rows at once: ``(lows, highs, level)``."""
    side = math.sqrt(confidence)
    low_a, high_a, level_a = median_intervals(rows_a, side)
    low_b, high_b, level_b = median_intervals(rows_b, side)
    lows, highs = _ratio_bounds(low_a, high_a, low_b, high_b)
    return lows, highs, level_a * level_b


def ratio_of_sides(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """``ratio_ci`` from each side's ``(median, low, high, level)`` — its median's interval at
    ``sqrt(confidence)`` — however the sides were obtained (order statistics of samples, or of per-run
    medians when runs are the units): ``(ratio, low, high, level_a * level_b)``, the level a lower bound.
    """
    (median_a, low_a, high_a, level_a), (median_b, low_b, high_b, level_b) = a, b
    if median_b == 0:
        raise ValueError("the baseline's median is 0 — a ratio to it is undefined")
    if min(low_a, low_b) < 0:
        raise ValueError("samples of a ratio must not be negative — compare a positive quantity")
    lows, highs = _ratio_bounds(*(np.array([value]) for value in (low_a, high_a, low_b, high_b)))
    return median_a / median_b, float(lows[0]), float(highs[0]), level_a * level_b


def _ratio_bounds(
    low_a: np.ndarray, high_a: np.ndarray, low_b: np.ndarray, high_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``[low_a / high_b, high_a / low_b]``, unbounded above where the baseline's interval reaches 0."""
    with np.errstate(divide="ignore"):
        highs = np.where(low_b > 0, high_a / np.where(low_b > 0, low_b, 1.0), np.inf)
    return low_a / high_b, highs


class GrowingSeries:
    """A series that grows one value at a time and answers "how wide is the median's CI?" without a
    full ``summarize``: O(1) per ``append`` (a preallocated numpy buffer, doubled when full) and one
    O(n) selection (``np.partition``) per ``median_interval``. Its answer is exactly ``summarize``'s
    (the same order statistics, rank and level); adaptive stopping asks on a geometric schedule, so the
    total cost over a run stays a small, constant amount per repeat.
    """

    def __init__(self, capacity: int = 64) -> None:
        self._values = np.empty(max(1, capacity))
        self.n = 0

    def append(self, value: float) -> None:
        if self.n == self._values.size:
            self._values = np.concatenate((self._values, np.empty(self._values.size)))
        self._values[self.n] = value
        self.n += 1

    def median_interval(self, confidence: float = 0.95) -> tuple[float, float, float, float]:
        """``(median, low, high, level)`` of the values so far: ``summarize``'s figures, bit for bit."""
        n = self.n
        if n == 0:
            raise ValueError("no samples to summarize — run at least one timed repeat")
        rank, level = order_statistic_rank(n, confidence)
        middle = ((n - 1) // 2, n // 2)
        ordered = np.partition(self._values[:n], sorted({rank - 1, n - rank, *middle}))
        median = float(np.mean(ordered[middle[0] : middle[1] + 1]))
        return median, float(ordered[rank - 1]), float(ordered[n - rank]), level

    def rel_ci_width(self, confidence: float = 0.95) -> tuple[float, float]:
        """``(width relative to the median, level)``: what ``Summary.rel_ci_width`` and ``ci_level`` say."""
        median, low, high, level = self.median_interval(confidence)
        return _relative(high - low, median), level


def format_level(level: float, at_least: bool = False) -> str:
    """A coverage as text that never overstates it: 0.96875 -> ``96.8 %``, with ``≥`` for a lower bound."""
    percent = math.floor(level * 1000.0 + 1e-9) / 10.0
    return f"{'≥ ' if at_least else ''}{percent:.1f} %"


def ci_label(level: float | None, n: int) -> str:
    """How an interval is labelled in summaries: ``96.0 % CI, n = 9``; ``no CI, n = 1``.

    ``level`` None (a record stored before levels were recorded) reads ``CI of unrecorded level``.
    """
    if n < 2 or (level is not None and level <= 0):
        return f"no CI, n = {n}"
    if level is None:
        return f"CI of unrecorded level, n = {n}"
    return f"{format_level(level)} CI, n = {n}"


def olympic_mean(values: Sequence[float]) -> float:
    """The mean after dropping the smallest and the largest value (MLPerf Training's score over its runs).

    Needs at least three values: ``ValueError`` otherwise.
    """
    ordered = np.sort(_as_array(values))
    if ordered.size < 3:
        raise ValueError(f"an olympic mean needs at least 3 values, got {ordered.size}")
    return float(ordered[1:-1].mean())


def bootstrap_ci(
    samples: Sequence[float],
    statistic: Callable[..., np.ndarray] = np.median,
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` (called with ``axis=1``), reproducible via ``seed``.

    Its coverage is only approximately ``confidence`` and falls short for small samples (about 75% at
    n = 3 for the median); the library's printed intervals use ``median_interval`` and ``ratio_ci``.
    """
    values = _as_array(samples)
    estimates = _bootstrap_estimates(values, statistic, resamples, np.random.default_rng(seed))
    return _percentile_interval(estimates, confidence)


def bootstrap_ratio_ci(
    a: Sequence[float],
    b: Sequence[float],
    statistic: Callable[..., np.ndarray] = np.median,
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float, float]:
    """Ratio ``statistic(a) / statistic(b)`` and its percentile bootstrap interval: ``(ratio, low, high)``.

    The two series are resampled independently (they come from different runs). Like ``bootstrap_ci`` its
    coverage is only approximate (low for small samples); ``compare`` uses ``ratio_ci`` instead.
    """
    values_a, values_b = _as_array(a), _as_array(b)
    centre_b = float(statistic(values_b[np.newaxis, :], axis=1)[0])
    if centre_b == 0:
        raise ValueError("the baseline's statistic is 0 — a ratio to it is undefined")
    ratio = float(statistic(values_a[np.newaxis, :], axis=1)[0]) / centre_b
    rng = np.random.default_rng(seed)
    estimates_a = _bootstrap_estimates(values_a, statistic, resamples, rng)
    estimates_b = _bootstrap_estimates(values_b, statistic, resamples, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = estimates_a / estimates_b
    low, high = _percentile_interval(ratios[np.isfinite(ratios)], confidence)
    return ratio, low, high


def bootstrap_difference_ci(
    a: Sequence[float],
    b: Sequence[float],
    statistic: Callable[..., np.ndarray] = np.mean,
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float, float]:
    """Difference ``statistic(b) - statistic(a)`` of two independent samples (e.g. a model's per-sample quality
    on a public test split and on fresh data) and its percentile bootstrap interval: ``(difference, low, high)``.
    Each sample is resampled on its own; coverage is approximate (good for the hundreds of samples of a split,
    low for a handful)."""
    values_a, values_b = _as_array(a), _as_array(b)
    if values_a.size < 2 or values_b.size < 2:
        raise ValueError("a difference's interval needs at least 2 samples on each side")
    difference = float(
        statistic(values_b[np.newaxis, :], axis=1)[0] - statistic(values_a[np.newaxis, :], axis=1)[0]
    )
    rng = np.random.default_rng(seed)
    estimates = _bootstrap_estimates(values_b, statistic, resamples, rng) - _bootstrap_estimates(
        values_a, statistic, resamples, rng
    )
    low, high = _percentile_interval(estimates, confidence)
    return difference, low, high


def exp_mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(mean(values))``: perplexity from per-sample mean negative log-likelihoods (nats per token)."""
    return np.exp(np.mean(values, axis=axis))


def _bootstrap_estimates(
    values: np.ndarray, statistic: Callable[..., np.ndarray], resamples: int, rng: np.random.Generator
) -> np.ndarray:
    indices = rng.integers(0, values.size, size=(resamples, values.size))
    return np.asarray(statistic(values[indices], axis=1), dtype=float)


def _percentile_interval(estimates: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(estimates, [tail, 100.0 - tail])
    return float(low), float(high)


def _is_unstable(n: int, median: float, mean: float, stdev: float, iqr: float) -> bool:
    if n < 2:
        return False
    return _relative(iqr, median) > UNSTABLE_SPREAD or _relative(stdev, mean) > UNSTABLE_SPREAD


def _relative(spread: float, centre: float) -> float:
    """``spread / |centre|``; 0 when both are 0, inf when only the centre is."""
    if centre == 0:
        return 0.0 if spread == 0 else math.inf
    return spread / abs(centre)


def _as_array(samples: Sequence[float]) -> np.ndarray:
    values = np.asarray(samples, dtype=float).ravel()
    if values.size == 0:
        raise ValueError("no samples to summarize — run at least one timed repeat")
    if not np.all(np.isfinite(values)):
        raise ValueError("samples contain NaN or infinity — check the measurement that produced them")
    return values
