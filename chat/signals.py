"""The signals that end a program: Ctrl-C (SIGINT), SIGTERM and SIGHUP, and holding them a moment.

Every program ends on each of them the same polite way, its peer told with ``exit``, and
with the signal's own exit status (:class:`chat.status.ExitStatus`: 130, 143, 129). SIGHUP
comes when the terminal window is closed; left to its default action it killed the
program (status 129, undocumented), and the peer saw a lost connection instead of ``exit``.

The programs' handlers raise from wherever the program is, so every ``finally`` runs
(:func:`install`, called by :func:`chat.program.run`; SIGINT raises KeyboardInterrupt by
Python's own). The bot's event loop replaces them with handlers of its own. A few
statements that must not be cut in two (a write and its count, the goodbye) hold the
signals (:func:`held`); what came meanwhile raises as they end.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from chat.errors import HungUp, Terminated

#: The signals that end a program, where the platform has them (Windows has no SIGHUP).
ENDING_SIGNALS = frozenset(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated("terminated by SIGTERM")


def _raise_hung_up(signum: int, frame: FrameType | None) -> None:
    raise HungUp("hung up by SIGHUP")


def install() -> None:
    """SIGTERM raises :class:`Terminated`, SIGHUP :class:`HungUp` (call in the main thread)."""
    signal.signal(signal.SIGTERM, _raise_terminated)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, _raise_hung_up)


@contextmanager
def held() -> Iterator[None]:
    """Hold the ending signals in this thread while the block runs; one that came raises as it ends.

    Blocking them first runs the handlers of those already pending, so nothing raises inside
    the block. Where signals cannot be held (Windows: no pthread_sigmask) the block just runs.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ENDING_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


__all__ = ["ENDING_SIGNALS", "held", "install"]
