"""What goes wrong while serving, told on stderr in one line per kind of event per interval.

A flood of the same failure (every accept out of descriptors, every handshake of a port
scan, the event loop's own errors) must neither fill stderr nor stall the bot. asyncio's
default exception handler printed a traceback for each failed accept: 290,000 lines in 6 s
at the open-file limit, and with a stderr nobody read (a full pipe) the whole bot froze.
So each kind of event is told at once the first time, then at most once per
:data:`REPORT_INTERVAL_S`, with how many times it happened meanwhile; and the lines are
written by a thread of their own, so a stderr that blocks stalls that thread, never the
event loop (past :data:`QUEUE_LINES` waiting lines, new ones are dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

REPORT_INTERVAL_S = 10.0  # a person reading stderr sees each kind at once, then a count every 10 s
QUEUE_LINES = 100  # lines waiting for a slow stderr; a handful of kinds never needs more
STOP_WAIT_S = 0.5  # at exit, the writer gets this long to finish (a blocked stderr loses the rest)


class StderrWriter:
    """Writes lines to stderr from a daemon thread; :meth:`write` never blocks its caller."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._lines: queue.Queue[str | None] = queue.Queue(QUEUE_LINES)
        self._thread = threading.Thread(target=self._run, name="chat-bot-stderr", daemon=True)
        self._thread.start()

    def write(self, line: str) -> None:
        """Queue one line (dropped when QUEUE_LINES are already waiting for a blocked stderr)."""
        with contextlib.suppress(queue.Full):
            self._lines.put_nowait(f"{self._prefix}{line}")

    def close(self) -> None:
        """Write what waits, for STOP_WAIT_S at most, and end the thread."""
        with contextlib.suppress(queue.Full):
            self._lines.put(None, timeout=STOP_WAIT_S)
        self._thread.join(STOP_WAIT_S)

    def _run(self) -> None:
        while (line := self._lines.get()) is not None:
            with contextlib.suppress(OSError, ValueError):  # stderr closed: nothing left to tell
                print(line, file=sys.stderr, flush=True)


@dataclass
class _Window:
    """One kind's interval: when it ends, how many more came in it, and the last of them."""

    ends: float
    more: int = 0
    last: str = ""


class EventLog:
    """One line per kind of event per interval: the first at once, then a count of the rest.

    *call_later(delay, callback)* schedules the count of an interval that saw more of a kind
    (the event loop's); *write* takes each line.
    """

    def __init__(
        self,
        write: Callable[[str], None],
        call_later: Callable[[float, Callable[[], None]], object],
        *,
        interval: float = REPORT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write
        self._call_later = call_later
        self._interval = interval
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    def report(self, kind: str, line: str) -> None:
        """Tell *line* now, unless *kind* was told less than an interval ago: then count it."""
        now = self._clock()
        window = self._windows.get(kind)
        if window is None or now >= window.ends:
            self._windows[kind] = _Window(now + self._interval)
            self._write(line)
            return
        if window.more == 0:
            self._call_later(window.ends - now, lambda: self._tell_the_rest(kind, window))
        window.more += 1
        window.last = line

    def _tell_the_rest(self, kind: str, window: _Window) -> None:
        if self._windows.get(kind) is window:
            del self._windows[kind]
        again = "once more" if window.more == 1 else f"{window.more:,} more times"
        self._write(f"{window.last} ({again} in the last {self._interval:g} s)")

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """An event loop's exception handler: each kind of error one line, never a traceback."""
        message = str(context.get("message") or "error in the event loop")
        exc = context.get("exception")
        detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
        self.report(f"loop: {message}", f"event loop: {message}{detail}")


__all__ = ["QUEUE_LINES", "REPORT_INTERVAL_S", "EventLog", "StderrWriter"]
