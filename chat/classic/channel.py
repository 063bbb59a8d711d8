"""The classic programs' blocking socket adapter around :class:`chat.protocol.ChatConnection`.

The classic programs are strictly turn-based, so plain blocking sockets are the
right tool; the bot's many-client server has its own asyncio adapter around the
same codec. Every OSError becomes one of the package's errors here, with the
message :mod:`chat.net` gives it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from chat.errors import PeerLost
from chat.net import CONNECT_TIMEOUT_S, connect_error, endpoint, listen_error, prepare_listener, resolve_error
from chat.protocol import CLASSIC_SILENCE_S, NEED_DATA, ChatConnection, Event, Message

RECV_BYTES = 64 * 1024  # big reads keep a 1 MiB message to a few dozen system calls


def _resolve(host: str, port: int, *, passive: bool) -> list[tuple[int, tuple[object, ...]]]:
    flags = socket.AI_PASSIVE if passive else 0
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=flags)
    except (socket.gaierror, UnicodeError) as exc:
        raise resolve_error(host, exc) from exc
    return [(family, tuple(addr)) for family, _type, _proto, _name, addr in infos]


def listen(host: str, port: int, backlog: int = 16) -> socket.socket:
    """Open a listening TCP socket (IPv4 or IPv6 by the host given)."""
    family, addr = _resolve(host, port, passive=True)[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        prepare_listener(sock)
        sock.bind(addr)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise listen_error(exc, endpoint(host, port)) from exc
    return sock


def bound_port(sock: socket.socket) -> int:
    """The port a listening socket really got (the answer to ``--port 0``)."""
    return int(sock.getsockname()[1])


def connect(host: str, port: int) -> socket.socket:
    """Connect to host:port, raising :class:`ConnectError` with a message a person can act on."""
    last: OSError | None = None
    for family, addr in _resolve(host, port, passive=False):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(addr)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        sock.settimeout(None)
        return sock
    assert last is not None  # getaddrinfo never answers with an empty list
    raise connect_error(last, endpoint(host, port), server="chat-server") from last


@contextmanager
def _peer_errors(peer: str) -> Iterator[None]:
    try:
        yield
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
        raise PeerLost(f"connection lost: {peer} reset the connection") from exc
    except OSError as exc:
        raise PeerLost(f"connection lost with {peer}: {exc.strerror or exc}") from exc


class Channel:
    """A connected socket and its codec: send one message, receive one event, blocking."""

    def __init__(self, sock: socket.socket, conn: ChatConnection, peer: str) -> None:
        self.sock = sock
        self.conn = conn
        #: How messages name the peer, e.g. "the client at 127.0.0.1:50000".
        self.peer = peer

    def send(self, text: str) -> None:
        """Send one message, framed for the peer's style."""
        data = self.conn.send(Message(text))
        with _peer_errors(self.peer):
            self.sock.sendall(data)

    def receive(self) -> Event:
        """Block until the next event: a message, an oversize notice or the peer's close."""
        while True:
            event = self.conn.next_event()
            if event is not NEED_DATA:
                assert isinstance(event, Event)
                return event
            self.sock.settimeout(CLASSIC_SILENCE_S if self.conn.wants_silence_timer else None)
            with _peer_errors(self.peer):
                try:
                    data = self.sock.recv(RECV_BYTES)
                except TimeoutError:
                    self.conn.silence()
                    continue
            self.conn.receive_data(data)

    def close(self) -> None:
        """Close the socket; safe to call twice."""
        with suppress(OSError):
            self.sock.close()
