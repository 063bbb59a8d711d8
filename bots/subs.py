"""Substitutions: words and phrases of a message rewritten before the rules see it (RiveScript's ``! sub``).

``subs: {"what's": "what is", "i'm": "i am"}`` lets one rule written for ``what is``
answer ``What's`` too. A substitution replaces whole words only (``i'm`` is not found
in ``hi'm``), in any case; the longest one wins where several start at the same place
(``what's up`` before ``what's``); and all are made in one pass over the message, so a
replacement is never itself substituted again (``i am`` -> ``you are`` and ``you are``
-> ``i am`` swap, they do not undo each other). Pure: no state, no I/O.

Substitutions see what patterns see (issue 19, item 3): the first
:data:`~bots.patterns.MAX_MATCH_CHARS` characters of the message, in NFC and
case-folded as patterns compare them (issue 20: ``café`` typed with a combining accent
is ``café``, ``Straße`` is ``strasse``), in time linear in those characters whatever
the table. :class:`Phrases` does the finding, for the clause delimiters too: the text
is cut into tokens (a run of word characters, a run of blanks, or one other character)
and a phrase is a sequence of whole tokens, so a word boundary is a token boundary
(``i'm``, tokens ``i`` ``'`` ``m``, is never found inside ``hi'm``) and a phrase that
starts with punctuation (``:)``) is found after any character. From each token, one
walk down a trie of the phrases' tokens finds the longest phrase there; a phrase holds
at most :data:`MAX_KEY_CHARS` characters, so no walk is longer. The former search, a
backtracking ``re`` alternation over the whole message, took 3.67 s for 100 keys on a
792 KB message, and over 120 s for 1,000 keys on 1 MB.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bots.normalize import fold, fold_offsets, nfc
from bots.patterns import MAX_MATCH_CHARS
from chat.value import Value

MAX_SUBSTITUTIONS = 1000  # RiveScript's and ELIZA's tables hold a few dozen; the bound keeps
# loading a table cheap (a message's cost does not depend on it: one trie walk per token)
MAX_KEY_CHARS = 32  # a substituted word or phrase (`what's up`) is a few words: the bound caps
# each walk down the trie at 32 tokens, so a message costs at most 32 steps a token: 2.3 ms for
# the worst table and message (keys `a.a.a...` on `a.a.a...`), 0.25 ms for 1,000 ordinary keys
# Python's re with str patterns: \w and \s are Unicode (str.isalnum() or _, str.isspace()),
# the same characters the former whole-word regexes used. Linear: no alternative overlaps.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
_BLANK = " "  # every run of blanks is one token, equal to any other: "i  am" is "i am"


def tokens_of(text: str) -> tuple[str, ...]:
    """*text* as a phrase: NFC, case-folded, in tokens, each run of blanks one blank, none at the ends."""
    folded = fold(nfc(text))
    found = tuple(_BLANK if token.isspace() else token for token in _TOKEN.findall(folded))
    start, end = 0, len(found)
    while start < end and found[start] == _BLANK:
        start += 1
    while end > start and found[end - 1] == _BLANK:
        end -= 1
    return found[start:end]


class Phrases:
    """Whole-token phrases found in one pass, leftmost first and longest where several start.

    *phrases* maps each phrase to a value handed back where it is found (a replacement).
    """

    __slots__ = ("_ends", "_steps")

    def __init__(self, phrases: Iterable[tuple[str, str]]) -> None:
        # The trie, flat: (node, token) -> the next node; node 0 is the root. A node where a
        # whole phrase ends maps to its value in _ends.
        self._steps: dict[tuple[int, str], int] = {}
        self._ends: dict[int, str] = {}
        for phrase, value in phrases:
            tokens = tokens_of(phrase)
            if not tokens:
                continue
            node = 0
            for token in tokens:
                node = self._steps.setdefault((node, token), len(self._steps) + 1)
            self._ends[node] = value

    def __bool__(self) -> bool:
        return bool(self._ends)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Each phrase found in *text* (NFC): its start and end in *text*, and its value; in order.

        Time linear in *text* (at most MAX_KEY_CHARS trie steps a token): callers pass a bounded
        prefix of a message, never a whole one.
        """
        folded = fold(text)
        spans = [(m.start(), m.end()) for m in _TOKEN.finditer(folded)]
        tokens = [_BLANK if folded[a].isspace() else folded[a:b] for a, b in spans]
        # Folding may lengthen the text (ß -> ss): map folded positions back to *text*.
        back = fold_offsets(text) if len(folded) != len(text) else None
        steps, ends = self._steps, self._ends
        found: list[tuple[int, int, str]] = []
        count = len(tokens)
        at = 0
        while at < count:
            node = steps.get((0, tokens[at]))
            after, value = 0, ""  # the token after the longest phrase from here (0: none)
            end = at
            while node is not None:  # at most a phrase's tokens: MAX_KEY_CHARS steps
                end += 1
                if node in ends:
                    after, value = end, ends[node]
                node = steps.get((node, tokens[end])) if end < count else None
            if not after:
                at += 1
                continue
            start, stop = spans[at][0], spans[after - 1][1]
            if back is not None:
                start, stop = back[start], back[stop - 1] + 1
            found.append((start, stop, value))
            at = after
        return found


class Substitutions(Value):
    """A table of substitutions, found with :class:`Phrases` (the longest key wins)."""

    __slots__ = ("_phrases", "pairs")
    __match_args__ = ("pairs",)  # equal when the tables are: the trie follows from it

    def __init__(self, pairs: dict[str, str]) -> None:
        #: The table as written: what to find -> what to put in its place.
        self.pairs = dict(pairs)
        self._phrases = Phrases((key, nfc(into)) for key, into in self.pairs.items())

    def __bool__(self) -> bool:
        return bool(self._phrases)

    def apply(self, text: str) -> str:
        """What the rules see of *text*: its first MAX_MATCH_CHARS characters, in NFC, substituted.

        Without substitutions that is only the cut. Replacements may lengthen the text: the
        result is cut at MAX_MATCH_CHARS again, as patterns never read further.
        """
        subject = text[:MAX_MATCH_CHARS]
        if not self._phrases:
            return subject
        subject = nfc(subject)
        out: list[str] = []
        size = 0
        done = 0  # the end of what is already in out
        for start, stop, replacement in self._phrases.find(subject):
            if size >= MAX_MATCH_CHARS:
                break
            kept = subject[done:start]
            out += (kept, replacement)
            size += len(kept) + len(replacement)
            done = stop
        out.append(subject[done:])
        return "".join(out)[:MAX_MATCH_CHARS]
