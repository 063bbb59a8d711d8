"""A loopback TCP proxy that re-cuts every byte stream into random pieces: framing under stress."""

from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import dataclass, field

PIECE_BITS = 11  # piece sizes are log-uniform in 1..2**11 bytes: as many 1-9 byte pieces as
# 100-999 byte ones, so short and long messages are both cut, at any byte, many times over
PAUSE_PROBABILITY = 0.002  # now and then a piece is held back so the reader surely sees a partial
PAUSE_S = 0.002  # far below the codec's 0.25 s classic-silence window, so framing never changes


@dataclass
class ProxyStats:
    """What the proxy did to the byte stream, for the report."""

    bytes: int = 0
    reads: int = 0
    pieces: int = 0
    pauses: int = 0
    connections: int = 0
    errors: list[str] = field(default_factory=list)


class ChunkingProxy:
    """A loopback TCP proxy that re-cuts every byte stream into random pieces.

    Each chunk read from one side is cut at random places into pieces of 1 to
    2 ** :data:`PIECE_BITS` bytes, each sent with its own ``send()`` and
    TCP_NODELAY, so the other side reads them as separate segments; a piece is
    sometimes held back for :data:`PAUSE_S`. Bytes are never changed, dropped or
    reordered: whatever the peers see differently is the programs' doing.
    """

    def __init__(self, target_port: int, seed: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.rng = random.Random(seed)
        self.stats = ProxyStats()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = [self.listener]
        self._acceptor = threading.Thread(target=self._accept_loop, name="proxy-accept", daemon=True)
        self._acceptor.start()

    def _accept_loop(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                down, _addr = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            up = socket.create_connection(self.target)
            for sock in (down, up):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._sockets.append(sock)
            self.stats.connections += 1
            for src, dst in ((down, up), (up, down)):
                thread = threading.Thread(target=self._pump, args=(src, dst), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        rng = random.Random(self.rng.random())
        try:
            while chunk := src.recv(65536):
                self.stats.reads += 1
                self.stats.bytes += len(chunk)
                view = memoryview(chunk)
                while view:
                    size = int(2 ** rng.uniform(0, PIECE_BITS))
                    dst.sendall(view[:size])
                    view = view[size:]
                    self.stats.pieces += 1
                    if rng.random() < PAUSE_PROBABILITY:
                        self.stats.pauses += 1
                        time.sleep(PAUSE_S)
            dst.shutdown(socket.SHUT_WR)  # pass the end of file on, as TCP would
        except OSError as exc:
            if not self._stop.is_set():
                self.stats.errors.append(f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Stop accepting and close every socket the proxy holds."""
        self._stop.set()
        for sock in self._sockets:
            sock.close()
        self._acceptor.join(timeout=2)
