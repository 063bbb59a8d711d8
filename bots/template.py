"""Reply templates: ``{name}`` placeholders, ``{{`` and ``}}`` for literal braces.

Deliberately not str.format: a dialogue file is written by someone else, and
format's ``{x.attr}`` / ``{x[0]}`` would let it reach into Python objects.

Every filled text is bounded (issue 19, item 2): a template has a *limit* in
characters, and a text that would pass it is never built whole. A reply over its limit
renders as its *refusal* (the bot says that instead); a variable's value, a remembered
reply or a redirect is cut at its limit (:mod:`bots.limits` has the limits and why).
"""

from __future__ import annotations

import re

from bots.limits import MAX_REPLY_CHARS, REPLY_REFUSED
from chat.protocol import EXIT_WORD
from chat.value import Value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from collections.abc import Mapping

_EXIT_LETTERS = frozenset(EXIT_WORD)  # what a text that says `exit` is made of, blanks aside

# A placeholder is a variable name or a capture number; anything else in braces is an error.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*|[0-9]+)\}|\{|\}")


class TemplateError(ValueError):
    """A template that cannot be parsed; ``offset`` is where in the text the problem is."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class Template(Value):
    """A parsed reply text: literal parts and placeholder names, alternating."""

    __slots__ = ("_literal", "_slots", "limit", "may_exit", "parts", "refusal", "source")
    __match_args__ = ("source", "parts")

    def __init__(
        self,
        source: str,
        parts: tuple[str, ...],
        limit: int = MAX_REPLY_CHARS,
        refusal: str | None = REPLY_REFUSED,
    ) -> None:
        self.source = source
        #: Literal text and names: parts[0] text, parts[1] name, parts[2] text, ...
        self.parts = parts
        #: The most characters a filled text holds.
        self.limit = limit
        #: What a text over the limit renders as (a reply's notice); None: the text cut at the limit.
        self.refusal = refusal
        # Per placeholder, its place in parts and its name; and the literal text's size: made once.
        self._slots = tuple((position, parts[position]) for position in range(1, len(parts), 2))
        self._literal = sum(map(len, parts[0::2]))
        #: Whether a fill can be the word `exit`: not when its literal text holds anything else but
        #: blanks (a cut text might lose that text, so a template that cuts always may).
        self.may_exit = refusal is None or all(
            char.isspace() or set(char.lower()) <= _EXIT_LETTERS for char in "".join(parts[0::2])
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The placeholder names, in order of appearance."""
        return self.parts[1::2]

    def render(self, values: Mapping[str, str]) -> str:
        """Fill the placeholders; a name with no value yet renders as empty text."""
        return self.fill(values, {})

    def fill(self, values: Mapping[str, str], defaults: Mapping[str, str]) -> str:
        """As :meth:`render` with ``{**defaults, **values}``, without building that mapping.

        Never longer than the limit: over it, the refusal, or the text cut at the limit.
        """
        parts = self.parts
        if len(parts) == 1:
            text = parts[0]
            return text if len(text) <= self.limit else self._over([text])
        out = list(parts)
        size = self._literal
        for position, name in self._slots:
            value = values.get(name)
            if value is None:
                value = defaults.get(name, "")
            out[position] = value
            size += len(value)
        if size > self.limit:  # counted before joining: {input}{input}... is never built
            return self._over(out)
        return "".join(out)

    def _over(self, pieces: list[str]) -> str:
        """The refusal, or the first *limit* characters of the pieces joined."""
        if self.refusal is not None:
            return self.refusal
        kept: list[str] = []
        room = self.limit
        for piece in pieces:
            if len(piece) >= room:
                kept.append(piece[:room])
                break
            kept.append(piece)
            room -= len(piece)
        return "".join(kept)

    @property
    def literal_size(self) -> int:
        """Characters of literal text (what every fill holds, placeholders aside)."""
        return self._literal


def parse_template(
    source: str, limit: int = MAX_REPLY_CHARS, refusal: str | None = REPLY_REFUSED
) -> Template:
    """Parse *source* (filled at most *limit* long, see :class:`Template`); raise :class:`TemplateError`
    on an unmatched or malformed brace."""
    parts: list[str] = []
    text: list[str] = []
    position = 0
    for token in _TOKEN.finditer(source):
        text.append(source[position : token.start()])
        position = token.end()
        lexeme = token.group(0)
        if lexeme == "{{":
            text.append("{")
        elif lexeme == "}}":
            text.append("}")
        elif token.group(1) is not None:
            parts.append("".join(text))
            text.clear()
            parts.append(token.group(1))
        elif lexeme == "{":
            raise TemplateError(
                "'{' starts no placeholder: write {name} for a value, or {{ for a literal brace",
                token.start(),
            )
        else:
            raise TemplateError("'}' closes no placeholder: write }} for a literal brace", token.start())
    text.append(source[position:])
    parts.append("".join(text))
    return Template(source, tuple(parts), limit, refusal)
