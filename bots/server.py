"""The serving role: listen like chat-server, and chat with many clients at once.

In-process use (the benchmark and the adversarial suite drive it this way)::

    from bots.loader import load_dialogue
    from bots.server import BotServer, ServeOptions, ServerThread

    with ServerThread(load_dialogue("bots/dialogues/default.yaml"), ServeOptions(delays=False)) as bot:
        ...connect to 127.0.0.1:bot.port...

or inside a running event loop::

    server = BotServer(dialogue, ServeOptions())
    port = await server.start("127.0.0.1", 0)
    ...
    server.stop()
    status = await server.wait_stopped()
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from bots import limits, loops, notices
from bots.accept import Acceptor, Budget, Refusal, budget, open_listeners, turn_away
from bots.actions import Outcome, StepResult
from bots.adapter import BotConnection, Run
from bots.events import EventLog, StderrWriter
from bots.model import Dialogue
from bots.report import Transcript
from chat.net import endpoint, listen_error
from chat.protocol import EXIT_WORD, MAX_MESSAGE_BYTES
from chat.status import ExitStatus
from chat.tls import HANDSHAKE_TIMEOUT_S, accept_error

if TYPE_CHECKING:
    import ssl

    from bots.observer import Observing

SHUTDOWN_GRACE_S = 1.0  # peers get this long to take their `exit` before we drop them; the
# whole stop stays under the 2 s a supervisor (docker stop, systemd) is promised, with a second left for
# the interpreter's own exit on a busy machine (1.5 s left half a second: 2.08 s once, beside CI's stages)
IDLE_SWEEP_MAX_S = 1.0  # idle peers are looked for at least this often: one timer for all
REFUSALS_WITHOUT_LIMIT = 1024  # where no open-file limit applies, clients being turned away at once

P = TypeVar("P", bound=asyncio.Protocol)


@dataclass
class ServeOptions:
    """How the serving bot behaves; every field has the command line's default."""

    #: --seed: repeatable random choices (each chat is seeded with "SEED:N").
    seed: str | None = None
    #: False with --no-delay.
    delays: bool = True
    max_message_bytes: int = MAX_MESSAGE_BYTES
    #: --max-clients: more clients at once get the busy notice and `exit`, and are closed.
    #: None: the default bound (bots.limits.DEFAULT_MAX_CLIENTS); 0: no bound.
    max_clients: int | None = None
    #: --idle-timeout: a client silent this long gets the idle notice and `exit`, and is closed.
    idle_timeout: float | None = None
    #: --once: serve one chat, then stop with its outcome's status.
    once: bool = False
    #: --transcript FILE (the caller opens and closes it).
    transcript: Transcript | None = None
    #: --tls-cert/--tls-key: serve over TLS with this context (None: plain).
    tls: ssl.SSLContext | None = None
    #: --coverage: watches every chat (the caller saves its data).
    coverage: Observing | None = None


def raise_open_file_limit() -> None:
    """Raise the soft limit on open files to the hard limit: each client is one descriptor."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class BotServer:
    """A serving bot inside a running asyncio loop: start, then stop or wait.

    Every client accepted takes one of ``--max-clients`` places from its TLS handshake on
    (a handshake that never ends gives its place back after HANDSHAKE_TIMEOUT_S); one more
    gets the busy notice and ``exit``, or, when even the clients being turned away fill their
    share of the descriptors, is closed at once (bots.accept).
    """

    def __init__(
        self,
        dialogue: Dialogue,
        options: ServeOptions,
        *,
        log: Callable[[str], None] | None = None,
        on_result: Callable[[BotConnection, StepResult], None] | None = None,
        on_close: Callable[[BotConnection, Outcome, str], None] | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.dialogue = dialogue
        self.options = options
        self._log = log
        self._on_result = on_result
        self._on_close = on_close
        #: Where problems go, one line each (rate-limited by kind): by default stderr, written by
        #: a thread of its own, started with the first line.
        self._writer: StderrWriter | None = None
        self._report = report if report is not None else self._writer_line
        self.run: Run | None = None
        self._acceptor: Acceptor | None = None
        self._events: EventLog | None = None
        self._stopped: asyncio.Event | None = None
        self._stopping = False
        self._idle_task: asyncio.Task[None] | None = None
        #: Clients admitted whose chat has not begun: in their TLS handshake, or being handed to the loop.
        self._admitting: set[_Admitted] = set()
        #: Clients being turned away: their handshake, then their notice's linger.
        self._refusing: set[Refusal] = set()
        #: The hand-overs under way (wait_stopped cancels them).
        self._connecting: set[asyncio.Task[None]] = set()
        #: The bound on clients at once (--max-clients, capped by the descriptors), and on refusals.
        self.max_clients: int | None = None
        self._max_refusals = REFUSALS_WITHOUT_LIMIT
        #: The exit status the run ends with (set by stop(), or by the chat in --once).
        self.status = ExitStatus.SUCCESS
        #: In --once mode: how the one chat ended (and why), and whether it has begun.
        self.outcome: Outcome | None = None
        self.reason = ""
        self._once_begun = False
        self.port = 0

    def _writer_line(self, line: str) -> None:
        if self._writer is None:
            self._writer = StderrWriter("chat-bot: ")
        self._writer.write(line)

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0 = any free port); return the port really bound."""
        loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        options = self.options
        run = Run(
            self.dialogue,
            seed=options.seed,
            delays=options.delays,
            max_message_bytes=options.max_message_bytes,
            transcript=options.transcript,
            on_result=self._on_result,
            on_close=self._closed,
            on_error=self._broken,
        )
        run.refuse_line = self._refuse_line
        run.coverage = options.coverage
        self.run = run
        if options.transcript is not None:
            options.transcript.flush_within(loop.call_later)
        where = endpoint(host, port)
        try:
            listeners = open_listeners(host, port)
        except OSError as exc:
            raise listen_error(exc, where) from exc
        self.port = int(listeners[0].getsockname()[1])
        self._events = events = EventLog(self._report, loop.call_later)
        # The loop's own errors (a transport's, a callback's): one line per kind, never a traceback,
        # unless the user asked for tracebacks (CHAT_DEBUG, as chat.program.run does for a bug).
        if not os.environ.get("CHAT_DEBUG"):
            loop.set_exception_handler(events.loop_exception)
        self._bound(budget())
        self._acceptor = Acceptor(
            listeners, self._on_client, refusal=self._quick_refusal, report=events.report
        )
        self._acceptor.start()
        if options.idle_timeout is not None:
            self._idle_task = loop.create_task(self._sweep_idle(options.idle_timeout))
        return self.port

    def _bound(self, room: Budget | None) -> None:
        # --max-clients, capped at what the open-file limit leaves: each client is a descriptor,
        # and past the limit the bot could accept no one, not even to say it is busy.
        asked = limits.bound(self.options.max_clients)
        self.max_clients = asked
        if room is None:
            return
        self._max_refusals = room.refusals
        if asked is None or asked > room.clients:
            self.max_clients = room.clients
            wanted = "0 (no bound)" if asked is None else f"{asked:,}"
            self._report(
                f"--max-clients {wanted} is more than the open-file limit allows ({room.limit:,} "
                f"descriptors, {room.in_use} in use): serving at most {room.clients:,} clients at once; "
                "raise the limit (ulimit -n) to serve more"
            )

    def _busy_data(self) -> bytes:
        assert self.max_clients is not None
        notice = notices.fit(notices.BUSY, self.options.max_message_bytes, limit=self.max_clients)
        return f"{notice}\n{EXIT_WORD}\n".encode()  # line framing: a classic client shows them too

    def _quick_refusal(self) -> bytes | None:
        # What a client turned away at once hears: over TLS nothing can be said before a handshake.
        if self.options.tls is not None or self.max_clients is None:
            return None
        return self._busy_data()

    def _on_client(self, sock: socket.socket, address: tuple[object, ...]) -> None:
        """A client accepted: admit it, or turn it away (busy, or the bot stopping)."""
        run = self.run
        assert run is not None
        if self._stopping:
            turn_away(sock, None)
            return
        limit = self.max_clients
        if limit is not None and len(run.connections) + len(self._admitting) >= limit:
            if self._log is not None:
                self._log(f"refused a client: {limit} already chatting (--max-clients)")
            if len(self._refusing) < self._max_refusals:
                refusal = Refusal(self._busy_data(), self._refusing)
                self._refusing.add(refusal)
                self._hand_over(sock, address, refusal, self._refusing.discard)
            else:  # the share of descriptors for clients being turned away is taken: close at once
                turn_away(sock, self._quick_refusal())
            return
        admitted = _Admitted(run, self._admitting)
        self._admitting.add(admitted)
        self._hand_over(sock, address, admitted, self._admitting.discard)

    def _hand_over(
        self, sock: socket.socket, address: tuple[object, ...], protocol: P, forget: Callable[[P], None]
    ) -> None:
        # The loop makes the socket a transport for *protocol* (after a TLS handshake). The caller
        # counts it from now on: an admitted chat until its connection_made (then run.connections
        # does), a refusal until its connection is lost; *forget* ends that when a handshake fails.
        task = asyncio.get_running_loop().create_task(self._connect(sock, _peer(address), protocol, forget))
        self._connecting.add(task)
        task.add_done_callback(self._connecting.discard)

    async def _connect(
        self,
        sock: socket.socket,
        peer: str,
        protocol: P,
        forget: Callable[[P], None],
    ) -> None:
        loop = asyncio.get_running_loop()
        tls = self.options.tls
        began = loop.time()
        try:
            await loop.connect_accepted_socket(
                lambda: protocol,
                sock,
                ssl=tls,
                ssl_handshake_timeout=None if tls is None else HANDSHAKE_TIMEOUT_S,
            )
        except (OSError, asyncio.TimeoutError) as exc:
            forget(protocol)
            if tls is None or self._log is None:
                return  # plain: the client left at once; nothing to tell
            if isinstance(exc, ConnectionAbortedError) and loop.time() - began >= HANDSHAKE_TIMEOUT_S:
                exc = TimeoutError()  # how the loops abort a handshake that took too long
            self._log(str(accept_error(exc, peer)))
        except BaseException:  # cancelled: the bot has stopped
            forget(protocol)
            raise

    def _refuse_line(self) -> str | None:
        # Asked as a chat begins (after its TLS handshake). Busy clients were turned away as they
        # were accepted (_on_client); one whose chat would begin while the bot stops is told so.
        if self._stopping:
            return notices.fit(notices.STOPPING, self.options.max_message_bytes)
        if self.options.once:
            # One chat per run, like chat-server: the first to begin it (a failed handshake
            # takes nothing); anyone accepted meanwhile is busy.
            if self._once_begun:
                return notices.fit(notices.BUSY, self.options.max_message_bytes, limit=1)
            self._once_begun = True
            if self._acceptor is not None:
                self._acceptor.close()
        return None

    def _broken(self, connection: BotConnection, exc: Exception) -> None:
        # A bug in one chat: one line (rate-limited by kind, like every problem), its traceback
        # under --verbose; the adapter ends that chat alone, as an internal error.
        assert self._events is not None
        self._events.report(
            "internal error",
            f"internal error in the chat with {connection.peer}: {type(exc).__name__}: {exc}; that chat "
            "ended, the others go on (a bug: please report it; --verbose shows its traceback)",
        )
        if self._log is not None:
            import traceback  # only when a bug happens

            self._log("".join(traceback.format_exception(exc)).rstrip())

    def _closed(self, connection: BotConnection, outcome: Outcome, reason: str) -> None:
        if self._log is not None:
            self._log(f"chat with {connection.peer} ended: {outcome.value} ({reason})")
        if self._on_close is not None:
            self._on_close(connection, outcome, reason)
        if self.options.once and not self._stopping:
            self.outcome = outcome
            self.reason = reason
            self.status = outcome.status
            asyncio.get_running_loop().call_soon(self._finish_once)

    def _finish_once(self) -> None:
        self._stopping = True
        # The chat has ended; its peer gets the same grace as at a signal to take the rest. One
        # that neither reads nor closes would hold the close: a TLS close waits for its
        # close_notify (30 s on Python 3.11+; 3.10's asyncio has no timeout for it), and a
        # signal now finds the bot already stopping.
        asyncio.get_running_loop().call_later(SHUTDOWN_GRACE_S, self._drop_the_rest)
        self._check_stopped()

    async def _sweep_idle(self, limit: float) -> None:
        # One timer for every peer: checking 10,000 timestamps a second is cheaper
        # than re-arming a timer on every message of every peer.
        loop = asyncio.get_running_loop()
        interval = min(IDLE_SWEEP_MAX_S, limit / 2)
        line = notices.fit(notices.IDLE, self.options.max_message_bytes, seconds=limit)
        assert self.run is not None
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            for connection in [c for c in self.run.connections if now - c.last_seen >= limit]:
                connection.end(line, notice=line)

    def stop(self, status: ExitStatus = ExitStatus.SUCCESS) -> None:
        """Stop politely: no new clients, `exit` to every chat, then close (call in the loop)."""
        if self._stopping:
            return
        self._stopping = True
        self.status = status
        if self._acceptor is not None:
            self._acceptor.close()
        if self._idle_task is not None:
            self._idle_task.cancel()
        if self.run is not None:
            for connection in list(self.run.connections):
                connection.end("the bot is stopping")
        loop = asyncio.get_running_loop()
        loop.call_later(SHUTDOWN_GRACE_S, self._drop_the_rest)
        self._check_stopped()

    def _drop_the_rest(self) -> None:
        if self.run is not None:
            for connection in list(self.run.connections):
                connection.abort()
            self.run.connections.clear()
        self._check_stopped()

    def _check_stopped(self) -> None:
        if self._stopped is None or self.run is None:
            return
        if self._stopping and not self.run.connections:
            self._stopped.set()
        elif self._stopping:
            asyncio.get_running_loop().call_later(0.01, self._check_stopped)

    async def wait_stopped(self) -> ExitStatus:
        """Wait until stop() (or the end of the --once chat) has finished; return the status."""
        assert self._stopped is not None, "start() first"
        await self._stopped.wait()
        if self._idle_task is not None:
            self._idle_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._idle_task
        if self._acceptor is not None:
            self._acceptor.close()
        # A handshake that has not ended by now never will in time; a refusal's linger is cut short.
        pending = list(self._connecting)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for refusal in list(self._refusing):
            refusal.abort()
        if self._writer is not None:
            self._writer.close()  # at once, unless stderr blocks: then STOP_WAIT_S at most
        return self.status


class _Admitted(BotConnection):
    """A chat's adapter that leaves the server's admitting set as it joins run.connections."""

    __slots__ = ("admitting",)

    def __init__(self, run: Run, admitting: set[_Admitted]) -> None:
        super().__init__(run)
        self.admitting = admitting

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.admitting.discard(self)  # counted once: run.connections has it from here on
        super().connection_made(transport)


def _peer(address: tuple[object, ...]) -> str:
    # How a client is named in log lines: "the client at 127.0.0.1:50000".
    if len(address) >= 2 and isinstance(address[1], int):
        return f"the client at {endpoint(str(address[0]), address[1])}"
    return "a client"


class ServerThread:
    """A serving bot on its own event loop in a background thread (for --try and in-process tests)."""

    def __init__(
        self,
        dialogue: Dialogue,
        options: ServeOptions | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        loop: str | None = None,
        *,
        on_result: Callable[[BotConnection, StepResult], None] | None = None,
    ) -> None:
        self.dialogue = dialogue
        #: Told each step result of every chat (in the server's thread).
        self.on_result = on_result
        #: The event loop it serves on (bots.loops: asyncio or uvloop); None: the default.
        self.loop = loops.check(loop or loops.default_loop())
        self.options = options or ServeOptions()
        self.host = host
        self.port = port
        self.status: ExitStatus | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: BotServer | None = None
        self._thread = threading.Thread(target=self._main, name="chat-bot-server", daemon=True)

    def start(self) -> int:
        """Start serving; return the port once listening (raises ConnectError if it cannot)."""
        # The thread takes none of the program's signals (it inherits the mask it starts with): they
        # go to the main thread, where --try's client holds them while it counts a write
        # (chat.classic.channel) and where the programs' handlers expect them.
        hold = getattr(signal, "pthread_sigmask", None)
        previous = None if hold is None else hold(signal.SIG_BLOCK, signal.valid_signals())
        try:
            self._thread.start()
        finally:
            if previous is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self.port

    def _main(self) -> None:
        loops.run(self._serve(), self.loop)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = BotServer(self.dialogue, self.options, on_result=self.on_result)
        try:
            self.port = await self._server.start(self.host, self.port)
        except BaseException as exc:  # handed to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.status = await self._server.wait_stopped()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop politely (every chat gets `exit`) and wait for the thread to end."""
        if self._loop is not None and self._server is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._server.stop, ExitStatus.SUCCESS)
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["BotServer", "ServeOptions", "ServerThread"]
