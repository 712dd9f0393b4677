"""SIGTERM during a run is handled like Ctrl-C: the run stops, its samples so far are recorded.

Batch schedulers (Slurm's time limit, ``kill``, a container stopping) send SIGTERM before SIGKILL. Python's
default for SIGTERM is to die at once, losing the run; inside ``terminate_as_interrupt()`` it raises
``Terminated`` (a ``KeyboardInterrupt``) instead, so the runner's Ctrl-C path records the partial run as
``interrupted``. A second SIGTERM while that record is written is ignored, so the record is not cut short.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CTRL_C_REASON = "interrupted by the user (Ctrl-C)"


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by a signal (SIGTERM) during a run."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"terminated by {signal.Signals(signum).name}")


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within this block SIGTERM raises ``Terminated`` (once); outside it, the previous handler applies.

    Does nothing off the main thread (Python delivers signals there only) or when SIGTERM is ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_IGN:
        yield
        return
    raised = False

    def handler(signum: int, _frame: Any) -> None:
        nonlocal raised
        if not raised:  # a second SIGTERM while the partial run is recorded: ignored
            raised = True
            raise Terminated(signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupt_reason(interrupt: BaseException) -> str:
    """The record's ``error`` for a run stopped by ``interrupt`` (Ctrl-C or a signal)."""
    if isinstance(interrupt, Terminated):
        name = signal.Signals(interrupt.signum).name
        return f"terminated by {name} (e.g. a scheduler's time limit, `kill`, a container stopping)"
    return CTRL_C_REASON
