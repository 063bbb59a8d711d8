"""Reply templates: ``{name}`` placeholders, ``{{`` and ``}}`` for literal braces.

Deliberately not str.format: a dialogue file is written by someone else, and
format's ``{x.attr}`` / ``{x[0]}`` would let it reach into Python objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# A placeholder is a variable name or a capture number; anything else in braces is an error.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*|[0-9]+)\}|\{|\}")


class TemplateError(ValueError):
    """A template that cannot be parsed; ``offset`` is where in the text the problem is."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed reply text: literal parts and placeholder names, alternating."""

    source: str
    #: Literal text and names: parts[0] text, parts[1] name, parts[2] text, ...
    parts: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The placeholder names, in order of appearance."""
        return self.parts[1::2]

    def render(self, values: Mapping[str, str]) -> str:
        """Fill the placeholders; a name with no value yet renders as empty text."""
        if len(self.parts) == 1:
            return self.parts[0]
        out = []
        for position, part in enumerate(self.parts):
            out.append(values.get(part, "") if position % 2 else part)
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
