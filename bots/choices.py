"""How one chat picks among a reply's texts and its reply delays: in order, at random, never repeating.

Each conversation has one :class:`Choices`; its state (a cursor or a shuffled bag per reply,
a random source) is made on first use, as most chats never choose.
"""

from __future__ import annotations

import bisect
import random

from bots.model import Order, Reply
from bots.template import Template


class Choices:
    """One chat's places in its replies' lists, and its random source (seeded from --seed)."""

    __slots__ = ("_bags", "_cursors", "_last", "_rng", "_seed")

    def __init__(self, seed: str | None) -> None:
        self._seed = seed
        self._rng: random.Random | None = None
        self._cursors: dict[int, int] | None = None
        self._bags: dict[int, list[int]] | None = None
        self._last: dict[int, int] | None = None

    @property
    def rng(self) -> random.Random:
        """This chat's random source: seeded from --seed when given, so runs repeat exactly."""
        if self._rng is None:
            self._rng = random.Random(self._seed) if self._seed is not None else random.Random()
        return self._rng

    def pick(self, reply: Reply) -> Template:
        """The text *reply* sends this time, by its `order`."""
        choices = reply.choices
        count = len(choices)
        if count == 1:
            return choices[0]
        if reply.order is Order.IN_ORDER:
            if self._cursors is None:
                self._cursors = {}
            at = self._cursors.get(reply.key, 0)
            self._cursors[reply.key] = (at + 1) % count
            return choices[at]
        if reply.order is Order.RANDOM:
            totals = reply.totals
            if totals is None:
                return choices[self.rng.randrange(count)]
            # Weighted (format 1.1): a point on the line of running totals names its text.
            return choices[bisect.bisect_right(totals, self.rng.randrange(totals[-1]))]
        # no_repeat: draw from a shuffled bag; refill when empty, never repeating
        # the last choice across the refill.
        if self._bags is None:
            self._bags, self._last = {}, {}
        assert self._last is not None
        bag = self._bags.get(reply.key)
        if not bag:
            bag = list(range(count))
            self.rng.shuffle(bag)
            if bag[-1] == self._last.get(reply.key):
                bag[0], bag[-1] = bag[-1], bag[0]
            self._bags[reply.key] = bag
        chosen = bag.pop()
        self._last[reply.key] = chosen
        return choices[chosen]

    def delay(self, low: float, high: float) -> float:
        """A reply's delay: *low* when the range is one value, else uniform in [low, high]."""
        if low == high:
            return low
        return self.rng.uniform(low, high)


__all__ = ["Choices"]
