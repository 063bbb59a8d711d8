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
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bots.adapter import BotConnection, Run
from bots.engine import Outcome, StepResult
from bots.model import Dialogue
from bots.report import Transcript
from chat.net import endpoint, listen_error
from chat.protocol import MAX_MESSAGE_BYTES
from chat.status import ExitStatus

SHUTDOWN_GRACE_S = 1.5  # peers get this long to take their `exit` before we drop them; the
# whole stop stays under the 2 s a supervisor (docker stop, systemd) is promised
LISTEN_BACKLOG = 1024  # a burst of 1,000 clients connecting at once must not see refusals
BUSY_LINE = "busy: this bot serves at most {limit} clients at once; try again later"
IDLE_LINE = "idle: no message for {seconds:g} s, so this bot closed the chat"
IDLE_SWEEP_MAX_S = 1.0  # idle peers are looked for at least this often: one timer for all


@dataclass
class ServeOptions:
    """How the serving bot behaves; every field has the command line's default."""

    #: --seed: repeatable random choices (each chat is seeded with "SEED:N").
    seed: str | None = None
    #: False with --no-delay.
    delays: bool = True
    max_message_bytes: int = MAX_MESSAGE_BYTES
    #: --max-clients: more clients at once get BUSY_LINE and are closed.
    max_clients: int | None = None
    #: --idle-timeout: a client silent this long gets IDLE_LINE and is closed.
    idle_timeout: float | None = None
    #: --once: serve one chat, then stop with its outcome's status.
    once: bool = False
    #: --transcript FILE (the caller opens and closes it).
    transcript: Transcript | None = None


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
        where = endpoint(host, port)
        try:
            self._server = await loop.create_server(
                lambda: BotConnection(run), host, port, backlog=LISTEN_BACKLOG, reuse_address=True
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
            return "busy: this bot is stopping; try again later"
        limit = self.options.max_clients
        if limit is not None and len(self.run.connections) >= limit:
            if self._log is not None:
                self._log(f"refused a client: {limit} already chatting (--max-clients)")
            return BUSY_LINE.format(limit=limit)
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
        self._check_stopped()

    async def _sweep_idle(self, limit: float) -> None:
        # One timer for every peer: checking 10,000 timestamps a second is cheaper
        # than re-arming a timer on every message of every peer.
        loop = asyncio.get_running_loop()
        interval = min(IDLE_SWEEP_MAX_S, limit / 2)
        line = IDLE_LINE.format(seconds=limit)
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
            await self._server.wait_closed()
        return self.status


async def serve(
    dialogue: Dialogue,
    host: str,
    port: int,
    options: ServeOptions,
    *,
    announce: Callable[[int], None],
    log: Callable[[str], None] | None = None,
    on_result: Callable[[BotConnection, StepResult], None] | None = None,
) -> ExitStatus:
    """Serve until SIGINT/SIGTERM (or the end of the --once chat); return the exit status."""
    server = BotServer(dialogue, options, log=log, on_result=on_result)
    bound = await server.start(host, port)
    loop = asyncio.get_running_loop()
    if threading.current_thread() is threading.main_thread() and sys.platform != "win32":
        loop.add_signal_handler(signal.SIGTERM, server.stop, ExitStatus.TERMINATED)
        loop.add_signal_handler(signal.SIGINT, server.stop, ExitStatus.INTERRUPTED)
    announce(bound)
    return await server.wait_stopped()


def run_server(
    dialogue: Dialogue,
    host: str,
    port: int,
    options: ServeOptions,
    *,
    announce: Callable[[int], None],
    log: Callable[[str], None] | None = None,
    on_result: Callable[[BotConnection, StepResult], None] | None = None,
) -> ExitStatus:
    """The blocking entry point of ``chat-bot`` in the serving role."""
    raise_open_file_limit()
    return asyncio.run(serve(dialogue, host, port, options, announce=announce, log=log, on_result=on_result))


class ServerThread:
    """A serving bot on its own event loop in a background thread (for --try and in-process tests)."""

    def __init__(
        self,
        dialogue: Dialogue,
        options: ServeOptions | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.dialogue = dialogue
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
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = BotServer(self.dialogue, self.options)
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


__all__ = ["BotServer", "ServeOptions", "ServerThread", "run_server", "serve"]
