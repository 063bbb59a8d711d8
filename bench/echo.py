"""The baseline: a minimal asyncio line-echo server with no dialogue logic.

Each newline-terminated line goes back to its sender as it came, on the leanest
asyncio adapter there is: a ``Protocol``, no stream objects, no task per connection,
no decoding. So it pays only what any server of this protocol must pay in Python
(the event loop, the socket calls, finding the newline): the practical limit the
bot is measured against.

``python -m bench.echo [--host H] [--port P] [--loop asyncio|uvloop]`` prints ``Echo listening
on HOST:PORT...``. The baseline runs on the standard asyncio loop; on uvloop it is the floor
of any server on that loop: what a turn costs with no dialogue logic at all.
Line peers only: a classic peer's messages, ended by silence, are work it skips.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from typing import cast

from bots import loops
from chat.errors import UsageError
from chat.protocol import MAX_MESSAGE_BYTES
from chat.status import ExitStatus

BACKLOG = 1024  # the bench connects 64 at a time; a deep backlog keeps any burst from a SYN retry


class EchoProtocol(asyncio.Protocol):
    """One connection: each whole line goes straight back, bytes for bytes."""

    def __init__(self, open_transports: set[asyncio.Transport]) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.open_transports = open_transports  # the server's, so that a stop can close them

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have asyncio.Transport's methods without subclassing it: no isinstance.
        transport = cast("asyncio.Transport", transport)
        self.transport = transport
        self.open_transports.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.open_transports.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        end = self.buffer.rfind(b"\n")
        if end >= 0:
            # Every whole line in one write: echoing them one by one would only add calls.
            self.transport.write(bytes(self.buffer[: end + 1]))
            del self.buffer[: end + 1]
        elif len(self.buffer) > MAX_MESSAGE_BYTES:
            self.buffer.clear()  # the codec's bound: an endless line must not grow without limit

    def eof_received(self) -> bool | None:
        return None  # close when the client does


def _raise_nofile_limit() -> None:
    # A server holding thousands of idle peers needs a descriptor each; the hard limit allows it.
    import resource  # POSIX only: imported here so that the module imports on Windows too

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve(host: str, port: int) -> None:
    """Listen on host:port, print the listening line, echo until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    open_transports: set[asyncio.Transport] = set()
    server = await loop.create_server(lambda: EchoProtocol(open_transports), host, port, backlog=BACKLOG)
    bound = server.sockets[0].getsockname()[1]
    print(f"Echo listening on {host}:{bound}...", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
        # Since Python 3.12, leaving the block waits for every connection to close: close them.
        for transport in list(open_transports):
            transport.abort()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse --host/--port/--loop and serve."""
    parser = argparse.ArgumentParser(prog="python -m bench.echo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="TCP port, 0 for any (default: %(default)s)")
    parser.add_argument(
        "--loop", choices=loops.LOOPS, default=loops.ASYNCIO, help="event loop (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    try:
        loops.check(args.loop)
    except UsageError as exc:
        parser.error(str(exc))
    _raise_nofile_limit()
    try:
        loops.run(serve(args.host, args.port), args.loop)
    except OSError as exc:
        print(f"bench.echo: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return int(ExitStatus.CONNECTION_ERROR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
