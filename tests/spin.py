"""Spinning instead of sleeping, for tests that time millisecond steps."""

from __future__ import annotations

import time


def busy_wait(seconds: float) -> None:
    """Spin rather than sleep: a sleep's wake-up jitter would swamp millisecond timings."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
