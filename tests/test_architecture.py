"""The architecture the tree shows: a spec's path through ``ck.run`` goes down the stages, light imports,
ARCHITECTURE.md's module table matches the tree, and a run refused for bad input records nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import carpentry_kit as ck
from carpentry_kit.errors import SpecError
from carpentry_kit.results.store import ResultStore
from carpentry_kit.spec.load import example_spec_path, load_spec
from carpentry_kit.workloads import _REGISTRY, get_workload, register_workload

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "carpentry_kit"


def test_a_run_never_returns_to_the_spec_stage_after_loading(tmp_path):
    spec = load_spec(example_spec_path("matmul"), overrides={"task.params.size": 16, "protocol.repeats": 2})
    spec_dir, model = str(PACKAGE / "spec"), str(PACKAGE / "spec" / "model.py")
    calls: set[str] = set()

    def profile(frame, event, arg):
        if event == "call":
            calls.add(frame.f_code.co_filename)

    sys.setprofile(profile)
    try:
        ck.run(spec, out=tmp_path, progress=False, energy="estimate")
    finally:
        sys.setprofile(None)
    returned = sorted(f for f in calls if f.startswith(spec_dir) and f != model)
    assert returned == [], f"the run called back into spec/: {returned}"
    assert any(f.startswith(str(PACKAGE / "measure")) for f in calls)


def test_importing_energy_loads_no_pydantic_or_yaml():
    code = (
        "import sys, carpentry_kit.energy; print(sorted(m for m in ('pydantic', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_architecture_module_table_matches_the_tree():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = text.split("## Modules", 1)[1].split("\n## ", 1)[0]
    rows = "\n".join(line for line in table.splitlines() if line.startswith("|"))
    listed = set(re.findall(r"`(carpentry_kit/[\w/]+\.py)`", rows))
    on_disk = {
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if path.name != "__main__.py"
        and (path.name != "__init__.py" or path.parent.name in ("energy", "workloads"))
        and "__pycache__" not in path.parts
    }
    on_disk.discard("carpentry_kit/__init__.py")
    assert sorted(on_disk - listed) == [], "modules missing from ARCHITECTURE.md's table"
    assert sorted(listed - on_disk) == [], "ARCHITECTURE.md lists modules that do not exist"


@pytest.fixture
def flopless_matmul():
    """``matmul`` that counts no flop: ``gflops`` passes validation but cannot be produced after setup."""

    class FloplessMatmul(get_workload("matmul")):
        name = "flopless-matmul"

        def work_per_sample(self):
            return {}

    register_workload(FloplessMatmul)
    yield FloplessMatmul
    _REGISTRY.pop(FloplessMatmul.name)


def test_a_spec_error_after_setup_records_nothing(tmp_path, flopless_matmul):
    text = example_spec_path("matmul").read_text().replace("workload: matmul", "workload: flopless-matmul")
    spec = load_spec(text)
    with pytest.raises(SpecError, match="cannot produce 'gflops'"):
        ck.run(spec, overrides={"task.params.size": 16}, out=tmp_path, progress=False, energy="estimate")
    assert ResultStore(tmp_path).records() == []  # a second read: still nothing, no phantom "killed" run
    assert ResultStore(tmp_path).records() == []
    assert not any((tmp_path / "running").glob("*.json"))
