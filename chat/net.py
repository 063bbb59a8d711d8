"""Blocking socket adapter around :class:`chat.protocol.ChatConnection`.

The classic programs are strictly turn-based, so plain blocking sockets are
the right tool here; the bot's many-client server has its own asyncio adapter
around the same codec. Every OSError is translated here, once, into the
package's own errors with a message that names host:port and what to do.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from chat.errors import ConnectError, PeerLost
from chat.protocol import NEED_DATA, ChatConnection, Event, Message

CLASSIC_SILENCE_S = 0.25  # a classic peer sends each message in one write; loopback and
# LAN deliver it in well under this, and a person cannot answer faster
RECV_BYTES = 64 * 1024  # big reads keep a 1 MiB message to a few dozen system calls
CONNECT_TIMEOUT_S = 10.0  # a host that drops SYNs should fail in seconds, not minutes


def endpoint(host: str, port: int) -> str:
    """Format host and port for messages: ``[::1]:65432`` for IPv6, ``127.0.0.1:65432`` else."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen_error(exc: OSError, where: str) -> ConnectError:
    """Translate a failure to listen on *where* (host:port) into one actionable line."""
    if isinstance(exc, socket.gaierror):
        host = where.rsplit(":", 1)[0].strip("[]")
        return ConnectError(
            f"cannot resolve host {host!r}: {exc.strerror}; check the name or give an IP address with --host"
        )
    if exc.errno == errno.EADDRINUSE:
        return ConnectError(
            f"cannot listen on {where}: port already in use; "
            "stop the program using it or choose another --port (0 picks a free one)"
        )
    if exc.errno == errno.EACCES:
        return ConnectError(
            f"cannot listen on {where}: permission denied; "
            "ports below 1024 need privileges, choose --port 1024 or above"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return ConnectError(
            f"cannot listen on {where}: address not available on this machine; "
            "use one of its own addresses, such as 127.0.0.1"
        )
    return ConnectError(f"cannot listen on {where}: {exc.strerror or exc}")


def _resolve(host: str, port: int, *, passive: bool) -> list[tuple[int, tuple[object, ...]]]:
    flags = socket.AI_PASSIVE if passive else 0
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=flags)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid host name"
        raise ConnectError(
            f"cannot resolve host {host!r}: {reason}; check the name or give an IP address with --host"
        ) from exc
    return [(family, tuple(addr)) for family, _type, _proto, _name, addr in infos]


def listen(host: str, port: int, backlog: int = 16) -> socket.socket:
    """Open a listening TCP socket (IPv4 or IPv6 by the host given), SO_REUSEADDR set."""
    family, addr = _resolve(host, port, passive=True)[0]
    where = endpoint(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # A restart must not fail while the last chat's port sits in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise listen_error(exc, where) from exc
    return sock


def bound_port(sock: socket.socket) -> int:
    """The port a listening socket really got (the answer to ``--port 0``)."""
    return int(sock.getsockname()[1])


def connect(host: str, port: int) -> socket.socket:
    """Connect to host:port, raising :class:`ConnectError` with a message a person can act on."""
    where = endpoint(host, port)
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
    if isinstance(last, ConnectionRefusedError):
        raise ConnectError(
            f"connection refused by {where}: is chat-server running there? "
            "Start it first, or pass the right --host/--port"
        ) from last
    if isinstance(last, TimeoutError | socket.timeout):
        raise ConnectError(
            f"cannot connect to {where}: no answer within {CONNECT_TIMEOUT_S:.0f} s; "
            "check the host, the port and any firewall"
        ) from last
    reason = last.strerror if last is not None and last.strerror else str(last)
    raise ConnectError(f"cannot connect to {where}: {reason}; check --host and --port") from last


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
