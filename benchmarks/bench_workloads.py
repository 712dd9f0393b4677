"""Each shipped example's workload, run through the harness on one thread: setup, measured loop, quality.

Targets (2 CPUs, one torch thread): every example finishes setup plus its whole measured protocol in at most
10 s, and every time-to-quality repeat reaches the spec's quality target. No energy meter: this measures the
workloads, not the meters. Exits 1 when a target is missed. Run: ``.venv/bin/python benchmarks/bench_workloads.py``.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from carpentry_kit.data.datasets import load_dataset
from carpentry_kit.measure.harness import Harness, QualityTarget
from carpentry_kit.measure.loadgen import LoadGenEngine, uses_loadgen
from carpentry_kit.spec.load import example_names, example_spec_path, load_spec
from carpentry_kit.workloads import get_workload

TARGET_S = 10.0


def run_example(name: str) -> dict[str, object]:
    """Setup and the spec's protocol for one example; figures for the table."""
    path = example_spec_path(name)
    spec = load_spec(path)
    started = time.perf_counter()
    datasets = {ds.name: load_dataset(ds, path.parent, None, spec.task.seed) for ds in spec.datasets}
    workload = get_workload(spec.task.workload)(spec.task.params, datasets, "cpu", spec.task.seed)
    workload.setup()
    setup_s = time.perf_counter() - started
    target = spec.quality_target()
    if uses_loadgen(type(workload), spec.protocol.scenario):  # the inference scenarios: LoadGen drives them
        with tempfile.TemporaryDirectory() as logs:
            measurement = LoadGenEngine(workload, spec.protocol, log_dir=Path(logs)).run()
    else:
        measurement = Harness(
            workload,
            spec.protocol,
            time_budget_s=spec.constraints.time_budget_s,
            target=QualityTarget.from_metric(target) if target else None,
            max_epochs=workload.max_steps(),
        ).run()
    total_s = time.perf_counter() - started
    reached = all(measurement.reached) if measurement.reached else None
    quality = ", ".join(f"{key}={value:.4g}" for key, value in measurement.quality[-1].items())
    epochs = "/".join(map(str, measurement.epochs)) or "-"
    ok = total_s <= TARGET_S and reached is not False
    return {"name": name, "scenario": spec.protocol.scenario, "setup_s": setup_s, "total_s": total_s,
            "repeats": measurement.repeats, "epochs": epochs, "quality": quality, "ok": ok}  # fmt: skip


def main() -> int:
    import sklearn.datasets  # noqa: F401 (imports are not the workloads' time)
    import torch

    torch.set_num_threads(1)
    rows = [run_example(name) for name in example_names()]
    print(
        f"{'example':<18} {'scenario':<16} {'setup s':>8} {'total s':>8} {'repeats':>7} {'epochs':>9}  quality"
    )
    for row in rows:
        print(
            f"{row['name']:<18} {row['scenario']:<16} {row['setup_s']:8.2f} {row['total_s']:8.2f}"
            f" {row['repeats']:7d} {row['epochs']:>9}  {row['quality']}{'' if row['ok'] else '  <- FAIL'}"
        )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak resident memory: {peak_mib:.0f} MiB (info); target: total <= {TARGET_S:g} s, targets reached"
    )
    failed = [row["name"] for row in rows if not row["ok"]]
    print("PASS" if not failed else f"FAIL: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
