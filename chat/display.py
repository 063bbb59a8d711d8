"""What a person sees of a peer's text: controls made visible, and lines flushed at once.

Shared by every program: the classic chat screens, chat-bot's chat lines and its
problem reports all show text that someone else wrote.
"""

from __future__ import annotations

import unicodedata

# Characters a terminal may act on instead of showing: C0/C1 controls (ESC starts
# escape sequences) and the bidirectional overrides that can reorder what is shown.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def visible(text: str) -> str:
    """Return *text* safe to print: controls and escape sequences become visible escapes.

    ``ESC [31m`` from a peer prints as ``\\x1b[31m``: the person sees it, the
    terminal never executes it. Tabs stay tabs; everything printable is kept,
    accents, CJK, right-to-left scripts and emoji included.
    """
    if text.isprintable():
        return text
    out: list[str] = []
    for char in text:
        if char == "\t":
            out.append(char)
        elif char in _BIDI_CONTROLS:
            out.append(f"\\u{ord(char):04x}")
        elif unicodedata.category(char) == "Cc":
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def quoted(text: str) -> str:
    """*text* as a YAML scalar that reads back as exactly *text*, and is safe to print.

    Single quotes (where a backslash is just a backslash, so ``'^:\\S+ 001 '`` pastes into a
    dialogue file unchanged) when every character is printable; else double quotes, with
    each control or invisible character as its YAML escape (``"a\\x0db"``). Reports quote
    patterns and received text with it, whatever the target.
    """
    if text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    out: list[str] = ['"']
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable() and char not in _BIDI_CONTROLS:
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def say(line: str) -> None:
    """Print one line and flush at once, so a peer program or a pipe sees it now."""
    print(line, flush=True)
