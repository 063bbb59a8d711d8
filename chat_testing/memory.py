"""A dialogue against another dialogue, or a Python function, in memory: no sockets, a fake clock.

For unit tests of bots and of test scripts, in the manner of trio's memory streams: the
same interpreter as every other target (:class:`bots.driver.Driver`), with time that jumps
to the next thing due, so a test with a 10 s timeout runs in microseconds::

    from chat_testing.memory import converse

    run = converse(load_dialogue("test_greeter.chat.yaml"), load_dialogue("greeter.yaml"))
    assert run.passed, run.report()

    run = converse(test_dialogue, lambda line: line.upper())   # the peer: a function
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from bots.actions import Action, Close, Outcome, Send, StepResult
from bots.driver import Driver
from bots.engine import Conversation
from bots.model import Dialogue
from chat.display import visible
from chat_testing.dialogue_tests import ChatRun, chat_deadline

#: A peer written in Python: each line the dialogue sends in, the lines it answers (none: silence).
Responder = Callable[[str], str | Sequence[str] | None]
#: How long a line takes from one side to the other: fake time moves on as lines cross, so two
#: sides that answer each other for ever still meet the dialogue's deadline.
LATENCY_S = 0.001
#: Lines the two sides may send in all, a bound for sides that answer each other without end
#: and have no deadline to meet.
MAX_LINES = 100_000


class _Side:
    """One end of the in-memory connection: a driver or a responder, and the lines due to it."""

    def __init__(self, name: str, driver: Driver | None, responder: Responder | None) -> None:
        self.name = name
        self.driver = driver
        self.responder = responder
        #: Lines (None: the other side's close) due to this side, each with when it arrives.
        self.inbox: deque[tuple[float, str | None]] = deque()
        self.results: list[StepResult] = []
        self.ended: Close | None = None  # this side closed the connection
        self.told_closed = False

    def next_event(self) -> tuple[float, bool] | None:
        """When this side has something to do next, and whether it is a line (else a poll)."""
        driver = self.driver
        line = self.inbox[0][0] if self.inbox and (driver is None or not driver.busy) else None
        wakeup = None if driver is None or self.ended is not None else driver.wakeup
        if line is None:
            return None if wakeup is None else (wakeup, False)
        if wakeup is not None and wakeup < line:
            return wakeup, False
        return line, True


def converse(
    dialogue: Dialogue,
    peer: Dialogue | Responder,
    *,
    seed: str | None = None,
    delays: bool = False,
    deadline: float | None = None,
    dialling: bool = True,
) -> ChatRun:
    """Run *dialogue* against *peer* in memory and return the run, as :func:`run_over_tcp` does.

    *dialogue* dials (as ``chat-bot --connect``; *dialling* False: it serves) and *peer*
    plays the other side: a dialogue (its results become the run's peer results) or a
    function that answers each line. Time is fake: it starts at 0 and jumps to the next
    line, delay or deadline, so timeouts cost nothing. The chat lasts at most *deadline*
    fake seconds (default: the file's ``deadline``, else :data:`TEST_DEADLINE_S`).
    """
    ours = _Side(
        "dialogue", Driver(_conversation(dialogue, seed, delays, chat_deadline(dialogue, deadline))), None
    )
    if isinstance(peer, Dialogue):
        theirs = _Side(
            "peer", Driver(_conversation(peer, None if seed is None else f"{seed}:peer", delays)), None
        )
    else:
        theirs = _Side("peer", None, peer)
    run = ChatRun(dialogue, Outcome.ENDED_BY_BOT, "")
    clock = 0.0
    lines = 0

    def perform(side: _Side, other: _Side, actions: list[Action]) -> None:
        nonlocal lines
        for action in actions:
            if type(action) is Send:
                assert isinstance(action, Send)
                lines += 1
                run.transcript.append(f"{side.name}: {visible(action.text)}")
                other.inbox.append((clock + LATENCY_S, action.text))
            elif type(action) is StepResult:
                assert isinstance(action, StepResult)
                side.results.append(action)
            else:
                assert isinstance(action, Close)
                side.ended = action
                other.inbox.append((clock + LATENCY_S, None))

    if theirs.driver is not None:
        perform(theirs, ours, theirs.driver.start(clock, dialling=not dialling))
    assert ours.driver is not None
    perform(ours, theirs, ours.driver.start(clock, dialling=dialling))
    while lines < MAX_LINES:
        due = [(event, side) for side in (ours, theirs) if (event := side.next_event()) is not None]
        if ours.ended is not None:  # the chat is over: the peer still takes what was sent to it
            due = [
                (event, side) for event, side in due if side is theirs and event[1] and theirs.ended is None
            ]
        if not due:
            break  # over; or both sides wait for each other and nothing is ever due: the chat stalls
        (when, is_line), side = min(due, key=lambda pair: pair[0][0])
        clock = max(clock, when)
        other = theirs if side is ours else ours
        if not is_line:
            assert side.driver is not None
            perform(side, other, side.driver.poll(clock))
            continue
        _when, text = side.inbox.popleft()
        if side.ended is not None or side.told_closed:
            continue  # a side that has closed takes nothing more
        if side.driver is None:
            assert side.responder is not None
            if text is not None:
                perform(side, other, [Send(reply) for reply in _replies(side.responder(text))])
        elif text is None:
            side.told_closed = True
            perform(side, other, side.driver.peer_closed(clock))
        else:
            perform(side, other, side.driver.receive(text, clock))
    if ours.ended is None:
        why = f"more than {MAX_LINES} lines" if lines >= MAX_LINES else "both sides wait and nothing is due"
        perform(ours, theirs, ours.driver.end(f"the chat stalls: {why}", clock))
    assert ours.ended is not None
    run.outcome, run.reason = ours.ended.outcome, ours.ended.reason
    run.results, run.peer_results = ours.results, theirs.results
    return run


def _conversation(
    dialogue: Dialogue, seed: str | None, delays: bool, deadline: float | None = None
) -> Conversation:
    return Conversation(dialogue, seed=seed, delays=delays, deadline=deadline)


def _replies(answer: str | Sequence[str] | None) -> Sequence[str]:
    if answer is None:
        return ()
    return (answer,) if isinstance(answer, str) else answer


__all__ = ["LATENCY_S", "MAX_LINES", "Responder", "converse"]
