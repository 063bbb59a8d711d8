"""Run one dialogue test against a target: over TCP (a server) or at a client's terminal.

This is the engine of the pytest plugin's ``test_*.chat.yaml`` items, usable without pytest.
Both ways run the dialogue through the one interpreter, :class:`bots.engine.Conversation` and
its :class:`bots.driver.Driver`: :func:`run_over_tcp` as ``chat-bot --connect`` does (the same
code, :func:`bots.connect.run_connect`); :func:`run_at_terminal` through a screen adapter that
types the bot's sends at a client program and feeds the lines it shows in.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bots.actions import Action, Close, Outcome, Send, StepResult
from bots.driver import Driver
from bots.engine import Conversation
from bots.model import Dialogue
from bots.report import format_result, not_run
from chat.display import quoted, visible

if TYPE_CHECKING:
    from chat_testing.terminal import Terminal

#: How long a dialogue test may run at most, unless its file sets `deadline:`: every step has
#: its own timeout, and a whole test of a line program that runs for a minute is stuck.
TEST_DEADLINE_S = 60.0
#: Escape sequences a client draws its screen with (colours, cursor moves, line clears) and the
#: carriage returns of the pty: none of it is text the person reads.
_SCREEN_CONTROLS = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>78]|\r|\x07")
#: How much one read from the pty takes.
_READ_SIZE = 4096
#: How long the screen adapter waits for output when nothing is due: it wakes up at every
#: deadline anyway, this only bounds a read when the dialogue awaits nothing.
_IDLE_READ_S = 1.0


@dataclass
class ChatRun:
    """What one dialogue test did: how it ended, each step's result, and the chat as lines.

    At a terminal, *peer_results* are the results of the serving bot the client talked to: a
    peer dialogue with expect steps fails the test when one of them fails.
    """

    dialogue: Dialogue
    outcome: Outcome
    reason: str
    results: list[StepResult] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    peer_results: list[StepResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every expect step passed (the peer dialogue's too) and the chat ended well."""
        return self.outcome.status == 0 and self.peer_failure() is None

    def first_failure(self) -> StepResult | None:
        """The first failed step, if one failed (a chat can also fail by ending early)."""
        return next((r for r in self.results if r.verdict == "FAIL"), None)

    def peer_failure(self) -> StepResult | None:
        """The peer dialogue's first failed step, if one failed."""
        return next((r for r in self.peer_results if r.verdict == "FAIL"), None)

    def report(self) -> str:
        """The report: the failing step as FILE:LINE, expected, received (or a pass); every step; the chat."""
        first = self.first_failure() if self.outcome.status != 0 else None
        peer = self.peer_failure()
        if self.passed:
            head = [f"{self.dialogue.path}: passed ({self.outcome.value})"]
        elif first is not None or (peer is not None and self.outcome.status == 0):
            failed = first if first is not None else peer
            assert failed is not None
            whose = "" if first is not None else "the peer dialogue's "
            verdict = self.outcome.value if first is not None else "mismatch"
            head = [
                f"{failed.where.file_line}: {whose}{failed.label} failed ({verdict})",
                f"  expected: {failed.expected}",
                f"  received: {failed.received or ''}",
            ]
        else:
            head = [f"{self.dialogue.path}: the chat failed ({self.outcome.value}): {self.reason}"]
        steps = [format_result(r) for r in self.results]
        steps += [f"NOT RUN {r.where.file_line} {r.label}" for r in not_run(self.dialogue, self.results)]
        sections = [*head, "", "steps:", *steps]
        if self.peer_results:
            sections += ["", "peer dialogue:", *(format_result(r) for r in self.peer_results)]
        return "\n".join([*sections, "", "chat:", *self.transcript])


def run_over_tcp(dialogue: Dialogue, host: str, port: int, *, deadline: float | None = None) -> ChatRun:
    """Connect to a server and play *dialogue* as its client (``chat-bot --connect``'s own code).

    The chat lasts at most *deadline* seconds (default: the file's `deadline`, else
    :data:`TEST_DEADLINE_S`). Raises :class:`chat.errors.ConnectError` when nothing answers;
    KeyboardInterrupt when Ctrl-C ended the chat.
    """
    from bots.connect import ConnectOptions, run_connect

    transcript: list[str] = []

    def screen(direction: str, text: str) -> None:
        transcript.append(f"{'dialogue' if direction == 'out' else 'target'}: {visible(text)}")

    options = ConnectOptions(deadline=chat_deadline(dialogue, deadline))
    chat = run_connect(dialogue, host, port, options, screen=screen)
    if chat.interrupted is not None:
        raise KeyboardInterrupt
    return ChatRun(dialogue, chat.outcome, chat.reason, chat.results, transcript)


def chat_deadline(dialogue: Dialogue, deadline: float | None = None) -> float:
    """How long a test of *dialogue* may run: *deadline*, else the file's `deadline`, else TEST_DEADLINE_S."""
    if deadline is not None:
        return deadline
    return dialogue.deadline if dialogue.deadline is not None else TEST_DEADLINE_S


class _Screen:
    """What a client shows at its pty, as lines without screen controls; what is typed, and its echo."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.pending = ""  # shown, not yet taken as lines
        self.ended = False  # the program closed its terminal (it ended)
        # What was typed last and where the pending text stood then: the pty's echo of it comes
        # after that point, and must never be taken for what the client shows.
        self._echo: str | None = None
        self._echo_from = 0

    def read(self, until: float | None) -> bool:
        """Read more of the screen, waiting until *until* at most; False when nothing came."""
        import pexpect

        wait = _IDLE_READ_S if until is None else until - time.monotonic()
        if wait <= 0 or self.ended:
            return False
        try:
            chunk = self.terminal.child.read_nonblocking(_READ_SIZE, timeout=wait)
        except pexpect.TIMEOUT:
            return False
        except pexpect.EOF:
            self.ended = True
            return False
        self.pending += _SCREEN_CONTROLS.sub("", chunk)
        return True

    def type(self, text: str) -> None:
        """Type *text* and Enter."""
        self.terminal.send(text)
        self._echo, self._echo_from = text, len(self.pending)

    def prompt(self) -> str | None:
        """The line being shown, not finished yet (a prompt); None when empty or holding the echo."""
        tail = self.pending
        if not tail.strip():
            return None
        if self._echo is not None and tail.find(self._echo, max(0, self._echo_from)) >= 0:
            return None
        return tail

    def lines(self) -> list[str]:
        """The whole lines shown since the last call, the echo of what was typed left out; once the
        program has ended, its unfinished last line too."""
        if self.ended and self.pending:
            self.pending += "\n"
        *complete, self.pending = self.pending.split("\n")
        shown = []
        for line in complete:
            echo = self._echo
            if echo is not None and line.find(echo, max(0, self._echo_from)) >= 0:
                self._echo = None  # the prompt it was typed at goes with it
            else:
                shown.append(line)
            self._echo_from -= len(line) + 1
        return shown


def run_at_terminal(
    dialogue: Dialogue,
    terminal: Terminal,
    *,
    deadline: float | None = None,
    peer: list[StepResult] | None = None,
) -> ChatRun:
    """Drive a client program at its pty with *dialogue*: its sends are typed, the lines shown feed its steps.

    The conversation runs as a screen (:class:`bots.engine.Conversation` with ``screen=True``):
    the script is a sequence, lines that match nothing are passed over (prompts, banners), and
    a prompt-like unfinished line is offered when the awaited step would take it. The chat ends
    the dialogue's way: ``exit`` typed, the terminal closed, or (``end: wait``) the client's own
    exit. *peer* is the list the client's serving peer bot fills with its results
    (:class:`chat_testing.targets.TerminalClient`): it becomes the run's peer results.
    """
    driver = Driver(
        Conversation(dialogue, delays=False, screen=True, deadline=chat_deadline(dialogue, deadline))
    )
    screen = _Screen(terminal)
    run = ChatRun(dialogue, Outcome.ENDED_BY_BOT, "", peer_results=peer if peer is not None else [])
    ended: list[Close] = []

    def perform(actions: list[Action]) -> None:
        for action in actions:
            if type(action) is Send:
                assert isinstance(action, Send)
                if not screen.ended:
                    screen.type(action.text)
                run.transcript.append(f"typed: {quoted(action.text)}")
            elif type(action) is StepResult:
                assert isinstance(action, StepResult)
                run.results.append(action)
            else:
                assert isinstance(action, Close)
                ended.append(action)

    perform(driver.start(time.monotonic(), dialling=False))
    while not ended:
        came = screen.read(driver.wakeup)
        now = time.monotonic()
        for line in screen.lines():
            run.transcript.append(f"shown: {quoted(line)}")
            if line.strip() and not ended:
                perform(driver.receive(line, now))
        prompt = screen.prompt()
        if not ended and prompt is not None and driver.conv.awaits(prompt):
            screen.pending = ""  # a prompt the step waits for
            run.transcript.append(f"shown: {quoted(prompt)}")
            perform(driver.receive(prompt, now))
        if not ended and screen.ended:
            perform(driver.peer_closed(now))
        elif not came and not ended:
            perform(driver.poll(now))
    run.outcome, run.reason = ended[0].outcome, ended[0].reason
    return run


__all__ = ["TEST_DEADLINE_S", "ChatRun", "chat_deadline", "run_at_terminal", "run_over_tcp"]
