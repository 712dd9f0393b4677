"""Energy-meter window overhead: the cost of one ``begin()`` + ``end()`` pair, per method.

Targets: median at most 1 ms for RAPL (a fake powercap tree when this machine has none), NVML (when a
GPU is present) and the estimate. codecarbon is reported, not judged: its one-time tracker start and its
per-window cost. Then the estimate's static (idle) and dynamic parts over an idle window (a sleep) and a
busy one (numpy matrix multiplies) of the same length, side by side: an idle window costs the idle power,
not nothing. Exits 1 when a target is missed. Run: ``.venv/bin/python benchmarks/bench_energy.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from carpentry_kit.energy import EnergyMeter, energy_methods, make_meter
from carpentry_kit.energy.rapl import RaplMeter

TARGET_MS = 1.0
WINDOWS = 2000
CODECARBON_WINDOWS = 200


def window_ms(meter: EnergyMeter, windows: int) -> float:
    """Median wall time of an empty begin()/end() window, in milliseconds."""
    costs = []
    for _ in range(windows):
        started = time.perf_counter()
        meter.begin()
        meter.end()
        costs.append(time.perf_counter() - started)
    return statistics.median(costs) * 1e3


def fake_powercap(root: Path) -> Path:
    """One package with core and dram sub-zones, laid out as sysfs nests them."""
    for zone, name in (("intel-rapl:0", "package-0"), ("intel-rapl:0/intel-rapl:0:0", "core"),
                       ("intel-rapl:0/intel-rapl:0:1", "dram")):  # fmt: skip
        folder = root / zone
        folder.mkdir(parents=True)
        (folder / "name").write_text(name + "\n")
        (folder / "energy_uj").write_text("123456789\n")
        (folder / "max_energy_range_uj").write_text("262143328850\n")
    return root


SPLIT_WINDOW_S = 0.5


def idle_and_busy() -> list[str]:
    """The estimate over an idle and a busy window of the same length: static, dynamic, total."""
    import numpy as np

    meter = make_meter("estimate")
    a = np.random.default_rng(0).random((256, 256))
    lines = [f"{'estimate window':<26} {'static J':>9} {'dynamic J':>10} {'total J':>9}  dynamic share"]
    for label in ("idle (sleep)", "busy (256x256 matmuls)"):
        meter.begin()
        end = time.perf_counter() + SPLIT_WINDOW_S
        while time.perf_counter() < end:
            if label.startswith("idle"):
                time.sleep(0.01)
            else:
                a = a @ a / 256.0
        reading = meter.end()
        static, dynamic = reading.static_j or 0.0, reading.dynamic_j or 0.0
        share = dynamic / reading.total_j
        lines.append(f"{label:<26} {static:9.3f} {dynamic:10.3f} {reading.total_j:9.3f}  {share:.0%}")
    lines.append(f"(static: {meter.idle_source}; windows of {SPLIT_WINDOW_S:g} s)")
    meter.close()
    return lines


def timed(factory: Callable[[], EnergyMeter]) -> tuple[EnergyMeter, float]:
    started = time.perf_counter()
    meter = factory()
    return meter, (time.perf_counter() - started) * 1e3


def main() -> int:
    methods = energy_methods()
    rows: list[tuple[str, float, float, str]] = []  # label, start ms, window ms, target
    with tempfile.TemporaryDirectory() as folder:
        real_rapl = methods["rapl"] is None
        meter, start = timed(lambda: RaplMeter(None if real_rapl else fake_powercap(Path(folder))))
        rows.append(
            ("rapl" + ("" if real_rapl else " (fake tree)"), start, window_ms(meter, WINDOWS), "target")
        )
    for method in ("nvml", "estimate"):
        if methods[method] is None:
            meter, start = timed(lambda m=method: make_meter(m, device="cuda" if m == "nvml" else "cpu"))
            rows.append((method, start, window_ms(meter, WINDOWS), "target"))
            meter.close()
    if methods["codecarbon"] is None:
        meter, start = timed(lambda: make_meter("codecarbon"))
        rows.append(("codecarbon (first start)", start, window_ms(meter, CODECARBON_WINDOWS), "info"))
    print(f"{'energy method':<26} {'start ms':>9} {'window ms':>10}  target")
    failed = []
    for label, start, window, kind in rows:
        target = f"<= {TARGET_MS:g} ms" if kind == "target" else "report"
        print(f"{label:<26} {start:9.2f} {window:10.4f}  {target}")
        if kind == "target" and window > TARGET_MS:
            failed.append(f"{label}: {window:.3f} ms > {TARGET_MS:g} ms")
    for method, reason in methods.items():
        if reason is not None:
            print(f"not here: {method} — {reason}")
    print("\n".join(["", *idle_and_busy(), ""]))
    print("PASS" if not failed else "FAIL: " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
