"""What crossed a recorded connection, sans-IO: bytes and the time in, whole lines with their side out.

Each side has its own :class:`LineSplitter`: a line ends with LF (a CR before it is
dropped, and noted, so that the dialogue can end its own lines the same way). A peer
that sends a message without a newline and then waits (the seed's classic programs) is
told by the proxy's silence timer (:meth:`Recording.silence`): the bytes held are then a
whole line, as :mod:`chat.protocol` decides it. Memory per side stays bounded: a line
over the size limit is noted as such and its bytes are not kept.
"""

from __future__ import annotations

from chat.protocol import MAX_MESSAGE_BYTES
from chat.value import Value

CLIENT = "client"
SERVER = "server"


def other(side: str) -> str:
    """The side that is not *side*."""
    return SERVER if side == CLIENT else CLIENT


class Line(Value):
    """One whole line that crossed: its side, when it was whole, its text (None: over the size limit)."""

    __slots__ = ("crlf", "side", "text", "time")
    __match_args__ = ("side", "time", "text", "crlf")

    def __init__(self, side: str, time: float, text: str | None, crlf: bool = False) -> None:
        self.side = side
        self.time = time
        self.text = text
        #: Whether it ended with CR LF.
        self.crlf = crlf


class LineSplitter:
    """One direction's bytes cut into lines, bounded by *max_bytes* per line."""

    __slots__ = ("_buffer", "_over", "max_bytes")

    def __init__(self, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self._over = False  # the current line passed the limit: its bytes are dropped up to its LF

    @property
    def pending(self) -> bool:
        """Whether part of a line is held (a classic peer's message, until silence says it is whole)."""
        return bool(self._buffer) or self._over

    def feed(self, data: bytes) -> list[tuple[str | None, bool]]:
        """The lines *data* completes: (text, ended with CR LF); text None for a line over the limit."""
        lines: list[tuple[str | None, bool]] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                self._hold(data[start:])
                return lines
            self._hold(data[start:end])
            lines.append(self._take())
            start = end + 1

    def flush(self) -> tuple[str | None, bool] | None:
        """The part held as a whole line (silence, or the end of the stream), or None when nothing is held."""
        return self._take() if self.pending else None

    def _hold(self, part: bytes) -> None:
        if self._over:
            return
        if len(self._buffer) + len(part) > self.max_bytes + 1:  # +1: a CR that the LF will drop
            self._over = True
            self._buffer.clear()
            return
        self._buffer += part

    def _take(self) -> tuple[str | None, bool]:
        if self._over:
            self._over = False
            return None, False
        raw = bytes(self._buffer)
        self._buffer.clear()
        crlf = raw.endswith(b"\r")
        if crlf:
            raw = raw[:-1]
        return raw.decode("utf-8", "replace"), crlf


class Recording:
    """Every line of one proxied chat in the order it crossed, and how the chat ended."""

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.started: float | None = None
        self.lines: list[Line] = []
        self._splitters = {CLIENT: LineSplitter(max_message_bytes), SERVER: LineSplitter(max_message_bytes)}
        #: Each side's end of stream, with its time; the first to close ended the chat.
        self.closed: dict[str, float] = {}
        #: Set when the recording was cut (a signal) before either side closed.
        self.cut: float | None = None

    def start(self, now: float) -> None:
        """The client connected (and the server was dialled)."""
        self.started = now

    def data(self, side: str, data: bytes, now: float) -> list[Line]:
        """Bytes from *side*: the lines they complete, also kept."""
        found = [Line(side, now, text, crlf) for text, crlf in self._splitters[side].feed(data)]
        self.lines.extend(found)
        return found

    def pending(self, side: str) -> bool:
        """Whether *side* has sent part of a line that no LF has ended yet."""
        return self._splitters[side].pending

    def silence(self, side: str, now: float) -> list[Line]:
        """*side* went quiet with part of a line held: that part is a whole line (a classic peer)."""
        return self._flush(side, now)

    def end_of_stream(self, side: str, now: float) -> list[Line]:
        """*side* closed its end: what it held is its last line."""
        found = self._flush(side, now)
        self.closed.setdefault(side, now)
        return found

    def stop(self, now: float) -> list[Line]:
        """The recording is cut (a signal): what each side held is kept as a line."""
        found = self._flush(CLIENT, now) + self._flush(SERVER, now)
        if not self.closed:
            self.cut = now
        return found

    @property
    def closed_first(self) -> str | None:
        """The side that closed first, None when neither did."""
        return min(self.closed, key=lambda side: self.closed[side]) if self.closed else None

    def _flush(self, side: str, now: float) -> list[Line]:
        held = self._splitters[side].flush()
        if held is None:
            return []
        line = Line(side, now, held[0], held[1])
        self.lines.append(line)
        return [line]


__all__ = ["CLIENT", "SERVER", "Line", "LineSplitter", "Recording", "other"]
