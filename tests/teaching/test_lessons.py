"""Every lesson executes headless, top to bottom, on the virtualenv's python3 kernel; key outputs checked.

Each lesson runs in a temporary copy of ``lessons/`` (so files a lesson ships next to it are found, and
its results land in the copy). Lessons 1-4 print a hidden
``LESSON_SUMMARY {json}`` line (a cell tagged remove-cell, so the book does not show it); the checks below
read it. Every lesson must show at least one plot, and the code in its Solution boxes must run after it.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from carpentry_kit.teaching.curriculum import lesson_paths, solution_code

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
LESSONS = lesson_paths(ROOT / "lessons")
KERNEL = "python3"
TIMEOUT_S = 180  # per cell; the lesson budget (60 s in all) is checked by benchmarks/bench_lessons.py


def execute(path: Path, workdir: Path):
    """The notebook at ``path``, plus the code of its challenge solutions as extra cells at the end,
    executed in ``workdir``; raises CellExecutionError on a failing cell (lesson or solution)."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells += [nbformat.v4.new_code_cell(code) for code in solution_code(path)]
    client = nbclient.NotebookClient(
        notebook, timeout=TIMEOUT_S, kernel_name=KERNEL, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()
    return notebook


def outputs(notebook, kind: str) -> list[dict]:
    return [
        out
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.output_type == kind
    ]


def summary(notebook) -> dict | None:
    for out in outputs(notebook, "stream"):
        for line in out.text.splitlines():
            if line.startswith("LESSON_SUMMARY "):
                return json.loads(line.removeprefix("LESSON_SUMMARY "))
    return None


def check_lesson_1(found: dict) -> None:
    assert found["validity"] == "VALID"
    assert found["gflops_median"] > 0 and found["repeats"] >= 10
    assert found["runs"] == 1  # the lesson starts from an empty results directory
    if found["energy_method"] == "estimate":
        assert found["energy_measured"] is False


def check_lesson_2(found: dict) -> None:
    assert found["median_call_s"] > 0 and found["first_call_s"] > 0
    assert found["noisy_unstable"] is True, "the deliberately noisy run must be flagged unstable"
    assert found["noisy_iqr_s"] > 0.1 * found["noisy_median_s"]


def check_lesson_3(found: dict) -> None:
    assert found["methods"]["estimate"] is True
    assert found["estimate_measured"] is False
    assert found["idle_j"] > 0 and found["busy_j"] > 0
    # the work shows in the dynamic part (the idle window sleeps); the static part is nearly one power for both
    assert found["busy_dynamic_j"] > found["idle_dynamic_j"] >= 0
    idle_w, busy_w = found["static_w"]
    assert idle_w == pytest.approx(busy_w, rel=0.02) and idle_w > 0  # idle CPU power + memory held
    assert found["run_static_j"] > 0 and found["run_above_idle_j"] > 0
    per_sample = found["per_sample_j"]
    assert set(per_sample) == {"128", "256", "512"} and per_sample["512"] > per_sample["128"] > 0
    if not (found["methods"]["rapl"] or found["methods"]["nvml"]):
        assert found["run_energy_measured"] is False  # nothing here can measure: the run says so


def check_lesson_4(found: dict) -> None:
    assert sum(found["split_rows"].values()) == 1797 and found["split_rows"]["test"] == 447
    assert len(found["checksum"]) == 64 and found["first_validity"] == "VALID"
    error = found["mismatch_error"]
    assert "digits-file.yaml:" in error and "datasets[0].sha256" in error and "checksum mismatch" in error
    assert "\n" not in error and "Traceback" not in error
    assert 0 <= found["dataset_score"] <= 5
    assert len(found["time_to_target_s"]) == 3 and all(v > 0 for v in found["time_to_target_s"].values())


def check_lesson_9(found: dict) -> None:
    assert found["profiles"] >= 7  # the hardware catalogue
    assert found["h100_bound"] == "overhead"  # 8 small multiplies: launches cost more than the arithmetic
    assert found["statuses"] == ["completed", "predicted"]  # predictions stored beside runs, labelled
    assert found["errors"] >= 3 and "compute" in found["bounds"]
    assert found["calibrated_gflops"] > 0


CHECKS = {1: check_lesson_1, 2: check_lesson_2, 3: check_lesson_3, 4: check_lesson_4, 9: check_lesson_9}


@pytest.mark.slow
@pytest.mark.parametrize("path", LESSONS, ids=[path.stem for path in LESSONS])
def test_lesson_executes_with_plots_and_expected_outputs(path, tmp_path):
    copy = tmp_path / "lessons"
    shutil.copytree(path.parent, copy, ignore=shutil.ignore_patterns("results", ".ipynb_checkpoints"))
    notebook = execute(copy / path.name, copy)
    assert not outputs(notebook, "error")
    images = [
        out
        for kind in ("display_data", "execute_result")
        for out in outputs(notebook, kind)
        if "image/png" in out.get("data", {})
    ]
    assert images, f"{path.name} shows no plot"
    number = int(path.name[:2])
    if number in CHECKS:
        found = summary(notebook)
        assert found is not None, f"{path.name} printed no LESSON_SUMMARY line"
        CHECKS[number](found)


def test_python3_kernel_is_this_virtualenv(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import sys, carpentry_kit; print(sys.prefix)")]
    notebook.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    nbclient.NotebookClient(
        notebook, timeout=60, kernel_name=KERNEL, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    printed = outputs(notebook, "stream")[0].text.strip()
    assert Path(printed).resolve() == Path(sys.prefix).resolve()
