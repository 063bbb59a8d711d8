"""How the serving bot takes its clients: listening sockets, the descriptor budget, and an accept loop
that pauses, never spins, when descriptors run out.

asyncio's own accept loop (``loop.create_server``), out of descriptors (EMFILE), tried again up to
its backlog's 1,024 times per turn of the loop and had each failure printed with a traceback:
under ``prlimit --nofile=256:256`` with 300 clients the bot spent 0.9 s of CPU in 3 s and wrote
290,000 stderr lines in 6 s, while 51 clients waited with neither a notice nor a close. So the
bot listens on sockets of its own and accepts with ``loop.sock_accept``, one task per listening
socket, on any loop (asyncio's, uvloop, Windows' proactor). Two things keep descriptors from
running out: ``--max-clients`` is capped at what the open-file limit leaves (:func:`budget`),
and clients turned away hold a descriptor only briefly (:class:`Refusal`, a bounded number of
them at once). Should descriptors run out all the same (other files), accepting pauses for
:data:`ACCEPT_PAUSE_S`; the clients already waiting are turned away first, each with the busy
notice, on a descriptor kept in reserve for just that (libuv's trick; nginx pauses the same way).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from bots.adapter import CLOSE_TIMEOUT_S, NOTICE_LINGER_S
from chat.net import prepare_listener

LISTEN_BACKLOG = 1024  # a burst of 1,000 clients connecting at once must not see refusals
ACCEPT_PAUSE_S = 0.1  # out of descriptors: try again this much later (ten tries a second cost nothing)
ACCEPTS_PER_TURN = 64  # sock_accept takes what waits without yielding: let the clients run between bursts
# Descriptors kept out of the budget: the listening sockets, the reserve, the transcript, the
# event loop's own (a uvloop loop opens a few more as it goes), and one being turned away.
SPARE_DESCRIPTORS = 16
REFUSAL_SHARE = 8  # of the budget, this fraction (at least 1) may hold clients being turned away
#: accept() failures that mean "no descriptor (or kernel memory) for one more socket".
OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def open_listeners(host: str, port: int, backlog: int = LISTEN_BACKLOG) -> list[socket.socket]:
    """Listen on every address *host* resolves to (as ``create_server`` does: "" is every interface);
    OSError when one fails."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    listeners: list[socket.socket] = []
    try:
        for family, kind, proto, _name, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            listeners.append(sock)
            prepare_listener(sock)
            if family == getattr(socket, "AF_INET6", None):
                # Each family has its own socket, as asyncio does: an IPv6 one takes only IPv6.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(False)
    except OSError:
        for sock in listeners:
            sock.close()
        raise
    return listeners


@dataclass(frozen=True)
class Budget:
    """What the open-file limit leaves the bot: clients at once, and clients being turned away."""

    #: The open-file limit (soft), and the descriptors already open when counted.
    limit: int
    in_use: int
    clients: int
    refusals: int


def budget() -> Budget | None:
    """The descriptor budget now, or None where there is no limit to respect (none, or no way to read it)."""
    try:
        import resource
    except ImportError:  # Windows: no descriptor limit of this kind
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    in_use = _open_descriptors()
    room = max(2, soft - in_use - SPARE_DESCRIPTORS)
    refusals = max(1, room // REFUSAL_SHARE)
    return Budget(limit=soft, in_use=in_use, clients=room - refusals, refusals=refusals)


def _open_descriptors() -> int:
    for folder in ("/proc/self/fd", "/dev/fd"):  # Linux, then the BSDs and macOS
        with contextlib.suppress(OSError):
            return len(os.listdir(folder)) - 1  # less the one listdir itself opened
    return 3  # stdin, stdout and stderr at least


class Refusal(asyncio.Protocol):
    """A client turned away: *data* (the notice and ``exit``), our end of file, then what the client
    still sends is dropped for NOTICE_LINGER_S, so that one that typed before it read gets the
    ``exit``, not a reset; then the connection closes (aborted CLOSE_TIMEOUT_S on at the latest).

    It leaves *refusing*, which the server counts against its refusal budget, as its connection ends.
    """

    def __init__(self, data: bytes, refusing: set[Refusal]) -> None:
        self._data = data
        self._refusing = refusing  # the creator adds it: it counts from its handshake on
        self._handles: list[asyncio.TimerHandle] = []
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        stream = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses
        self._transport = stream
        stream.write(self._data)
        if stream.can_write_eof():  # not over TLS: there the close after the linger ends it
            stream.write_eof()
        loop = asyncio.get_running_loop()
        self._handles = [
            loop.call_later(NOTICE_LINGER_S, stream.close),
            loop.call_later(CLOSE_TIMEOUT_S, stream.abort),
        ]

    def data_received(self, data: bytes) -> None:
        pass  # what the client typed before it read our `exit`: dropped

    def eof_received(self) -> bool:
        return False  # the client has read our `exit` and closed: close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        for handle in self._handles:
            handle.cancel()
        self._transport = None
        self._refusing.discard(self)

    def abort(self) -> None:
        """Drop the connection now (the bot has stopped)."""
        if self._transport is not None:
            self._transport.abort()


def turn_away(sock: socket.socket, data: bytes | None) -> None:
    """Close an accepted client at once, after *data* (the notice and ``exit``) if it fits unsent-free."""
    with sock:
        if data is not None:
            with contextlib.suppress(OSError):
                sock.send(data)  # a few dozen bytes: a fresh socket's buffer takes them whole


class Acceptor:
    """Accepts on each listening socket and hands every client to *on_client*; pauses when out of descriptors.

    *refusal()* gives the bytes for a client turned away without a descriptor to spare (None over
    TLS, where nothing can be said before a handshake); *report(kind, line)* tells a failure.
    """

    def __init__(
        self,
        listeners: list[socket.socket],
        on_client: Callable[[socket.socket, tuple[object, ...]], None],
        *,
        refusal: Callable[[], bytes | None],
        report: Callable[[str, str], None],
    ) -> None:
        self.listeners = listeners
        self._on_client = on_client
        self._refusal = refusal
        self._report = report
        self._tasks: list[asyncio.Task[None]] = []
        self._reserve: int | None = None

    def start(self) -> None:
        """Start accepting (in the running loop)."""
        self._reserve = _reserve()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._accept(listener)) for listener in self.listeners]

    def close(self) -> None:
        """Stop accepting and close the listening sockets; safe to call twice."""
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        for listener in self.listeners:
            listener.close()
        if self._reserve is not None:
            os.close(self._reserve)
            self._reserve = None

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        accepted = 0
        while True:
            try:
                sock, address = await loop.sock_accept(listener)
            except ConnectionAbortedError:
                continue  # the client left while it waited: nothing to do
            except OSError as exc:
                self._pause(listener, exc)
                await asyncio.sleep(ACCEPT_PAUSE_S)
                continue
            sock.setblocking(False)
            self._on_client(sock, address)
            accepted += 1
            if accepted % ACCEPTS_PER_TURN == 0:
                await asyncio.sleep(0)

    def _pause(self, listener: socket.socket, exc: OSError) -> None:
        if exc.errno not in OUT_OF_DESCRIPTORS:
            self._report(
                "accept",
                f"cannot accept a client ({exc.strerror or exc}); accepting again in {ACCEPT_PAUSE_S:g} s",
            )
            return
        turned = self._turn_away_waiting(listener)
        self._report(
            "descriptors",
            f"out of file descriptors ({exc.strerror or exc}): accepting paused for {ACCEPT_PAUSE_S:g} s, "
            f"{turned} waiting client{'s' if turned != 1 else ''} turned away; "
            "raise the open-file limit (ulimit -n) or lower --max-clients",
        )

    def _turn_away_waiting(self, listener: socket.socket) -> int:
        # The reserve descriptor, freed, takes the waiting clients one at a time.
        if self._reserve is None:
            return 0
        os.close(self._reserve)
        turned = 0
        try:
            while turned < LISTEN_BACKLOG:
                try:
                    sock, _address = listener.accept()
                except OSError:  # none waiting (BlockingIOError), or still none to spare
                    break
                turn_away(sock, self._refusal())
                turned += 1
        finally:
            self._reserve = _reserve()
        return turned


def _reserve() -> int | None:
    # One descriptor held for turning clients away when every other one is taken.
    try:
        return os.open(os.devnull, os.O_RDONLY)
    except OSError:
        return None


__all__ = [
    "ACCEPT_PAUSE_S",
    "LISTEN_BACKLOG",
    "Acceptor",
    "Budget",
    "Refusal",
    "budget",
    "open_listeners",
    "turn_away",
]
