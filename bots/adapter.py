"""The asyncio adapter: one connection <-> one :class:`chat.protocol.ChatConnection` and one Conversation.

Both roles use it: the serving bot makes one per accepted client, the
connecting bot one for its server. It is an ``asyncio.Protocol`` (callbacks,
no task per connection) with ``__slots__``, and it creates the codec and the
conversation only when the peer first sends something, so an idle connection
costs a few hundred bytes besides the transport.

Back-pressure: when a peer does not read what the bot sends, the transport's
write buffer passes :data:`WRITE_BUFFER_HIGH` and the adapter stops reading
from that peer until the buffer drains, so a flooding or stalled peer cannot
make the bot's memory grow, and never slows the other peers.

Fairness: one read can hold thousands of short messages. The adapter handles at
most :data:`MESSAGES_PER_CALLBACK` of them per event-loop callback; with more
waiting it stops reading from that peer and goes on in a later callback, so the
other peers are served in between. Reading resumes only when neither reason to
pause (a backlog, a full write buffer) still holds.

A reply that cannot be framed is never dropped silently: one with a line break
goes out with each CR and LF shown as ``\\x0d`` and ``\\x0a`` (as
:func:`chat.display.visible` shows them); one over the size limit is replaced by
a notice saying so, shortened to fit when the limit is tiny.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from bots.engine import Action, Close, Conversation, Outcome, Send, StepResult
from chat.errors import LocalProtocolError
from chat.protocol import (
    CLASSIC_SILENCE_S,
    EXIT_WORD,
    NEED_DATA,
    ChatConnection,
    ConnectionClosed,
    Message,
    MessageTooLong,
)

if TYPE_CHECKING:
    from bots.model import Dialogue
    from bots.report import Transcript

WRITE_BUFFER_HIGH = 64 * 1024  # per peer: far above one turn's reply, small beside 10,000 peers
WRITE_BUFFER_LOW = 16 * 1024  # resume reading once the peer has taken most of it
# One 256 KiB read can hold ~4,000 short messages; handling them all in one callback stalled
# every other peer for 100-300 ms. 64 take well under a millisecond, and a one-message read
# (the common turn) never reaches the cap.
MESSAGES_PER_CALLBACK = 64
# Line breaks in a reply travel as visible escapes, the notation of chat.display.visible.
_LINE_BREAKS = str.maketrans({"\r": "\\x0d", "\n": "\\x0a"})
# The notice for an oversize reply, longest first: the first that fits the limit is sent,
# and below the shortest one's size it is cut to the limit (a notice must never fail to frame).
_OVERSIZE_NOTICES = (
    "[reply over the {limit:,}-byte limit, not sent]",
    "[reply too long, not sent]",
    "[not sent]",
)


def framable(codec: ChatConnection, text: str) -> tuple[str, bytes]:
    """What goes out instead of a reply *codec* cannot frame, and its bytes.

    A reply is one line: each CR and LF in it (an echo of ``a\\rb``) is sent as its
    visible escape, ``\\x0d`` or ``\\x0a``, so the peer still gets the message. A
    reply (so escaped) over the size limit becomes a notice saying so; under a limit
    too small for any notice, the shortest notice cut to the limit. Never raises.
    """
    if "\r" in text or "\n" in text:
        text = text.translate(_LINE_BREAKS)
        try:
            return text, codec.frame(text)
        except LocalProtocolError:
            pass  # the escaped reply is over the limit: a notice below
    limit = codec.max_message_bytes
    for notice in _OVERSIZE_NOTICES:
        text = notice.format(limit=limit)
        if len(text) <= limit:  # ASCII: characters are bytes
            return text, codec.frame(text)
    text = text[:limit]
    return text, codec.frame(text)


class Run:
    """What every connection of one program run shares: the dialogue, options and listeners."""

    def __init__(
        self,
        dialogue: Dialogue,
        *,
        seed: str | None,
        delays: bool,
        max_message_bytes: int,
        speaks_first: bool = False,
        classic: bool = False,
        transcript: Transcript | None = None,
        screen: Callable[[str, str], None] | None = None,
        on_result: Callable[[BotConnection, StepResult], None] | None = None,
        on_close: Callable[[BotConnection, Outcome, str], None] | None = None,
    ) -> None:
        self.dialogue = dialogue
        self.seed = seed
        self.delays = delays
        self.max_message_bytes = max_message_bytes
        self.speaks_first = speaks_first
        self.classic = classic
        self.transcript = transcript
        #: Prints a chat line: screen("in" | "out", text).
        self.screen = screen
        self.on_result = on_result
        self.on_close = on_close
        #: Open connections (the server's max-clients and shutdown use it).
        self.connections: set[BotConnection] = set()
        #: Conversations begun so far; numbers them for per-chat seeds.
        self.begun = 0
        #: Asked on each new connection: a line to refuse it with, or None to accept it.
        self.refuse_line: Callable[[], str | None] = lambda: None
        #: Told when a connection is fully closed.
        self.on_lost: Callable[[BotConnection], None] | None = None

    def conversation(self) -> Conversation:
        """A new conversation, seeded per chat so --seed runs repeat exactly."""
        self.begun += 1
        seed = None if self.seed is None else f"{self.seed}:{self.begun}"
        return Conversation(self.dialogue, seed=seed, delays=self.delays)


class BotConnection(asyncio.Protocol):
    """One peer: bytes in, codec, conversation, actions out."""

    __slots__ = (
        "backlog_handle",
        "backlogged",
        "closing",
        "codec",
        "conv",
        "deadline_handle",
        "last_seen",
        "loop",
        "outbox",
        "outbox_handle",
        "peer",
        "run",
        "silence_at",
        "silence_handle",
        "transport",
        "write_paused",
    )

    def __init__(self, run: Run) -> None:
        self.run = run
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.codec: ChatConnection | None = None
        self.conv: Conversation | None = None
        self.peer = "?"
        self.last_seen = self.loop.time()
        self.silence_at = 0.0
        self.silence_handle: asyncio.TimerHandle | None = None
        self.deadline_handle: asyncio.TimerHandle | None = None
        # Sends waiting for their delay, in order: (when, text, or a Close).
        self.outbox: deque[tuple[float, str | Close]] | None = None
        self.outbox_handle: asyncio.TimerHandle | None = None
        self.closing = False
        # The two reasons to stop reading from the peer, tracked apart so that one ending
        # never resumes reading while the other still holds.
        self.backlogged = False  # received messages wait for a later callback
        self.write_paused = False  # the peer is not reading what we send
        self.backlog_handle: asyncio.Handle | None = None

    # -- asyncio callbacks -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have asyncio.Transport's methods without subclassing it: no isinstance.
        transport = cast("asyncio.Transport", transport)
        self.transport = transport
        address = transport.get_extra_info("peername")
        if isinstance(address, tuple) and len(address) >= 2:
            host = str(address[0])
            self.peer = f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
        refusal = self.run.refuse_line()
        if refusal is not None:
            # One line, in the line style (a classic client shows it as well), then close.
            self.closing = True
            transport.write(refusal.encode() + b"\n")
            transport.close()
            return
        self.run.connections.add(self)
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH, low=WRITE_BUFFER_LOW)
        if self.run.speaks_first:
            self._make_codec()
            self.conv = self.run.conversation()
            self._perform(self.conv.start(self.loop.time()))

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.last_seen = now = self.loop.time()
        codec = self.codec if self.codec is not None else self._make_codec()
        run = self.run
        if run.transcript is None and run.screen is None and not self.outbox and self.deadline_handle is None:
            # The common turn, one whole line in and one reply out: the same codec and
            # conversation calls as below, without the event and action objects.
            text = codec.take_line(data)
            if text is not None:
                conv = self.conv
                if conv is None:
                    conv = self.conv = run.conversation()
                reply = conv.reply_to(text, now)
                if not isinstance(reply, str):
                    self._perform(reply)
                    return
                # _write, with no transcript or screen to feed (inline: this runs once a turn).
                transport = self.transport
                if transport is not None and not transport.is_closing():
                    try:
                        framed = codec.frame(reply)
                    except LocalProtocolError:
                        self._write(reply)  # says why instead
                    else:
                        transport.write(framed)
                return
        codec.receive_data(data)
        self._drain()
        if not self.closing and codec.wants_silence_timer:
            self.silence_at = now + CLASSIC_SILENCE_S
            if self.silence_handle is None:
                self.silence_handle = self.loop.call_at(self.silence_at, self._silence)

    def eof_received(self) -> bool:
        if not self.closing:
            codec = self.codec if self.codec is not None else self._make_codec()
            codec.receive_data(b"")
            # The transport closes on return: everything still queued is handled now.
            self._drain(None)
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        for handle in (self.silence_handle, self.deadline_handle, self.outbox_handle, self.backlog_handle):
            if handle is not None:
                handle.cancel()
        self.silence_handle = self.deadline_handle = self.outbox_handle = self.backlog_handle = None
        self.outbox = None
        conv = self.conv
        if conv is not None and not conv.done:
            self.closing = True
            for action in conv.peer_closed(self.loop.time()):
                if isinstance(action, StepResult):
                    self._result(action)
                elif isinstance(action, Close):
                    self._finished(action)
        elif conv is None and self in self.run.connections and self.run.on_close is not None:
            self.run.on_close(
                self, Outcome.PEER_LOST, "the peer closed the connection before saying anything"
            )
        self.run.connections.discard(self)
        if self.run.on_lost is not None:
            self.run.on_lost(self)

    def pause_writing(self) -> None:
        # The peer is not reading: stop reading from it, and handling its backlog, until it catches up.
        self.write_paused = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.backlogged:
            self._continue_later()  # reading resumes once the backlog is handled
        elif self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    # -- the conversation --------------------------------------------------

    def _make_codec(self) -> ChatConnection:
        self.codec = ChatConnection(self.run.max_message_bytes, classic=self.run.classic)
        return self.codec

    def _silence(self) -> None:
        self.silence_handle = None
        codec = self.codec
        if codec is None or self.closing or not codec.wants_silence_timer:
            return
        now = self.loop.time()
        if now < self.silence_at:  # more bytes came meanwhile: wait for the quiet again
            self.silence_handle = self.loop.call_at(self.silence_at, self._silence)
            return
        codec.silence()
        self._drain()

    def _drain(self, limit: int | None = MESSAGES_PER_CALLBACK) -> None:
        """Handle the codec's events in order, at most *limit* of them (None: all) in this callback."""
        codec = self.codec
        assert codec is not None
        handled = 0
        while not self.closing:
            if limit is not None and (handled >= limit or self.write_paused):
                self._hold()
                return
            event = codec.next_event()
            if event is NEED_DATA:
                if self.backlogged:
                    self._release()
                return
            handled += 1
            conv = self.conv
            if conv is None:
                conv = self.conv = self.run.conversation()
            now = self.loop.time()
            if type(event) is Message:
                text = event.text
                if self.run.transcript is not None:
                    self.run.transcript.record(time.time(), "in", text, self._transcript_peer())
                if self.run.screen is not None:
                    self.run.screen("in", text)
                actions = conv.receive(text, now)
            elif type(event) is MessageTooLong:
                if self.run.screen is not None:
                    self.run.screen("in", f"[message over the {event.limit:,}-byte limit, not shown]")
                actions = conv.receive_oversize(event.limit, now)
            else:
                assert isinstance(event, ConnectionClosed)
                actions = conv.peer_closed(now)
            self._perform(actions)

    def _hold(self) -> None:
        # More may be queued: stop reading from this peer and go on in a later callback
        # (after resume_writing when the write buffer is what stopped us).
        if not self.backlogged:
            self.backlogged = True
            if self.transport is not None and not self.transport.is_closing():
                self.transport.pause_reading()
        if not self.write_paused:
            self._continue_later()

    def _continue_later(self) -> None:
        if self.backlog_handle is None and not self.closing:
            self.backlog_handle = self.loop.call_soon(self._continue)

    def _continue(self) -> None:
        self.backlog_handle = None
        if not self.closing and self.codec is not None:
            self._drain()

    def _release(self) -> None:
        # The backlog is handled: read again, unless the peer is still not reading our replies.
        self.backlogged = False
        if not self.write_paused and self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            kind = type(action)
            if kind is Send:
                assert isinstance(action, Send)
                if action.delay <= 0 and not self.outbox:
                    self._write(action.text)
                else:
                    self._queue(action.delay, action.text)
            elif kind is Close:
                assert isinstance(action, Close)
                if self.outbox:
                    self._queue(0.0, action)
                else:
                    self._finished(action)
                    self._shut()
            else:
                assert isinstance(action, StepResult)
                self._result(action)
        conv = self.conv
        if conv is not None and conv.deadline is not None and not conv.done:
            if self.deadline_handle is not None:
                self.deadline_handle.cancel()
            self.deadline_handle = self.loop.call_at(conv.deadline, self._deadline)
        elif self.deadline_handle is not None:
            self.deadline_handle.cancel()
            self.deadline_handle = None

    def _deadline(self) -> None:
        self.deadline_handle = None
        if self.conv is not None and not self.closing:
            self._perform(self.conv.tick(self.loop.time()))

    def _queue(self, delay: float, item: str | Close) -> None:
        # Each send waits for its own delay after the one before it, so replies
        # with random delays never overtake each other.
        if self.outbox is None:
            self.outbox = deque()
        now = self.loop.time()
        after = self.outbox[-1][0] if self.outbox else now
        self.outbox.append((max(now, after) + delay, item))
        if self.outbox_handle is None:
            self.outbox_handle = self.loop.call_at(self.outbox[0][0], self._flush_outbox)

    def _flush_outbox(self) -> None:
        self.outbox_handle = None
        outbox = self.outbox
        now = self.loop.time()
        while outbox:
            when, item = outbox[0]
            if when > now:
                self.outbox_handle = self.loop.call_at(when, self._flush_outbox)
                return
            outbox.popleft()
            if isinstance(item, Close):
                self._finished(item)
                self._shut()
                return
            self._write(item)

    def _write(self, text: str) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        codec = self.codec if self.codec is not None else self._make_codec()
        try:
            data = codec.frame(text)
        except LocalProtocolError:
            text, data = framable(codec, text)
        transport.write(data)
        if self.run.transcript is not None:
            self.run.transcript.record(time.time(), "out", text, self._transcript_peer())
        if self.run.screen is not None:
            self.run.screen("out", text)

    def _result(self, result: StepResult) -> None:
        if self.run.on_result is not None:
            self.run.on_result(self, result)

    def _finished(self, close: Close) -> None:
        self.closing = True
        if self.deadline_handle is not None:
            self.deadline_handle.cancel()
            self.deadline_handle = None
        if self.run.on_close is not None:
            self.run.on_close(self, close.outcome, close.reason)

    def _shut(self) -> None:
        if self.transport is not None:
            self.transport.close()  # sends what is buffered first

    def _transcript_peer(self) -> str | None:
        return None if self.run.speaks_first else self.peer

    # -- ending from outside -----------------------------------------------

    def say_and_close(self, line: str) -> None:
        """End this chat now with one line to the peer (idle timeout), outside the dialogue."""
        if self.closing:
            return
        self._cancel_outbox()
        self._write(line)
        conv = self.conv
        if conv is not None and not conv.done:
            conv.done = True
            conv.outcome = Outcome.ENDED_BY_BOT
        self._finished(Close(Outcome.ENDED_BY_BOT, line))
        self._shut()

    def interrupt(self, reason: str) -> None:
        """The program is stopping: say `exit` (the classic ending) and close."""
        if self.closing:
            return
        self._cancel_outbox()
        conv = self.conv
        if conv is not None:
            actions = conv.interrupt(reason)
            self._perform(actions)
        else:
            self._write(EXIT_WORD)
            self._finished(Close(Outcome.ENDED_BY_BOT, reason))
            self._shut()

    def abort(self) -> None:
        """Drop the connection at once (after the shutdown grace period)."""
        if self.transport is not None:
            self.transport.abort()

    def _cancel_outbox(self) -> None:
        if self.outbox_handle is not None:
            self.outbox_handle.cancel()
            self.outbox_handle = None
        self.outbox = None
