"""The message as patterns see it, prepared once per turn: its NFC text and that text case-folded.

Patterns see the message in Unicode NFC, and case-insensitive ones see it case-folded
(:mod:`bots.normalize`); captures are read from the NFC text, never the folded one. Both
are cut to what one match may read, so a long message costs what a short one does.
"""

from __future__ import annotations

from bots.normalize import fold, nfc

MAX_MATCH_CHARS = 1024  # patterns see at most this much of a message: a long paragraph, far
# more than a chat line, and it bounds the cost of one match (RE2 is linear in the text). The
# property test found accepted regexes over the 10 ms bound at the former caps: at 4,096,
# (((a))((a))((a)|(a))*){0,20} took 10.6 ms (captures make RE2 track many threads); at 2,048,
# (\S{0,20}b|a*?a{0,20}[^x]{0,20}){1,5}aaa\b took 7.5 ms alone and 10.2 ms on a busy machine.
# 1,024 halves every match's worst cost again (3.8 ms for that one), leaving room for load
MAX_MATCH_BYTES = 1024  # ... and at most this much of its UTF-8 (341 CJK characters):
# RE2 walks bytes, so this is what bounds a match's time for every script alike


def prepare(message: str) -> tuple[str, str]:
    """What patterns see of *message*: its NFC text and that text case-folded, each capped.

    A turn prepares its message once and hands both forms to every pattern it tries (the
    abort patterns, the awaited step, the rules).
    """
    subject = message[:MAX_MATCH_CHARS]
    if subject.isascii():  # the usual message: one byte a character, nothing to compose or fold
        return subject, subject.lower()
    subject = _first_bytes(nfc(subject))
    return subject, _first_bytes(fold(subject))


def _first_bytes(text: str) -> str:
    """The longest start of *text* whose UTF-8 fits in MAX_MATCH_BYTES (RE2's cost is per byte)."""
    data = text.encode()
    if len(data) <= MAX_MATCH_BYTES:
        return text
    return data[:MAX_MATCH_BYTES].decode("utf-8", "ignore")  # "ignore": drop a cut character


__all__ = ["MAX_MATCH_BYTES", "MAX_MATCH_CHARS", "prepare"]
