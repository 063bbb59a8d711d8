"""What a conversation asks of its transport, and how a chat ended: the engine's outputs.

Frozen, slotted records (h11's events): a :class:`Send`, a :class:`StepResult` for the
report, and one :class:`Close` that ends the chat with its :class:`Outcome`.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from chat.status import ExitStatus
from chat.value import Value

if TYPE_CHECKING:
    from bots.model import Step, Where


class Outcome(enum.Enum):
    """How a conversation ended."""

    #: The peer said `exit` (or closed, where the dialogue's ending allows it) and every expect step passed.
    ENDED_BY_PEER = "ended by peer"
    #: The bot ended the chat (its script done, a reply `exit`, max_turns, nothing left to say)
    #: and every expect step passed.
    ENDED_BY_BOT = "ended by bot"
    #: An expect step did not match, or the chat ended before every expect step ran.
    MISMATCH = "mismatch"
    #: The peer stayed silent past an expect step's timeout, or the chat passed its deadline.
    TIMEOUT = "timeout"
    #: A message matched an abort pattern.
    ABORT = "abort"
    #: The peer closed the connection without saying `exit`.
    PEER_LOST = "peer lost"
    #: A bug in the bot ended the chat: an exception it does not expect, in a turn (never the peer's doing).
    INTERNAL_ERROR = "internal error"

    @property
    def status(self) -> ExitStatus:
        """The exit status a program ending with this outcome returns."""
        return _STATUS[self]


_STATUS = {
    Outcome.ENDED_BY_PEER: ExitStatus.SUCCESS,
    Outcome.ENDED_BY_BOT: ExitStatus.SUCCESS,
    Outcome.MISMATCH: ExitStatus.MISMATCH,
    Outcome.TIMEOUT: ExitStatus.TIMEOUT,
    Outcome.ABORT: ExitStatus.ABORT,
    Outcome.PEER_LOST: ExitStatus.PEER_LOST,
    Outcome.INTERNAL_ERROR: ExitStatus.CHAT_ERROR,
}


class Send(Value):
    """Send *text* to the peer, after waiting *delay* seconds.

    *fixed*: the text is one of the dialogue's own, the same at every turn (a reply with
    nothing to choose or fill), so a transport may frame it once and keep the bytes.
    """

    __slots__ = ("delay", "fixed", "text")
    __match_args__ = ("text", "delay")  # what a Send says; *fixed* only tells how it may be sent

    def __init__(self, text: str, delay: float = 0.0, *, fixed: bool = False) -> None:
        self.text = text
        self.delay = delay
        self.fixed = fixed


class Close(Value):
    """The conversation is over: close the connection once everything sent is flushed."""

    __slots__ = ("outcome", "reason")
    __match_args__ = ("outcome", "reason")

    def __init__(self, outcome: Outcome, reason: str) -> None:
        self.outcome = outcome
        self.reason = reason


class StepResult(Value):
    """One line of the test report."""

    __slots__ = ("elapsed", "expected", "label", "received", "step", "verdict", "where")
    __match_args__ = ("verdict", "where", "label", "expected", "received", "elapsed", "step")

    def __init__(
        self,
        verdict: str,
        where: Where,
        label: str,
        expected: str | None,
        received: str | None,
        elapsed: float,
        step: Step | None = None,
    ) -> None:
        #: "PASS", "FAIL" or "NOT RUN".
        self.verdict = verdict
        self.where = where
        #: ``step 2 expect``, ``abort {contains: 'BUSY'}``.
        self.label = label
        #: The pattern(s) as YAML writes them; None for a say step.
        self.expected = expected
        #: What came, quoted as YAML (``'hello'``), or what happened instead (``nothing within 5 s``).
        self.received = received
        self.elapsed = elapsed
        self.step = step


Action = Send | Close | StepResult

__all__ = ["Action", "Close", "Outcome", "Send", "StepResult"]
