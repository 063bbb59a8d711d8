"""Word lists in patterns: ``{colors}`` in an exact, contains or glob pattern means any item of a list.

A pattern text is expanded at load, before anything is compiled, into one text per
combination of the items of the lists it names (``i like {colors}`` becomes ``i like
red``, ``i like green``...). Each text then goes through the matcher's entry point
for its kind like any other alternative, so a list item matches exactly as if it had
been written in the pattern: same case rule, same blanks, same normalisation.

Braces in patterns follow the reply templates' rule: ``{{`` and ``}}`` are literal
braces; a brace that does not form ``{name}`` is kept as written. Regex patterns are
never expanded: there ``{2,3}`` is a repeat.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

MAX_ALTERNATIVES = 256  # texts one pattern text may expand to: a list of a few dozen words
# used once or twice; every text is one compiled alternative, so this bounds what one line costs
#: Characters a list item cannot hold: a glob would read * and ? as wildcards, and braces as lists.
RESERVED = "*?{}"

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ListError(ValueError):
    """A pattern text that cannot be expanded; ``offset`` is where in the text the problem is."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def expand(text: str, lists: Mapping[str, Sequence[str]]) -> list[str]:
    """Every text *text* stands for, with each ``{name}`` replaced by each item of list *name*."""
    texts = [""]
    position = 0
    for token in _TOKEN.finditer(text):
        literal = text[position : token.start()]
        position = token.end()
        name = token.group(1)
        if name is None:
            texts = [t + literal + token.group(0)[0] for t in texts]
            continue
        if name not in lists:
            known = f" (lists here: {', '.join(sorted(lists))})" if lists else ""
            raise ListError(
                f"{{{name}}} is not a word list: define it under 'lists'{known}, "
                "or write {{ and }} for literal braces",
                token.start(),
            )
        items = lists[name]
        if len(texts) * len(items) > MAX_ALTERNATIVES:
            raise ListError(
                f"this pattern stands for more than {MAX_ALTERNATIVES} texts: "
                "use fewer or shorter lists in one pattern, or split it into several rules",
                token.start(),
            )
        texts = [t + literal + item for t in texts for item in items]
    return [t + text[position:] for t in texts]
