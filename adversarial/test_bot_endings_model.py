"""A stateful property test of the adapter's endings (issue 14 item 2).

Hypothesis drives one :class:`bots.adapter.BotConnection`, in either role, with reply
delays on or off, through any interleaving of: the peer's messages (whole, split, with
its `exit`), its half-close, a reset, time passing (delays expiring), a signal and the
idle timeout. Time is virtual: a small loop stands in for asyncio's timers, so a run of
hundreds of steps takes milliseconds and every interleaving is exact and repeatable.

What must hold, whatever the order:

* the chat ends in exactly one outcome, reported once, and the connection is then closed;
* the outcome is the documented one for what happened first (the peer's `exit`, its
  end of file, a reset, a signal, the idle timeout);
* replies go out in order, one per message, and none owed is lost: every message
  before the ending is answered, unless the connection was reset (then a prefix is);
* a signal ends the chat at once (within the 2 s a supervisor is promised).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from adversarial import profiles
from bots.actions import Outcome
from bots.adapter import BotConnection, Run
from bots.loader import parse_dialogue

pytestmark = [pytest.mark.adversarial, pytest.mark.timeout(600)]

DELAY_S = 3.0  # longer than the 2 s a signal's end may take, so waiting it out fails
ECHO = parse_dialogue(f'version: 1\ndelay: {DELAY_S}\nfallback: "re: {{input}}"\n', "echo.yaml")
IDLE_LINE = "idle: closed"
MAX_MESSAGES = 40  # below the adapter's per-callback cap: a signal answers everything already read
SIGNAL_END_S = 2.0


class Handle:
    """What call_at returns: a callback that can be cancelled."""

    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualLoop:
    """The part of the event loop the adapter uses, on a clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0
        self._queue: list[tuple[float, int, Handle]] = []
        self._order = itertools.count()

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> Handle:
        handle = Handle(when, callback, args)
        heapq.heappush(self._queue, (when, next(self._order), handle))
        return handle

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Handle:
        return self.call_at(self.now + delay, callback, *args)

    def call_soon(self, callback: Callable[..., object], *args: Any) -> Handle:
        return self.call_at(self.now, callback, *args)

    def advance(self, seconds: float) -> None:
        """Run every callback due within *seconds*, in time order, moving the clock as they run."""
        end = self.now + seconds
        while self._queue and self._queue[0][0] <= end:
            when, _order, handle = heapq.heappop(self._queue)
            self.now = max(self.now, when)
            if not handle.cancelled:
                handle.callback(*handle.args)
        self.now = end


class Wire(asyncio.Transport):
    """A transport over the virtual loop: records writes; closing reports the loss soon after."""

    def __init__(self, loop: VirtualLoop) -> None:
        super().__init__()
        self.loop = loop
        self.protocol: BotConnection | None = None
        self.written = bytearray()
        self.closed = False
        self.eof_written = False
        self.lost = False
        self.reading = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "a write after close"
        assert not self.eof_written, "a write after write_eof"
        self.written += data

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_written = True

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.loop.call_soon(self._lose, None)

    def abort(self) -> None:
        self.close()

    def _lose(self, exc: Exception | None) -> None:
        if not self.lost:
            self.lost = True
            assert self.protocol is not None
            self.protocol.connection_lost(exc)

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 4242) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass


async def _new_connection(run: Run) -> BotConnection:
    return BotConnection(run)  # it takes the running loop; the test then gives it the virtual one


class Endings(RuleBasedStateMachine):
    """One chat; the rules are what the peer, the clock and the operator can do to it."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = VirtualLoop()
        self.wire = Wire(self.loop)
        self.ends: list[tuple[Outcome, str]] = []
        # What the peer sent, in order: ("message", text), ("exit",), ("eof",).
        self.arrived: list[tuple[str, ...]] = []
        # What the bot was told first from outside: ("reset" | "signal" | "idle", items arrived then).
        self.outside: tuple[str, int] | None = None
        self.outside_at = 0.0
        self.half_closed = False
        self.count = 0
        self.speaks_first = False
        self.delays = True
        self.connection: BotConnection | None = None

    @initialize(speaks_first=st.booleans(), delays=st.booleans())
    def connect(self, speaks_first: bool, delays: bool) -> None:
        self.speaks_first, self.delays = speaks_first, delays
        run = Run(
            ECHO,
            seed="1",
            delays=delays,
            max_message_bytes=64,
            speaks_first=speaks_first,
            on_close=lambda _connection, outcome, reason: self.ends.append((outcome, reason)),
        )
        connection = asyncio.run(_new_connection(run))
        connection.loop = self.loop  # type: ignore[assignment]
        self.wire.protocol = connection
        connection.connection_made(self.wire)
        self.connection = connection

    # -- what can happen -----------------------------------------------------------------

    def can_send(self) -> bool:
        return not self.half_closed and not self.wire.lost and self.count < MAX_MESSAGES

    @precondition(can_send)
    @rule(count=st.integers(1, 4), split=st.integers(0, 12), with_exit=st.booleans())
    def peer_sends(self, count: int, split: int, with_exit: bool) -> None:
        """Messages in one go (they arrive together), perhaps cut in two reads, perhaps ending with exit."""
        data = b""
        for _ in range(min(count, MAX_MESSAGES - self.count)):
            text = f"m{self.count}"
            self.count += 1
            data += text.encode() + b"\n"
            self.arrived.append(("message", text))
        if with_exit:
            data += b"exit\n"
            self.arrived.append(("exit",))
        self._deliver(data[:split])
        self._deliver(data[split:])

    def _deliver(self, data: bytes) -> None:
        assert self.connection is not None
        if data and not self.wire.closed:
            self.connection.data_received(data)

    @precondition(lambda self: not self.half_closed and not self.wire.lost)
    @rule()
    def peer_half_closes(self) -> None:
        assert self.connection is not None
        self.half_closed = True
        self.arrived.append(("eof",))
        if not self.wire.closed and not self.connection.eof_received():
            self.wire.close()  # asyncio closes the transport when eof_received returns false

    @precondition(lambda self: not self.wire.lost)
    @rule()
    def peer_resets(self) -> None:
        self._outside("reset")
        self.wire.closed = True
        self.wire._lose(ConnectionResetError(104, "Connection reset by peer"))

    @rule(seconds=st.sampled_from([0.0, 0.1, DELAY_S / 2, DELAY_S, 2 * DELAY_S]))
    def time_passes(self, seconds: float) -> None:
        self.loop.advance(seconds)

    @precondition(lambda self: not self.wire.lost)
    @rule(kind=st.sampled_from(["signal", "idle"]))
    def operator_ends(self, kind: str) -> None:
        assert self.connection is not None
        self._outside(kind)
        if kind == "signal":
            self.connection.end("interrupted")
        else:
            self.connection.end(IDLE_LINE, notice=IDLE_LINE)
        assert self.wire.closed or self.wire.eof_written, "the chat did not end at once"

    def _outside(self, kind: str) -> None:
        if self.outside is None and not self.ends:
            self.outside, self.outside_at = (kind, len(self.arrived)), self.loop.now

    # -- what must hold --------------------------------------------------------------------

    @invariant()
    def reported_at_most_once(self) -> None:
        assert len(self.ends) <= 1, self.ends

    @invariant()
    def a_lost_connection_has_reported_its_end(self) -> None:
        if self.wire.lost and self.connection is not None and self.connection.driver is not None:
            assert len(self.ends) == 1

    @invariant()
    def replies_go_out_in_order_one_per_message(self) -> None:
        lines = self._lines()
        replies = [line for line in lines if line.startswith("re: ")]
        messages = [item[1] for item in self.arrived if item[0] == "message"]
        assert replies == [f"re: {text}" for text in messages[: len(replies)]], lines
        if self.speaks_first and lines:
            assert lines[0] == "Hello!"

    @invariant()
    def an_operators_end_closes_at_once(self) -> None:
        if self.outside is not None and self.outside[0] != "reset" and self.loop.now >= self.outside_at:
            ended = self.wire.closed or self.wire.eof_written
            assert ended or self.loop.now - self.outside_at < SIGNAL_END_S

    def teardown(self) -> None:
        """Let every delay expire, then check the one outcome against what happened first."""
        # Each reply waits its delay after the one before: the last of MAX_MESSAGES is due then.
        self.loop.advance(DELAY_S * (MAX_MESSAGES + 1))
        terminal = next((i for i, item in enumerate(self.arrived) if item[0] != "message"), None)
        expected_replies = [item[1] for item in self.arrived[:terminal] if item[0] == "message"]
        if self.outside is None and terminal is None:
            assert self.ends == []
            assert not self.wire.closed
            assert self._replies() == expected_replies  # every message answered by now
            return
        assert self.wire.lost, "the chat ended but the connection stayed open"
        assert len(self.ends) == 1, self.ends
        outcome, reason = self.ends[0]
        peers_end = None
        if terminal is not None:
            peers_end = Outcome.ENDED_BY_PEER if self.arrived[terminal][0] == "exit" else Outcome.PEER_LOST
        if self.outside is None:
            assert outcome is peers_end
            assert self._replies() == expected_replies  # a half-closed peer still gets every reply
            return
        kind, arrived_then = self.outside
        if kind == "reset":
            assert outcome in {Outcome.PEER_LOST, peers_end}
            replies = self._replies()
            assert replies == expected_replies[: len(replies)]
            return
        # A signal or the idle timeout: what had arrived is answered at once, then the bot ends,
        # unless the peer's own end had arrived before.
        if terminal is not None and terminal < arrived_then:
            assert outcome is peers_end
            assert self._replies() == expected_replies
        else:
            assert (outcome, reason) == (
                Outcome.ENDED_BY_BOT,
                "interrupted" if kind == "signal" else IDLE_LINE,
            )
            answered = [item[1] for item in self.arrived[:arrived_then] if item[0] == "message"]
            assert self._replies() == answered
            assert self._lines()[-1] == "exit"
            if kind == "idle":
                assert self._lines()[-2] == IDLE_LINE

    def _lines(self) -> list[str]:
        return bytes(self.wire.written).decode().splitlines()

    def _replies(self) -> list[str]:
        return [line[4:] for line in self._lines() if line.startswith("re: ")]


SIZES = profiles.active_sizes()
Endings.TestCase.settings = settings(
    max_examples=SIZES.endings_runs, stateful_step_count=profiles.ENDINGS_STEPS
)
test_every_interleaving_of_endings_ends_once_with_its_outcome = Endings.TestCase
