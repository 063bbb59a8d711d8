"""The connecting role: dial a chat server, speak first as a client does, chat until the end."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bots import loops
from bots.actions import Outcome, StepResult
from bots.adapter import BotConnection, Run
from bots.model import Dialogue
from bots.report import Transcript
from chat.errors import HungUp, Terminated
from chat.net import CONNECT_TIMEOUT_S, connect_error, endpoint
from chat.protocol import MAX_MESSAGE_BYTES
from chat.status import ExitStatus

if TYPE_CHECKING:
    import ssl

    from bots.observer import Observing

INTERRUPT_GRACE_S = 1.0  # after a signal, the server gets this long to take our `exit`
#: The signals that end the chat politely (the server gets our `exit`), with the status of each.
ENDING_SIGNALS = {
    signal.SIGTERM: ExitStatus.TERMINATED,
    signal.SIGINT: ExitStatus.INTERRUPTED,
    **({signal.SIGHUP: ExitStatus.HANGUP} if hasattr(signal, "SIGHUP") else {}),
}


@dataclass
class ConnectOptions:
    """How the connecting bot behaves; every field has the command line's default."""

    seed: str | None = None
    delays: bool = True
    max_message_bytes: int = MAX_MESSAGE_BYTES
    #: --classic: the server is the seed's server.py (messages without a newline).
    classic: bool = False
    transcript: Transcript | None = None
    #: --tls/--tls-ca: connect over TLS with this context, checking the --host name (None: plain).
    tls: ssl.SSLContext | None = None
    #: Seconds the whole chat may last, overriding the dialogue's `deadline` (the test harness's default).
    deadline: float | None = None
    #: --coverage: watches the chat (the caller saves its data).
    coverage: Observing | None = None


@dataclass
class ChatResult:
    """How the one chat of a connecting bot ended, with its report."""

    outcome: Outcome
    reason: str
    results: list[StepResult] = field(default_factory=list)
    #: Set when a signal ended the chat: 129, 130 or 143.
    interrupted: ExitStatus | None = None


async def converse(
    dialogue: Dialogue,
    host: str,
    port: int,
    options: ConnectOptions,
    *,
    screen: Callable[[str, str], None] | None = None,
    on_result: Callable[[StepResult], None] | None = None,
) -> ChatResult:
    """Connect, chat to the end, and return how it ended (raises ConnectError if it cannot connect)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[Outcome, str]] = loop.create_future()
    results: list[StepResult] = []

    def result(_connection: BotConnection, step: StepResult) -> None:
        results.append(step)
        if on_result is not None:
            on_result(step)

    def closed(_connection: BotConnection, outcome: Outcome, reason: str) -> None:
        if not done.done():
            done.set_result((outcome, reason))

    run = Run(
        dialogue,
        seed=options.seed,
        delays=options.delays,
        max_message_bytes=options.max_message_bytes,
        speaks_first=True,
        classic=options.classic,
        deadline=options.deadline,
        transcript=options.transcript,
        screen=screen,
        on_result=result,
        on_close=closed,
    )
    run.coverage = options.coverage
    if options.transcript is not None:
        options.transcript.flush_within(loop.call_later)
    lost: asyncio.Future[None] = loop.create_future()
    run.on_lost = lambda _connection: None if lost.done() else lost.set_result(None)
    where = endpoint(host, port)
    connecting = loop.create_task(
        asyncio.wait_for(
            loop.create_connection(
                lambda: BotConnection(run),
                host,
                port,
                ssl=options.tls,
                server_hostname=host if options.tls is not None else None,
            ),
            CONNECT_TIMEOUT_S,
        )
    )
    interrupted: list[ExitStatus] = []

    def stop(status: ExitStatus) -> None:
        interrupted.append(status)
        if not connecting.done():
            # Still dialling or in the TLS handshake: no chat to end yet, so stop trying now.
            # (On uvloop, Python's own SIGTERM handler ran only when the connect gave up, 10 s on.)
            connecting.cancel()
            return
        if connecting.cancelled() or connecting.exception() is not None:
            return  # the connect failed just before: its error ends the program
        transport, protocol = connecting.result()
        protocol.end("interrupted")
        loop.call_later(INTERRUPT_GRACE_S, transport.abort)

    # The handlers come before the dial, so that a signal ends a connect that waits (10 s at most).
    in_main = threading.current_thread() is threading.main_thread() and sys.platform != "win32"
    # The program's own handlers (chat.signals) come back after the chat: the loop's removal
    # would leave the default actions, and SIGHUP's kills.
    previous = {signum: signal.getsignal(signum) for signum in ENDING_SIGNALS} if in_main else {}
    for signum, status in ENDING_SIGNALS.items() if in_main else ():
        loop.add_signal_handler(signum, stop, status)
    try:
        try:
            transport, _protocol = await connecting
        except asyncio.CancelledError:
            if interrupted:
                raise _signalled(interrupted[0]) from None
            raise
        except (OSError, asyncio.TimeoutError) as exc:
            if options.tls is not None and _in_handshake(exc):
                from chat import tls

                raise tls.connect_error(exc, f"the server at {where}") from exc
            raise connect_error(exc, where, server="a chat server or a serving chat-bot") from exc
        outcome, reason = await done
        # Let the last message and the close reach the server before we return.
        transport.close()
        try:
            await asyncio.wait_for(lost, INTERRUPT_GRACE_S)
        except asyncio.TimeoutError:
            transport.abort()
    finally:
        for signum, handler in previous.items():
            loop.remove_signal_handler(signum)
            if handler is not None:
                signal.signal(signum, handler)
    return ChatResult(outcome, reason, results, interrupted[0] if interrupted else None)


def _signalled(status: ExitStatus) -> BaseException:
    """What a signal before the chat raises: as the programs' handlers do, so the edge ends the same."""
    if status is ExitStatus.TERMINATED:
        return Terminated("terminated by SIGTERM")
    if status is ExitStatus.HANGUP:
        return HungUp("hung up by SIGHUP")
    return KeyboardInterrupt()


def _in_handshake(exc: BaseException) -> bool:
    # TCP failures (refused, unreachable, no answer) are told as for a plain connection;
    # everything after the TCP connect is the TLS handshake's.
    import ssl

    return isinstance(
        exc, ssl.SSLError | ssl.CertificateError | ConnectionResetError | ConnectionAbortedError
    )


def run_connect(
    dialogue: Dialogue,
    host: str,
    port: int,
    options: ConnectOptions,
    *,
    screen: Callable[[str, str], None] | None = None,
    on_result: Callable[[StepResult], None] | None = None,
    loop: str | None = None,
) -> ChatResult:
    """The blocking entry point of ``chat-bot --connect``, on *loop* (default: bots.loops.default_loop())."""
    chosen = loops.check(loop or loops.default_loop())  # before the coroutine exists: none left unawaited
    return loops.run(converse(dialogue, host, port, options, screen=screen, on_result=on_result), chosen)
