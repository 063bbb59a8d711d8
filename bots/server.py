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
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from bots import limits, loops, notices
from bots.actions import Outcome, StepResult
from bots.adapter import BotConnection, Run
from bots.model import Dialogue
from bots.report import Transcript
from chat.net import endpoint, listen_error
from chat.protocol import MAX_MESSAGE_BYTES
from chat.status import ExitStatus
from chat.tls import HANDSHAKE_TIMEOUT_S, accept_error

if TYPE_CHECKING:
    import ssl

SHUTDOWN_GRACE_S = 1.5  # peers get this long to take their `exit` before we drop them; the
# whole stop stays under the 2 s a supervisor (docker stop, systemd) is promised
LISTEN_BACKLOG = 1024  # a burst of 1,000 clients connecting at once must not see refusals
IDLE_SWEEP_MAX_S = 1.0  # idle peers are looked for at least this often: one timer for all


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
    """A serving bot inside a running asyncio loop: start, then stop or wait."""

    def __init__(
        self,
        dialogue: Dialogue,
        options: ServeOptions,
        *,
        log: Callable[[str], None] | None = None,
        on_result: Callable[[BotConnection, StepResult], None] | None = None,
        on_close: Callable[[BotConnection, Outcome, str], None] | None = None,
    ) -> None:
        self.dialogue = dialogue
        self.options = options
        self._log = log
        self._on_result = on_result
        self._on_close = on_close
        self.run: Run | None = None
        self._server: asyncio.Server | None = None
        self._stopped: asyncio.Event | None = None
        self._stopping = False
        self._idle_task: asyncio.Task[None] | None = None
        # TLS clients still in their handshake: wait_stopped() drops them, as Python 3.12's
        # Server.wait_closed() waits for every connection (10 s for a stalled handshake).
        self._gates: set[_TlsGate] = set()
        #: The exit status the run ends with (set by stop(), or by the chat in --once).
        self.status = ExitStatus.SUCCESS
        #: In --once mode: how the one chat ended.
        self.outcome: Outcome | None = None
        self.port = 0

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
        )
        run.refuse_line = self._refuse_line
        self.run = run
        if options.transcript is not None:
            options.transcript.flush_within(loop.call_later)
        where = endpoint(host, port)
        tls = options.tls
        # uvloop's server-side start_tls never completes a handshake (uvloop 0.23), and Python
        # 3.10's (before its TLS layer was rewritten in 3.11) resets the client: there the loop's
        # own TLS serves, without the gate's one line per failed handshake.
        gate = tls is not None and isinstance(loop, asyncio.BaseEventLoop) and sys.version_info >= (3, 11)

        def accept() -> asyncio.Protocol:
            if gate:
                assert tls is not None
                return _TlsGate(BotConnection(run), tls, self._log, self._gates)
            return BotConnection(run)

        try:
            self._server = await loop.create_server(
                accept,
                host,
                port,
                backlog=LISTEN_BACKLOG,
                reuse_address=True,
                ssl=None if gate else tls,
                ssl_handshake_timeout=None if gate or tls is None else HANDSHAKE_TIMEOUT_S,
            )
        except OSError as exc:
            raise listen_error(exc, where) from exc
        sockets = self._server.sockets
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        if options.idle_timeout is not None:
            self._idle_task = loop.create_task(self._sweep_idle(options.idle_timeout))
        return self.port

    def _refuse_line(self) -> str | None:
        assert self.run is not None
        if self._stopping:
            return notices.fit(notices.STOPPING, self.options.max_message_bytes)
        limit = limits.bound(self.options.max_clients)
        if limit is not None and len(self.run.connections) >= limit:
            if self._log is not None:
                self._log(f"refused a client: {limit} already chatting (--max-clients)")
            return notices.fit(notices.BUSY, self.options.max_message_bytes, limit=limit)
        if self.options.once and self._server is not None:
            self._server.close()  # one chat per run, like chat-server
        return None

    def _closed(self, connection: BotConnection, outcome: Outcome, reason: str) -> None:
        if self._log is not None:
            self._log(f"chat with {connection.peer} ended: {outcome.value} ({reason})")
        if self._on_close is not None:
            self._on_close(connection, outcome, reason)
        if self.options.once and not self._stopping:
            self.outcome = outcome
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
        if self._server is not None:
            self._server.close()
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
        if self._server is not None:
            self._server.close()
            for gate in list(self._gates):  # a handshake that has not ended by now never will in time
                gate.abort()
            await self._server.wait_closed()
        return self.status


class _TlsGate(asyncio.Protocol):
    """A TLS client's first stop: the handshake, then the chat's own adapter over TLS.

    ``create_server(ssl=...)`` would drop a failed handshake without a word (asyncio logs
    OSErrors only in debug mode); running it here with ``start_tls`` lets the bot log
    each failure in one line, naming the client, and go on serving the others. The gate
    is the TLS transport's protocol until the chat takes over: what the client sends
    right after its handshake (before that hand-off) is kept and passed on.
    """

    def __init__(
        self,
        chat: BotConnection,
        context: ssl.SSLContext,
        log: Callable[[str], None] | None,
        gates: set[_TlsGate],
    ) -> None:
        self._chat = chat
        self._context = context
        self._log = log
        #: The server's gates whose handshake still runs: this one while it does.
        self._gates = gates
        self._transport: asyncio.Transport | None = None
        self._task: asyncio.Task[None] | None = None
        self._early = bytearray()
        self._eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not subclasses of asyncio.Transport, hence the cast).
        stream = cast(asyncio.Transport, transport)
        stream.pause_reading()  # the ClientHello is start_tls's to read
        self._transport = stream
        self._gates.add(self)
        self._task = asyncio.get_running_loop().create_task(self._handshake(stream))

    def abort(self) -> None:
        """Drop the handshake: the bot is stopping, and there is no chat yet to tell `exit`."""
        if self._task is not None:
            self._task.cancel()
        if self._transport is not None:
            self._transport.abort()

    async def _handshake(self, transport: asyncio.Transport) -> None:
        try:
            await self._hand_off(transport)
        finally:
            self._gates.discard(self)

    async def _hand_off(self, transport: asyncio.Transport) -> None:
        address = transport.get_extra_info("peername")
        peer = f"the client at {endpoint(str(address[0]), int(address[1]))}" if address else "a client"
        try:
            secure = await asyncio.get_running_loop().start_tls(
                transport, self, self._context, server_side=True, ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S
            )
        except (OSError, asyncio.TimeoutError) as exc:
            transport.abort()
            if self._log is not None:
                self._log(str(accept_error(exc, peer)))
            return
        if secure is None or secure.is_closing():  # the client left right after its handshake
            return
        self._chat.connection_made(secure)
        secure.set_protocol(self._chat)
        if self._early:
            self._chat.data_received(bytes(self._early))
        if self._eof and not self._chat.eof_received():
            secure.close()

    def data_received(self, data: bytes) -> None:
        self._early += data  # only between the handshake's end and the hand-off

    def eof_received(self) -> bool:
        self._eof = True
        return True  # the chat decides, at the hand-off

    def connection_lost(self, exc: Exception | None) -> None:
        # Only before the hand-off: the chat never started, so there is nothing to end.
        self._gates.discard(self)
        if self._task is not None:
            self._task.cancel()


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
        self._thread.start()
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
