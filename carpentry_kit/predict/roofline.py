"""The roofline model with an overhead floor: how long a unit of work takes on a hardware profile.

For work of ``F`` flop moving ``B`` bytes to and from memory in ``N`` framework calls, on a machine of peak
rate ``P``, bandwidth ``W`` and per-call overhead ``o``, with achieved-versus-peak efficiencies in
``[e_low, e_high]`` (and a typical value between them, for the headline):

    roofline time  = max(F / (P e), B / (W e_m))     compute- or memory-bound, whichever is slower
    overhead time  = N o                              the floor no kernel can go below (o: a range too)
    time           = roofline + overhead  (CPU: calls run one after another)
                     max(roofline, overhead) .. roofline + overhead  (GPU: launches overlap the kernels)

The low end uses ``e_high``, the high end ``e_low``. The *bound* is the largest of the three parts; the
arithmetic intensity ``F / B`` against the ridge point ``P / W`` says why compute or memory wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from carpentry_kit.predict.hardware import Profile


@dataclass(frozen=True)
class Work:
    """Work of one timed unit (an offline step, a single-stream query, a training epoch)."""

    samples: int
    flop: float
    bytes: float
    calls: int
    dtype: str = "float32"
    loop: str = ""  # "training" | "query": a network's many small operations driven from Python; "": a kernel

    @property
    def intensity(self) -> float:
        """Arithmetic intensity, flop per byte moved."""
        return self.flop / self.bytes if self.bytes else float("inf")


@dataclass(frozen=True)
class TimeEstimate:
    """Predicted seconds for one unit of ``Work``, as a range, with the parts and the reasoning."""

    low_s: float
    typical_s: float  # at the typical efficiencies: the headline value
    high_s: float
    compute_s: tuple[float, float, float]  # (low, typical, high)
    memory_s: tuple[float, float, float]
    overhead_s: tuple[float, float, float]
    peak_flop_s: float
    bandwidth_b_s: float
    intensity: float
    ridge: float
    bound: str  # compute | memory | overhead
    why: str
    sources: dict[str, str]


def estimate_time(work: Work, profile: Profile, threads: int = 1) -> TimeEstimate:
    """The roofline-plus-overhead time range of ``work`` on ``profile`` with ``threads`` threads."""
    peak, peak_source = profile.peak(work.dtype, threads)
    bandwidth, bandwidth_source = profile.bandwidth(threads)
    compute = tuple(work.flop / (peak * e) for e in reversed(profile.compute_efficiency.value))
    memory = tuple(work.bytes / (bandwidth * e) for e in reversed(profile.memory_efficiency.value))
    overhead = tuple(work.calls * seconds for seconds in profile.call_overhead(work.loop))
    roof = [max(c, m) for c, m in zip(compute, memory, strict=True)]
    low = max(roof[0], overhead[0]) if profile.kind == "gpu" else roof[0] + overhead[0]
    typical, high = roof[1] + overhead[1], roof[2] + overhead[2]
    ridge = peak / bandwidth
    bound, why = _bound(work, compute, memory, overhead, peak, bandwidth, ridge, profile)
    sources = {
        "peak_flop_s": peak_source,
        "memory_bandwidth_b_s": bandwidth_source,
        "overhead_s": profile.overhead_s.source,
        "compute_efficiency": profile.compute_efficiency.source,
        "memory_efficiency": profile.memory_efficiency.source,
    }
    return TimeEstimate(
        low,
        typical,
        high,
        compute,
        memory,
        overhead,
        peak,
        bandwidth,
        work.intensity,
        ridge,
        bound,
        why,
        sources,
    )


def _bound(work, compute, memory, overhead, peak, bandwidth, ridge, profile) -> tuple[str, str]:
    """Which part dominates (at the typical efficiencies), and a sentence saying why."""
    mid = {"compute": compute[1], "memory": memory[1], "overhead": overhead[1]}
    bound = max(mid, key=mid.get)
    side = "above" if work.intensity >= ridge else "below"
    roof = (
        f"arithmetic intensity {work.intensity:.3g} flop/B is {side} the ridge point {ridge:.3g} flop/B"
        f" ({quantity(peak, 'FLOP/s')} / {quantity(bandwidth, 'B/s')})"
    )
    if bound == "overhead":
        return bound, (
            f"overhead-bound: {work.calls} framework calls x {quantity(overhead[1] / work.calls, 's')} ="
            f" {quantity(overhead[1], 's')}, more than the roofline's {quantity(max(mid['compute'], mid['memory']), 's')}"
            f" ({roof})"
        )
    return bound, f"{bound}-bound: {roof}"


_PREFIXES = (
    (1e12, "T"),
    (1e9, "G"),
    (1e6, "M"),
    (1e3, "k"),
    (1.0, ""),
    (1e-3, "m"),
    (1e-6, "µ"),
    (1e-9, "n"),
)


def quantity(value: float, unit: str) -> str:
    """``0.0123, "s"`` -> ``12.3 ms``: s, J, W, FLOP/s and B/s with an SI prefix, anything else as is."""
    if unit in ("s", "J", "W", "FLOP/s", "B/s") and value:
        for scale, prefix in _PREFIXES:
            if abs(value) >= scale:
                return f"{value / scale:.3g} {prefix}{unit}"
        return f"{value / 1e-9:.3g} n{unit}"
    return f"{value:.4g} {unit}"
