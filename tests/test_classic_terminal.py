"""chat.classic.terminal: how the prompt's wake signal is installed."""

from __future__ import annotations

import signal
import socket
import sys
import threading
import types
from collections.abc import Iterator

import pytest

from chat.classic import terminal

needs_wake = pytest.mark.skipif(terminal.WAKE_SIGNAL is None, reason="no SIGUSR1 here (Windows)")


@pytest.fixture
def fresh_wake(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, bool]]]:
    """The wake handler not installed yet; the siginterrupt calls made, recorded."""
    assert terminal.WAKE_SIGNAL is not None
    previous = signal.getsignal(terminal.WAKE_SIGNAL)
    signal.signal(terminal.WAKE_SIGNAL, signal.SIG_DFL)
    calls: list[tuple[int, bool]] = []
    monkeypatch.setattr(signal, "siginterrupt", lambda signum, flag: calls.append((signum, flag)))
    yield calls
    signal.signal(terminal.WAKE_SIGNAL, previous)


@needs_wake
def test_with_readline_the_wake_restarts_the_writes_that_draw_the_prompt(
    fresh_wake: list[tuple[int, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "readline", types.ModuleType("readline"))

    terminal._install_wake_handler()

    assert signal.getsignal(terminal.WAKE_SIGNAL) is terminal._on_wake  # type: ignore[arg-type]
    assert fresh_wake == [(terminal.WAKE_SIGNAL, False)]


@needs_wake
def test_without_readline_the_wake_still_interrupts_the_read_input_waits_in(
    fresh_wake: list[tuple[int, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "readline", raising=False)

    terminal._install_wake_handler()

    assert signal.getsignal(terminal.WAKE_SIGNAL) is terminal._on_wake  # type: ignore[arg-type]
    assert fresh_wake == []


class _Readable:
    """A watched connection with data waiting: the watcher's select returns at once."""

    def __init__(self) -> None:
        self.ours, self.theirs = socket.socketpair()
        self.theirs.sendall(b"session tickets")

    def fileno(self) -> int:
        return self.ours.fileno()

    def wait_time(self) -> float | None:
        return None

    def check(self) -> bool:
        return False  # the watcher never calls it: the wake's handler does

    @property
    def watching(self) -> bool:
        return True

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()


@needs_wake
def test_a_prompt_answered_as_the_connection_wakes_the_watcher_stops_it_at_once(
    fresh_wake: list[tuple[int, bool]],
) -> None:
    # The race of a TLS chat-client under load: the line is read (the main thread stops the watcher)
    # just as the server's session tickets make the socket readable. The stop's answer lands between
    # the watcher's select and its clear of the answer: the watcher used to wait for an answer that
    # had come, resending the wake forever, and the main thread's join with it (chat-client hung at
    # its first prompt, futex wait, in 1 of 4 to 8 tries on a loaded machine).
    terminal._install_wake_handler()
    watched = _Readable()
    watcher = terminal._Watcher(watched)

    stopper = threading.Thread(target=watcher.stop, daemon=True)  # the main thread, its line read
    stopping = threading.Event()

    class StoppedBeforeTheClear(threading.Event):
        def clear(self) -> None:
            if not stopping.is_set():  # the first clear: stop() runs now, and answers
                stopper.start()
                stopping.set()
                assert self.wait(2.0), "stop() did not answer"
            super().clear()

    watcher._resumed = StoppedBeforeTheClear()
    watcher.start()
    try:
        assert stopping.wait(2.0), "the watcher never reached its clear"
        stopper.join(timeout=2.0)
        assert not stopper.is_alive(), "stop() waits for the watcher thread"
    finally:
        watcher._keep_watching = False
        watcher._resumed.set()  # frees a watcher still waiting, so that the test ends either way
        watched.close()
