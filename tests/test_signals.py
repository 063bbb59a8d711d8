"""chat.signals: the ending signals raise their errors, and can be held for a few statements."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import pytest

from chat import signals
from chat.errors import HungUp, Terminated

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="signals to a thread: POSIX")


@pytest.fixture
def installed() -> Iterator[None]:
    """signals.install(), with pytest's own handlers back afterwards."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    signals.install()
    yield
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def to_this_thread(sig: int) -> None:
    """Send *sig* to this thread; its handler has run when this returns (a system call follows)."""
    signal.pthread_kill(threading.get_ident(), sig)
    signal.sigtimedwait([], 0)


def a_held_block(sig: int, done: list[str]) -> None:
    with signals.held():
        to_this_thread(sig)
        done.append("the block ran to its end")


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize(("sig", "error"), [(signal.SIGTERM, Terminated), (signal.SIGHUP, HungUp)])
def test_an_ending_signal_raises_its_error_where_the_program_is(sig: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        to_this_thread(sig)


@pytest.mark.usefixtures("installed")
def test_a_signal_held_raises_only_as_the_block_ends() -> None:
    done: list[str] = []
    with pytest.raises(HungUp):
        a_held_block(signal.SIGHUP, done)

    assert done == ["the block ran to its end"]


def test_the_ending_signals_are_ctrl_c_sigterm_and_sighup() -> None:
    assert {signal.SIGINT, signal.SIGTERM, signal.SIGHUP} == signals.ENDING_SIGNALS
