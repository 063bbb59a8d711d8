"""The runtime search over a dialogue's rules: the first rule that matches and whose conditions hold.

Built once per rule list at load (the top-level rules, each topic's); a turn asks it
with the prepared message (:func:`bots.patterns.prepare`) and a callback that judges
conditional rules. A rule's match carries its groups only when the rule reads them (a
reply, `set`, `remember` or redirect using a capture); else it is
:data:`~bots.patterns.NO_CAPTURES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bots import patterns

if TYPE_CHECKING:
    from bots.model import Rule

SEGMENTS_PER_BLOCK = 32  # after a declined rule, the search takes at most this many look-ups
# segment by segment before it can take whole blocks at once: 1,000 conditional rules cost
# about 60 small look-ups per declined rule, not 1,000


class RuleList:
    """Rules tried in order through one index: the top-level rules, or one topic's.

    A rule with a condition may decline a message its pattern matched. The rules are
    then also cut into segments, each ending at a conditional rule, and the segments
    into blocks, with an index each (built at load, O(rules) in all, so that no chat
    pays for them mid-turn). After a declined rule the search goes on from the next
    segment, through whole blocks where it can, never scanning every later rule.
    """

    __slots__ = ("_blocks", "_segments", "_starts", "index", "rules")

    def __init__(self, rules: tuple[Rule, ...], index: patterns.RuleIndex | None = None) -> None:
        self.rules = rules
        self.index = rule_index(rules) if index is None else index
        self._segments: list[tuple[int, patterns.RuleIndex]] = []
        self._blocks: list[tuple[int, patterns.RuleIndex]] = []
        #: For each conditional rule (and the last), the number of the segment it ends.
        self._starts: dict[int, int] = {}
        if any(rule.conditional for rule in rules):
            self._cut()

    def match(self, text: str) -> tuple[Rule, patterns.Match] | None:
        """The first rule whose pattern matches *text* (conditions not asked), or None."""
        found = self.index.match(text)
        return None if found is None else (self.rules[found[0]], found[1])

    def first(
        self, text: str, folded: str, accepts: Callable[[Rule], bool]
    ) -> tuple[Rule, patterns.Match] | None:
        """The first rule matching the prepared message (*text* its NFC form, *folded* that case-folded)
        that *accepts* (asked only of conditional rules) allows."""
        found = self.index.search(text, folded)
        if found is None:
            return None
        rule = self.rules[found[0]]
        if not rule.conditional or accepts(rule):
            return rule, found[1]
        segment = self._starts[found[0]] + 1
        while segment < len(self._segments):
            whole = segment % SEGMENTS_PER_BLOCK == 0
            offset, index = self._blocks[segment // SEGMENTS_PER_BLOCK] if whole else self._segments[segment]
            later = index.search(text, folded)
            if later is None:
                segment += SEGMENTS_PER_BLOCK if whole else 1
                continue
            position = offset + later[0]
            rule = self.rules[position]
            if not rule.conditional or accepts(rule):
                return rule, later[1]
            segment = self._starts[position] + 1
        return None

    def _cut(self) -> None:
        """Build the segments (each ending at a conditional rule) and blocks of them."""
        start = 0
        for position, rule in enumerate(self.rules):
            if rule.conditional or position == len(self.rules) - 1:
                self._starts[position] = len(self._segments)
                self._segments.append((start, rule_index(self.rules[start : position + 1])))
                start = position + 1
        for first in range(0, len(self._segments), SEGMENTS_PER_BLOCK):
            begin = self._segments[first][0]
            last = min(first + SEGMENTS_PER_BLOCK, len(self._segments)) - 1
            end = self._segments[last + 1][0] if last + 1 < len(self._segments) else len(self.rules)
            self._blocks.append((begin, rule_index(self.rules[begin:end])))


def rule_index(rules: tuple[Rule, ...]) -> patterns.RuleIndex:
    """The index that finds the first of *rules* whose pattern matches a message."""
    return patterns.RuleIndex(
        [list(zip(r.pattern.regexes, r.pattern.literals, strict=True)) for r in rules],
        [r.pattern.runs for r in rules],
        [r.uses_captures for r in rules],
    )
