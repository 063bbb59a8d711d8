"""bots.events: one line per kind of event per interval, written without ever blocking the bot."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from bots import events
from bots.events import EventLog, StderrWriter


class Clock:
    """A clock the test moves, and the timers an EventLog set on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def __call__(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        self.timers.append((self.now + delay, callback))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [timer for timer in self.timers if timer[0] <= self.now]
        self.timers = [timer for timer in self.timers if timer[0] > self.now]
        for _when, callback in due:
            callback()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def event_log(clock: Clock, lines: list[str]) -> EventLog:
    return EventLog(lines.append, clock.call_later, interval=10.0, clock=clock)


def test_the_first_event_of_a_kind_is_told_at_once_and_the_rest_of_its_interval_once_at_its_end(
    clock: Clock,
) -> None:
    lines: list[str] = []
    log = event_log(clock, lines)

    for number in range(1000):
        log.report("descriptors", f"out of descriptors ({number})")
        clock.advance(0.001)
    assert lines == ["out of descriptors (0)"]
    clock.advance(10.0)

    assert lines == ["out of descriptors (0)", "out of descriptors (999) (999 more times in the last 10 s)"]


def test_each_kind_has_its_own_interval(clock: Clock) -> None:
    lines: list[str] = []
    log = event_log(clock, lines)

    log.report("a", "first a")
    log.report("b", "first b")
    log.report("a", "second a")
    clock.advance(10.0)

    assert lines == ["first a", "first b", "second a (once more in the last 10 s)"]


def test_a_kind_quiet_for_an_interval_is_told_at_once_again(clock: Clock) -> None:
    lines: list[str] = []
    log = event_log(clock, lines)

    log.report("a", "one")
    clock.advance(10.0)
    log.report("a", "two")

    assert lines == ["one", "two"]
    assert clock.timers == []


def test_the_loop_exception_handler_makes_each_kind_of_error_one_line_without_a_traceback(
    clock: Clock,
) -> None:
    lines: list[str] = []
    log = event_log(clock, lines)
    loop = asyncio.new_event_loop()
    try:
        for _ in range(500):
            log.loop_exception(
                loop,
                {"message": "socket.accept() out of system resource", "exception": OSError(24, "Too many")},
            )
        log.loop_exception(loop, {"message": "Fatal read error on socket transport"})
    finally:
        loop.close()
    clock.advance(10.0)

    assert lines == [
        "event loop: socket.accept() out of system resource: OSError: [Errno 24] Too many",
        "event loop: Fatal read error on socket transport",
        "event loop: socket.accept() out of system resource: OSError: [Errno 24] Too many "
        "(499 more times in the last 10 s)",
    ]


@pytest.fixture
def full_stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """sys.stderr on a pipe that nobody reads and that is already full: any write to it blocks."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        while True:
            os.write(write_end, b"x" * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(write_end, True)
    stream = io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8")
    monkeypatch.setattr(sys, "stderr", stream)
    yield
    os.close(read_end)  # the writer thread's blocked write now fails, and it ends
    monkeypatch.undo()
    with contextlib.suppress(OSError):
        stream.close()


@pytest.mark.skipif(not hasattr(os, "set_blocking") or sys.platform == "win32", reason="POSIX pipes")
@pytest.mark.usefixtures("full_stderr")
def test_a_stderr_nobody_reads_never_blocks_the_caller_and_lines_past_the_queue_are_dropped() -> None:
    writer = StderrWriter("chat-bot: ")
    began = time.monotonic()

    for number in range(10 * events.QUEUE_LINES):
        writer.write(f"line {number}")
    writer.close()

    assert time.monotonic() - began < 2 * events.STOP_WAIT_S + 0.5
