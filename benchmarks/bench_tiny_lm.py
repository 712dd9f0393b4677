"""tiny-lm in MLPerf Inference's four scenarios on the real LoadGen, and the harness's own latency floor.

For each scenario, one ``carpentry run`` of the shipped ``tiny-lm`` spec (``--set protocol.scenario=...``):
wall time (setup, the LoadGen test, evaluation), LoadGen's verdict, its TTFT and TPOT (p50; Offline: the SUT's
own figures, LoadGen reports none there), tokens per second, and the null SUT's latency floor measured beside
it. Targets: each scenario's run in under 60 s wall, and LoadGen's summary VALID for the shipped settings
(Server). Exits 1 when a target is missed. Run: ``.venv/bin/python benchmarks/bench_tiny_lm.py``.
"""

from __future__ import annotations

import sys
import tempfile
import time

import carpentry_kit as ck
from carpentry_kit.spec.load import example_spec_path

TARGET_S = 60.0
SCENARIOS = ("server", "single-stream", "multi-stream", "offline")


def run_scenario(scenario: str, out: str) -> dict[str, object]:
    started = time.perf_counter()
    result = ck.run(
        example_spec_path("tiny-lm"),
        overrides={"protocol.scenario": scenario},
        out=out,
        progress=False,
        energy="estimate",
    )
    wall = time.perf_counter() - started
    metrics, loadgen = result.record["metrics"], result.record["loadgen"]
    return {
        "scenario": scenario,
        "wall_s": wall,
        "validity": loadgen["tests"][0]["validity"],
        "ttft_ms": metrics["ttft_s"]["value"] * 1e3,
        "tpot_ms": metrics["tpot_s"]["value"] * 1e3,
        "tokens_per_s": metrics["tokens_per_s"]["value"],
        "floor_p50_us": loadgen["harness_floor"]["p50_s"] * 1e6,
        "floor_p90_us": loadgen["harness_floor"]["p90_s"] * 1e6,
        "accuracy": metrics["generation_accuracy"]["value"],
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as out:
        rows = [run_scenario(scenario, out) for scenario in SCENARIOS]
    print(f"{'scenario':<14} {'wall s':>7} {'LoadGen':>8} {'TTFT ms':>8} {'TPOT ms':>8} {'tokens/s':>9}"
          f" {'floor p50 us':>12} {'floor p90 us':>12} {'accuracy':>8}")  # fmt: skip
    for r in rows:
        print(f"{r['scenario']:<14} {r['wall_s']:7.1f} {r['validity']:>8} {r['ttft_ms']:8.2f} {r['tpot_ms']:8.2f}"
              f" {r['tokens_per_s']:9.0f} {r['floor_p50_us']:12.0f} {r['floor_p90_us']:12.0f} {r['accuracy']:8.3f}")  # fmt: skip
    slow = [r["scenario"] for r in rows if r["wall_s"] > TARGET_S]
    server_valid = rows[0]["validity"] == "VALID"
    print(f"targets: each scenario <= {TARGET_S:g} s wall; the shipped Server settings VALID")
    failures = [f"{', '.join(slow)} over {TARGET_S:g} s"] if slow else []
    failures += [] if server_valid else ["the shipped Server settings were INVALID"]
    print("PASS" if not failures else "FAIL: " + "; ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
