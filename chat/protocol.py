"""The chat wire protocol, sans-IO: bytes go in, events come out, bytes to send come back.

This module never touches a socket, a clock or a terminal, so one codec serves
the server, the client and the bot, and it is unit-tested without a network.

What comes out (:meth:`ChatConnection.next_event`, or :attr:`ChatConnection.events`
directly): a message as its ``str``, the usual event, and the rare ones as records
(:class:`MessageTooLong`, :class:`ConnectionClosed`), as uvicorn's fast protocol hands
on what it parsed without an event object per request.

The wire format (README, "Wire protocol"):

* A message is UTF-8 text ending in ``\\n``; a ``\\r`` before the ``\\n`` is
  dropped, so telnet's CRLF works. Plain line tools (nc, socat, telnet) speak it.
* A *classic* peer (the seed's ``client.py``/``server.py``) sends each message as
  bare bytes with no newline and then waits. The adapter tells us when the peer
  went quiet with a partial message pending (:meth:`ChatConnection.silence`);
  that partial is then a whole message, the peer is marked classic, and from
  then on our messages to it go without a newline, exactly as a classic peer
  expects. A peer that ever ends a message with ``\\n`` is a line peer for good.
* Invalid UTF-8 never fails: it decodes with U+FFFD replacement characters.
* A message longer than ``max_message_bytes`` is never buffered whole: it is
  reported once as :class:`MessageTooLong` and the rest of it, up to its
  newline, is discarded as it arrives. Memory per peer stays bounded even when
  a peer streams forever without a newline.
* A message we send is one line within the limit. :meth:`ChatConnection.unsendable` says
  why a text is not; :meth:`ChatConnection.frame_any` sends any text, each line break
  shown as its visible escape. Framing one that is not is a bug of the caller
  (:class:`~chat.errors.LocalProtocolError`), never a way to find out.
"""

from __future__ import annotations

import enum
from collections import deque

from chat.errors import LocalProtocolError
from chat.value import Value

MAX_MESSAGE_BYTES = 1 << 20  # one pasted page is far less; bounds memory per peer
EXIT_WORD = "exit"  # the classic programs end the chat on this word, any case
CLASSIC_SILENCE_S = 0.25  # a classic peer sends each message in one write; loopback and LAN
# deliver it in well under this, and a person cannot answer faster: after this much silence,
# a partial message is whole (the adapters' timer; see ChatConnection.silence)


class PeerStyle(enum.Enum):
    """How the peer frames its messages."""

    #: Nothing complete received yet.
    UNKNOWN = "unknown"
    #: Newline-terminated messages: chat-client/chat-server, nc, socat, telnet.
    LINE = "line"
    #: Bare messages without a newline, ended by silence: the seed's programs.
    CLASSIC = "classic"


class Event(Value):
    """Base of everything :meth:`ChatConnection.next_event` returns (immutable by convention)."""

    __slots__ = ()


class MessageTooLong(Event):
    """The peer's current message passed the size limit; its bytes are being discarded."""

    __slots__ = ("limit",)
    __match_args__ = ("limit",)

    def __init__(self, limit: int) -> None:
        self.limit = limit


class ConnectionClosed(Event):
    """The peer closed its side; nothing more will arrive."""

    __slots__ = ()


class _NeedData:
    """Sentinel type: no whole event is buffered yet."""

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()

#: What the codec hands on: a whole message (its text, decoded, without its line ending), or a rare event.
Received = str | Event

# Line breaks in a text sent as visible escapes: the notation of chat.display.visible.
_LINE_BREAKS = str.maketrans({"\r": "\\x0d", "\n": "\\x0a"})


def _size(raw: bytes | bytearray) -> int:
    # The one place the size limit's measure is taken: a message's bytes, not counting a
    # final \r (the CR of a CRLF, whole or with its \n still to come; never part of the text).
    return len(raw) - 1 if raw.endswith(b"\r") else len(raw)


def is_exit(text: str) -> bool:
    """True when *text* is the word that ends a chat (any case, surrounding blanks ignored)."""
    # Length first (lower() never shortens a text): lowering a 1 MB message to compare it took
    # 2 ms, twice a turn, whatever the dialogue (issue 19, item 4).
    word = text.strip()
    return len(word) == len(EXIT_WORD) and word.lower() == EXIT_WORD


class ChatConnection:
    """One side of a chat connection: a framing codec plus the peer's style.

    Feed received bytes to :meth:`receive_data` (``b""`` at end of file), then
    drain :meth:`next_event` until it returns :data:`NEED_DATA` (or pop :attr:`events`
    until it is empty). Turn a message into bytes with :meth:`frame`.
    """

    def __init__(
        self, max_message_bytes: int = MAX_MESSAGE_BYTES, *, classic: bool = False, line_end: bytes = b"\n"
    ) -> None:
        if max_message_bytes < 1:
            raise LocalProtocolError(f"max_message_bytes must be >= 1, not {max_message_bytes}")
        self.max_message_bytes = max_message_bytes
        #: What ends each message we send: ``\n``, or ``\r\n`` for protocols that ask for it (SMTP, IRC).
        self.line_end = line_end
        #: How the peer frames messages; ``classic=True`` presets it for a known classic peer.
        self.peer_style = PeerStyle.CLASSIC if classic else PeerStyle.UNKNOWN
        # The message whose newline has not come yet. Only new bytes are searched for a
        # newline, so a long message arriving in many small pieces costs linear time.
        self._buffer = bytearray()
        self._discarding = False
        #: What was received and not yet taken, oldest first: each message as its text, or an Event.
        #: A deque: one read can hold thousands of tiny messages, and popping the head of a
        #: list costs its whole length each time (a 64 KiB flood of newlines took seconds).
        self.events: deque[Received] = deque()
        self._closed = False

    # -- receiving ---------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the peer; ``b""`` means the peer closed its side.

        The one receive path: each newline ends a message (the bytes buffered before
        it, then *data* up to it); what follows the last newline is held, or
        discarded once it is over the size limit.
        """
        if self._closed:
            if data:
                raise LocalProtocolError("receive_data called after end of file")
            return
        if not data:
            self._closed = True
            if self._buffer and not self._discarding:
                # A classic peer's last message (typically "exit") has no newline.
                self._line(bytes(self._buffer))
            self._buffer.clear()
            self.events.append(ConnectionClosed())
            return
        newline = data.find(b"\n")
        if newline < 0:
            self._hold(data)
            return
        self.peer_style = PeerStyle.LINE
        if self._buffer:
            self._buffer += data[:newline]
            self._line(bytes(self._buffer))
            self._buffer.clear()
        else:
            self._line(data[:newline])
        start, end = newline + 1, len(data)
        while start < end:
            newline = data.find(b"\n", start)
            if newline < 0:
                self._hold(data[start:])
                return
            self._line(data[start:newline])
            start = newline + 1

    def _line(self, raw: bytes) -> None:
        # The one place a message is made: *raw* is ended by its newline (which it no longer
        # holds), or by the silence or end of file after a classic peer's bare message.
        if self._discarding:
            # The tail of an oversize message: already reported, dropped here.
            self._discarding = False
            return
        if raw.endswith(b"\r"):  # the CR of a CRLF: not part of the text, nor of its size (see _size)
            raw = raw[:-1]
        if len(raw) > self.max_message_bytes:
            self.events.append(MessageTooLong(self.max_message_bytes))
            return
        try:  # strict first: the same text for valid UTF-8, and cheaper than errors="replace"
            text = raw.decode()
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
        self.events.append(text)

    def _hold(self, part: bytes) -> None:
        # Bytes of a message whose newline has not come: buffered up to the limit, then
        # reported once and dropped as they come (memory per peer stays bounded).
        if self._discarding:
            return
        self._buffer += part
        if _size(self._buffer) > self.max_message_bytes:
            self.events.append(MessageTooLong(self.max_message_bytes))
            self._discarding = True
            self._buffer.clear()

    def silence(self) -> None:
        """The adapter's report that the peer went quiet with a partial message pending.

        Only meaningful while :attr:`wants_silence_timer` is true; the pending
        bytes become one message and the peer is marked classic.
        """
        if not self.wants_silence_timer:
            return
        self.peer_style = PeerStyle.CLASSIC
        # (A classic peer's oversize message ends at silence too: _line drops it, it was reported.)
        self._line(bytes(self._buffer))
        self._buffer.clear()

    @property
    def wants_silence_timer(self) -> bool:
        """True when silence from the peer would end the pending message (classic framing)."""
        return (
            self.peer_style is not PeerStyle.LINE  # first: a line peer's answer, on every read
            and (bool(self._buffer) or self._discarding)
            and not self._closed
        )

    @property
    def has_events(self) -> bool:
        """True when :meth:`next_event` has a whole event to give."""
        return bool(self.events)

    @property
    def pending_bytes(self) -> int:
        """Bytes buffered for a message not yet complete (bounded by the size limit)."""
        return len(self._buffer)

    def next_event(self) -> Received | _NeedData:
        """Return the next whole event (a message as its text), or :data:`NEED_DATA`."""
        if self.events:
            return self.events.popleft()
        return NEED_DATA

    # -- sending -----------------------------------------------------------

    def unsendable(self, text: str) -> str | None:
        """Why *text* cannot travel as one message (a line break, over the limit); None when it can."""
        if "\n" in text or "\r" in text:
            return "a chat message is one line: it cannot contain a line break"
        size = len(_encode(text))
        if size > self.max_message_bytes:
            return f"message of {size} bytes is over the {self.max_message_bytes}-byte limit"
        return None

    def frame(self, text: str) -> bytes:
        """Return the bytes that carry the message *text* to this peer, framed for its style.

        *text* must be sendable (:meth:`unsendable`): framing one that is not raises
        :class:`LocalProtocolError`, a bug of the caller.
        """
        framed = self.frame_any(text)
        if framed is None or framed[0] is not text:
            raise LocalProtocolError(self.unsendable(text) or "unsendable")
        return framed[1]

    def frame_any(self, text: str) -> tuple[str, bytes] | None:
        """Send any *text*: what travels (each CR and LF shown as ``\\x0d`` and ``\\x0a``, as
        :func:`chat.display.visible` shows them) and its bytes; None when it is over the limit even so.

        The one framing: :meth:`frame` is this for a text known to travel as it is.
        """
        if "\n" in text or "\r" in text:
            text = text.translate(_LINE_BREAKS)
        try:
            data = text.encode()  # strict UTF-8 first: the common case, and cheaper than "replace"
        except UnicodeEncodeError:  # a lone surrogate
            data = text.encode("utf-8", errors="replace")
        if len(data) > self.max_message_bytes:
            return None
        if self.peer_style is PeerStyle.CLASSIC:
            # A classic peer blocks in recv() until bytes come; an empty message
            # would send none and hang both sides, so it travels as one blank.
            return text, data or b" "
        return text, data + self.line_end


def _encode(text: str) -> bytes:
    try:
        return text.encode()  # strict UTF-8 first: the common case, and cheaper than "replace"
    except UnicodeEncodeError:  # a lone surrogate
        return text.encode("utf-8", errors="replace")
