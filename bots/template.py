"""Reply templates: ``{name}`` placeholders, ``{{`` and ``}}`` for literal braces.

Deliberately not str.format: a dialogue file is written by someone else, and
format's ``{x.attr}`` / ``{x[0]}`` would let it reach into Python objects.
"""

from __future__ import annotations

import re

from chat.value import Value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from collections.abc import Mapping

# A placeholder is a variable name or a capture number; anything else in braces is an error.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*|[0-9]+)\}|\{|\}")


class TemplateError(ValueError):
    """A template that cannot be parsed; ``offset`` is where in the text the problem is."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class Template(Value):
    """A parsed reply text: literal parts and placeholder names, alternating."""

    __slots__ = ("parts", "source")
    __match_args__ = ("source", "parts")

    def __init__(self, source: str, parts: tuple[str, ...]) -> None:
        self.source = source
        #: Literal text and names: parts[0] text, parts[1] name, parts[2] text, ...
        self.parts = parts

    @property
    def names(self) -> tuple[str, ...]:
        """The placeholder names, in order of appearance."""
        return self.parts[1::2]

    def render(self, values: Mapping[str, str]) -> str:
        """Fill the placeholders; a name with no value yet renders as empty text."""
        return self.fill(values, {})

    def fill(self, values: Mapping[str, str], defaults: Mapping[str, str]) -> str:
        """As :meth:`render` with ``{**defaults, **values}``, without building that mapping."""
        parts = self.parts
        if len(parts) == 1:
            return parts[0]
        out = list(parts)
        for position in range(1, len(parts), 2):
            name = parts[position]
            value = values.get(name)
            out[position] = value if value is not None else defaults.get(name, "")
        return "".join(out)


def parse_template(source: str) -> Template:
    """Parse *source*; raise :class:`TemplateError` on an unmatched or malformed brace."""
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
    return Template(source, tuple(parts))
