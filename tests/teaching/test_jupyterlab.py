"""Lesson 1 in a real JupyterLab (with nbgrader's extensions), driven by headless Chromium.

Starts ``jupyter lab`` from the virtualenv on 127.0.0.1 with a free port and a token (``--allow-root``:
CI runs as root), in a temporary copy of lesson 1; opens the notebook, runs all cells from the Run menu,
waits for the plot and the last cell's output; asserts that no extension failed to load (console and page
errors) and that nbgrader's menu is there; then shuts the server down through its API.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "lessons" / "01-first-benchmark.ipynb"
START_TIMEOUT_S = 90
RUN_TIMEOUT_MS = 300_000
LOAD_TIMEOUT_MS = 120_000  # JupyterLab's bundles load slowly on a busy 2-core CI machine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"jupyter lab exited with {server.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"jupyter lab did not answer {url} within {START_TIMEOUT_S} s")


@pytest.fixture
def jupyterlab(tmp_path):
    """A running JupyterLab serving a copy of lesson 1: yields (base URL, token)."""
    shutil.copy(LESSON, tmp_path / LESSON.name)
    port, token = _free_port(), secrets.token_hex(16)
    state = tmp_path / ".jupyter-state"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
    }
    command = [
        str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--allow-root",
        "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={tmp_path}", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    log = (tmp_path / "jupyterlab.log").open("w")
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/api/status?token={token}", server)
        yield base, token
    finally:
        _shutdown(base, token, server)
        log.close()
    assert server.returncode == 0, (tmp_path / "jupyterlab.log").read_text()[-3000:]


def _shutdown(base: str, token: str, server: subprocess.Popen) -> None:
    request = urllib.request.Request(
        f"{base}/api/shutdown", method="POST", headers={"Authorization": f"token {token}"}
    )
    try:
        urllib.request.urlopen(request, timeout=10).close()
        server.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.browser
def test_lesson_1_runs_in_jupyterlab_with_nbgrader_extensions(jupyterlab, tmp_path):
    from browser import launch_browser

    base, token = jupyterlab
    problems: list[str] = []
    with launch_browser() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(LOAD_TIMEOUT_MS)
        page.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(base)
                else (problems.append(f"remote request {route.request.url}"), route.abort())
            ),
        )
        page.on(
            "console", lambda message: message.type == "error" and problems.append(f"console: {message.text}")
        )
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.goto(f"{base}/lab/tree/{LESSON.name}?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).wait_for()  # the kernel is ready
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        assert any("nbgrader" in label.lower() for label in menus), f"no nbgrader menu in {menus}"
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(
            ".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel", has_text="Run All Cells"
        ).first.click()
        try:
            page.wait_for_selector(
                ".jp-OutputArea-output:has-text('LESSON_SUMMARY')", state="attached", timeout=RUN_TIMEOUT_MS
            )
        except Exception:
            page.screenshot(path=str(tmp_path / "jupyterlab.png"))
            raise AssertionError(
                f"lesson 1 did not finish; see {tmp_path / 'jupyterlab.png'}; {problems}"
            ) from None
        widths = page.eval_on_selector_all(
            ".jp-OutputArea-output img", "images => images.map(i => i.naturalWidth)"
        )
        assert widths and all(width > 0 for width in widths), f"plot images: {widths}"
        assert not page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"
        ).count()
        page.close()
    assert problems == []
