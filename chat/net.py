"""What every network adapter shares: how addresses are shown and how socket errors are told.

The classic programs' blocking adapter (:mod:`chat.classic.channel`) and the bot's
asyncio adapters (:mod:`bots.server`, :mod:`bots.connect`) turn the same OSErrors
into the same one-line messages, here, once. Each message names host:port and what
to do about it.
"""

from __future__ import annotations

import errno
import socket

from chat.errors import ConnectError

CONNECT_TIMEOUT_S = 10.0  # a host that drops SYNs should fail in seconds, not minutes


def endpoint(host: str, port: int) -> str:
    """Format host and port for messages: ``[::1]:65432`` for IPv6, ``127.0.0.1:65432`` else."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve_error(host: str, exc: BaseException) -> ConnectError:
    """A host name that does not resolve (or is not a valid name at all)."""
    reason = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid host name"
    return ConnectError(
        f"cannot resolve host {host!r}: {reason}; check the name or give an IP address with --host"
    )


def listen_error(exc: OSError, where: str) -> ConnectError:
    """Translate a failure to listen on *where* (host:port) into one actionable line."""
    if isinstance(exc, socket.gaierror):
        return resolve_error(where.rsplit(":", 1)[0].strip("[]"), exc)
    if exc.errno == errno.EADDRINUSE or _windows_port_taken(exc):
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


def _windows_port_taken(exc: OSError) -> bool:
    # Windows reports a port held with SO_EXCLUSIVEADDRUSE as WSAEACCES (10013), not EADDRINUSE.
    return getattr(exc, "winerror", None) == 10013


def connect_error(exc: BaseException, where: str, server: str = "a chat server") -> ConnectError:
    """Translate a failure to connect to *where* (host:port) into one actionable line.

    *server* names what should be listening there, for the hint of a refused connection.
    """
    if isinstance(exc, ConnectionRefusedError):
        return ConnectError(
            f"connection refused by {where}: is {server} running there? "
            "Start it first, or pass the right --host/--port"
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return ConnectError(
            f"cannot connect to {where}: no answer within {CONNECT_TIMEOUT_S:.0f} s; "
            "check the host, the port and any firewall"
        )
    if isinstance(exc, socket.gaierror):
        return resolve_error(where.rsplit(":", 1)[0].strip("[]"), exc)
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return ConnectError(f"cannot connect to {where}: {reason}; check --host and --port")


#: A TLS connection starts with a handshake record (type 22); a TLS alert is type 21. Both
#: are followed by the major version 3, and a chat message never starts with these bytes,
#: so a plain adapter can tell a TLS peer from the first bytes it sends (:func:`looks_like_tls`).
TLS_HANDSHAKE_RECORD = 0x16
TLS_ALERT_RECORD = 0x15
TLS_MAJOR_VERSION = 0x03


def looks_like_tls(data: bytes) -> bool:
    """True when *data*, the first bytes of a connection, is a TLS record (a handshake or an alert)."""
    return (
        len(data) >= 2
        and data[0] in (TLS_HANDSHAKE_RECORD, TLS_ALERT_RECORD)
        and data[1] == TLS_MAJOR_VERSION
    )


def plain_client_error(peer: str) -> ConnectError:
    """A client sent plain text to a TLS server."""
    return ConnectError(f"{peer} sent plain text, not TLS; it must connect with TLS (chat-client --tls)")


def tls_client_error(peer: str) -> ConnectError:
    """A client started TLS with a plain server."""
    return ConnectError(
        f"{peer} started TLS, and this server is plain; serve with --tls-cert and --tls-key, "
        "or connect without --tls"
    )


def tls_server_error(where: str) -> ConnectError:
    """A plain client got a TLS record from the server at *where*."""
    return ConnectError(f"the server at {where} speaks TLS; connect with --tls")


def prepare_listener(sock: socket.socket) -> None:
    """Set the options a listening socket needs on this platform, before bind().

    POSIX: SO_REUSEADDR, so a restart does not fail while the last chat's port sits in
    TIME_WAIT; a port another program listens on is still refused. Windows: there
    SO_REUSEADDR would let a second server bind a port already in use, so the socket
    takes the port exclusively instead (SO_EXCLUSIVEADDRUSE).
    """
    exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
    if exclusive is not None:
        sock.setsockopt(socket.SOL_SOCKET, exclusive, 1)
    else:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)


__all__ = [
    "CONNECT_TIMEOUT_S",
    "connect_error",
    "endpoint",
    "listen_error",
    "looks_like_tls",
    "plain_client_error",
    "prepare_listener",
    "resolve_error",
    "tls_client_error",
    "tls_server_error",
]
