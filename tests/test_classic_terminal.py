"""chat.classic.terminal: how the prompt's wake signal is installed."""

from __future__ import annotations

import signal
import sys
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
