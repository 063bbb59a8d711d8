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

Fairness: one read can hold thousands of short messages, and one event-loop
turn can bring many reads from one peer (uvloop's libuv reads a socket up to 32
times in a row while it stays full). The adapter handles at most
:data:`MESSAGES_PER_CALLBACK` of a peer's messages, counted across its reads,
before it stops reading from that peer and goes on in a callback of its own,
which runs only after the loop has polled the other peers. Reading resumes only
when neither reason to pause (a backlog, a full write buffer) still holds.

A reply that cannot be framed is never dropped silently: one with a line break
goes out with each CR and LF shown as ``\\x0d`` and ``\\x0a`` (as
:func:`chat.display.visible` shows them); one over the size limit is replaced by
a notice saying so, shortened to fit when the limit is tiny. A fixed reply (the
dialogue's own text, the same at every turn) is framed once per peer style.

The error edge (h11's rule, uvicorn's serving edge): any exception in a turn other than
the ones the bot expects is a bug. It ends that chat alone, with the outcome
``internal error`` (told to the program through ``Run.on_error`` once, and to the peer
as a notice and ``exit`` where the dialogue ends chats that way); every other chat goes
on, and the peer is never blamed for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from bots import notices
from bots.actions import Action, Close, Outcome, Send, StepResult
from bots.driver import Driver
from bots.engine import Conversation
from bots.model import Ending
from chat.protocol import (
    CLASSIC_SILENCE_S,
    EXIT_WORD,
    ChatConnection,
    ConnectionClosed,
    MessageTooLong,
    PeerStyle,
)

if TYPE_CHECKING:
    from bots.model import Dialogue
    from bots.observer import Observing
    from bots.report import Transcript

WRITE_BUFFER_HIGH = 64 * 1024  # per peer: far above one turn's reply, small beside 10,000 peers
WRITE_BUFFER_LOW = 16 * 1024  # resume reading once the peer has taken most of it
# One 256 KiB read can hold ~4,000 short messages; handling them all in one callback stalled
# every other peer for 100-300 ms. 64 take well under a millisecond (~2 ms of hostile ones).
# The count runs across data_received calls and restarts only in _continue: uvloop (libuv's
# uv__read) calls data_received up to 32 times in a row for one socket whose reads fill the
# buffer, so a per-call cap let one flooding peer take 32 x 256 KB (~45 ms) per loop turn
# while the others waited (p50 46-77 ms, p99 94-217 ms; asyncio reads once per turn).
# A chatting peer reaches the count once per 64 messages: one pause, one callback, one resume.
MESSAGES_PER_CALLBACK = 64
MESSAGE_WEIGHT_SHIFT = 14  # toward that count a message weighs 1 + its characters // 16,384: a 1 MB
# message (~1-2 ms to decode and answer) then fills a turn alone; chat lines weigh 1 (issue 19)
# After a notice and its `exit` sent out of turn (busy, idle), the bot half-closes and reads
# (dropping it) what the peer still sends for this long: a client that typed before it read
# the `exit` then gets it, not a reset that would discard it. Then the connection closes.
NOTICE_LINGER_S = 3.0
# A chat that has ended gives its peer this long to take what is still buffered; then the
# connection is dropped. A close waits for the buffer to drain, so a peer that never reads
# (its window full, a few MB queued) held its socket and our buffers until the bot stopped,
# even after --idle-timeout had ended its chat. asyncio's own TLS close waits as long.
CLOSE_TIMEOUT_S = 30.0
_LINE, _CLASSIC = PeerStyle.LINE, PeerStyle.CLASSIC  # read at every turn: one name, not two look-ups


def framable(codec: ChatConnection, text: str) -> tuple[str, bytes]:
    """What goes out for the reply *text*, and its bytes: never fails.

    A reply is one line: each CR and LF in it (an echo of ``a\\rb``) is sent as its
    visible escape, ``\\x0d`` or ``\\x0a``, so the peer still gets the message
    (:meth:`ChatConnection.frame_any`). A reply (so escaped) over the size limit becomes
    a notice saying so; under a limit too small for any notice, the shortest notice cut
    to the limit.
    """
    framed = codec.frame_any(text)
    if framed is not None:
        return framed
    text = notices.fit(notices.OVERSIZE_OUT, codec.max_message_bytes, limit=codec.max_message_bytes)
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
        deadline: float | None = None,
        transcript: Transcript | None = None,
        screen: Callable[[str, str], None] | None = None,
        on_result: Callable[[BotConnection, StepResult], None] | None = None,
        on_close: Callable[[BotConnection, Outcome, str], None] | None = None,
        on_error: Callable[[BotConnection, Exception], None] | None = None,
    ) -> None:
        self.dialogue = dialogue
        self.seed = seed
        self.delays = delays
        self.max_message_bytes = max_message_bytes
        self.speaks_first = speaks_first
        self.classic = classic
        #: Seconds a whole chat may last, overriding the dialogue's `deadline` (the harness's default).
        self.deadline = deadline
        self.transcript = transcript
        #: Prints a chat line: screen("in" | "out", text).
        self.screen = screen
        self.on_result = on_result
        self.on_close = on_close
        #: Told once of a bug in a chat (an exception the bot does not expect), before that chat ends.
        self.on_error = on_error
        #: Fixed replies framed once (what goes out, its bytes), for a line peer (or one not yet
        #: known) and for a classic peer.
        self.framed_lines: dict[str, tuple[str, bytes]] = {}
        self.framed_classic: dict[str, tuple[str, bytes]] = {}
        #: Open connections (the server's max-clients and shutdown use it).
        self.connections: set[BotConnection] = set()
        #: Conversations begun so far; numbers them for per-chat seeds.
        self.begun = 0
        #: Asked on each new connection: a line to refuse it with, or None to accept it.
        self.refuse_line: Callable[[], str | None] = lambda: None
        #: Told when a connection is fully closed.
        self.on_lost: Callable[[BotConnection], None] | None = None
        #: --coverage: gives each conversation its observer (None: no conversation is watched).
        self.coverage: Observing | None = None

    def driver(self) -> Driver:
        """A new conversation and its driver, seeded per chat so --seed runs repeat exactly."""
        self.begun += 1
        seed = None if self.seed is None else f"{self.seed}:{self.begun}"
        observer = None if self.coverage is None else self.coverage.observer(self.dialogue)
        conversation = Conversation(
            self.dialogue, seed=seed, delays=self.delays, deadline=self.deadline, observer=observer
        )
        return Driver(conversation)


class BotConnection(asyncio.Protocol):
    """One peer: bytes in, codec, conversation, actions out."""

    __slots__ = (
        "backlog_handle",
        "backlogged",
        "close_handle",
        "closing",
        "codec",
        "driver",
        "handled",
        "last_seen",
        "linger",
        "linger_handle",
        "loop",
        "peer",
        "run",
        "silence_at",
        "silence_handle",
        "transport",
        "wake_handle",
        "write_paused",
    )

    def __init__(self, run: Run) -> None:
        self.run = run
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.codec: ChatConnection | None = None
        #: The conversation and its outbox, made when the chat begins (see connection_made).
        self.driver: Driver | None = None
        self.peer = "?"
        self.last_seen = self.loop.time()
        self.silence_at = 0.0
        self.silence_handle: asyncio.TimerHandle | None = None
        # When the driver must be polled: a delayed send is due, or a deadline passes.
        self.wake_handle: asyncio.TimerHandle | None = None
        self.closing = False
        # Set for a notice sent out of turn: half-close and wait for the peer (NOTICE_LINGER_S).
        self.linger = False
        self.linger_handle: asyncio.TimerHandle | None = None
        self.close_handle: asyncio.TimerHandle | None = None  # CLOSE_TIMEOUT_S
        # The two reasons to stop reading from the peer, tracked apart so that one ending
        # never resumes reading while the other still holds.
        self.backlogged = False  # received messages wait for a later callback
        self.write_paused = False  # the peer is not reading what we send
        self.backlog_handle: asyncio.Handle | None = None
        # Messages handled since _continue last ran: capped at MESSAGES_PER_CALLBACK.
        self.handled = 0

    # -- asyncio callbacks -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport: asyncio's, or uvloop's (which does not subclass asyncio.Transport).
        self.transport = transport = cast("asyncio.Transport", transport)
        address = transport.get_extra_info("peername")
        if isinstance(address, tuple) and len(address) >= 2:
            host = str(address[0])
            self.peer = f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
        refusal = self.run.refuse_line()
        if refusal is not None:
            # The notice and `exit`, in the line style (a classic client shows them too), then close.
            self._write(refusal)
            self._write(EXIT_WORD)
            self.closing = self.linger = True
            self._shut()
            return
        self.run.connections.add(self)
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH, low=WRITE_BUFFER_LOW)
        run = self.run
        # The chat begins now when the bot speaks first, or when its script or deadline runs from
        # the connection on; else at the peer's first message, so an idle connection stays small.
        if run.speaks_first or run.dialogue.starts_at_connection:
            self._make_codec()
            self.driver = run.driver()
            try:
                self._perform(self.driver.start(self.loop.time(), dialling=run.speaks_first))
            except Exception as exc:  # a bug: see the error edge (module docstring)
                self._broken(exc)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.last_seen = now = self.loop.time()
        codec = self.codec if self.codec is not None else self._make_codec()
        try:
            codec.receive_data(data)
            self._drain(MESSAGES_PER_CALLBACK, now)
        except Exception as exc:  # a bug: see the error edge (module docstring)
            self._broken(exc)
            return
        if not self.closing and codec.peer_style is not _LINE and codec.wants_silence_timer:
            self.silence_at = now + CLASSIC_SILENCE_S
            if self.silence_handle is None:
                self.silence_handle = self.loop.call_at(self.silence_at, self._silence)

    def eof_received(self) -> bool:
        if self.closing:
            return False  # a lingering chat ends here: the peer has read our `exit`
        codec = self.codec if self.codec is not None else self._make_codec()
        try:
            codec.receive_data(b"")
            self._drain(None)
        except Exception as exc:  # a bug: see the error edge (module docstring)
            self._broken(exc)
        # A half-closed peer still reads: while replies wait for their delay (and the
        # messages behind them for their turn), keep our side open; the chat's Close shuts it.
        return not self.closing

    def connection_lost(self, exc: Exception | None) -> None:
        for handle in (
            self.silence_handle,
            self.wake_handle,
            self.backlog_handle,
            self.linger_handle,
            self.close_handle,
        ):
            if handle is not None:
                handle.cancel()
        self.silence_handle = self.wake_handle = self.backlog_handle = None
        self.linger_handle = self.close_handle = None
        self.transport = None  # nothing more can be written
        if not self.closing:
            try:
                self._lost()
            except Exception as exc:  # a bug: see the error edge (module docstring)
                self._broken(exc)
        self.run.connections.discard(self)
        if self.run.on_lost is not None:
            self.run.on_lost(self)

    def _lost(self) -> None:
        # The connection is gone before the chat's end was reported: report it now, once.
        driver = self.driver
        if driver is not None:
            self._perform(driver.lost(self.loop.time()))
        if not self.closing and self in self.run.connections:
            self._finished(Close(Outcome.PEER_LOST, "the peer closed the connection before saying anything"))

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
        run = self.run
        self.codec = ChatConnection(
            run.max_message_bytes, classic=run.classic, line_end=run.dialogue.line_end.bytes
        )
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
        try:
            codec.silence()
            self._drain()
        except Exception as exc:  # a bug: see the error edge (module docstring)
            self._broken(exc)

    def _drain(self, limit: int | None = MESSAGES_PER_CALLBACK, now: float | None = None) -> None:
        """Handle the codec's events in order, at most *limit* of them (None: all) in this callback."""
        if now is None:
            now = self.loop.time()
        codec = self.codec
        assert codec is not None
        run = self.run
        events = codec.events
        while not self.closing:
            driver = self.driver
            if driver is not None and driver.outbox:
                # A reply waits for its delay: the next message waits for its turn (draining
                # goes on when the driver's outbox empties). Stop reading meanwhile.
                if events:
                    self._hold(later=False)
                return
            if limit is not None and (self.handled >= limit or self.write_paused):
                self._hold()
                return
            if not events:
                if self.backlogged:
                    self._release()
                return
            event = events.popleft()
            if driver is None:
                driver = self.driver = run.driver()
            if type(event) is str:  # a message: the usual event
                # Counted across reads (see MESSAGES_PER_CALLBACK); a long message counts as many, one
                # more per 16 KiB, so a peer flooding 1 MB messages gets one a turn, not the 8 MB uvloop
                # reads in one turn (issue 19).
                self.handled += 1 + (len(event) >> MESSAGE_WEIGHT_SHIFT)
                if run.transcript is not None:
                    run.transcript.record(time.time(), "in", event, self._transcript_peer())
                if run.screen is not None:
                    run.screen("in", event)
                actions = driver.receive(event, now)
            elif type(event) is MessageTooLong:
                self.handled += 1
                if run.screen is not None:
                    run.screen("in", f"[message over the {event.limit:,}-byte limit, not shown]")
                actions = driver.receive_oversize(event.limit, now)
            else:
                assert isinstance(event, ConnectionClosed)
                self.handled += 1
                actions = driver.peer_closed(now)
            self._perform(actions)

    def _hold(self, *, later: bool = True) -> None:
        # More may be queued: stop reading from this peer and go on in a later callback
        # (after resume_writing when the write buffer is what stopped us, after the
        # outbox's flush when a reply's delay is).
        if not self.backlogged:
            self.backlogged = True
            if self.transport is not None and not self.transport.is_closing():
                self.transport.pause_reading()
        if later and not self.write_paused:
            self._continue_later()

    def _continue_later(self) -> None:
        if self.backlog_handle is None and not self.closing:
            self.backlog_handle = self.loop.call_soon(self._continue)

    def _continue(self) -> None:
        # The loop has polled every peer since _hold: this peer may have its next MESSAGES_PER_CALLBACK.
        self.backlog_handle = None
        self.handled = 0
        if not self.closing and self.codec is not None:
            try:
                self._drain()
            except Exception as exc:  # a bug: see the error edge (module docstring)
                self._broken(exc)

    def _release(self) -> None:
        # The backlog is handled: read again, unless the peer is still not reading our replies.
        self.backlogged = False
        if not self.write_paused and self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def _perform(self, actions: list[Action]) -> None:
        """Carry out the driver's actions, in order; then wait for what it awaits next."""
        for action in actions:
            if type(action) is Send:
                self._write(action.text, action.fixed)
            elif type(action) is StepResult:
                self._result(action)
            else:
                assert isinstance(action, Close)
                self._finished(action)
                self._shut()
        driver = self.driver
        wakeup = None
        if driver is not None and not self.closing and (driver.outbox or driver.conv.deadline is not None):
            wakeup = driver.wakeup
        handle = self.wake_handle
        if handle is None and wakeup is None:
            return  # the usual turn: nothing waits
        if handle is not None and (wakeup is None or handle.when() != wakeup):
            handle.cancel()
            self.wake_handle = handle = None
        if wakeup is not None and handle is None:
            self.wake_handle = self.loop.call_at(wakeup, self._wake)

    def _wake(self) -> None:
        # A delayed send is due, or a deadline passed: then the messages held meanwhile.
        self.wake_handle = None
        driver = self.driver
        if driver is None or self.closing:
            return
        try:
            self._perform(driver.poll(self.loop.time()))
            if not self.closing and self.codec is not None and not driver.busy:
                self._drain()
        except Exception as exc:  # a bug: see the error edge (module docstring)
            self._broken(exc)

    def _write(self, text: str, fixed: bool = False) -> None:
        """Send *text* (*fixed*: the dialogue's own, framed once per peer style and kept)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        codec = self.codec if self.codec is not None else self._make_codec()
        if fixed:
            run = self.run
            kept = run.framed_classic if codec.peer_style is _CLASSIC else run.framed_lines
            framed = kept.get(text)
            if framed is None:
                framed = kept[text] = framable(codec, text)
        else:
            framed = codec.frame_any(text) or framable(codec, text)
        text, data = framed
        transport.write(data)
        run = self.run
        if run.transcript is not None:
            run.transcript.record(time.time(), "out", text, self._transcript_peer())
        if run.screen is not None:
            run.screen("out", text)

    def _result(self, result: StepResult) -> None:
        if self.run.on_result is not None:
            self.run.on_result(self, result)

    def _finished(self, close: Close) -> None:
        # The one place an ending is reported; `closing` makes it once.
        if self.closing:
            return
        self.closing = True
        if self.wake_handle is not None:
            self.wake_handle.cancel()
            self.wake_handle = None
        if self.run.on_close is not None:
            self.run.on_close(self, close.outcome, close.reason)

    def _shut(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self.linger and transport.can_write_eof():
            transport.write_eof()  # after what is buffered
            if self.backlogged or self.write_paused:
                transport.resume_reading()  # to see the peer's end of file
            self.linger_handle = self.loop.call_later(NOTICE_LINGER_S, transport.close)
        else:
            transport.close()  # sends what is buffered first
        self.close_handle = self.loop.call_later(CLOSE_TIMEOUT_S, transport.abort)

    def _transcript_peer(self) -> str | None:
        return None if self.run.speaks_first else self.peer

    def _broken(self, exc: Exception) -> None:
        """A bug in this chat (an exception the bot does not expect): it ends alone, as an internal error.

        Told to the program once (``Run.on_error``), and to the peer as a notice and ``exit`` where the
        dialogue ends chats that way; then the connection closes. Never reported as the peer's doing.
        """
        run = self.run
        if run.on_error is not None:
            run.on_error(self, exc)
        self.linger = False
        if not self.closing:
            if run.dialogue.ending is Ending.EXIT and self.transport is not None:
                limit = self.codec.max_message_bytes if self.codec is not None else run.max_message_bytes
                self._write(notices.fit(notices.INTERNAL_ERROR, limit))
                self._write(EXIT_WORD)
            self._finished(Close(Outcome.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"))
        self._shut()

    # -- ending from outside -----------------------------------------------

    def end(self, reason: str, notice: str | None = None) -> None:
        """End this chat now (a signal, the idle timeout): what is owed, *notice*, `exit`, close.

        Replies still waiting for their delay go out at once, then the conversation
        ends itself (:meth:`Driver.end`); a chat whose end is already queued just
        ends. Reported once, like every ending.
        """
        if self.closing:
            return
        self.linger = notice is not None
        driver = self.driver
        if driver is None:
            if self.codec is None:
                self._make_codec()
            driver = self.driver = self.run.driver()
        # What is owed goes first, then the messages held behind it: a peer's `exit` waiting
        # there ends the chat its own way.
        try:
            self._perform(driver.hurry_up())
            if not self.closing:
                self._drain()
            if not self.closing:
                self._perform(driver.end(reason, self.loop.time(), notice=notice))
        except Exception as exc:  # a bug: see the error edge (module docstring)
            self._broken(exc)

    def abort(self) -> None:
        """Drop the connection at once (after the shutdown grace period)."""
        if self.transport is not None:
            self.transport.abort()
