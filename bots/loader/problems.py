"""What is wrong with a dialogue file: problems with their file:line:col, and the error that carries them."""

from __future__ import annotations

from collections.abc import Sequence

from bots.model import Where
from chat.display import visible
from chat.errors import ChatError
from chat.status import ExitStatus
from chat.value import Value


class Problem(Value):
    """One error found in a dialogue file."""

    __slots__ = ("message", "where")
    __match_args__ = ("where", "message")

    def __init__(self, where: Where, message: str) -> None:
        self.where = where
        # Keys and values quoted from the file may hold line breaks or escape sequences:
        # shown as visible escapes, a problem stays one harmless line.
        self.message = visible(message)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class DialogueWarning(Problem):
    """Something in a valid dialogue that probably does not do what its author meant (`--check` says so)."""

    __slots__ = ()

    def __str__(self) -> str:
        return f"{self.where}: warning: {self.message}"


class Relayed(Problem):
    """A problem of an included file, repeated at the `include:` line that brought the file in.

    Printed so that an editor jumps to either place; counted once, as the problem it repeats.
    """

    __slots__ = ()


class DialogueError(ChatError):
    """A dialogue file is invalid; carries every problem found, first one in the message."""

    status = ExitStatus.INVALID_DIALOGUE

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        first = str(self.problems[0])
        more = sum(not isinstance(p, Relayed) for p in self.problems) - 1  # each problem counted once
        if more:
            first += f" (and {more} more: run chat-bot --check {self.problems[0].where.file})"
        super().__init__(first)
