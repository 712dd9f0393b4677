"""Headless Chromium for browser tests: Debian's ``/usr/bin/chromium`` driven by Playwright's sync API.

Usage (mark the test ``@pytest.mark.browser``)::

    from browser import launch_browser

    with launch_browser() as browser:
        page = browser.new_page()
        page.goto(path.as_uri())

The test is skipped, with the reason, when Chromium or Playwright is missing (``make browser`` installs
Chromium). The flags keep Chromium off the network and quiet in a container.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> Path | None:
    """Debian's Chromium, or another ``chromium`` on PATH; None when there is none."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


@contextmanager
def launch_browser(**launch_options: Any) -> Iterator[Any]:
    """A headless Chromium ``Browser`` (Playwright), closed on exit; skips the test if unavailable."""
    import pytest

    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed — run `make browser` (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS, **launch_options
        )
        try:
            yield browser
        finally:
            browser.close()
