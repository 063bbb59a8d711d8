"""The recording proxy: one client's chat with the server, every byte passed on unchanged and noted.

It listens, takes one client (it records one chat: a second client is closed at once),
dials the server, then pumps each direction on its own: bytes are written on first and
noted after, so that the recording never delays or alters what crosses. An end of
stream is passed on as one (a half-close), as a plain TCP relay would; once one side has
closed, the other may go on (a half-close: a reply still coming) as long as it is never silent
for :data:`CLOSE_GRACE_S`; then the chat is over. A signal cuts the chat: what
crossed so far is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable

from bots.record.session import CLIENT, SERVER, Line, Recording
from chat.errors import ConnectError
from chat.net import CONNECT_TIMEOUT_S, endpoint, listen_error
from chat.protocol import CLASSIC_SILENCE_S
from chat.status import ExitStatus

CHUNK_BYTES = 64 * 1024  # one read: what a socket buffer holds; lines are cut from it afterwards
CLOSE_GRACE_S = 3.0  # after one side closed, the other closes at once when it is done (a server that
# answers QUIT); one that stays silent this long without closing is taken as done, and closed
#: The signals that cut a recording, each with the status the program then ends with.
CUTTING_SIGNALS = {
    signal.SIGTERM: ExitStatus.TERMINATED,
    signal.SIGINT: ExitStatus.INTERRUPTED,
    **({signal.SIGHUP: ExitStatus.HANGUP} if hasattr(signal, "SIGHUP") else {}),
}


def dial_error(exc: BaseException, where: str) -> ConnectError:
    """Why the server to record could not be dialled, in one line naming --to."""
    if isinstance(exc, ConnectionRefusedError):
        return ConnectError(
            f"connection refused by {where}: is the server running there? Start it, or fix --to"
        )
    if isinstance(exc, TimeoutError):
        return ConnectError(
            f"cannot connect to {where}: no answer within {CONNECT_TIMEOUT_S:.0f} s; fix --to"
        )
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return ConnectError(f"cannot connect to {where}: {reason}; fix --to")


class Proxy:
    """One recorded chat: listen, take a client, dial the server, pump both ways."""

    def __init__(
        self,
        recording: Recording,
        to_host: str,
        to_port: int,
        *,
        show: Callable[[Line], None] | None = None,
    ) -> None:
        self.recording = recording
        self.to_host = to_host
        self.to_port = to_port
        self.show = show
        self.status: ExitStatus = ExitStatus.SUCCESS
        self._loop = asyncio.get_running_loop()
        self._done: asyncio.Future[None] = self._loop.create_future()
        self._taken = False
        self._listener: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._pumps: list[asyncio.Task[None]] = []
        # When a byte last crossed, either way (the grace after one side's close counts from it).
        self._last_data = 0.0

    async def listen(self, host: str, port: int) -> int:
        """Start listening; the port bound (the one asked for, or the one picked for port 0)."""
        try:
            self._listener = await asyncio.start_server(self._client, host, port)
        except OSError as exc:
            raise listen_error(exc, endpoint(host, port)) from None
        return int(self._listener.sockets[0].getsockname()[1])

    async def wait(self) -> ExitStatus:
        """Until the chat is over (both sides closed, or a signal cut it); the status to end with."""
        in_main = threading.current_thread() is threading.main_thread() and sys.platform != "win32"
        previous = {signum: signal.getsignal(signum) for signum in CUTTING_SIGNALS} if in_main else {}
        for signum, status in CUTTING_SIGNALS.items() if in_main else ():
            self._loop.add_signal_handler(signum, self.cut, status)
        try:
            await self._done
        finally:
            for signum, handler in previous.items():
                self._loop.remove_signal_handler(signum)
                if handler is not None:
                    signal.signal(signum, handler)
            await self._close()
        return self.status

    def cut(self, status: ExitStatus) -> None:
        """End the recording now (a signal): what each side held is kept as its last line."""
        if self._done.done():
            return
        self.status = status
        self._note(self.recording.stop(self._loop.time()))
        for pump in self._pumps:
            pump.cancel()
        self._done.set_result(None)

    async def _close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        for writer in self._writers:
            writer.close()
        for writer in self._writers:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await asyncio.wait_for(writer.wait_closed(), CLOSE_GRACE_S)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._taken or self._done.done():
            writer.close()  # one chat is recorded: another client is not served
            return
        self._taken = True
        assert self._listener is not None
        self._listener.close()  # no more clients; the one taken goes on
        self._writers.append(writer)
        where = endpoint(self.to_host, self.to_port)
        try:
            server_reader, server_writer = await asyncio.wait_for(
                asyncio.open_connection(self.to_host, self.to_port), CONNECT_TIMEOUT_S
            )
        except (OSError, asyncio.TimeoutError) as exc:
            if not self._done.done():
                self._done.set_exception(dial_error(exc, where))
            return
        self._writers.append(server_writer)
        self.recording.start(self._loop.time())
        self._pumps = [
            self._loop.create_task(self._pump(CLIENT, reader, server_writer)),
            self._loop.create_task(self._pump(SERVER, server_reader, writer)),
        ]
        await asyncio.wait(self._pumps, return_when=asyncio.FIRST_COMPLETED)
        # One side closed: the other goes on while it sends, and closes within the grace when done.
        while not self._done.done() and not all(pump.done() for pump in self._pumps):
            quiet_until = self._last_data + CLOSE_GRACE_S
            if self._loop.time() >= quiet_until:
                break
            await asyncio.wait(self._pumps, timeout=quiet_until - self._loop.time())
        if not self._done.done():
            for pump in self._pumps:
                pump.cancel()
            self._done.set_result(None)

    async def _pump(self, side: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        recording, loop = self.recording, self._loop
        while True:
            try:
                if recording.pending(side):
                    try:
                        data = await asyncio.wait_for(reader.read(CHUNK_BYTES), CLASSIC_SILENCE_S)
                    except asyncio.TimeoutError:
                        # Quiet with part of a line held: a classic peer's whole message.
                        self._note(recording.silence(side, loop.time()))
                        continue
                else:
                    data = await reader.read(CHUNK_BYTES)
            except OSError:
                data = b""  # reset: as good as closed
            if not data:
                self._note(recording.end_of_stream(side, loop.time()))
                with contextlib.suppress(OSError):
                    if writer.can_write_eof():
                        writer.write_eof()  # pass the half-close on, as the peer sent it
                return
            self._last_data = loop.time()
            try:
                writer.write(data)  # first what crossed, unchanged; then the notes
                self._note(recording.data(side, data, loop.time()))
                await writer.drain()
            except OSError:
                self._note(recording.end_of_stream(side, loop.time()))
                return

    def _note(self, lines: list[Line]) -> None:
        if self.show is not None:
            for line in lines:
                self.show(line)


async def record(
    recording: Recording,
    host: str,
    port: int,
    to_host: str,
    to_port: int,
    *,
    announce: Callable[[int], None],
    show: Callable[[Line], None] | None = None,
) -> ExitStatus:
    """Listen on host:port, record one chat with to_host:to_port; the status to end with."""
    proxy = Proxy(recording, to_host, to_port, show=show)
    announce(await proxy.listen(host, port))
    return await proxy.wait()


__all__ = ["CLOSE_GRACE_S", "Proxy", "dial_error", "record"]
