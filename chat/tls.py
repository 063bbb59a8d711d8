"""Opt-in TLS for every program: contexts from the command line's files, and failures told in one line.

The plain classic protocol stays the default. With TLS, the chat runs unchanged inside
a TLS connection: serving programs load a certificate and key (``--tls-cert``,
``--tls-key``); connecting programs check the server's certificate against the system
trust store or ``--tls-ca`` and check its name against ``--host``. Python's ssl
module (OpenSSL) does all of it; this module only builds the contexts with safe
defaults and turns its exceptions into the package's errors (:mod:`chat.errors`), one
actionable line each, for the blocking classic programs and the bot's asyncio adapters
alike.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time

from chat.errors import ConnectError, UsageError
from chat.net import CONNECT_TIMEOUT_S, TLS_HANDSHAKE_RECORD, plain_client_error

#: What a TLS server answers a client that sent plain text (RFC 8446, 6.2: abort with an
#: alert): a fatal ``unexpected_message`` alert record. OpenSSL sends nothing there, so a
#: plain chat-client could not tell a TLS server from one that hung up; with this it can.
UNEXPECTED_MESSAGE_ALERT = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0A])
REFUSAL_DRAIN_S = 1.0  # a plain chat-client closes as soon as the alert arrives; nc may not
HANDSHAKE_TIMEOUT_S = CONNECT_TIMEOUT_S  # once the first byte is here, the rest of a handshake is quick

# OpenSSL's verify codes (X509_V_ERR_*) that mean "this certificate's issuer is not trusted".
_UNTRUSTED_CODES = frozenset({2, 18, 19, 20, 21})
_NAME_MISMATCH_CODES = frozenset({62, 64})  # the host name, or the IP address, is not in it
# The reasons OpenSSL gives when TLS bytes were expected and plain text came instead.
_PLAIN_TEXT_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE"}
)

_CLOSED_DURING_HANDSHAKE = (
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)


def _refuse_encrypted_key() -> str:
    # Without a callback OpenSSL would prompt on the terminal for the key's passphrase.
    raise UsageError("the TLS key is encrypted with a passphrase: give --tls-key an unencrypted key file")


def _tolerate_unannounced_close(context: ssl.SSLContext) -> None:
    # A peer that closes TCP without TLS's close_notify (killed, or nc/socat ending) is a
    # closed connection like any other: the chat's own `exit` tells an ending from a loss,
    # so a truncated stream is reported as a lost peer, never taken for a finished chat.
    # OpenSSL 3 then reads that close as an end of file, and a reset still raises SSLEOFError:
    # wrap_client and wrap_server keep it (suppress_ragged_eofs=False), so that a message a
    # reset cut is reported lost (chat.classic.channel), never shown as a whole one.
    context.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)


def server_context(cert: str, key: str) -> ssl.SSLContext:
    """A server context holding *cert* (PEM, chain included) and its *key*; UsageError when unusable."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    _tolerate_unannounced_close(context)
    try:
        context.load_cert_chain(cert, key, password=_refuse_encrypted_key)
    except OSError as exc:  # ssl.SSLError is an OSError too
        raise UsageError(
            f"cannot use the TLS certificate {cert!r} with the key {key!r}: {_reason(exc)}; "
            "give --tls-cert a PEM certificate and --tls-key its PEM private key"
        ) from exc
    return context


def client_context(ca: str | None = None) -> ssl.SSLContext:
    """A client context trusting *ca* (a PEM file), or the system trust store; names are checked."""
    try:
        context = ssl.create_default_context(cafile=ca)
    except OSError as exc:
        raise UsageError(
            f"cannot use the TLS CA file {ca!r}: {_reason(exc)}; give --tls-ca a PEM certificate file"
        ) from exc
    _tolerate_unannounced_close(context)
    return context


def _reason(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLError):
        return (exc.reason or str(exc)).replace("_", " ").lower()
    return exc.strerror or str(exc)


def connect_error(exc: BaseException, where: str) -> ConnectError:
    """A TLS handshake with the server at *where* failed: say why, and what to do, in one line."""
    prefix = f"cannot start TLS with {where}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        if exc.verify_code in _NAME_MISMATCH_CODES:
            return ConnectError(
                f"{prefix}: its certificate is not for this name ({exc.verify_message}); "
                "connect with --host set to a name the certificate holds"
            )
        if exc.verify_code in _UNTRUSTED_CODES:
            return ConnectError(
                f"{prefix}: its certificate is not trusted ({exc.verify_message}); "
                "pass the certificate of the CA that signed it with --tls-ca FILE"
            )
        return ConnectError(f"{prefix}: its certificate was refused ({exc.verify_message})")
    if isinstance(exc, ssl.SSLError) and exc.reason in _PLAIN_TEXT_REASONS:
        return ConnectError(f"{prefix}: it answered in plain text, not TLS; connect without --tls")
    if isinstance(exc, _CLOSED_DURING_HANDSHAKE):
        return ConnectError(
            f"{prefix}: it closed the connection during the handshake; "
            "is it serving TLS? Connect without --tls to a plain server"
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return ConnectError(
            f"{prefix}: no TLS answer within {HANDSHAKE_TIMEOUT_S:.0f} s; "
            "is it serving TLS? Connect without --tls to a plain server"
        )
    if isinstance(exc, ssl.SSLError):
        return ConnectError(f"{prefix}: {_reason(exc)}")
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return ConnectError(f"{prefix}: {reason}")


def accept_error(exc: BaseException, peer: str) -> ConnectError:
    """A TLS handshake with *peer* (a client) failed, on the serving side: one line saying why."""
    prefix = f"TLS failed with {peer}"
    reason = exc.reason if isinstance(exc, ssl.SSLError) else None
    if reason in _PLAIN_TEXT_REASONS:
        return plain_client_error(peer)
    if reason is not None and reason.startswith(("TLSV1_ALERT_", "SSLV3_ALERT_")):
        alert = reason.split("_ALERT_", 1)[1].replace("_", " ").lower()
        return ConnectError(
            f"{prefix}: it refused the handshake ({alert}); "
            "does it trust the CA that signed --tls-cert (chat-client --tls-ca)?"
        )
    if isinstance(exc, _CLOSED_DURING_HANDSHAKE):
        return ConnectError(f"{prefix}: it closed the connection during the handshake")
    if isinstance(exc, TimeoutError | socket.timeout):
        return ConnectError(f"{prefix}: no TLS handshake within {HANDSHAKE_TIMEOUT_S:.0f} s")
    if isinstance(exc, ssl.SSLError):
        return ConnectError(f"{prefix}: {_reason(exc)}")
    reason_text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return ConnectError(f"{prefix}: {reason_text}")


def close(sock: socket.socket) -> None:
    """Close *sock*; a TLS socket first sends close_notify, without waiting for the answer."""
    if isinstance(sock, ssl.SSLSocket):
        with contextlib.suppress(OSError, ValueError):
            sock.settimeout(0.0)
            sock.unwrap()
    with contextlib.suppress(OSError):
        sock.close()


def wrap_client(sock: socket.socket, context: ssl.SSLContext, host: str, where: str) -> ssl.SSLSocket:
    """Run the client's handshake on a connected *sock* for *host*, within the handshake timeout."""
    sock.settimeout(HANDSHAKE_TIMEOUT_S)
    try:
        tls = context.wrap_socket(sock, server_hostname=host, suppress_ragged_eofs=False)
    except (OSError, ValueError) as exc:
        sock.close()
        raise connect_error(exc, where) from exc
    tls.settimeout(None)
    return tls


def wrap_server(sock: socket.socket, context: ssl.SSLContext, peer: str) -> ssl.SSLSocket:
    """Run the server's handshake on an accepted *sock*; ConnectError (socket closed) when it fails.

    It waits for the client's first byte as long as it takes (a person may be typing at a
    plain client), then gives the handshake :data:`HANDSHAKE_TIMEOUT_S`. A client that
    speaks plain text gets a TLS alert, so a plain chat-client can say what went wrong.
    """
    try:
        first = sock.recv(1, socket.MSG_PEEK)
        if first and first[0] != TLS_HANDSHAKE_RECORD:
            _refuse_plain(sock)
            raise plain_client_error(peer)
        sock.settimeout(HANDSHAKE_TIMEOUT_S)
        tls = context.wrap_socket(sock, server_side=True, suppress_ragged_eofs=False)
    except OSError as exc:
        sock.close()
        raise accept_error(exc, peer) from exc
    except ConnectError:
        sock.close()
        raise
    tls.settimeout(None)
    return tls


def _refuse_plain(sock: socket.socket) -> None:
    # The alert, then our side closed; reading what the client sent (briefly) before closing
    # keeps the kernel from answering it with a reset, which could destroy the alert unread.
    deadline = time.monotonic() + REFUSAL_DRAIN_S
    try:
        sock.sendall(UNEXPECTED_MESSAGE_ALERT)
        sock.shutdown(socket.SHUT_WR)
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(4096):
                break
    except OSError:
        pass


__all__ = [
    "HANDSHAKE_TIMEOUT_S",
    "accept_error",
    "client_context",
    "close",
    "connect_error",
    "server_context",
    "wrap_client",
    "wrap_server",
]
