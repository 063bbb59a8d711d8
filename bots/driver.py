"""One conversation and the sends that wait for their delay: events in, the actions due now out.

Sans-IO, like the engine: every transport (the asyncio adapter, the Locust user, a
client's terminal, the in-memory pairs of :mod:`chat_testing.memory`) feeds a
:class:`Driver` what happened, with the time, carries out the actions it returns, in
order, and calls :meth:`Driver.poll` at :attr:`Driver.wakeup`. While :attr:`Driver.busy`,
the next message waits its turn: a reply never overtakes the one before it.
"""

from __future__ import annotations

from collections import deque

from bots.actions import Action, Close, Send, StepResult
from bots.engine import Conversation


class Driver:
    """A :class:`~bots.engine.Conversation` with its outbox of delayed actions."""

    __slots__ = ("_delays", "conv", "hurry", "outbox")

    def __init__(self, conv: Conversation) -> None:
        self.conv = conv
        #: Actions behind a delayed send, in order, each with when it is due.
        self.outbox: deque[tuple[float, Action]] = deque()
        #: Set when the chat must end now (a signal, the idle timeout): delays are skipped.
        self.hurry = False
        # Whether a send may ever wait (a reply delay, and delays on): else every action is due at once.
        self._delays = conv.delays and conv.dialogue.delay != (0.0, 0.0)

    @property
    def busy(self) -> bool:
        """Whether actions wait for a delay: a message received meanwhile must wait its turn."""
        return bool(self.outbox)

    @property
    def wakeup(self) -> float | None:
        """When :meth:`poll` must next be called: a delayed action is due, or a deadline passes."""
        due = self.outbox[0][0] if self.outbox else None
        deadline = self.conv.deadline
        if due is None or (deadline is not None and deadline < due):
            return deadline
        return due

    # -- events ------------------------------------------------------------

    def start(self, now: float, *, dialling: bool = True) -> list[Action]:
        """The connection is made (see :meth:`Conversation.start`)."""
        return self._schedule(self.conv.start(now, dialling=dialling), now)

    def receive(self, text: str, now: float) -> list[Action]:
        """A whole message from the peer (call only while not :attr:`busy`)."""
        actions = self.conv.receive(text, now)
        if self.outbox or (self._delays and not self.hurry):  # else every action is due at once
            return self._schedule(actions, now)
        return actions

    def receive_oversize(self, limit: int, now: float) -> list[Action]:
        """A message over the size limit, discarded unread."""
        return self._schedule(self.conv.receive_oversize(limit, now), now)

    def peer_closed(self, now: float) -> list[Action]:
        """The peer closed its side of the connection (it may still read)."""
        return self._schedule(self.conv.peer_closed(now), now)

    def poll(self, now: float) -> list[Action]:
        """What is due by *now*: delayed actions, then a deadline's consequences."""
        outbox = self.outbox
        due: list[Action] = []
        while outbox and outbox[0][0] <= now:
            due.append(outbox.popleft()[1])
        deadline = self.conv.deadline
        if deadline is not None and now >= deadline:
            due.extend(self._schedule(self.conv.tick(now), now))
        return due

    def hurry_up(self) -> list[Action]:
        """The chat must end soon (a signal, the idle timeout): what waits is due now, and no send waits
        again. The transport carries it out, then handles the messages it held back meanwhile."""
        self.hurry = True
        due = [action for _when, action in self.outbox]
        self.outbox.clear()
        return due

    def end(self, reason: str, now: float, *, notice: str | None = None) -> list[Action]:
        """End the chat now: what waits goes at once (:meth:`hurry_up`), then the ending."""
        due = self.hurry_up()
        due.extend(self.conv.end(reason, now, notice=notice))
        return due

    def lost(self, now: float) -> list[Action]:
        """The connection is gone: settle the outbox (sends are lost, and with them their say steps'
        PASS; other results count), then the conversation's own ending. Returns no Send."""
        settled: list[Action] = []
        unsent = False
        for _when, action in self.outbox:
            if type(action) is Send:
                unsent = True
            elif type(action) is StepResult:
                if not (unsent and action.expected is None):
                    settled.append(action)
            else:
                assert isinstance(action, Close)
                settled.append(action)
                self.outbox.clear()
                return settled
        self.outbox.clear()
        settled.extend(a for a in self.conv.peer_closed(now) if type(a) is not Send)
        return settled

    def _schedule(self, actions: list[Action], now: float) -> list[Action]:
        """The actions due now; the rest wait in the outbox, each send its own delay after the one before."""
        outbox = self.outbox
        if not outbox and (not self._delays or self.hurry):
            return actions
        ready: list[Action] = []
        for action in actions:
            if outbox or (type(action) is Send and action.delay > 0 and not self.hurry):
                after = outbox[-1][0] if outbox else now
                delay = action.delay if type(action) is Send else 0.0
                outbox.append((max(now, after) + delay, action))
            else:
                ready.append(action)
        return ready


__all__ = ["Driver"]
