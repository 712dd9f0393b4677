"""Import budget: which modules a command imports, and how long the package's own imports take.

Each check runs a fresh interpreter with ``python -X importtime`` (its report: one line per module,
``import time: SELF_US | CUMULATIVE_US | NAME``). What is asserted is robust on a noisy machine: which
modules are imported, and the package's own import time against a budget with a wide margin (about 20x what
a quiet 2-core machine takes). The wall-time targets are checked by ``benchmarks/bench_first_run.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from carpentry_kit.spec.load import example_spec_path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"torch", "pandas", "matplotlib", "codecarbon", "sklearn", "dask", "distributed", "scipy"}
OWN_BUDGET_S = 1.0  # carpentry_kit's own modules (their self time): ~0.05 s on a quiet 2-core machine


def python(*args: str) -> subprocess.CompletedProcess:
    """A fresh interpreter running ``ARGS`` with this checkout's package; it must succeed."""
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def importtime(*args: str, stdout: list[str] | None = None) -> dict[str, int]:
    """``{module: self time in µs}`` of everything ``python -X importtime ARGS`` imports (its standard output
    appended to ``stdout`` when given)."""
    done = python("-X", "importtime", *args)
    if stdout is not None:
        stdout.append(done.stdout)
    modules = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line.removeprefix("import time:").split("|")
        modules[name.strip()] = int(self_us)
    assert modules, "python -X importtime reported nothing"
    return modules


def heavy(modules: dict[str, int]) -> set[str]:
    return {name.split(".")[0] for name in modules} & HEAVY


def own_seconds(modules: dict[str, int]) -> float:
    return sum(us for name, us in modules.items() if name.split(".")[0] == "carpentry_kit") / 1e6


def test_importing_the_command_line_imports_nothing_heavy():
    modules = importtime("-c", "import carpentry_kit.cli.main")
    assert heavy(modules) == set()
    assert not {"pydantic", "yaml", "numpy", "psutil"} & {name.split(".")[0] for name in modules}
    assert own_seconds(modules) < OWN_BUDGET_S


def test_validate_imports_no_heavy_module_and_stays_within_budget():
    modules = importtime("-m", "carpentry_kit", "validate", str(example_spec_path("matmul")))
    assert "carpentry_kit.spec.load" in modules  # it did validate
    assert heavy(modules) == set()
    assert "numpy" not in modules  # validation needs the registry's names, not the workloads' numerics
    assert own_seconds(modules) < OWN_BUDGET_S


FIRST_TORCH_IMPORT = """
import importlib.abc, sys, traceback

class Watch(importlib.abc.MetaPathFinder):
    stack = None

    def find_spec(self, name, path=None, target=None):
        if name == "torch" and Watch.stack is None:
            stack = [f"{frame.filename}:{frame.name}" for frame in traceback.extract_stack()]
            looks = ("importlib.util>:find_spec", "importlib/util.py:find_spec")  # a look, not an import
            if not any(frame.endswith(looks) for frame in stack):
                Watch.stack = stack
        return None

sys.meta_path.insert(0, Watch())
from carpentry_kit.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as done:
    assert not done.code, done.code
print("FIRST_TORCH_IMPORT", Watch.stack and [f for f in Watch.stack if "carpentry_kit" in f])
"""


def test_a_run_imports_torch_for_the_workload_only_and_nothing_else_heavy(tmp_path):
    """matmul multiplies with torch, so the run imports it — from the run itself, not from the checks
    before it (``measure/preflight.py``), and with no pandas, matplotlib, codecarbon (auto never picks it) or
    Dask."""
    quick = ["task.params.size=8", "protocol.warmup=0", "protocol.min_duration_s=0", "protocol.repeats=2"]
    argv = ["run", str(example_spec_path("matmul")), "--out", str(tmp_path)]  # --energy auto
    for item in quick:
        argv += ["--set", item]
    stdout: list[str] = []
    modules = importtime("-c", FIRST_TORCH_IMPORT, *argv, stdout=stdout)
    assert heavy(modules) == {"torch"}
    assert own_seconds(modules) < OWN_BUDGET_S
    line = next(line for line in stdout[0].splitlines() if line.startswith("FIRST_TORCH_IMPORT"))
    assert "preflight.py" not in line
    assert "runner.py" in line or "workloads" in line, line


PREFLIGHT = """
import sys
from carpentry_kit.measure import preflight
from carpentry_kit.spec.load import example_spec_path, load_spec

preflight._GPU_DRIVER_PATHS = ({missing!r},)  # a Linux machine without any GPU driver
spec = load_spec(example_spec_path("matmul"))  # accelerator: optional
print(preflight.check_infrastructure(spec), "torch" in sys.modules)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the driver files checked are Linux's")
def test_the_infrastructure_check_asks_torch_only_where_a_gpu_driver_exists(tmp_path):
    done = python("-c", PREFLIGHT.format(missing=str(tmp_path / "no-such-driver")))
    assert done.stdout.split() == ["cpu", "False"]
    present = tmp_path / "nvidiactl"
    present.touch()  # a driver's file exists: only torch can tell whether a device is usable
    device, asked_torch = python("-c", PREFLIGHT.format(missing=str(present))).stdout.split()
    assert asked_torch == "True" and device in {"cpu", "cuda"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the driver files checked are Linux's")
def test_a_required_accelerator_on_a_machine_without_a_gpu_driver_is_one_problem(tmp_path, monkeypatch):
    from carpentry_kit.errors import SpecError
    from carpentry_kit.measure import preflight
    from carpentry_kit.spec.load import load_spec

    monkeypatch.setattr(preflight, "_GPU_DRIVER_PATHS", (str(tmp_path / "no-such-driver"),))
    text = example_spec_path("matmul").read_text(encoding="utf-8").replace("use: optional", "use: required")
    with pytest.raises(SpecError) as refused:
        preflight.check_infrastructure(load_spec(text))
    assert "infrastructure.accelerator.use: requires a CUDA accelerator" in str(refused.value)
    assert str(refused.value).count("\n") == 0
