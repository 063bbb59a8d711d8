"""What a person sees of a peer's text: controls made visible, and lines flushed at once.

Shared by every program: the classic chat screens, chat-bot's chat lines and its
problem reports all show text that someone else wrote.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from typing import TextIO

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


def say(line: str, stream: TextIO | None = None) -> None:
    """Print one line on *stream* (stdout by default) and flush at once, so a peer program or a
    pipe sees it now. Once the terminal is gone (its window closed: EIO), nothing more is shown."""
    out = sys.stdout if stream is None else stream
    try:
        print(line, file=out, flush=True)
    except OSError:
        _discard(out)


def settle_output() -> None:
    """Flush stdout and stderr, dropping what can no longer be written (a closed terminal).

    Python flushes them at exit, and a failure there makes the exit status 120.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            _discard(stream)
        except ValueError:  # closed by someone else: nothing to flush
            pass


def _discard(stream: TextIO) -> None:
    # From now on the stream's descriptor writes to the null device: what waits in its buffer,
    # and all that follows, goes nowhere instead of failing again (at exit too).
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)
        stream.flush()
    except (OSError, ValueError):
        pass
