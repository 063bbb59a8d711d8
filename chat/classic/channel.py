"""The classic programs' blocking socket adapter around :class:`chat.protocol.ChatConnection`.

The classic programs are strictly turn-based, so plain blocking sockets are the
right tool; the bot's many-client server has its own asyncio adapter around the
same codec. Every OSError becomes one of the package's errors here, with the
message :mod:`chat.net` gives it.
"""

from __future__ import annotations

import select
import socket
import struct
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from chat import signals
from chat.errors import ChatError, ConnectError, PeerLost
from chat.net import (
    CONNECT_TIMEOUT_S,
    connect_error,
    endpoint,
    listen_error,
    looks_like_tls,
    prepare_listener,
    resolve_error,
)
from chat.protocol import (
    CLASSIC_SILENCE_S,
    NEED_DATA,
    ChatConnection,
    ConnectionClosed,
    Event,
    Received,
    is_exit,
)

if TYPE_CHECKING:
    import ssl

RECV_BYTES = 64 * 1024  # big reads keep a 1 MiB message to a few dozen system calls
# While our person types, what the peer sends out of turn is read ahead (to notice its
# `exit` at once) until this many events wait; past it the rest waits in the kernel's
# buffer, as it did before, so a flooding peer costs at most this many messages (and one
# read) of memory.
READ_AHEAD_EVENTS = 16
# One check reads what is waiting (a message and the close behind it, or a TLS record's
# rest), but a peer streaming without pause must not keep it from returning to the prompt.
READS_PER_CHECK = 16
_READABLE, _WRITABLE = 1, 2  # what _flush waits for

# After Ctrl-C, Ctrl-D or a signal, the rest of a message the peer has not yet taken and our
# `exit` get this long; then the connection is reset. Under the 2 s a supervisor (docker stop,
# systemd) waits after SIGTERM, and long beside a peer that reads at all.
END_GRACE_S = 1.0


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


def connect(host: str, port: int, context: ssl.SSLContext | None = None) -> socket.socket:
    """Connect to host:port (with TLS when given a *context*), raising :class:`ConnectError`
    with a message a person can act on."""
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
        if context is not None:
            from chat import tls

            return tls.wrap_client(sock, context, host, f"the server at {endpoint(host, port)}")
        sock.settimeout(None)
        return sock
    assert last is not None  # getaddrinfo never answers with an empty list
    raise connect_error(last, endpoint(host, port), server="chat-server") from last


@contextmanager
def _peer_errors(
    peer: str, tls_errors: tuple[type[OSError], ...] = (), resets: tuple[type[OSError], ...] = ()
) -> Iterator[None]:
    try:
        yield
    except resets as exc:
        raise PeerLost(f"connection lost: {peer} reset the connection") from exc
    except tls_errors as exc:
        # With TLS 1.3 a client refuses our certificate after our handshake ended: its
        # alert arrives on the first read.
        from chat import tls

        raise tls.accept_error(exc, peer) from exc
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
        raise PeerLost(f"connection lost: {peer} reset the connection") from exc
    except OSError as exc:
        raise PeerLost(f"connection lost with {peer}: {exc.strerror or exc}") from exc


def _is_tls(sock: socket.socket) -> bool:
    # ssl is imported only when TLS is asked for (a plain chat starts 10 ms sooner), and
    # a TLS socket cannot exist before it is.
    ssl = sys.modules.get("ssl")
    return ssl is not None and isinstance(sock, ssl.SSLSocket)


def ends_chat(event: Received) -> bool:
    """True for the events after which the peer says nothing more: its `exit`, or its close."""
    return isinstance(event, ConnectionClosed) or (isinstance(event, str) and is_exit(event))


class Channel:
    """A connected socket and its codec: send one message, receive one event.

    :meth:`receive` blocks for the next event; while our person types, :meth:`check`
    takes what has arrived without blocking (see :func:`chat.classic.terminal.ask`).
    Both go through one receive path, :meth:`_read`.
    """

    def __init__(
        self, sock: socket.socket, conn: ChatConnection, peer: str, tls_mismatch: ConnectError | None = None
    ) -> None:
        self.sock = sock
        self.conn = conn
        #: How messages name the peer, e.g. "the client at 127.0.0.1:50000".
        self.peer = peer
        self._tls = _is_tls(sock)
        # A plain channel raises this when the peer's first bytes are TLS (it speaks TLS).
        self._tls_mismatch = None if self._tls else tls_mismatch
        # What a non-blocking read raises when nothing is there yet, what a TLS peer's close
        # without close_notify raises, and the TLS errors to translate: none when plain.
        self._nothing_yet: tuple[type[OSError], ...] = (BlockingIOError,)
        self._would_block: tuple[type[OSError], ...] = (BlockingIOError,)  # what a full send raises
        self._reads_first: tuple[type[OSError], ...] = ()  # what a send that must read first raises
        self._unannounced_close: tuple[type[OSError], ...] = ()
        self._tls_errors: tuple[type[OSError], ...] = ()
        self._resets: tuple[type[OSError], ...] = ()  # what a TLS socket raises for a reset
        if self._tls:
            import ssl

            self._nothing_yet = (BlockingIOError, ssl.SSLWantReadError)
            self._would_block = (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError)
            self._reads_first = (ssl.SSLWantReadError,)
            self._tls_errors = (ssl.SSLError,)
            assert isinstance(sock, ssl.SSLSocket)
            if sock.context.options & getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0):
                # OpenSSL 3 then tells a close without close_notify as an end of file (chat.tls),
                # so an SSLEOFError is a reset: a message it cut must never pass for a whole one.
                self._resets = (ssl.SSLEOFError,)
            else:
                self._unannounced_close = (ssl.SSLEOFError,)
        self._events: deque[Received] = deque()
        self._lost: ChatError | None = None
        self._last_data = time.monotonic()
        # The message being sent and how much of it the kernel has taken: a signal can stop a
        # send half-way, and the rest must go before anything else (or the connection be reset).
        self._unsent = memoryview(b"")

    def send(self, text: str) -> None:
        """Send one message, framed for the peer's style, whole: wait as long as the peer takes it.

        Raises :class:`PeerLost` when the connection fails. A signal's exception (Ctrl-C,
        SIGTERM) may stop it half-way: :meth:`end` then sends the rest first.
        """
        data = self.conn.frame(text)
        self._unsent = memoryview(data)
        self._flush(deadline=None)

    def end(self, text: str) -> None:
        """Send our last message (``exit``) within :data:`END_GRACE_S`, after the rest of one a
        signal stopped; raises :class:`PeerLost` when it cannot (:meth:`close` then resets)."""
        deadline = time.monotonic() + END_GRACE_S
        self._flush(deadline)
        self._unsent = memoryview(self.conn.frame(text))
        self._flush(deadline)

    def _flush(self, deadline: float | None) -> None:
        # The one writer: non-blocking writes, each counted before a signal's exception can
        # leave the loop. sendall gave up with EAGAIN once check() had left the socket
        # non-blocking, cutting the message; and the handler of a signal that came during a
        # send() runs as it returns, so its exception lost the count (those bytes went twice).
        # So the program's ending signals wait while one write and its count happen, and come
        # while we wait for room, when nothing is half-written.
        with _peer_errors(self.peer, self._tls_errors, self._resets):
            self.sock.settimeout(0.0)
            want = _WRITABLE
            while self._unsent:
                self._wait(want, deadline)
                with signals.held():
                    try:
                        sent = self.sock.send(self._unsent)
                    except self._would_block as exc:
                        # TLS may need to read first (a renegotiation): wait for that instead.
                        want = _READABLE if isinstance(exc, self._reads_first) else _WRITABLE
                        continue
                    self._unsent = self._unsent[sent:]
                    want = _WRITABLE

    def _wait(self, want: int, deadline: float | None) -> None:
        # Until the socket can take more (or, for TLS, has what it needs to read), or the deadline.
        late = PeerLost(
            f"connection lost: {self.peer} did not take our last message within {END_GRACE_S:g} s"
        )
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise late
        sock = [self.sock]
        ready = select.select(sock if want == _READABLE else [], sock if want == _WRITABLE else [], [], left)
        if not any(ready):  # only with a deadline: without one, select waits for the socket
            raise late

    def receive(self) -> Received:
        """Block until the next event: a message (its text), an oversize notice or the peer's close."""
        while not self._events:
            if self._lost is not None:
                raise self._lost
            self._read(block=True)
        return self._events.popleft()

    def fileno(self) -> int:
        """The socket's descriptor, for select()."""
        return self.sock.fileno()

    def wait_time(self) -> float | None:
        """Seconds until the classic silence timer is due, or None when none runs."""
        if not self.conn.wants_silence_timer:
            return None
        return max(0.0, self._last_data + CLASSIC_SILENCE_S - time.monotonic())

    @property
    def watching(self) -> bool:
        """True while :meth:`check` may read ahead: no loss or end known, little queued."""
        return (
            self._lost is None
            and len(self._events) < READ_AHEAD_EVENTS
            and not any(ends_chat(event) for event in self._events)
        )

    def check(self) -> bool:
        """Take what has arrived, without blocking; True when the peer has ended the chat.

        The events stay queued for :meth:`receive`; a lost connection is raised there too.
        """
        reads = 0
        try:
            while self.watching and reads < READS_PER_CHECK and self._read(block=False):
                reads += 1
        except ChatError as exc:
            self._lost = exc
        return self._lost is not None or any(ends_chat(event) for event in self._events)

    def _read(self, *, block: bool) -> bool:
        # The one receive path: one read from the socket (waiting for it when *block*),
        # or the silence timer's expiry, into the codec; then its events into the queue.
        # True when bytes came (more may be waiting).
        came = False
        timer = self.wait_time()
        if timer is not None and timer <= 0:
            self.conn.silence()
        else:
            self.sock.settimeout(timer if block else 0.0)
            with _peer_errors(self.peer, self._tls_errors, self._resets):
                try:
                    data = self.sock.recv(RECV_BYTES)
                except TimeoutError:
                    self.conn.silence()
                except self._nothing_yet:
                    pass  # nothing yet (a TLS record may be only partly here)
                except self._unannounced_close:  # a TLS close without close_notify: a close
                    self.conn.receive_data(b"")
                else:
                    self._last_data = time.monotonic()
                    if self._tls_mismatch is not None:
                        if looks_like_tls(data):
                            raise self._tls_mismatch
                        self._tls_mismatch = None
                    self.conn.receive_data(data)
                    came = bool(data)
        while (event := self.conn.next_event()) is not NEED_DATA:
            assert isinstance(event, str | Event)
            self._events.append(event)
        return came

    def close(self) -> None:
        """Close the socket (TLS: after close_notify); safe to call twice.

        A message cut short (a signal, then a peer that did not read within the grace) ends
        with a reset instead: the peer reports a lost connection, and never takes the part
        that arrived for a whole message.
        """
        if self._unsent:
            self._unsent = memoryview(b"")
            with suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with suppress(OSError):
                self.sock.close()  # (a TLS socket's close sends no close_notify: only unwrap() does)
            return
        if self._tls:
            from chat import tls

            tls.close(self.sock)
        else:
            with suppress(OSError):
                self.sock.close()
