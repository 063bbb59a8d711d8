"""Run one dialogue test against a target: over TCP (a server) or at a client's terminal.

This is the engine of the pytest plugin's ``test_*.chat.yaml`` items, usable without pytest:
:func:`run_over_tcp` plays the dialogue as ``chat-bot --connect`` does (the same code,
:func:`bots.connect.run_connect`); :func:`run_at_terminal` types the ``say`` steps at a client
program and matches the ``expect`` steps against what it shows.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bots.engine import Outcome, StepResult
from bots.model import Dialogue, Step
from bots.report import format_result, not_run
from chat.display import visible

if TYPE_CHECKING:
    from chat_testing.terminal import Terminal

#: Escape sequences a client draws its screen with (colours, cursor moves, line clears) and the
#: carriage returns of the pty: none of it is text the person reads.
_SCREEN_CONTROLS = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>78]|\r|\x07")
#: How much one read from the pty takes.
_READ_SIZE = 4096


@dataclass
class ChatRun:
    """What one dialogue test did: how it ended, each step's result, and the chat as lines."""

    dialogue: Dialogue
    outcome: Outcome
    reason: str
    results: list[StepResult] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every expect step passed and the chat ended well."""
        return self.outcome.status == 0

    def first_failure(self) -> StepResult | None:
        """The first failed step, if one failed (a chat can also fail by ending early)."""
        return next((r for r in self.results if r.verdict == "FAIL"), None)

    def report(self) -> str:
        """The report: the failing step as FILE:LINE, expected, received (or a pass); every step; the chat."""
        first = self.first_failure()
        if self.passed:
            head = [f"{self.dialogue.path}: passed ({self.outcome.value})"]
        elif first is not None:
            head = [
                f"{first.where.file_line}: {first.label} failed ({self.outcome.value})",
                f"  expected: {first.expected}",
                f"  received: {visible(first.received or '')}",
            ]
        else:
            head = [f"{self.dialogue.path}: the chat failed ({self.outcome.value}): {self.reason}"]
        steps = [format_result(r) for r in self.results]
        steps += [f"NOT RUN {r.where.file_line} {r.label}" for r in not_run(self.dialogue, self.results)]
        return "\n".join([*head, "", "steps:", *steps, "", "chat:", *self.transcript])


def run_over_tcp(dialogue: Dialogue, host: str, port: int) -> ChatRun:
    """Connect to a server and play *dialogue* as its client (``chat-bot --connect``'s own code).

    Raises :class:`chat.errors.ConnectError` when nothing answers; KeyboardInterrupt when
    Ctrl-C ended the chat.
    """
    from bots.connect import ConnectOptions, run_connect

    transcript: list[str] = []

    def screen(direction: str, text: str) -> None:
        transcript.append(f"{'dialogue' if direction == 'out' else 'target'}: {visible(text)}")

    chat = run_connect(dialogue, host, port, ConnectOptions(), screen=screen)
    if chat.interrupted is not None:
        raise KeyboardInterrupt
    return ChatRun(dialogue, chat.outcome, chat.reason, chat.results, transcript)


class _Screen:
    """What a client shows at its pty, as lines without screen controls, read as far as needed."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.pending = ""  # shown, not yet matched or skipped

    def read(self, deadline: float) -> bool:
        """Read more of the screen; False when the deadline passed or the client ended."""
        import pexpect

        wait = deadline - time.monotonic()
        if wait <= 0:
            return False
        try:
            chunk = self.terminal.child.read_nonblocking(_READ_SIZE, timeout=wait)
        except (pexpect.TIMEOUT, pexpect.EOF):
            return False
        self.pending += _SCREEN_CONTROLS.sub("", chunk)
        return True

    def skip_echo(self, typed: str, deadline: float) -> None:
        """Drop the echo of what was just typed: an expect step must never match it."""
        while typed not in self.pending:
            if not self.read(deadline):
                return  # a client that does not echo: nothing to drop
        self.pending = self.pending[self.pending.index(typed) + len(typed) :]

    def lines(self) -> list[str]:
        """The lines shown since the last match; the last may be unfinished (a prompt)."""
        return self.pending.split("\n")

    def consume(self, through: int) -> None:
        """Forget the lines up to and including line *through* of :meth:`lines`."""
        self.pending = "\n".join(self.lines()[through + 1 :])


def run_at_terminal(dialogue: Dialogue, terminal: Terminal) -> ChatRun:
    """Drive a client program at its pty: type the say steps, match the expect steps on its screen.

    An expect step passes on the first line shown (after the echo of the last say) that its
    pattern finds; lines before it are skipped (prompts, banners). It fails when no line matched
    within the step's timeout (a mismatch when the client showed lines, a timeout when it showed
    nothing), or when a line matches one of the dialogue's abort patterns.
    """
    screen = _Screen(terminal)
    results: list[StepResult] = []
    transcript: list[str] = []
    for step in dialogue.script:
        began = time.monotonic()
        if step.kind == "say":
            assert step.reply is not None
            text = step.reply.choices[0].render(dialogue.variables)
            terminal.send(text)
            transcript.append(f"typed: {visible(text)}")
            results.append(
                StepResult("PASS", step.where, f"step {step.number} say", None, repr(text), 0.0, step)
            )
            screen.skip_echo(text, began + step.timeout)
            continue
        failed = _expect(dialogue, step, screen, transcript, results)
        if failed is not None:
            return ChatRun(dialogue, failed, _reason(failed), results, transcript)
    return ChatRun(dialogue, Outcome.ENDED_BY_BOT, "the script ran to its end", results, transcript)


def _expect(
    dialogue: Dialogue, step: Step, screen: _Screen, transcript: list[str], results: list[StepResult]
) -> Outcome | None:
    """Wait for a line matching *step*; record its result; return the failing outcome, or None."""
    assert step.pattern is not None
    began = time.monotonic()
    deadline = began + step.timeout
    seen: list[str] = []
    checked = 0  # complete lines already looked at
    while True:
        lines = screen.lines()
        complete = len(lines) - 1
        for number, line in enumerate(lines):
            if number < checked:
                continue
            if number < complete:
                checked = number + 1
                transcript.append(f"shown: {visible(line)}")
                if line.strip():
                    seen.append(line)
            abort = next((p for p in dialogue.abort if p.search(line)), None)
            if abort is not None:
                results.append(_result("FAIL", step, visible(line), began))
                return Outcome.ABORT
            if step.pattern.search(line):
                if number == complete:  # a prompt-like unfinished line
                    transcript.append(f"shown: {visible(line)}")
                screen.consume(number)
                results.append(_result("PASS", step, line, began))
                return None
        if not screen.read(deadline):
            if screen.lines()[-1].strip():
                seen.append(screen.lines()[-1])
            received = " | ".join(visible(s) for s in seen) if seen else "nothing"
            results.append(_result("FAIL", step, received, began))
            return Outcome.MISMATCH if seen else Outcome.TIMEOUT


def _result(verdict: str, step: Step, received: str, began: float) -> StepResult:
    assert step.pattern is not None
    elapsed = time.monotonic() - began
    return StepResult(
        verdict, step.where, f"step {step.number} expect", step.pattern.describe(), received, elapsed, step
    )


def _reason(outcome: Outcome) -> str:
    return {
        Outcome.ABORT: "the client showed an abort pattern",
        Outcome.MISMATCH: "no line the client showed matched",
        Outcome.TIMEOUT: "the client showed nothing before the step's timeout",
    }.get(outcome, outcome.value)


__all__ = ["ChatRun", "run_at_terminal", "run_over_tcp"]
