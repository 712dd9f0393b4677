"""`carpentry doctor`: each check finds what it should, and the command's exit status follows the FAILs."""

from __future__ import annotations

import json
import subprocess
import sys

from carpentry_kit.teaching import doctor


def test_missing_package_fails_when_required_and_warns_when_optional():
    required = doctor.check_package("no-such-package-carpentry>=1")
    optional = doctor.check_package("no-such-package-carpentry>=1", required=False)
    assert (required.status, optional.status) == ("FAIL", "WARN")
    assert "not installed" in required.detail and "pip install" in required.detail


def test_package_version_outside_the_specifier_fails_and_names_both():
    check = doctor.check_package("numpy>=999")
    assert check.status == "FAIL"
    assert ">=999" in check.detail
    assert doctor.check_package("numpy>=1").status == "PASS"


def test_python_version_is_checked_against_requires_python():
    assert doctor.check_python(">=3.10", version="3.9.18").status == "FAIL"
    assert doctor.check_python(">=3.10", version="3.11.2").status == "PASS"


def test_requirements_come_from_the_installed_metadata():
    requirements = dict(doctor.package_requirements())
    names = {text.split(">")[0].split("<")[0].split("=")[0] for text in requirements}
    assert {"torch", "pydantic", "jupyterlab"} <= names
    assert "pytest" not in names and "nvidia-ml-py" not in names  # dev and gpu extras are not needed
    by_name = {text.split(">")[0].split("<")[0]: required for text, required in requirements.items()}
    assert by_name["torch"] is True and by_name["jupyterlab"] is False


def test_results_dir_under_a_file_fails(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    check = doctor.check_results_dir(blocker / "results")
    assert check.status == "FAIL" and str(blocker) in check.detail


def test_results_dir_probe_leaves_nothing_behind(tmp_path):
    target = tmp_path / "new-results"
    assert doctor.check_results_dir(target).status == "PASS"
    assert not target.exists()


def test_energy_lists_every_method_and_fails_only_when_none_is_usable():
    checks = doctor.check_energy({"rapl": "no /sys/class/powercap", "estimate": None})
    assert [check.status for check in checks] == ["WARN", "PASS"]
    assert "no /sys/class/powercap" in checks[0].detail and "estimate" in checks[1].detail
    assert doctor.check_energy({"rapl": "no counters"})[-1].status == "FAIL"


def test_memory_thresholds():
    assert doctor.check_memory(4 * 2**30).status == "PASS"
    assert doctor.check_memory(1 * 2**30).status == "WARN"
    assert doctor.check_memory(100 * 2**20).status == "FAIL"


def test_summary_counts_and_verdict():
    checks = [
        doctor.Check("PASS", "a", ""),
        doctor.Check("WARN", "b", ""),
        doctor.Check("FAIL", "c", "fix me"),
    ]
    text = doctor.format_checks(checks)
    assert text.splitlines()[-1].startswith("1 PASS, 1 WARN, 1 FAIL — not ready")
    assert "FAIL  c  fix me" in text


def test_command_prints_every_check_and_exit_status_follows_fails(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "carpentry_kit", "doctor", "--json", "--results", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    checks = json.loads(completed.stdout)
    names = {check["name"] for check in checks}
    assert {
        "python",
        "torch",
        "jupyter kernel",
        "cpu cores",
        "memory",
        "results dir",
        "torch threads",
    } <= names
    assert any(name.startswith("energy") for name in names)
    assert {check["status"] for check in checks} <= {"PASS", "WARN", "FAIL"}
    assert completed.returncode == (1 if any(check["status"] == "FAIL" for check in checks) else 0)
