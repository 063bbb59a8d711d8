"""What a conversation tells whoever watches which parts of its dialogue it used (``--coverage``).

The engine holds an optional :class:`Observer` (None by default: a turn then pays one
attribute check) and calls it as a turn uses a rule, follows a redirect, recalls a
remembered reply, falls back, or runs a script step. :mod:`bots.coverage` implements it;
the engine knows only this protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bots.model import Dialogue, Reply, Rule, Step


class Observer(Protocol):
    """Told what one conversation used, as it uses it."""

    def rule(self, rule: Rule, message: str) -> None:
        """*rule* answered *message* (the clause the rules saw, substitutions made), or redirected it."""

    def redirect(self, rule: Rule, found: bool) -> None:
        """*rule*'s redirect was followed; *found*: some rule answered the redirected text."""

    def recalled(self) -> None:
        """No rule answered: the oldest remembered reply was sent."""

    def fallback(self, reply: Reply) -> None:
        """No rule answered and nothing was remembered: *reply* (a topic's or the dialogue's) was sent."""

    def step(self, step: Step) -> None:
        """A script step ran: a say step's text went out, or an expect step took its line(s)."""


class Observing(Protocol):
    """Makes an observer for each conversation of a program run (the serving bot's many chats)."""

    def observer(self, dialogue: Dialogue) -> Observer:
        """A new observer for one conversation on *dialogue*."""


__all__ = ["Observer", "Observing"]
