"""Lesson 1 in a real JupyterLab (with nbgrader's and jupyterlab-myst's extensions), driven by headless Chromium.

Starts ``jupyter lab`` from the virtualenv on 127.0.0.1 with a free port and a token (``--allow-root``:
CI runs as root), in a temporary copy of lesson 1. One test opens the notebook, runs all cells from the Run
menu, waits for the plot and the last cell's output; asserts that no extension failed to load (console and
page errors) and that nbgrader's menu is there. The other opens it as a learner does and checks that the
MyST admonitions render as in the book: Solutions and the Instructor note collapsed, the book-hidden summary
cell collapsed. Each shuts the server down through its API.
"""

from __future__ import annotations

import json
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
# jupyterlab-myst renders {term}`...` roles as plain text and logs this: the glossary is a book page
# (book/glossary.md), not part of the notebook. Any other console error still fails the test.
GLOSSARY_NOT_IN_NOTEBOOK = "Cross reference target was not found: term-"


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


def _collect_errors(page, problems: list[str]) -> None:
    def console(message) -> None:
        if message.type == "error" and not message.text.startswith(GLOSSARY_NOT_IN_NOTEBOOK):
            problems.append(f"console: {message.text}")

    page.on("console", console)
    # jupyterlab-myst 2.x (built against an older @jupyter/ydoc) can throw this while a cell re-renders;
    # every other page error still fails the test
    known = "Cannot read properties of undefined (reading 'node')"
    page.on(
        "pageerror", lambda error: None if known in str(error) else problems.append(f"page error: {error}")
    )


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
        _collect_errors(page, problems)
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


def _scroll_to(locator, tries: int = 5) -> None:
    """Scroll an element into view; JupyterLab re-renders cells while a notebook settles, so retry."""
    from playwright.sync_api import Error, TimeoutError

    for attempt in range(tries):
        try:
            locator.scroll_into_view_if_needed(timeout=LOAD_TIMEOUT_MS)
            return
        except TimeoutError:
            raise
        except Error:  # "Element is not attached to the DOM": it was re-rendered; find it again
            if attempt == tries - 1:
                raise
            time.sleep(1)


def _admonition_words(title: str, count: int = 5) -> str:
    """A few words from the first text line of the lesson's first admonition titled ``title``."""
    cells = json.loads(LESSON.read_text(encoding="utf-8"))["cells"]
    markdown = "".join("".join(cell["source"]) + "\n" for cell in cells if cell["cell_type"] == "markdown")
    body = markdown.split(f"{{admonition}} {title}\n", 1)[1].splitlines()
    line = next(line for line in body if line and not line.startswith((":", "~", "`")))
    return " ".join(line.split()[1 : 1 + count])


@pytest.mark.slow
@pytest.mark.browser
def test_lesson_1_in_jupyterlab_hides_solutions_like_the_book(jupyterlab):
    from browser import launch_browser

    base, token = jupyterlab
    solution, note = _admonition_words("Solution"), _admonition_words("Instructor note")
    problems: list[str] = []
    with launch_browser() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(LOAD_TIMEOUT_MS)
        _collect_errors(page, problems)
        page.goto(f"{base}/lab/tree/{LESSON.name}?token={token}")
        page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).wait_for()  # first render done
        challenge = page.locator(".myst-admonition-header-text", has_text="Challenge 1:").first
        _scroll_to(challenge)
        assert challenge.is_visible(), "the challenge's title is not rendered (raw MyST?)"
        dropdown = page.locator("details.myst-admonition", has_text="Solution").first
        assert dropdown.get_attribute("open") is None
        assert dropdown.get_by_text(solution).count(), f"no '{solution}' in the Solution"
        assert not dropdown.get_by_text(solution).first.is_visible(), (
            f"solution shown before opening: {solution}"
        )
        dropdown.locator("summary").click()
        dropdown.get_by_text(solution).first.wait_for(state="visible")

        instructor = page.locator("details.myst-admonition", has_text="Instructor note").first
        assert "myst-admonition-note" in (instructor.get_attribute("class") or "")
        assert instructor.locator("summary").inner_text().strip() == "Instructor note"
        assert instructor.get_by_text(note).count(), f"no '{note}' in the Instructor note"
        assert not instructor.get_by_text(note).first.is_visible(), f"instructor note shown: {note}"

        summary = page.locator(".jp-CodeCell", has=page.locator(".jp-InputPlaceholder")).last
        _scroll_to(summary)
        assert "LESSON_SUMMARY" not in summary.inner_text(), "the book-hidden summary cell is shown"
        page.close()
    assert problems == []
