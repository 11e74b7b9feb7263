"""A wall-clock budget for work whose cost a linted file controls (a backtracking regular
expression in a custom policy). Python's regex engine checks for signals while it runs, so an
interval timer can stop it; where no timer is available (Windows, or a thread other than the
main one) the work runs unbounded."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class BudgetExceeded(Exception):
    """The work inside :func:`time_budget` ran out of time."""


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise :class:`BudgetExceeded` inside the block once ``seconds`` have passed."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expired(_signum: int, _frame: object) -> None:
        raise BudgetExceeded

    previous = signal.signal(signal.SIGALRM, expired)
    outer = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer[0]:
            signal.setitimer(signal.ITIMER_REAL, *outer)  # an enclosing timer keeps running
