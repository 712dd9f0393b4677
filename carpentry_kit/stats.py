"""Statistics of repeated measurements: robust summaries and confidence intervals (pure numpy).

``summarize(samples)`` gives the figures benchmarking tools report (pyperf, pytest-benchmark, asv): median
and IQR first, then mean, spread, percentiles and a confidence interval of the median.

* **CI of the median.** When ``n`` is large enough for the chosen confidence, the distribution-free interval
  between two order statistics, chosen from the Binomial(n, 1/2) distribution (no assumption about the shape
  of the data; its coverage is at least the confidence). Below that ``n`` (``n < 6`` at 95%) no such interval
  exists, so a percentile bootstrap with a fixed seed is used: the result is reproducible but only a rough
  guide — report more repeats.
* **Unstable.** A series is flagged ``unstable`` when it has at least two samples and its spread is more than
  10% of its centre: ``IQR / |median| > 0.1`` or ``stdev / |mean| > 0.1`` (the threshold pyperf warns at).
  An unstable series needs more repeats, a quieter machine, or a longer unit of work.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

UNSTABLE_SPREAD = 0.1  # relative spread (IQR/median or stdev/mean) above which a series is unstable
BOOTSTRAP_SEED = 20240601  # fixed: the same samples always give the same interval
BOOTSTRAP_RESAMPLES = 2000


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
    ci_low, ci_high = median_ci(values, confidence)
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
        confidence=confidence,
        samples=tuple(float(v) for v in values),
    )


def median_ci(samples: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval of the median: order statistics when possible, else a seeded bootstrap."""
    values = np.sort(_as_array(samples))
    if values.size == 1:
        return float(values[0]), float(values[0])
    rank = _order_statistic_rank(values.size, confidence)
    if rank is None:
        return bootstrap_ci(values, np.median, confidence)
    return float(values[rank - 1]), float(values[values.size - rank])


def _order_statistic_rank(n: int, confidence: float) -> int | None:
    """Largest 1-based rank r with P(Bin(n, 1/2) <= r - 1) <= (1 - confidence) / 2, or None if none.

    The interval [x_(r), x_(n-r+1)] then covers the population median with probability
    1 - 2 P(Bin(n, 1/2) <= r - 1) >= confidence, whatever the distribution.
    """
    tail = (1.0 - confidence) / 2.0
    log_half_n = n * math.log(0.5)
    cumulative, rank = 0.0, None
    for k in range(n // 2 + 1):  # the interval never needs a rank past the middle
        cumulative += math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + log_half_n)
        if cumulative > tail:
            break
        rank = k + 1
    return rank


def bootstrap_ci(
    samples: Sequence[float],
    statistic: Callable[..., np.ndarray] = np.median,
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` (called with ``axis=1``), reproducible via ``seed``."""
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

    The two series are resampled independently (they come from different runs). A ratio whose interval
    excludes 1 is a difference the data support; one that includes 1 is not.
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
