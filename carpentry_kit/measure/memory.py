"""Peak resident memory of this process during a block, in MiB."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


class PeakMemory:
    """Peak resident memory of this process during a ``with`` block, in MiB.

    A background thread samples psutil's RSS every ``interval_s``; ``getrusage``'s ``ru_maxrss`` catches
    peaks between samples when it rose during the block (before, it may hold an older, higher peak).
    """

    def __init__(self, interval_s: float = 0.02):
        import threading

        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: Any = None
        self._peak_bytes = 0
        self._maxrss_before = 0

    def __enter__(self) -> PeakMemory:
        import threading

        self._maxrss_before = _maxrss_bytes()
        self._sample()
        self._thread = threading.Thread(target=self._watch, name="carpentry-peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def peak_mib(self) -> float:
        peak = self._peak_bytes
        maxrss = _maxrss_bytes()
        if maxrss > self._maxrss_before:
            peak = max(peak, maxrss)
        return peak / 2**20

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        import psutil

        self._peak_bytes = max(self._peak_bytes, psutil.Process().memory_info().rss)


def _maxrss_bytes() -> int:
    import resource

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024  # Linux reports KiB, macOS bytes
