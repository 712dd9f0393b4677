"""Shared test set-up: the helper modules beside this file (``explore_records``, ``browser``) are importable
from every stage's folder, and the test tree mirrors the library's (spec/, measure/, results/, explore/,
teaching/, cli/)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from browser import chromium_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 900


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A ``browser`` test skips before its fixtures build the book or start a server, when there is no
    Chromium to drive."""
    if item.get_closest_marker("browser") and chromium_path() is None:
        pytest.skip("chromium is not installed — run `make browser` (apt-get install -y chromium)")


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """Build the book once per test session (executing every lesson) into a temporary directory; the build
    must be clean."""
    output = tmp_path_factory.mktemp("book")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "jupyter-book"),
            "build",
            "-W",
            "-n",
            "--path-output",
            str(output),
            "book/",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, log[-4000:]
    assert not re.search(r"WARNING: (?!.*Kernel is running over TCP)", log), log[-4000:]
    return output / "_build" / "html"
