"""``calibrate()``: measure this machine's achieved compute rate, memory bandwidth and overhead floor.

The figures are what the roofline model needs, measured rather than read from a data sheet:

* **compute**: a matmul ladder (square sizes 64 ... 1024) per dtype (float32, float64) with torch, on one
  thread (and sizes from 256 on all threads); the best rate is the achieved peak, the spread of the
  one-thread sizes from 256 the efficiency range;
* **memory bandwidth**: streaming kernels over arrays well beyond the last-level cache — numpy copy and
  torch triad (``a = b + s c``), one thread and all — counting the bytes each kernel must move;
* **overhead floor**: the time of one bare tiny torch operation, and of an operation inside a tiny MLP's
  training step and inference query (what each call costs in a Python loop of small operations);
* **power**: idle and loaded power from the energy meter a run would use here; where it measures (RAPL,
  NVML) these are measurements, otherwise its estimate, and the profile says plainly that no power was
  measured.

Each figure is the best of a few timed repeats (the least disturbed one on a shared machine) and the
profile says how it was obtained; its duration is stored in the profile (``calibration.duration_s``).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from carpentry_kit.predict.hardware import PROFILE_VERSION, Profile, profile_from_dict

LADDER_SIZES = (64, 128, 256, 512, 1024)
LADDER_DTYPES = ("float32", "float64")
EFFICIENCY_FROM = 256  # the efficiency range comes from ladder sizes at least this large
STREAM_ELEMENTS = 8 * 2**20  # float64: 64 MiB an array, beyond any last-level cache here
OVERHEAD_CALLS = 1000
MIN_TIME_S = 0.03  # each timed figure repeats its kernel for at least this long
POWER_WINDOW_S = 0.3


def calibrate(quick: bool = False, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure this machine and return its profile as a mapping (``write_profile`` saves it as YAML).

    ``quick`` stops the ladder at 512 and streams smaller arrays (for tests and ``--hardware this``)."""
    import torch

    say = log or (lambda message: None)
    started = time.perf_counter()
    previous = torch.get_num_threads()
    threads_all = os.cpu_count() or 1
    sizes = LADDER_SIZES[:-1] if quick else LADDER_SIZES
    elements = STREAM_ELEMENTS // 2 if quick else STREAM_ELEMENTS
    try:
        say("matmul ladder ...")
        ladder = [
            _matmul_rate(size, dtype, threads)
            for threads in sorted({1, threads_all})
            for dtype in LADDER_DTYPES
            for size in sizes
            if threads == 1 or size >= EFFICIENCY_FROM  # all threads: only sizes that can use them
        ]
        say("streaming bandwidth ...")
        streams = [
            _stream(kind, threads, elements)
            for threads in sorted({1, threads_all})
            for kind in ("copy", "triad")
        ]
        say("overhead floor ...")
        overhead = _overhead()
        power = _power(threads_all)
    finally:
        torch.set_num_threads(previous)
    profile = _profile(ladder, streams, overhead, power, threads_all)
    profile["calibration"]["duration_s"] = round(time.perf_counter() - started, 2)
    return profile


def write_profile(profile: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a profile mapping as YAML (with a comment saying where it came from)."""
    import yaml

    path = Path(path)
    header = (
        "# Hardware profile written by `carpentry calibrate`: measured on this machine, not a data sheet.\n"
    )
    path.write_text(header + yaml.safe_dump(profile, sort_keys=False, width=110), encoding="utf-8")
    return path


def calibrated_profile(quick: bool = True) -> Profile:
    """This machine as a ``Profile`` (``--hardware this``)."""
    return profile_from_dict(calibrate(quick=quick), "this machine (calibrated now)")


# ---------------------------------------------------------------- measurements


def _best_rate(kernel: Callable[[], None], work: float, repeats: int = 3) -> float:
    """``work`` / the fastest of ``repeats`` timings of ``kernel`` (each timing at least ``MIN_TIME_S``)."""
    kernel()  # warm-up: first-call allocation, BLAS thread start
    best = 0.0
    for _ in range(repeats):
        count, start = 0, time.perf_counter()
        while True:
            kernel()
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= MIN_TIME_S:
                break
        best = max(best, count * work / elapsed)
    return best


def _matmul_rate(size: int, dtype: str, threads: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)
    left, right = (
        torch.randn(size, size, generator=generator, dtype=getattr(torch, dtype)) for _ in range(2)
    )
    out = torch.empty_like(left)
    rate = _best_rate(lambda: torch.matmul(left, right, out=out), 2.0 * size**3)
    return {"size": size, "dtype": dtype, "threads": threads, "flop_s": float(f"{rate:.4g}")}


def _stream(kind: str, threads: int, elements: int) -> dict[str, Any]:
    """Bandwidth of a copy (numpy: read b, write a) or a triad (torch: read b and c, write a), float64."""
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    a, b, c = (np.full(elements, value, dtype=np.float64) for value in (0.0, 1.0, 2.0))
    if kind == "copy" and threads == 1:  # numpy's copy is single-threaded
        kernel, arrays, library = (lambda: np.copyto(a, b)), 2, "numpy.copyto"
    else:
        ta, tb, tc = (torch.from_numpy(array) for array in (a, b, c))
        if kind == "copy":
            kernel, arrays, library = (lambda: ta.copy_(tb)), 2, "torch.Tensor.copy_"
        else:
            kernel, arrays, library = (
                (lambda: torch.add(tb, tc, alpha=3.0, out=ta)),
                3,
                "torch.add(b, c, alpha)",
            )
    rate = _best_rate(kernel, float(arrays * elements * 8))
    return {
        "kernel": kind,
        "library": library,
        "threads": threads,
        "bytes_per_step": arrays * elements * 8,
        "b_s": float(f"{rate:.4g}"),
    }


def _overhead() -> dict[str, Any]:
    """Seconds a framework call costs: a bare tiny torch op, and a call inside a tiny MLP's inference query
    and training step (their time over the operations they dispatch); and an empty Python call."""
    import torch

    torch.set_num_threads(1)  # tiny operations: more threads only add synchronisation
    one, two, out = torch.ones(1), torch.ones(1), torch.empty(1)
    query, step = _tiny_loops()
    return {
        "torch_op_s": _per_call(lambda: torch.add(one, two, out=out), 1),
        "query_call_s": _per_call(*query),
        "train_step_call_s": _per_call(*step),
        "python_call_s": _per_call(lambda: None, 1),
    }


def _per_call(kernel: Callable[[], Any], calls: int) -> float:
    """The fastest of 7 rounds (the least disturbed, like every figure here) of ``kernel`` / its ``calls``."""
    rounds = max(1, OVERHEAD_CALLS // calls)
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(rounds):
            kernel()
        timings.append((time.perf_counter() - start) / (rounds * calls))
    return float(f"{min(timings):.4g}")


def _tiny_loops() -> tuple[tuple[Callable[[], Any], int], tuple[Callable[[], Any], int]]:
    """A one-sample query and a 4-sample Adam step of an 8-16-4 MLP, each with its counted call count."""
    import torch
    from torch import nn

    from carpentry_kit.predict.work import count_calls

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    optimizer = torch.optim.Adam(model.parameters())
    loss = nn.CrossEntropyLoss()
    sample, batch, labels = torch.randn(1, 8), torch.randn(4, 8), torch.tensor([0, 1, 2, 3])

    def query() -> None:
        with torch.inference_mode():
            model(sample)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss(model(batch), labels).backward()
        optimizer.step()

    step()  # the optimizer's state exists from the first step on
    return (query, count_calls(query)[1]), (step, count_calls(step)[1])


def _power(threads: int) -> dict[str, Any]:
    """Idle and loaded power (1 thread and all) from the energy meter a run would use here ("auto").

    Where that meter measures (RAPL, NVML) these are measurements; otherwise they are its estimate, and
    the profile says so."""
    import torch

    from carpentry_kit.energy import EnergyError, make_meter

    try:
        meter = make_meter("auto", device="cpu")
    except EnergyError as error:
        return {
            "measured": False,
            "method": None,
            "idle_w": None,
            "loaded_w": {},
            "how": f"no energy meter: {error}",
        }
    left = torch.randn(256, 256)
    with meter:
        with meter.window() as idle:
            time.sleep(POWER_WINDOW_S)
        loaded = {}
        for count in sorted({1, threads}):
            torch.set_num_threads(count)
            with meter.window() as window:
                end = time.perf_counter() + POWER_WINDOW_S
                while time.perf_counter() < end:
                    torch.matmul(left, left)
            loaded[count] = window.reading.avg_power_w
    word = "measured" if meter.measured else "ESTIMATED (not measured: no power meter here)"
    how = f"{word} by the '{meter.method}' energy method over {POWER_WINDOW_S:g} s windows: asleep, then 256x256 matmuls"
    return {
        "measured": meter.measured,
        "method": meter.method,
        "idle_w": idle.reading.avg_power_w,
        "loaded_w": loaded,
        "how": how,
    }


# ---------------------------------------------------------------- the profile


def _profile(ladder, streams, overhead, power, threads_all) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    from carpentry_kit.system import describe_system

    model = describe_system().get("host_processor_model_name", cpu)
    best = {
        (d, t): max(r["flop_s"] for r in ladder if r["dtype"] == d and r["threads"] == t)
        for d in LADDER_DTYPES
        for t in {1, threads_all}
    }
    how = (
        "measured: best of the torch.matmul ladder (square sizes {sizes}) on {threads} thread(s), float{bits}"
    )
    sizes = ", ".join(str(s) for s in sorted({r["size"] for r in ladder}))

    def flop_figures(threads: int) -> dict[str, Any]:
        return {
            dtype: {
                "value": best[(dtype, threads)],
                "source": how.format(sizes=sizes, threads=threads, bits=dtype[5:]),
            }
            for dtype in LADDER_DTYPES
        }

    bandwidth = {t: max(s["b_s"] for s in streams if s["threads"] == t) for t in {1, threads_all}}
    stream_how = (
        "measured: best of streaming copy and triad over {mib} MiB float64 arrays on {threads} thread(s)"
    )
    mib = streams[0]["bytes_per_step"] // 2 // 2**20
    power_source = power["how"]
    return {
        "profile_version": PROFILE_VERSION,
        "name": "this",
        "title": f"this machine: {model}, {threads_all} logical CPUs",
        "kind": "cpu",
        "measured": True,
        "cores": {"value": threads_all, "source": "os.cpu_count() on this machine (logical CPUs)"},
        "peak_flop_s": flop_figures(threads_all),
        "single_thread_flop_s": flop_figures(1),
        "memory_bandwidth_b_s": {
            "value": bandwidth[threads_all],
            "source": stream_how.format(mib=mib, threads=threads_all),
        },
        "single_thread_bandwidth_b_s": {
            "value": bandwidth[1],
            "source": stream_how.format(mib=mib, threads=1),
        },
        "power_w": {
            "max": {
                "value": power["loaded_w"].get(threads_all),
                "source": f"loaded, {threads_all} threads: {power_source}",
            },
            "idle": {"value": power["idle_w"], "source": f"idle: {power_source}"},
            "loaded_1_thread": {
                "value": power["loaded_w"].get(1),
                "source": f"loaded, 1 thread: {power_source}",
            },
        },
        "overhead_s": _overhead_figure(overhead),
        "overhead_in_loop_s": {
            loop: {
                "value": overhead[key],
                "source": f"measured: time of a tiny MLP's {what} over the operations it dispatches (fastest of 7)",
            }
            for loop, key, what in (
                ("training", "train_step_call_s", "Adam training step"),
                ("query", "query_call_s", "one-sample inference query"),
            )
        },
        "efficiency": {
            "compute": _spread(
                [r for r in ladder if r["size"] >= EFFICIENCY_FROM and r["threads"] == 1],
                "flop_s",
                f"the one-thread matmul ladder's sizes >= {EFFICIENCY_FROM}",
            ),
            "memory": _spread(
                [s for s in streams if s["threads"] == 1], "b_s", "the one-thread streaming kernels"
            ),
        },
        "calibration": {
            "power_measured": power["measured"],
            "power_note": power_source,
            "matmul_ladder": ladder,
            "streams": streams,
            "overhead": overhead,
        },
    }


def _overhead_figure(overhead: dict[str, float]) -> dict[str, Any]:
    calls = [overhead["torch_op_s"], overhead["query_call_s"], overhead["train_step_call_s"]]
    return {
        "value": overhead["torch_op_s"],
        "range": [min(calls), max(calls)],
        "source": "measured: one bare torch.add of one-element tensors (value); range up to the cost of an"
        " operation inside a tiny MLP's inference query and training step; fastest of 7 rounds",
    }


def _spread(rows: list[dict[str, Any]], key: str, what: str) -> dict[str, Any]:
    """Efficiency range: each figure over the best of its group (dtype, threads), lowest / median / 1."""
    import statistics

    groups: dict[tuple, list[float]] = {}
    for row in rows:
        groups.setdefault((row.get("dtype"), row["threads"]), []).append(row[key])
    ratios = [value / max(group) for group in groups.values() for value in group]
    return {
        "value": [round(min(ratios), 3), 1.0],
        "typical": round(statistics.median(ratios), 3),
        "source": f"measured: each figure of {what} over the best of its dtype and thread count (lowest, median, 1)",
    }
