"""The person at the terminal: line editing for the prompt, and a prompt that watches the peer.

While a person types at the prompt, the peer may end the chat (its `exit` arrives, or
the connection drops). :func:`ask` keeps ``input()`` (so readline's editing and history
stay exactly as they are) and watches the connection from a helper thread. When
something arrives, that thread wakes the main thread with :data:`WAKE_SIGNAL`; the
signal handler, in the main thread, lets the watched connection take what arrived, and
when the peer has ended the chat it raises out of ``input()``. CPython's readline
cleans up and restores the terminal when a signal handler raises during ``input()``.

Python's readline module has no callback interface (``rl_callback_read_char``), so a
select() loop over stdin and the socket could not keep readline's editing; waking
``input()`` with a signal can. Windows has no such signal: there the prompt is the
plain ``input()``, and the peer's end is noticed when the person sends (documented in
docs/classic.md).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol

#: The signal the watcher sends the main thread (its handler stays installed once set).
WAKE_SIGNAL = getattr(signal, "SIGUSR1", None)
WAKE_RESEND_S = 0.05  # short beside a person's patience, long beside the handler's few reads


def enable_line_editing() -> None:
    """Give ``input()`` line editing and in-memory history where readline exists."""
    if not sys.stdin.isatty():
        return
    # Windows and minimal builds have no readline: plain input() still works.
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (importing it is what hooks input())


class Watched(Protocol):
    """What the prompt watches: the chat's connection."""

    def fileno(self) -> int:
        """The socket to wait on."""

    def wait_time(self) -> float | None:
        """Seconds until :meth:`check` is due even without new data (a timer), or None."""

    def check(self) -> bool:
        """Take what has arrived without blocking; True when the peer has ended the chat."""

    @property
    def watching(self) -> bool:
        """False when nothing more should be read until the person's turn is over."""


class _PeerEnded(Exception):
    """Raised by the wake handler out of ``input()``: the peer ended the chat."""


def can_watch() -> bool:
    """True where the prompt can watch the connection (POSIX, in the main thread)."""
    return (
        WAKE_SIGNAL is not None
        and hasattr(signal, "pthread_kill")
        and threading.current_thread() is threading.main_thread()
    )


def ask(prompt: str, watched: Watched) -> str | None:
    """``input(prompt)`` that ends early, returning None, when the peer ends the chat.

    On None the cursor is at the start of a fresh line. EOFError, KeyboardInterrupt and
    the program's signal exceptions come out of it as they come out of ``input()``.
    """
    if not can_watch():
        return input(prompt)
    if watched.check():  # it ended before the prompt: no prompt to answer
        return None
    if not watched.watching:
        return input(prompt)
    global _answer_wake
    watcher = _Watcher(watched)

    def answer() -> None:
        ended = watched.check()
        watcher.resume(keep_watching=watched.watching and not ended)
        if ended:
            raise _PeerEnded

    _install_wake_handler()
    _answer_wake = answer
    try:
        watcher.start()
        return input(prompt)
    except _PeerEnded:
        print(flush=True)  # off the prompt's line, as after Ctrl-C
        return None
    finally:
        _answer_wake = None
        watcher.stop()


#: What a wake signal does now: the asking prompt's answer, or nothing between prompts.
_answer_wake: Callable[[], None] | None = None


def _on_wake(signum: int, frame: FrameType | None) -> None:
    if _answer_wake is not None:
        _answer_wake()


def _install_wake_handler() -> None:
    # Installed once and left in place: a wake sent just before a prompt ended may land
    # after it, and the signal's default action would end the program.
    assert WAKE_SIGNAL is not None
    if signal.getsignal(WAKE_SIGNAL) is not _on_wake:
        signal.signal(WAKE_SIGNAL, _on_wake)
        if "readline" in sys.modules:
            # readline waits in select(), which a signal always interrupts (restarting never
            # applies to it), so the wake still reaches input(). Its writes, though, go through
            # C stdio, which gives up on EINTR: a wake landing while readline wrote the prompt
            # left it cut ("Client " on a busy machine, once in nine CI runs: TLS 1.3's session
            # tickets make the socket readable just as the first prompt is shown). Restarted
            # writes finish the prompt. Without readline, input() waits in read(), which must
            # stay interruptible for the wake to reach it.
            signal.siginterrupt(WAKE_SIGNAL, False)


class _Watcher:
    """The helper thread: waits for the connection (or its timer) and wakes the main thread."""

    def __init__(self, watched: Watched) -> None:
        self._watched = watched
        main, wake = threading.main_thread().ident, WAKE_SIGNAL
        assert main is not None
        assert wake is not None  # can_watch() said so
        self._main, self._wake = main, wake
        self._stop_read, self._stop_write = os.pipe()
        self._resumed = threading.Event()
        self._keep_watching = True
        self._thread = threading.Thread(target=self._run, name="chat-prompt-watcher", daemon=True)

    def start(self) -> None:
        # Process signals (Ctrl-C, SIGTERM) must reach the main thread, where input()
        # waits, so the thread starts with every signal blocked (it inherits the mask).
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            self._thread.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def _run(self) -> None:
        try:
            while self._keep_watching:
                ready, _, _ = select.select(
                    [self._watched.fileno(), self._stop_read], [], [], self._watched.wait_time()
                )
                if self._stop_read in ready:
                    return
                self._resumed.clear()
                if not self._keep_watching:
                    # stop() came between the select and the clear: its answer is spent, and
                    # waiting for another would keep the main thread in its join forever.
                    return
                signal.pthread_kill(self._main, self._wake)
                # A signal that lands just before readline enters its select() is seen
                # only at the next key press: until the handler answers, signal again.
                while not self._resumed.wait(WAKE_RESEND_S):
                    signal.pthread_kill(self._main, self._wake)
        except (OSError, ValueError):  # the socket closed under us: the main thread sees to it
            return

    def resume(self, *, keep_watching: bool) -> None:
        """The main thread's answer to a wake: go on watching, or end."""
        self._keep_watching = keep_watching
        self._resumed.set()

    def stop(self) -> None:
        """End the thread and free its pipe (safe whether or not it started)."""
        with contextlib.suppress(OSError):
            os.write(self._stop_write, b"x")
        self.resume(keep_watching=False)
        if self._thread.is_alive():
            self._thread.join()
        os.close(self._stop_read)
        os.close(self._stop_write)
