"""Coverage of the library's confidence intervals, by simulation: the README's coverage table.

For each n, 20,000 seeded samples per distribution with a known median; "covered" is the fraction whose
interval contains it. The median's order-statistic interval must cover at its printed level (exact), the
ratio interval at least at its printed lower bound; for contrast, the percentile bootstrap labelled 95%
that the library used below n = 6. Prints a Markdown table; exits 1 when a printed level is off by more
than 2 points. Run: ``.venv/bin/python benchmarks/bench_stats_coverage.py``.
"""

from __future__ import annotations

import sys

import numpy as np

from carpentry_kit.stats import format_level, median_intervals, ratio_intervals

TRIALS = 20_000
BOOTSTRAP_TRIALS = 2_000
TOLERANCE = 0.02
SIZES = (3, 4, 5, 6, 9, 17, 30, 50)
DISTRIBUTIONS = {  # name -> (draw(rng, shape), true median)
    "normal": (lambda rng, shape: rng.normal(10.0, 2.0, shape), 10.0),
    "lognormal": (lambda rng, shape: rng.lognormal(0.0, 1.0, shape), 1.0),
    "Pareto(1.5)": (lambda rng, shape: 1.0 + rng.pareto(1.5, shape), 2.0 ** (1 / 1.5)),
    "Cauchy": (lambda rng, shape: 5.0 + rng.standard_cauchy(shape), 5.0),
}


def covered(lows: np.ndarray, highs: np.ndarray, truth: float) -> float:
    return float(np.mean((lows <= truth) & (truth <= highs)))


def bootstrap_coverage(rng: np.random.Generator, n: int, resamples: int = 1000) -> float:
    """Coverage of a percentile-bootstrap "95%" interval of the lognormal median (the old small-n rule)."""
    samples = rng.lognormal(0.0, 1.0, (BOOTSTRAP_TRIALS, n))
    picks = rng.integers(0, n, (BOOTSTRAP_TRIALS, resamples, n))
    medians = np.median(np.take_along_axis(samples[:, None, :], picks, axis=2), axis=2)
    lows, highs = np.percentile(medians, [2.5, 97.5], axis=1)
    return covered(lows, highs, 1.0)


def median_rows(rng: np.random.Generator) -> tuple[list[str], bool]:
    lines, ok = [], True
    for n in SIZES:
        cells = []
        for draw, truth in DISTRIBUTIONS.values():
            lows, highs, level = median_intervals(draw(rng, (TRIALS, n)))
            coverage = covered(lows, highs, truth)
            ok &= abs(coverage - level) <= TOLERANCE
            cells.append(f"{coverage:.1%}")
        boot = f"{bootstrap_coverage(rng, n):.1%}" if n < 6 else ""
        lines.append(f"| median | {n} | {format_level(level)} | {' | '.join(cells)} | {boot} |")
    return lines, ok


def ratio_rows(rng: np.random.Generator) -> tuple[list[str], bool]:
    lines, ok = [], True
    for n in (3, 5, 10, 30):
        cells = []
        for draw, _ in DISTRIBUTIONS.values():  # a = 1.7 x b's distribution: the true ratio is 1.7
            lows, highs, level = ratio_intervals(1.7 * draw(rng, (TRIALS, n)), draw(rng, (TRIALS, n)))
            coverage = covered(lows, highs, 1.7)
            ok &= coverage >= level - TOLERANCE
            cells.append(f"{coverage:.1%}")
        lines.append(f"| ratio | {n} vs {n} | {format_level(level, at_least=True)} | {' | '.join(cells)} | |")
    return lines, ok


def main() -> int:
    rng = np.random.default_rng(20261201)
    names = " | ".join(DISTRIBUTIONS)
    print(f'| interval | n | printed level | {names} | bootstrap "95%" (lognormal) |')
    print("|---|---|---|" + "---|" * len(DISTRIBUTIONS) + "---|")
    medians, ok_median = median_rows(rng)
    ratios, ok_ratio = ratio_rows(rng)
    print("\n".join(medians + ratios))
    print(f"\n{TRIALS:,} trials per cell ({BOOTSTRAP_TRIALS:,} for the bootstrap column).")
    return 0 if ok_median and ok_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
