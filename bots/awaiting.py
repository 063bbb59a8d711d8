"""The expect step a chat is waiting on: the patterns still to come, the lines taken and passed over.

One line (``expect``), several in order or in any order (``expect_lines``), or every line
up to one that matches (``expect_until``): :meth:`Awaiting.offer` takes a line or declines
it, and says when the step is done.
"""

from __future__ import annotations

from bots.model import Block, Pattern, Step
from bots.patterns import Match, prepare
from chat.display import quoted

SHOWN_LINES = 3  # lines a report shows of those a step passed over: the last few tell what came instead


class Awaiting:
    """The current expect step's progress: created when the step becomes current."""

    __slots__ = ("_left", "seen", "step", "taken")

    def __init__(self, step: Step) -> None:
        self.step = step
        self._left: list[Pattern] = list(step.patterns)
        #: Lines the step took so far.
        self.taken = 0
        #: Lines it passed over (they matched nothing), for a report of what came instead.
        self.seen: list[str] = []

    def offer(self, text: str, folded: str) -> tuple[Match | None, bool] | None:
        """Offer a line, prepared (:func:`bots.patterns.prepare`: *text* its NFC form, *folded* that
        case-folded): None when the step declines it; else the match (if the line is one of the step's
        patterns, not a line an ``expect_until`` block takes on its way) and whether the step is done."""
        step = self.step
        left = self._left
        if step.block is Block.UNTIL:
            found = left[0].find(text, folded)
            self.taken += 1
            return found, found is not None
        for position, pattern in enumerate(left if step.any_order else left[:1]):
            found = pattern.find(text, folded)
            if found is not None:
                del left[position]
                self.taken += 1
                return found, not left
        return None

    def would_take(self, text: str) -> bool:
        """Whether *text* matches a pattern the step awaits now (a peek: nothing changes)."""
        left = self._left
        prepared = prepare(text)
        if self.step.block is Block.UNTIL or not self.step.any_order:
            return left[0].find(*prepared) is not None
        return any(pattern.find(*prepared) is not None for pattern in left)

    def took(self, text: str) -> str:
        """What the report shows as received when *text* completed the step."""
        return quoted(text) if self.taken == 1 else f"{quoted(text)} (the last of {self.taken} lines)"

    def missing(self, when: str) -> str:
        """What the step received instead of its lines: nothing, or lines that did not match."""
        if self.taken:
            return f"{self.taken} of its lines, then nothing {when}"
        if self.seen:
            shown = ", ".join(quoted(line) for line in self.seen[-SHOWN_LINES:])
            some = "" if len(self.seen) <= SHOWN_LINES else f", the last {SHOWN_LINES}"
            return f"{len(self.seen)} line(s) matching nothing{some}: {shown}; then nothing {when}"
        return f"nothing {when}"


__all__ = ["Awaiting"]
