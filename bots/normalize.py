"""Message normalisation for matching: Unicode NFC, case folding, and the way back to the original text.

Patterns see a message in its NFC form (``école`` typed with a combining accent is
the same text as ``école`` typed with one key), and case-insensitive patterns see it
case-folded (``str.casefold``: ``STRASSE`` and ``straße`` both become ``strasse``).
Folding can lengthen the text (``ß`` -> ``ss``), so a match found in the folded text
is mapped back to the NFC text with :func:`fold_offsets` before captures are read:
a reply quotes what the person wrote, not its folded form.
"""

from __future__ import annotations

import unicodedata


def nfc(text: str) -> str:
    """*text* in Unicode normal form C (composed), cheaply when it already is."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """*text* case-folded: the form case-insensitive patterns and the rule index compare."""
    if text.isascii():  # the usual message: lower() is casefold() on ASCII, and faster
        return text.lower()
    return text.casefold()


def fold_offsets(text: str) -> list[int]:
    """For each position of ``fold(text)`` (and its end), the position of *text* it comes from.

    ``str.casefold`` folds character by character (no character folds to nothing), so
    each character of *text* becomes one or more characters of the folded text.
    """
    offsets: list[int] = []
    for position, char in enumerate(text):
        offsets.extend([position] * len(char.casefold()))
    offsets.append(len(text))
    return offsets
