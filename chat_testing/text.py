"""Chat text for tests: random lines of any Unicode a chat carries, and regexes hostile to matchers."""

from __future__ import annotations

import random
import unicodedata

# Scripts a chat really carries, by code point ranges: ASCII, accents, Greek, Cyrillic, Hebrew and
# Arabic (right to left), Devanagari, CJK, Hangul, emoji, and the whole of the supplementary planes.
_SCRIPTS = [
    (0x20, 0x7E),
    (0xA0, 0x24F),
    (0x370, 0x3FF),
    (0x400, 0x4FF),
    (0x590, 0x5FF),
    (0x600, 0x6FF),
    (0x900, 0x97F),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0x1F300, 0x1FAFF),
    (0x10000, 0x10FFFF),
]
_ZWJ = "\u200d"  # joins emoji into one glyph: a format character, not a control
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LONG_MESSAGE_CHANCE = 0.01  # one message in a hundred is long: thousands of characters
LONG_MESSAGE_CHARS = 8_000


def random_text(rng: random.Random) -> str:
    """One chat line of random length and content: any Unicode but controls, bidi overrides, surrogates.

    Such text is shown on screen exactly as sent (``chat.terminal.visible`` leaves it alone), so a
    receiver's screen can be compared with what was sent, character for character. Controls are
    the bad-input tests' business. Never the word ``exit``, which would end the chat.
    """
    size = rng.randint(0, LONG_MESSAGE_CHARS) if rng.random() < LONG_MESSAGE_CHANCE else rng.randint(0, 120)
    chars: list[str] = []
    while len(chars) < size:
        low, high = rng.choice(_SCRIPTS) if rng.random() < 0.5 else _SCRIPTS[0]
        char = chr(rng.randint(low, high))
        if char in _BIDI or 0xD800 <= ord(char) <= 0xDFFF or unicodedata.category(char) == "Cc":
            continue
        chars.append(_ZWJ if rng.random() < 0.01 else char)
    text = "".join(chars)
    return text + "!" if text.strip().lower() == "exit" else text


#: Regexes whose match time explodes on a backtracking engine (Python's ``re``, PCRE) for some
#: message: nested and adjacent repeats over the same characters, overlapping alternatives. A
#: chat program that takes patterns from its users must accept none of them or match them in
#: linear time. The first two passed the bot's old shape check and froze it (issue 14).
REDOS_REGEXES = (
    r"\s*\s*\s*x",
    r"\d+\d+\d+\d+z",
    r"(a+)+$",
    r"(a*)*$",
    r"^(a+)+b",
    r"(x+x+)+y",
    r"(.*a){20}",
    r"(\w+\s?)*$",
    r"(a|a)*$",
    r"(a|aa)+$",
    r"^(a|a?)+$",
    r"(a?){30}a{30}",
)
