"""Plain TCP peers for tests: they send what no person can type and read what a program sent."""

from __future__ import annotations

import socket
import struct
import time
from types import TracebackType

from chat_testing.env import EXPECT_TIMEOUT_S


class RawPeer:
    """A plain TCP peer, what nc would be, with bounded waits."""

    def __init__(self, sock: socket.socket, timeout: float = EXPECT_TIMEOUT_S) -> None:
        self.sock = sock
        self.sock.settimeout(timeout)
        self._buffer = b""

    @classmethod
    def connect(cls, port: int, host: str = "127.0.0.1", timeout: float = EXPECT_TIMEOUT_S) -> RawPeer:
        """Connect to host:port."""
        return cls(socket.create_connection((host, port), timeout=timeout), timeout)

    def send(self, data: bytes) -> None:
        """Send *data* as it is."""
        self.sock.sendall(data)

    def recv_line(self) -> bytes:
        """The next newline-terminated message, without its newline."""
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"peer closed; unterminated data: {self._buffer[-200:]!r}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def recv_some(self) -> bytes:
        """Whatever arrives next (a classic peer's bare message comes in one piece)."""
        if self._buffer:
            data, self._buffer = self._buffer, b""
            return data
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("peer closed")
        return data

    def recv_until_closed(self) -> bytes:
        """Everything until the peer closes."""
        data = self._buffer
        while chunk := self.sock.recv(65536):
            data += chunk
        self._buffer = b""
        return data

    def half_close(self) -> None:
        """Send our end of file (shutdown for writing) and keep reading, as ``nc -q`` does."""
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self) -> None:
        """Vanish abruptly: close with a TCP reset (RST), as a crashed host's stack would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        """Close the socket; safe to call twice."""
        self.sock.close()

    def __enter__(self) -> RawPeer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class RawListener:
    """A listening socket on loopback, port picked by the system: a server for a client under test."""

    def __init__(self, host: str = "127.0.0.1", timeout: float = EXPECT_TIMEOUT_S) -> None:
        self.sock = socket.create_server((host, 0))
        self.sock.settimeout(timeout)
        self.port = int(self.sock.getsockname()[1])
        self.accepted: list[RawPeer] = []

    def accept(self) -> RawPeer:
        """Wait (bounded) for the next connection; the peer is closed with the listener."""
        conn, _addr = self.sock.accept()
        peer = RawPeer(conn, timeout=self.sock.gettimeout() or EXPECT_TIMEOUT_S)
        self.accepted.append(peer)
        return peer

    def close(self) -> None:
        """Close every accepted peer and the listener."""
        for peer in self.accepted:
            peer.close()
        self.sock.close()


#: LineClients not yet closed; :func:`close_line_clients` closes them (the plugin does, after each test).
_OPEN_LINE_CLIENTS: list[socket.socket] = []


class LineClient:
    """A blocking line-protocol client with a receive buffer, for load and integrity tests."""

    def __init__(self, port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        _OPEN_LINE_CLIENTS.append(self.sock)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()

    def line(self) -> bytes:
        """The next line, without its newline."""
        while (end := self.buffer.find(b"\n")) < 0:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError(f"closed; unterminated: {bytes(self.buffer[-100:])!r}")
            self.buffer += chunk
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 1]
        return line

    def round_trip(self, text: str) -> float:
        """Send *text*, expect it back (an echo bot); return the seconds it took."""
        start = time.perf_counter()
        self.sock.sendall(text.encode() + b"\n")
        got = self.line()
        elapsed = time.perf_counter() - start
        assert got == text.encode(), (got, text)
        return elapsed

    def close(self) -> None:
        """Close the socket; safe to call twice."""
        self.sock.close()


def close_line_clients() -> None:
    """Close every LineClient still open."""
    while _OPEN_LINE_CLIENTS:
        _OPEN_LINE_CLIENTS.pop().close()
