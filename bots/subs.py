"""Substitutions: words and phrases of a message rewritten before the rules see it (RiveScript's ``! sub``).

``subs: {"what's": "what is", "i'm": "i am"}`` lets one rule written for ``what is``
answer ``What's`` too. A substitution replaces whole words only (``i'm`` is not found
in ``hi'm``), in any case; the longest one wins where several start at the same place
(``what's up`` before ``what's``); and all are made in one pass over the message, so a
replacement is never itself substituted again (``i am`` -> ``you are`` and ``you are``
-> ``i am`` swap, they do not undo each other). Pure: no state, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from chat.value import Value

MAX_SUBSTITUTIONS = 1000  # RiveScript's and ELIZA's tables hold a few dozen; every message
# runs one search over all of them, so the bound keeps a turn's cost small


class Substitutions(Value):
    """A table of substitutions compiled into one search (an alternation, longest first)."""

    __slots__ = ("_regex", "_replacements", "pairs")
    __match_args__ = ("pairs",)  # equal when the tables are: the compiled search follows from it

    def __init__(self, pairs: Mapping[str, str]) -> None:
        #: The table as written: what to find -> what to put in its place.
        self.pairs = dict(pairs)
        # Longest first: at one place the alternation takes the first that matches.
        found = sorted((key for key in self.pairs if key.strip()), key=lambda key: -len(key.strip()))
        self._replacements = [self.pairs[key] for key in found]
        alternatives = "|".join(f"({_whole_words(key)})" for key in found)
        self._regex = re.compile(alternatives, re.IGNORECASE) if found else None

    def __bool__(self) -> bool:
        return self._regex is not None

    def apply(self, text: str) -> str:
        """*text* with every substitution made, in one pass."""
        if self._regex is None:
            return text
        replacements = self._replacements
        return self._regex.sub(lambda match: replacements[(match.lastindex or 1) - 1], text)


def _whole_words(key: str) -> str:
    """A key as a regex: blanks inside match any blanks; a word boundary where it starts or ends a word."""
    words = key.split()
    body = r"\s+".join(re.escape(word) for word in words)
    start = r"(?<!\w)" if _is_word(words[0][0]) else ""
    end = r"(?!\w)" if _is_word(words[-1][-1]) else ""
    return start + body + end


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"
