"""Coverage of the library's confidence intervals, by simulation: the README's coverage table.

For each n, 20,000 seeded samples per distribution with a known median; "covered" is the fraction whose
interval contains it. The median's order-statistic interval must cover at its printed level (exact), the
ratio interval at least at its printed lower bound; for contrast, the percentile bootstrap labelled 95%
that the library used below n = 6. A second table: configurations of several runs that differ from run
to run, compared over their runs' medians (what ``compare`` does) and, for contrast, over their pooled
repeats as if independent. Prints Markdown tables; exits 1 when a printed level is off by more than 2
points. Run: ``.venv/bin/python benchmarks/bench_stats_coverage.py``.
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


RUN_SPREAD, REPEAT_SPREAD, REPEATS = 0.1, 0.2, 30  # lognormal sigmas of a run's factor and of its repeats


def runs_rows(rng: np.random.Generator) -> tuple[list[str], bool]:
    """Several runs a side, runs differing (a lognormal factor each): compare's interval over the runs'
    medians against the interval that treats every pooled repeat as independent. True ratio 1.3."""
    lines, ok = [], True
    for runs in (2, 3, 5, 10, 20):
        sides = []
        for scale in (1.3, 1.0):
            factors = rng.lognormal(0.0, RUN_SPREAD, (TRIALS, runs, 1))
            samples = scale * factors * rng.lognormal(0.0, REPEAT_SPREAD, (TRIALS, runs, REPEATS))
            sides.append((np.median(samples, axis=2), samples.reshape(TRIALS, runs * REPEATS)))
        (medians_a, pooled_a), (medians_b, pooled_b) = sides
        lows, highs, level = ratio_intervals(medians_a, medians_b)
        coverage = covered(lows, highs, 1.3)
        ok &= coverage >= level - TOLERANCE
        pooled_lows, pooled_highs, pooled_level = ratio_intervals(pooled_a, pooled_b)
        pooled = covered(pooled_lows, pooled_highs, 1.3)
        lines.append(
            f"| {runs} vs {runs} | {format_level(level, at_least=True)} | {coverage:.1%} "
            f"| {format_level(pooled_level, at_least=True)} | {pooled:.1%} |"
        )
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
    print(
        f"\nRuns as the units (each run: a lognormal factor, sigma {RUN_SPREAD}, times {REPEATS} lognormal "
        f"repeats, sigma {REPEAT_SPREAD}; true ratio 1.3):\n"
    )
    print("| runs a side | printed level (over runs) | covered | printed level (pooled repeats) | covered |")
    print("|---|---|---|---|---|")
    runs, ok_runs = runs_rows(rng)
    print("\n".join(runs))
    return 0 if ok_median and ok_ratio and ok_runs else 1


if __name__ == "__main__":
    sys.exit(main())
