"""binder/: the Binder environment installs the same packages as pyproject.toml, at compatible pins."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pyproject_requirements() -> dict[str, Requirement]:
    project = _pyproject()["project"]
    texts = project["dependencies"] + project["optional-dependencies"]["teach"]
    return {canonicalize_name(Requirement(text).name): Requirement(text) for text in texts}


def _binder_lines() -> list[str]:
    text = (BINDER / "requirements.txt").read_text()
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _binder_pins() -> dict[str, Requirement]:
    lines = [line for line in _binder_lines() if not line.startswith("-") and line not in {".", "-e ."}]
    return {canonicalize_name(Requirement(line).name): Requirement(line) for line in lines}


def test_binder_installs_the_same_packages_as_pyproject():
    assert set(_binder_pins()) == set(_pyproject_requirements())


def test_every_binder_pin_is_exact_and_inside_the_pyproject_range():
    wanted = _pyproject_requirements()
    for name, pin in _binder_pins().items():
        (specifier,) = pin.specifier
        assert specifier.operator == "==", f"{name}: pin an exact version in binder/requirements.txt"
        assert Version(specifier.version) in wanted[name].specifier, (
            f"{name}=={specifier.version} vs {wanted[name]}"
        )


def test_torch_is_the_cpu_build_pinned_like_constraints_txt():
    lines = _binder_lines()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    constraint = next(
        line for line in (ROOT / "constraints.txt").read_text().splitlines() if line.startswith("torch")
    )
    assert str(_binder_pins()["torch"]) == constraint


def test_binder_installs_carpentry_kit_itself():
    assert "." in _binder_lines() or "-e ." in _binder_lines()


def test_runtime_python_satisfies_requires_python():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", runtime)
    assert match, f"binder/runtime.txt should read python-X.Y, not {runtime!r}"
    assert (
        Version(match[1] + ".0")
        in Requirement("python" + _pyproject()["project"]["requires-python"]).specifier
    )


def test_setup_page_has_a_local_binder_badge_linking_to_the_repository():
    page = (ROOT / "book" / "setup.md").read_text()
    homepage = _pyproject()["project"]["urls"]["Homepage"].removeprefix("https://github.com/")
    assert f"(https://mybinder.org/v2/gh/{homepage}/HEAD" in page
    assert "](_static/binder-badge.svg)" in page and (ROOT / "book" / "_static" / "binder-badge.svg").exists()
