"""Property checks of the graded exercises' answers, each naming the misconception a wrong answer shows.

The hidden tests of ``solutions/`` call these inside ``carpentry_kit.checks.Cases`` blocks. Each check tests
the property an answer must have on many seeded inputs (a statistic against its definition, a bootstrap by
its behaviour, a timing function with an instrumented workload, energy by its dimensions) and, when the
answer is wrong, recognises the common wrong answers and says what they are and how to think about them,
without giving the code away. Every check raises ``AssertionError`` with one message, or returns quietly.
"""

from __future__ import annotations

import hashlib
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

# --- the misconceptions (the corpus test looks for these messages) ---------------------------------------
MEAN_FOR_MEDIAN = "that is the mean, not the median: the median is the middle of the ordered values"
UNSORTED_MIDDLE = (
    "that is the middle element in the order given: the median is the middle once the values are ordered"
)
EVEN_MIDDLE = "with an even count there are two middle values, and the median lies halfway between them"
SWAPPED_PAIR = "the two numbers are swapped: return the median first, then the IQR"
RANGE_FOR_IQR = "that is the range (max − min), set by the two most extreme repeats alone: the IQR is the spread of the middle half"
STD_FOR_IQR = "that is the standard deviation, which one outlier inflates: the IQR is the distance between the quartiles"
HALF_IQR = "that is half the IQR: the IQR is the whole distance between the 25th and the 75th percentile"
NEGATIVE_IQR = "the IQR is negative: it is the 75th percentile minus the 25th"
QUANTILE_CONVENTION = "your quartiles follow another convention ({method}): use numpy's default percentile, as the task says, so that everyone's figures agree"
INVERTED_SPREAD = "the ratio is upside down: the spread is the IQR relative to the median, so it is small when the repeats agree"
CV_MEAN_STD = "that is the coefficient of variation (std / mean), which one slow repeat inflates: this spread is built from the robust pair, IQR and median"
SPREAD_OVER_MEAN = (
    "you divided the IQR by the mean, which one slow repeat drags: divide by the typical value, the median"
)
SAME_EVERY_CALL = "every sample is the same: the calls were timed together and averaged, which hides the spread — time each call on its own"
CUMULATIVE = "each sample includes the calls before it: read a new start time for every call"
MILLISECONDS = "the samples look like milliseconds: return seconds, as perf_counter gives them"
SHORTER_THAN_CALL = (
    "a sample is shorter than the call it times: read the clock just before and just after the call"
)
WARMUP_TIMED = "the slow first call was timed: warm-up calls run before the clock starts, so one-off costs (allocation, caches, compilation) stay out of the samples"
WARMUP_MISSING = "the warm-up calls were not made: call fn `warmup` times, untimed, before the timed repeats"
SETUP_IN_WINDOW = "the timed window includes creating the inputs: set-up happens before the clock starts, only the multiply is the work"
NOT_THE_WORK = "a 512 x 512 multiply should take far longer than a 32 x 32 one: time the multiply itself"
INVERTED_SPEEDUP = "the ratio is upside down: a speed-up is the baseline's time over the candidate's, above 1 when the candidate takes less time"
MEAN_SPEEDUP = "that is a ratio of means, which one slow repeat moves: compare the typical (median) times"
PAIRED_RATIO = "that is the median of per-repeat ratios, which pairs repeats that are not paired: compare the medians of the two samples"
DIFFERENCE_SPEEDUP = "that is a difference in seconds: a speed-up is a ratio of times, without a unit"
NOT_RESAMPLED = "with a constant {other} the interval is almost without width, so the {group} times are never resampled with replacement (a permutation, or no resampling, leaves a median unchanged): resample each group"
MEAN_BOOTSTRAP = (
    "the interval follows the ratio of means: bootstrap the speed-up itself, the ratio of medians"
)
TOO_WIDE = "the interval is far wider than a 95 % bootstrap interval: it is bounded by the 2.5th and 97.5th percentiles of the resampled speed-ups, not by extremes"
WRONG_LEVEL = "that is a {level} % interval: the 2.5th and 97.5th percentiles make a 95 % one"
NOT_SHRINKING = "the interval did not narrow with nine times more data: a confidence interval reflects how well the data pin the speed-up down, so it shrinks (about as 1/√n)"
UNSEEDED = "two calls with the same seed gave different intervals: draw the resamples from a generator made from `seed`, so that a reader can reproduce the interval"
SEED_IGNORED = "different seeds gave identical intervals: the `seed` argument is ignored (a fixed seed inside the function?)"
LOW_COVERAGE = "the interval covers the true speed-up in only {hits} of {trials} simulated experiments, where a 95 % interval covers it in about 95 %"
TWO_WAY = "an interval that contains 1 is consistent with no difference: three verdicts are needed, not two"
SWAPPED_VERDICT = (
    "the verdicts are swapped: a speed-up above 1 means the baseline takes longer, so the candidate is faster"
)
POWER_OVER_TIME = "watts divided by seconds is not an energy: a joule is one watt for one second, so energy grows with both power and time"
ADDED_UNITS = "power and time are added, which mixes units: energy is power accumulated over time"
WATT_HOURS = "that is in watt-hours ({unit}): return joules (watt-seconds)"
MILLIJOULES = "that is in millijoules: return joules"
INVERTED_PER_SAMPLE = "the ratio is upside down: energy per sample is joules divided by the number of samples"
TIMES_SAMPLES = "joules times samples grows with the work done: energy per sample divides by it"
LOAD_PERCENT = "load is a fraction (0.4 for 40 %), not a percentage"
IGNORES_LOAD = "the load is ignored: an idle CPU does not draw its TDP; scale the power by the load"
POWER_NOT_ENERGY = "that is a power in watts: energy also needs the duration"
FIRST_CHUNK = "only the first chunk is hashed: update the digest with every chunk until read() returns b''"
LAST_CHUNK = "each chunk replaces the digest: create it once, then update it with every chunk"
HASHED_NAME = "that is the hash of the file's name, not of its bytes"
RAW_DIGEST = "that is the raw digest (bytes): return the hex string"
WRONG_ALGORITHM = "that is a {algorithm} digest: a spec pins a SHA-256 checksum"
TEXT_MODE = "open the file in binary mode ('rb'): a checksum is over the exact bytes, which text mode decodes"
MATCH_COUNT = "that is the number of matches: accuracy is the fraction of predictions that are right"
ERROR_RATE = "that is the fraction of wrong predictions (the error rate): accuracy counts the right ones"
PERCENT = "that is a percentage: return a fraction between 0 and 1"
ZERO_BASED = "epochs are counted from 1: the first epoch is epoch 1, not 0"
STRICT_TARGET = "reaching the target exactly counts: compare with >=, not >"
LAST_EPOCH = "that is the last epoch at the target, not the first one"
NEVER_NONE = "when the target is never reached the answer is None, not {value!r}"
UNIT_MISMATCH = "the {axis}-axis label says ({unit}) but the plotted values are about {value:.3g}, which is {actual}: convert the values or fix the label"

SCALES = {"s": 1.0, "ms": 1e3, "µs": 1e6, "us": 1e6, "ns": 1e9}
QUANTILE_METHODS = ("lower", "higher", "nearest", "midpoint", "hazen", "weibull", "median_unbiased")


def _fail(message: str) -> None:
    raise AssertionError(message)


def _near(value: Any, expected: float, rel: float = 1e-6) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isclose(number, expected, rel_tol=rel, abs_tol=1e-12)


def _number(label: str, value: Any) -> float:
    if isinstance(value, bool):
        _fail(f"{label} is {value}, not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        _fail(f"{label} is {value!r:.60}, not a number")
    if not math.isfinite(number):
        _fail(f"{label} is {number}: check for a division by zero")
    return number


def call(fn: Callable[..., Any], label: str, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; an exception other than a missing answer becomes one message naming the call."""
    try:
        return fn(*args, **kwargs)
    except (NameError, NotImplementedError, AssertionError):
        raise
    except Exception as error:  # noqa: BLE001 - the learner's bug, reported with the input that caused it
        _fail(f"{label} raised {type(error).__name__}: {error}")


def _shown(values: Sequence[float]) -> str:
    items = ", ".join(f"{v:.4g}" for v in values[:8])
    return f"[{items}{', …' if len(values) > 8 else ''}] (n = {len(values)})"


@contextmanager
def substituted(namespace: MutableMapping[str, Any], **values: Any) -> Iterator[None]:
    """Temporarily replace names in a notebook's namespace (e.g. a learner's ``speedup`` by the reference, so
    that one wrong task does not fail the next one too; or ``torch`` by an instrumented one)."""
    missing = object()
    saved = {name: namespace.get(name, missing) for name in values}
    namespace.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


# --- work and rate (lesson 1) ---------------------------------------------------------------------------
MULTIPLIES_ONLY = "that counts the multiplications only: every product is also added into its entry"
ENTRIES_ONLY = "that grows as n², the number of entries: each entry itself takes n multiplies and n adds"
FLOP_PER_S = "that is in FLOP/s: a GFLOP/s is a billion floating-point operations per second"
MFLOP_PER_S = "that is in MFLOP/s (millions): a GFLOP/s is a billion floating-point operations per second"
INVERTED_RATE = "the ratio is upside down: a rate is work per unit of time, so it grows as the time shrinks"


def check_matmul_flop(fn: Callable) -> None:
    """``fn(n)`` is the operation count of an n x n matrix multiply for n from 1 to 1000."""
    for n in (3, 7, 64, 512, 1000, 1):
        got = _number(f"matmul_flop({n})", call(fn, f"matmul_flop({n})", n))
        expected = 2 * n**3
        if got == expected:
            continue
        where = f"matmul_flop({n}) is {got:.6g}, not {expected:.6g}"
        for value, message in ((n**3, MULTIPLIES_ONLY), (2 * n**2, ENTRIES_ONLY), (n**2, ENTRIES_ONLY)):
            if n > 1 and _near(got, value):
                _fail(f"{where}: {message}")
        _fail(where)


def check_gflops(fn: Callable) -> None:
    """``fn(n, seconds)`` is the GFLOP/s of one n x n multiply on seeded sizes and times."""
    rng = np.random.default_rng(1)
    for n, seconds in zip((8, 100, 512, 2048), rng.uniform(1e-4, 3.0, 4), strict=True):
        seconds = float(seconds)
        label = f"gflops({n}, {seconds:.4g})"
        got = _number(label, call(fn, label, n, seconds))
        expected = 2 * n**3 / seconds / 1e9
        if _near(got, expected):
            continue
        where = f"{label} is {got:.4g}, not {expected:.4g} GFLOP/s"
        for value, message in (
            (expected * 1e9, FLOP_PER_S),
            (expected * 1e3, MFLOP_PER_S),
            (1 / expected, INVERTED_RATE),
            (2 * n**3 * seconds / 1e9, INVERTED_RATE),
        ):
            if _near(got, value):
                _fail(f"{where}: {message}")
        _fail(where)


# --- median and IQR (lesson 2) ---------------------------------------------------------------------------


def statistic_samples(kind: str) -> list[list[float]]:
    """Seeded inputs for a statistic: ``odd`` or ``even`` counts (unordered), ``edge`` (n = 1, 2, ties)."""
    rng = np.random.default_rng({"odd": 1, "even": 2, "edge": 3}[kind])
    if kind == "edge":
        return [
            [4.2],
            [3.0, 1.0],
            [2.0, 2.0, 2.0, 5.0],
            [7.0] * 5,
            list(rng.integers(1, 4, 12).astype(float)),
        ]
    sizes = (3, 5, 7, 11, 31) if kind == "odd" else (4, 6, 10, 30)
    return [[float(v) for v in rng.lognormal(-4.0, 0.3, n)] for n in sizes]


def _pair(fn: Callable, name: str, sample: list[float]) -> tuple[float, float]:
    result = call(fn, f"{name}({_shown(sample)})", list(sample))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        _fail(f"{name}(...) returned {result!r:.60}: return a pair (median, iqr)")
    return _number("the median", result[0]), _number("the IQR", result[1])


def true_iqr(sample: Sequence[float]) -> float:
    q25, q75 = np.percentile(sample, [25, 75])
    return float(q75 - q25)


def check_median(fn: Callable, kind: str, name: str = "median_and_iqr") -> None:
    """The first value ``fn`` returns is the median of each sample of ``statistic_samples(kind)``."""
    for sample in statistic_samples(kind):
        got, other = _pair(fn, name, sample)
        expected = float(np.median(sample))
        if _near(got, expected):
            continue
        ordered, n = sorted(sample), len(sample)
        where = f"the median of {_shown(sample)} is {expected:.4g}, not {got:.4g}"
        if _near(got, float(np.mean(sample))):
            _fail(f"{where}: {MEAN_FOR_MEDIAN}")
        if n % 2 == 0 and (_near(got, ordered[n // 2]) or _near(got, ordered[n // 2 - 1])):
            _fail(f"{where}: {EVEN_MIDDLE}")
        if _near(got, sample[n // 2]) or _near(got, sample[(n - 1) // 2]):
            _fail(f"{where}: {UNSORTED_MIDDLE}")
        if n > 1 and _near(got, true_iqr(sample)) and _near(other, expected):
            _fail(f"{where}: {SWAPPED_PAIR}")
        _fail(where)


def check_iqr(fn: Callable, kind: str, name: str = "median_and_iqr") -> None:
    """The second value ``fn`` returns is the IQR (numpy's default percentiles) of each sample."""
    for sample in statistic_samples(kind):
        median, got = _pair(fn, name, sample)
        expected = true_iqr(sample)
        if _near(got, expected):
            continue
        where = f"the IQR of {_shown(sample)} is {expected:.4g}, not {got:.4g}"
        _fail(f"{where}: {_iqr_misconception(sample, got, median)}".rstrip(": "))


def _iqr_misconception(sample: list[float], got: float, median: float) -> str:
    expected = true_iqr(sample)
    if got < 0:
        return NEGATIVE_IQR
    if _near(got, max(sample) - min(sample)):
        return RANGE_FOR_IQR
    if len(sample) > 1 and any(_near(got, float(np.std(sample, ddof=d))) for d in (0, 1)):
        return STD_FOR_IQR
    if _near(got, expected / 2):
        return HALF_IQR
    if _near(got, float(np.median(sample))) and _near(median, expected):
        return SWAPPED_PAIR
    for method in QUANTILE_METHODS:
        q25, q75 = np.percentile(sample, [25, 75], method=method)
        if _near(got, float(q75 - q25)):
            return QUANTILE_CONVENTION.format(method=f"the '{method}' method")
    if len(sample) > 1:
        q = statistics.quantiles(sample, n=4)
        if _near(got, q[2] - q[0]):
            return QUANTILE_CONVENTION.format(method="statistics.quantiles' 'exclusive' method")
    return ""


def check_relative_spread(
    fn: Callable, learners_median_iqr: Callable | None = None, samples: list[list[float]] | None = None
) -> None:
    """``fn(sample)`` is IQR / median (on ``samples``, default seeded odd and even counts); an answer consistent
    with the learner's own (wrong) ``median_and_iqr`` passes, so that one wrong IQR costs one task."""
    for sample in samples or statistic_samples("odd") + statistic_samples("even"):
        got = _number(f"relative_spread({_shown(sample)})", call(fn, "relative_spread(...)", list(sample)))
        median, iqr = float(np.median(sample)), true_iqr(sample)
        if _near(got, iqr / median):
            continue
        if learners_median_iqr is not None and _consistent(got, learners_median_iqr, sample):
            continue
        where = f"relative_spread({_shown(sample)}) is {got:.4g}, but IQR / median is {iqr / median:.4g}"
        mean = float(np.mean(sample))
        if iqr and _near(got, median / iqr):
            _fail(f"{where}: {INVERTED_SPREAD}")
        if any(_near(got, float(np.std(sample, ddof=d)) / mean) for d in (0, 1)):
            _fail(f"{where}: {CV_MEAN_STD}")
        if _near(got, iqr / mean):
            _fail(f"{where}: {SPREAD_OVER_MEAN}")
        _fail(where)


def _consistent(got: float, median_and_iqr: Callable, sample: list[float]) -> bool:
    try:
        median, iqr = median_and_iqr(list(sample))
        return _near(got, float(iqr) / float(median))
    except Exception:  # noqa: BLE001 - their median_and_iqr is graded by its own task
        return False


# --- timing (lessons 1 and 2) ----------------------------------------------------------------------------


class Workload:
    """An instrumented workload: call ``i`` sleeps ``durations[i]`` seconds (the last one repeats) and records
    how long it really took, so a timing function can be checked call by call."""

    def __init__(self, durations: Sequence[float]) -> None:
        self.durations = list(durations)
        self.taken: list[float] = []

    def __call__(self) -> None:
        start = time.perf_counter()
        time.sleep(self.durations[min(len(self.taken), len(self.durations) - 1)])
        self.taken.append(time.perf_counter() - start)


def _timed(measure: Callable, workload: Workload, warmup: int, repeats: int) -> list[float]:
    label = f"measure(fn, warmup={warmup}, repeats={repeats})"
    samples = call(measure, label, workload, warmup, repeats)
    if isinstance(samples, (str, bytes)) or not hasattr(samples, "__len__"):
        _fail(f"{label} returned {samples!r:.60}: return the list of durations")
    values = [_number(f"sample {i + 1}", v) for i, v in enumerate(samples)]
    if len(workload.taken) == repeats and warmup:
        _fail(f"{label} called fn {repeats} times: {WARMUP_MISSING}")
    if len(workload.taken) != warmup + repeats:
        _fail(f"{label} called fn {len(workload.taken)} times, not warmup + repeats = {warmup + repeats}")
    if len(values) != repeats:
        extra = " (were the warm-up calls timed too?)" if len(values) == warmup + repeats else ""
        _fail(f"{label} returned {len(values)} durations, not one per timed repeat ({repeats}){extra}")
    return values


def check_measure_each_call(measure: Callable, attempts: int = 3) -> None:
    """Each sample is the duration of its own call (calls of 4-32 ms, in a known order), in seconds. A check
    that fails on a noisy machine is tried again; a wrong answer fails every attempt."""
    for attempt in range(attempts):
        workload = Workload([0.002, 0.004, 0.024, 0.008, 0.032, 0.016])
        samples = _timed(measure, workload, 1, 5)
        problem = _per_call_problem(samples, workload.taken[1:])
        if not problem:
            return
        if attempt == attempts - 1 or problem[1]:
            _fail(problem[0])


def _per_call_problem(samples: list[float], taken: list[float]) -> tuple[str, bool] | None:
    """(message, certain) when the samples are not the calls' durations; None when they are."""
    shown = ", ".join(f"{s:.3g}" for s in samples)
    where = f"the samples ({shown}) should be the calls' durations ({', '.join(f'{t:.3g}' for t in taken)} s)"
    if max(samples) - min(samples) < 1e-9:
        return f"{where}: {SAME_EVERY_CALL}", True
    if all(abs(s - sum(taken[: i + 1])) < 0.004 for i, s in enumerate(samples)):
        return f"{where}: {CUMULATIVE}", True
    if all(abs(s / 1e3 - t) < 0.004 for s, t in zip(samples, taken, strict=True)):
        return f"{where}: {MILLISECONDS}", True
    if any(s < t - 2e-4 for s, t in zip(samples, taken, strict=True)):
        return f"{where}: {SHORTER_THAN_CALL}", False
    if any(s > t + 0.006 for s, t in zip(samples, taken, strict=True)):
        return where, False
    return None


def check_measure_warmup(measure: Callable) -> None:
    """A slow first call (0.15 s) made as the warm-up is not among the samples."""
    workload = Workload([0.15, 0.001])
    samples = _timed(measure, workload, 1, 3)
    if max(samples) > 0.075:
        _fail(f"measure(fn, warmup=1, repeats=3) returned a sample of {max(samples):.3g} s: {WARMUP_TIMED}")


class SlowSetup:
    """``torch`` whose tensor factories (rand, randn, ones, …) take ``delay`` seconds: a timing that includes
    creating its inputs shows it."""

    FACTORIES = frozenset(
        [
            "rand",
            "randn",
            "randint",
            "rand_like",
            "randn_like",
            "ones",
            "zeros",
            "empty",
            "full",
            "tensor",
            "as_tensor",
            "from_numpy",
            "arange",
            "eye",
            "normal",
        ]
    )

    def __init__(self, module: Any, delay: float = 0.05) -> None:
        self._module, self._delay = module, delay

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if name not in self.FACTORIES or not callable(value):
            return value

        def slow(*args: Any, **kwargs: Any) -> Any:
            time.sleep(self._delay)
            return value(*args, **kwargs)

        return slow


def check_setup_outside_window(time_fn: Callable, namespace: MutableMapping[str, Any], n: int = 64) -> None:
    """``time_fn(n)`` stays far below the 50 ms its inputs now take to create (``SlowSetup`` as ``torch``)."""
    with substituted(namespace, torch=SlowSetup(namespace["torch"])):
        fastest = min(_number("time_matmul(64)", call(time_fn, f"time_matmul({n})", n)) for _ in range(3))
    if fastest >= 0.04:
        _fail(
            f"time_matmul({n}) took {fastest:.3g} s when creating each input takes 0.05 s: {SETUP_IN_WINDOW}"
        )


def check_times_the_work(time_fn: Callable) -> None:
    """A 512 x 512 multiply takes far longer than a 32 x 32 one (the best of a few calls each)."""
    small = min(_number("time_matmul(32)", call(time_fn, "time_matmul(32)", 32)) for _ in range(5))
    large = min(_number("time_matmul(512)", call(time_fn, "time_matmul(512)", 512)) for _ in range(3))
    if not large > 5 * small:
        _fail(f"time_matmul(512) = {large:.2e} s, time_matmul(32) = {small:.2e} s: {NOT_THE_WORK}")


# --- speed-up, bootstrap, verdict (lesson 7) -------------------------------------------------------------


def reference_speedup(baseline: Sequence[float], candidate: Sequence[float]) -> float:
    return float(np.median(baseline) / np.median(candidate))


def reference_ci(
    baseline: Sequence[float], candidate: Sequence[float], level: float = 95.0, stat: Callable = np.median
) -> tuple[float, float]:
    """A percentile bootstrap interval of stat(baseline) / stat(candidate), 20 000 resamples (vectorised)."""
    rng = np.random.default_rng(12345)
    b, c = np.asarray(baseline), np.asarray(candidate)
    ratios = stat(rng.choice(b, (20_000, len(b))), axis=1) / stat(rng.choice(c, (20_000, len(c))), axis=1)
    low, high = np.percentile(ratios, [(100 - level) / 2, (100 + level) / 2])
    return float(low), float(high)


def latencies(n: int, seed: int, median_s: float = 0.02, sigma: float = 0.08) -> list[float]:
    """``n`` seeded lognormal latencies with the given median (seconds)."""
    return [float(v) for v in median_s * np.random.default_rng(seed).lognormal(0.0, sigma, n)]


def check_speedup(fn: Callable) -> None:
    """``fn(baseline, candidate)`` is median(baseline) / median(candidate) on seeded samples with outliers."""
    for seed in range(4):
        baseline, candidate = latencies(9 + seed, seed), latencies(9 + seed, 50 + seed, 0.016)
        baseline[0] *= 8  # one slow repeat
        got = _number("speedup(...)", call(fn, "speedup(baseline, candidate)", baseline, candidate))
        expected = reference_speedup(baseline, candidate)
        if _near(got, expected):
            continue
        where = (
            f"the speed-up of {_shown(baseline)} over {_shown(candidate)} is {expected:.4g}, not {got:.4g}"
        )
        ratios = np.asarray(baseline) / np.asarray(candidate)
        for value, message in (
            (1 / expected, INVERTED_SPEEDUP),
            (float(np.mean(baseline) / np.mean(candidate)), MEAN_SPEEDUP),
            (float(np.median(ratios)), PAIRED_RATIO),
            (float(np.median(baseline) - np.median(candidate)), DIFFERENCE_SPEEDUP),
        ):
            if _near(got, value):
                _fail(f"{where}: {message}")
        _fail(where)


def _interval(
    fn: Callable, baseline: list[float], candidate: list[float], **kwargs: Any
) -> tuple[float, float]:
    label = f"bootstrap_ci(baseline, candidate, {', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    result = call(fn, label, list(baseline), list(candidate), **kwargs)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        _fail(f"{label} returned {result!r:.60}: return a pair (low, high)")
    low, high = _number("low", result[0]), _number("high", result[1])
    if low > high:
        _fail(f"{label} returned ({low:.4g}, {high:.4g}): return (low, high), the lower bound first")
    return low, high


def check_bootstrap_resamples_both(fn: Callable) -> None:
    """With one group constant, the interval is still about as wide as a bootstrap's (at least a third):
    the other group is resampled, with replacement."""
    varied, constant = latencies(30, 5, sigma=0.3), [0.02] * 30
    for group, other, args in (
        ("candidate", "baseline", (constant, varied)),
        ("baseline", "candidate", (varied, constant)),
    ):
        low, high = _interval(fn, *args, n_boot=300, seed=0)
        ref = reference_ci(*args)
        if not high - low > (ref[1] - ref[0]) / 3:
            _fail(NOT_RESAMPLED.format(group=group, other=other))


def check_bootstrap_interval(fn: Callable) -> None:
    """On samples with outliers the interval is the 95 % percentile bootstrap interval of the ratio of medians
    (endpoints within 2.5 % of a 20 000-resample reference)."""
    baseline, candidate = latencies(40, 21), latencies(40, 22, 0.016)
    for i in range(3):
        baseline[i] *= 6
    candidate[0] *= 6
    low, high = _interval(fn, baseline, candidate, n_boot=1000, seed=0)
    ref = reference_ci(baseline, candidate)
    if _near(low, ref[0], 0.025) and _near(high, ref[1], 0.025):
        return
    where = f"the interval ({low:.4g}, {high:.4g}) should be about ({ref[0]:.4g}, {ref[1]:.4g})"
    mean_ref = reference_ci(baseline, candidate, stat=np.mean)
    if _near(low, mean_ref[0], 0.05) and _near(high, mean_ref[1], 0.05):
        _fail(f"{where}: {MEAN_BOOTSTRAP}")
    if _near(low, 1 / ref[1], 0.025) and _near(high, 1 / ref[0], 0.025):
        _fail(f"{where}: {INVERTED_SPEEDUP}")
    for level in (90, 99, 68):
        other = reference_ci(baseline, candidate, level=level)
        if _near(low, other[0], 0.02) and _near(high, other[1], 0.02):
            _fail(f"{where}: {WRONG_LEVEL.format(level=level)}")
    if low <= ref[0] and high >= ref[1] and high - low > 2 * (ref[1] - ref[0]):
        _fail(f"{where}: {TOO_WIDE}")
    _fail(where)


def check_bootstrap_coverage(fn: Callable, trials: int = 30, n: int = 20) -> None:
    """Over ``trials`` simulated experiments with a known speed-up (1.25), the interval covers it at least
    80 % of the time (a 95 % percentile bootstrap of a median covers it about 90-95 %). Deterministic:
    the data and the seeds are fixed."""
    hits = 0
    for trial in range(trials):
        baseline, candidate = latencies(n, 1000 + trial), latencies(n, 5000 + trial, 0.016)
        low, high = _interval(fn, baseline, candidate, n_boot=200, seed=trial)
        hits += low <= 1.25 <= high
    if hits < 0.8 * trials:
        _fail(LOW_COVERAGE.format(hits=hits, trials=trials))


def check_bootstrap_shrinks(fn: Callable) -> None:
    """The interval from 180 repeats per group is well under 0.6 times as wide as from 20."""
    widths = []
    for n in (20, 180):
        low, high = _interval(fn, latencies(n, 7), latencies(n, 8, 0.016), n_boot=400, seed=0)
        widths.append(high - low)
    if not widths[1] < 0.6 * widths[0]:
        _fail(f"width {widths[0]:.3g} with 20 repeats, {widths[1]:.3g} with 180: {NOT_SHRINKING}")


def check_bootstrap_seeded(fn: Callable) -> None:
    """The same seed gives the same interval; another seed gives another."""
    baseline, candidate = latencies(30, 31), latencies(30, 32, 0.016)
    first = _interval(fn, baseline, candidate, n_boot=200, seed=3)
    if _interval(fn, baseline, candidate, n_boot=200, seed=3) != first:
        _fail(UNSEEDED)
    if _interval(fn, baseline, candidate, n_boot=200, seed=4) == first:
        _fail(SEED_IGNORED)


def check_verdict(fn: Callable) -> None:
    """Three verdicts: faster (interval above 1), slower (below 1), no clear difference (contains 1)."""
    cases = (
        ((1.1, 1.3), "faster"),
        ((1.02, 4.0), "faster"),
        ((0.7, 0.9), "slower"),
        ((0.2, 0.99), "slower"),
        ((0.95, 1.2), "no clear difference"),
        ((0.5, 1.01), "no clear difference"),
    )
    for (low, high), expected in cases:
        got = call(fn, f"verdict({low}, {high})", low, high)
        if got == expected:
            continue
        where = f"verdict({low}, {high}) is {got!r:.40}, not {expected!r}"
        if expected == "no clear difference" and got in ("faster", "slower"):
            _fail(f"{where}: {TWO_WAY}")
        if {got, expected} == {"faster", "slower"}:
            _fail(f"{where}: {SWAPPED_VERDICT}")
        _fail(f"{where}: return exactly one of 'faster', 'slower', 'no clear difference'")


def check_axis_unit(ax: Any, axis: str, seconds: Sequence[float]) -> None:
    """The unit in an axis label (s, ms, µs, ns) matches the plotted values, which are ``seconds`` scaled."""
    label = (ax.get_xlabel() if axis == "x" else ax.get_ylabel()).strip()
    unit = label[label.rfind("(") + 1 : -1].strip() if label.endswith(")") and "(" in label else ""
    if unit not in SCALES:
        return
    low, high = ax.dataLim.intervalx if axis == "x" else ax.dataLim.intervaly
    typical = float(np.median(seconds)) * SCALES[unit]
    if low <= typical * 1.5 and high >= typical / 1.5:
        return
    value = (low + high) / 2
    actual = next(
        (f"in {u}" for u, s in SCALES.items() if 0.5 < value / (float(np.median(seconds)) * s) < 2),
        "another unit",
    )
    _fail(UNIT_MISMATCH.format(axis=axis, unit=unit, value=value, actual=actual))


# --- energy (lesson 3) -----------------------------------------------------------------------------------


def _energy_cases() -> list[tuple[float, float]]:
    rng = np.random.default_rng(3)
    return [
        (float(p), float(s)) for p, s in zip(rng.uniform(5, 300, 6), rng.uniform(0.05, 90, 6), strict=True)
    ]


def check_energy_j(fn: Callable) -> None:
    """``fn(power_w, seconds)`` is in joules: proportional to the power and to the time (watt-seconds)."""
    for power, seconds in _energy_cases():
        got = _number("energy_j(...)", call(fn, f"energy_j({power:.4g}, {seconds:.4g})", power, seconds))
        expected = power * seconds
        if _near(got, expected):
            continue
        where = f"energy_j({power:.4g} W, {seconds:.4g} s) is {got:.4g}, not {expected:.4g} J"
        for value, message in (
            (power / seconds, POWER_OVER_TIME),
            (seconds / power, POWER_OVER_TIME),
            (power + seconds, ADDED_UNITS),
            (expected / 3600, WATT_HOURS.format(unit="Wh")),
            (expected / 3.6e6, WATT_HOURS.format(unit="kWh")),
            (expected * 1e3, MILLIJOULES),
            (power, POWER_NOT_ENERGY),
        ):
            if _near(got, value):
                _fail(f"{where}: {message}")
        _fail(where)


def check_energy_per_sample(fn: Callable) -> None:
    """``fn(total_j, samples)`` is joules per sample."""
    for total, samples in ((30.0, 1000), (1.0, 4), (512.5, 7), (0.25, 1)):
        got = _number(
            "energy_per_sample_j(...)", call(fn, f"energy_per_sample_j({total}, {samples})", total, samples)
        )
        if _near(got, total / samples):
            continue
        where = f"energy_per_sample_j({total}, {samples}) is {got:.4g}, not {total / samples:.4g} J"
        for value, message in (
            (samples / total, INVERTED_PER_SAMPLE),
            (total * samples, TIMES_SAMPLES),
            (total / samples * 1e3, MILLIJOULES),
        ):
            if _near(got, value):
                _fail(f"{where}: {message}")
        _fail(where)


def check_estimate_value(fn: Callable) -> None:
    """``fn(tdp_w, load, seconds)`` is TDP x load x time on seeded inputs."""
    rng = np.random.default_rng(4)
    for tdp, load, seconds in zip(
        rng.uniform(15, 250, 5), rng.uniform(0.05, 1, 5), rng.uniform(0.5, 60, 5), strict=True
    ):
        tdp, load, seconds = float(tdp), float(load), float(seconds)
        label = f"estimate_cpu_j({tdp:.4g}, {load:.3g}, {seconds:.4g})"
        got = _number(label, call(fn, label, tdp, load, seconds))
        expected = tdp * load * seconds
        if _near(got, expected):
            continue
        where = f"{label} is {got:.4g}, not {expected:.4g} J"
        for value, message in (
            (expected / 100, LOAD_PERCENT),
            (tdp * seconds, IGNORES_LOAD),
            (tdp * load, POWER_NOT_ENERGY),
            (expected / 3600, WATT_HOURS.format(unit="Wh")),
        ):
            if _near(got, value):
                _fail(f"{where}: {message}")
        _fail(where)


def check_load_bounds(fn: Callable) -> None:
    """Loads outside [0, 1] raise ValueError (1.5, -0.1, and 40, a percentage); 0 and 1 are valid."""
    for load in (1.5, -0.1, 40.0):
        try:
            fn(65.0, load, 1.0)
        except ValueError:
            continue
        except (NameError, NotImplementedError):
            raise
        except Exception as error:  # noqa: BLE001
            _fail(f"estimate_cpu_j(65, {load}, 1) raised {type(error).__name__} instead of ValueError")
        hint = " — a negative load is as impossible as one above 1" if load < 0 else ""
        _fail(
            f"estimate_cpu_j(65, {load}, 1) did not raise ValueError: a load outside [0, 1] is an error{hint}"
        )
    for load in (0.0, 1.0):
        value = _number(
            f"estimate_cpu_j(65, {load}, 2)", call(fn, f"estimate_cpu_j(65, {load}, 2)", 65.0, load, 2.0)
        )
        if not _near(value, 65.0 * load * 2.0):
            _fail(f"estimate_cpu_j(65, {load}, 2) is {value:.4g}, not {65.0 * load * 2.0:g} J")
    # an idle and a fully busy CPU are both valid loads: only loads outside [0, 1] are errors


# --- data and quality (lesson 4) -------------------------------------------------------------------------


def check_sha256(fn: Callable) -> None:
    """``fn(path)`` is the hex SHA-256 of files of 0 B to 3 MiB (seeded random bytes, binary)."""
    rng = np.random.default_rng(9)
    folder = Path(tempfile.mkdtemp(prefix="check-sha-"))
    for size in (0, 9, 2**20, 2**20 + 1, 3 * 2**20 + 17):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        path = folder / f"data-{size}.bin"
        path.write_bytes(data)
        try:
            got = fn(path)
        except UnicodeDecodeError:
            _fail(f"sha256_of on {size} random bytes raised UnicodeDecodeError: {TEXT_MODE}")
        except (NameError, NotImplementedError):
            raise
        except Exception as error:  # noqa: BLE001
            _fail(f"sha256_of on a file of {size} bytes raised {type(error).__name__}: {error}")
        expected = hashlib.sha256(data).hexdigest()
        if got == expected:
            continue
        _fail(
            f"the SHA-256 of a file of {size} bytes is {expected[:12]}…, not {str(got)[:12]}…{_sha_misconception(got, data, path)}"
        )


def _sha_misconception(got: Any, data: bytes, path: Path) -> str:
    chunks = [data[i : i + 2**20] for i in range(0, len(data), 2**20)] or [b""]
    if isinstance(got, bytes):
        return f": {RAW_DIGEST}"
    for value, message in (
        (hashlib.sha256(chunks[0]).hexdigest(), FIRST_CHUNK),
        (hashlib.sha256(chunks[-1]).hexdigest(), LAST_CHUNK),
        (hashlib.sha256(str(path).encode()).hexdigest(), HASHED_NAME),
        (hashlib.md5(data).hexdigest(), WRONG_ALGORITHM.format(algorithm="MD5")),
        (hashlib.sha1(data).hexdigest(), WRONG_ALGORITHM.format(algorithm="SHA-1")),
    ):
        if got == value:
            return f": {message}"
    return ""


def check_accuracy(fn: Callable) -> None:
    """``fn(y_true, y_pred)`` is the fraction of equal labels (lists and arrays, seeded)."""
    rng = np.random.default_rng(10)
    for n in (1, 7, 50, 450):
        y_true = rng.integers(0, 10, n)
        y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, 10, n))
        for kind, args in (("lists", (y_true.tolist(), y_pred.tolist())), ("arrays", (y_true, y_pred))):
            got = _number("accuracy(...)", call(fn, f"accuracy on {n} labels ({kind})", *args))
            expected = float(np.mean(y_true == y_pred))
            if _near(got, expected):
                continue
            where = f"the accuracy of {n} predictions ({kind}) is {expected:.4g}, not {got:.4g}"
            for value, message in (
                (expected * n, MATCH_COUNT),
                (1 - expected, ERROR_RATE),
                (expected * 100, PERCENT),
            ):
                if expected not in (0.0, 1.0) and _near(got, value):
                    _fail(f"{where}: {message}")
            _fail(where)


def check_epochs_to_target(fn: Callable) -> None:
    """``fn(accuracies, target)`` is the 1-based first epoch at or above ``target``, else None."""
    rng = np.random.default_rng(12)
    curves = [
        [round(float(v), 2) for v in np.maximum.accumulate(rng.uniform(0.3, 1.0, n))] for n in (5, 8, 12)
    ]
    cases = [(curve, target) for curve in curves for target in (curve[len(curve) // 2], 0.5, 1.01)]
    cases += [([0.9], 0.9), ([0.2, 0.95, 0.5, 0.97], 0.95)]
    for accuracies, target in cases:
        got = call(fn, f"epochs_to_target({accuracies}, {target})", list(accuracies), target)
        hits = [i for i, value in enumerate(accuracies, start=1) if value >= target]
        expected = hits[0] if hits else None
        if (got is None) == (expected is None) and not isinstance(got, bool) and got == expected:
            continue
        where = f"epochs_to_target({accuracies}, {target}) is {got!r}, not {expected!r}"
        strict = [i for i, value in enumerate(accuracies, start=1) if value > target]
        if expected is None:
            _fail(f"{where}: {NEVER_NONE.format(value=got)}")
        if got == expected - 1:
            _fail(f"{where}: {ZERO_BASED}")
        if got == (strict[0] if strict else None):
            _fail(f"{where}: {STRICT_TARGET}")
        if got == hits[-1]:
            _fail(f"{where}: {LAST_EPOCH}")
        _fail(where)


def reference_matmul_flop(n: int) -> int:
    """The operation count of an n x n matrix multiply, for grading ``gflops`` on its own."""
    return 2 * n**3
