"""The pattern dialect: the character classes patterns are written with, and user regexes in RE2's syntax.

Users write regexes in Python's dialect; RE2 runs them. :func:`translate_regex` keeps
Python's meaning where the two differ (``\\w``, ``\\d``, ``\\s`` and ``\\b`` are Unicode in
Python, ASCII in RE2; ``\\Z``; ``\\uXXXX``), and reads off the literal text every match holds,
for the rule index. :data:`UNICODE` and :data:`ASCII` are the classes the other kinds are
built with, Unicode ones and their ASCII restriction (see :class:`Syntax`).
"""

from __future__ import annotations

import unicodedata

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from bots.normalize import fold
from bots.patterns.refusals import RegexRefused, class_end

MAX_REPEAT_COUNT = 100  # the largest counted repeat, nested counts multiplied: a count
# makes RE2 track that many positions at once, and (.{1,30}){30} (900) costs ~100 ms on a
# 4,096-character message where every repeat up to 100 stays under 10 ms (adversarial suite)

_HEX = frozenset("0123456789abcdefABCDEF")
_OCTAL = frozenset("01234567")


class Syntax:
    r"""The character classes patterns are written with: Unicode ones, or their ASCII restriction.

    RE2's own ``\w``, ``\d``, ``\s`` are ASCII, so Python's Unicode meaning is spelt out
    with Unicode classes. Those make large programs, slow to compile (a few ms each), so
    every pattern also gets a twin written with the classes' ASCII part: exactly the same
    matches on an ASCII message, the usual one, and cheap to build.
    """

    def __init__(self, word: str, digit: str, not_digit: str, space: str, punct: str, no_space: str) -> None:
        self.classes = {
            "w": f"[{word}]",
            "W": f"[^{word}]",
            "d": f"[{digit}]",
            "D": f"[{not_digit}]",
            "s": f"[{space}]",
            "S": f"[^{space}]",
        }
        self.in_class = {"w": word, "d": digit, "D": not_digit, "s": space}
        self.before_any_word = rf"(?:\A|[^{word}])"
        self.after_any_word = rf"(?:\z|[^{word}])"
        # Scripts written without spaces between words: a contains word next to one of
        # these characters needs no word boundary (see contains_regex).
        extra = f"|[{no_space}]" if no_space else ""
        self.before_word = rf"(?:\A|[^{word}]{extra})"
        self.after_word = rf"(?:\z|[^{word}]{extra})"
        self.gap = {
            False: f"[{space}]+",
            True: f"[{space}{punct}]+",
        }  # between words; True: punctuation ignored
        self.edge = {
            False: f"[{space}]*",
            True: f"[{space}{punct}]*",
        }  # before the first, after the last word


def _ascii_punctuation() -> str:
    chars = [chr(c) for c in range(128) if unicodedata.category(chr(c)).startswith("P")]
    return "".join("\\" + c for c in chars)


UNICODE = Syntax(
    word=r"\pL\pN_",
    digit=r"\p{Nd}",
    not_digit=r"\P{Nd}",
    space=r"\t-\r\x{1c}-\x{1f}\x{85}\p{Z}",
    punct=r"\pP",
    no_space=r"\p{Han}\p{Hiragana}\p{Katakana}\x{30FC}",  # U+30FC: the long-vowel mark ー
)
ASCII = Syntax(
    word="0-9A-Za-z_",
    digit="0-9",
    not_digit=r"\x00-/:-\x{7f}",
    space=r"\t-\r\x{1c}-\x{1f} ",
    punct=_ascii_punctuation(),
    no_space="",
)


def is_word_char(char: str) -> bool:
    """Whether *char* is a word character, as Python's ``\\w`` says (letters, digits, ``_``)."""
    return char.isalnum() or char == "_"


def _translate_class(body: str, offset: int, syntax: Syntax) -> str:
    r"""A character class ``[body]`` with Python's Unicode classes inside.

    RE2 cannot put a negated Unicode class inside brackets, so ``[\s\S]`` becomes the
    alternation ``(?:[space]|[^space])``; in a negated class that has no such form, and
    ``[^\W]`` is refused with a hint.
    """
    negated = body.startswith("^")
    out = []
    negations = []
    i = 1 if negated else 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            letter = body[i + 1]
            if letter in syntax.in_class:
                out.append(syntax.in_class[letter])
            elif letter in "WS":
                if negated:
                    raise RegexRefused(
                        f"regex refused: \\{letter} inside [^...] is not supported: use the class "
                        f"without ^ and \\{letter.lower()}, or list the characters you mean",
                        offset + i,
                    )
                negations.append(syntax.classes[letter])
            else:
                out.append(body[i : i + 2])
            i += 2
            continue
        out.append(char)
        i += 1
    inner = "".join(out)
    if not negations:
        return f"[{'^' if negated else ''}{inner}]"
    return "(?:" + "|".join(([f"[{inner}]"] if inner else []) + negations) + ")"


def _repeat_end(source: str, start: int) -> int:
    """The index past a counted repeat ``{n}``, ``{n,}``, ``{n,m}`` at *start*; *start* if none."""
    end = source.find("}", start)
    if end < 0:
        return start
    inner = source[start + 1 : end]
    low, _comma, high = inner.partition(",")
    if low.isdigit() and (not high or high.isdigit()):
        return end + 1
    return start


def _may_skip(source: str, at: int) -> bool:
    """Whether a repeat at *at* lets what it repeats be absent: ``?``, ``*`` or ``{0...}``."""
    if source[at] in "*?":
        return True
    end = _repeat_end(source, at)
    return end > at and int(source[at + 1 : end - 1].partition(",")[0]) == 0


# What lies on one side of a \b: a word character, another character, an anchor
# (^ before, $ or \z after), the pattern's own start or end (top level), or unknown.
_WORD_SIDE, _OTHER_SIDE, _ANCHOR, _OPEN, _UNKNOWN = "word", "other", "anchor", "open", "unknown"


def _next_side(source: str, j: int, depth: int) -> str:
    """What the pattern requires right after position *j* (for a \b there)."""
    if j >= len(source) or (source[j] == "|" and depth == 0):
        return _OPEN if depth == 0 else _UNKNOWN
    if source[j] == "$" or source.startswith(("\\z", "\\Z"), j):
        return _ANCHOR
    if source[j] == "\\" and j + 1 < len(source):
        letter, width = source[j + 1], 2
        side = {"w": _WORD_SIDE, "d": _WORD_SIDE, "W": _OTHER_SIDE, "s": _OTHER_SIDE}.get(letter, _UNKNOWN)
        if not letter.isalnum() and not letter.isspace():
            side = _OTHER_SIDE
    elif source[j] in "()[].^$|*+?{":
        return _UNKNOWN
    else:
        side, width = (_WORD_SIDE if is_word_char(source[j]) else _OTHER_SIDE), 1
    optional = source.startswith(("?", "*", "{0,", "{0}"), j + width)
    return _UNKNOWN if optional else side


def _boundary(letter: str, before: str, after: str, syntax: Syntax) -> str:
    r"""A ``\b`` (or ``\B``) with Python's Unicode meaning where its two sides are known.

    RE2's ``\b`` is ASCII and RE2 cannot look around, so a boundary whose sides the
    pattern tells is decided here: dropped where it always holds (a word character on
    one side and another character or an anchor on the other), and at the pattern's
    own start or end written as "start of text or a non-word character" (which only
    widens the whole match, never a group). Elsewhere RE2's ASCII ``\b`` stays.
    """
    sides = {before, after}
    if letter == "B":
        return "" if sides in ({_WORD_SIDE}, {_OTHER_SIDE}) else "\\B"
    if sides in ({_WORD_SIDE, _OTHER_SIDE}, {_WORD_SIDE, _ANCHOR}):
        return ""
    if before == _OPEN and after == _WORD_SIDE:
        return syntax.before_any_word
    if before == _WORD_SIDE and after == _OPEN:
        return syntax.after_any_word
    return "\\b"


def translate_regex(
    source: str, *, case_sensitive: bool, syntax: Syntax = UNICODE
) -> tuple[str, tuple[str, ...], int]:
    r"""A user regex in RE2 syntax with Python's meaning, the literal runs every match contains, and
    how many Unicode word classes its program holds (each ~1,350 RE2 steps).

    ``\w``, ``\d``, ``\s`` and their negations become Unicode classes, ``\Z`` becomes
    RE2's ``\z``, ``\uXXXX`` becomes ``\x{XXXX}``; for a case-insensitive pattern each
    literal character is case-folded, as the message it runs on is (``ß`` -> ``ss``).
    The runs (folded) are the literal text every match holds, for the rule index: text outside
    any repeat or alternative, at the top level or inside groups that are neither optional nor
    split by ``|`` (``^(.*)(?:^| +)(alike)( .*)?$`` holds ``alike``, as doctor.yaml's rules
    do: without it each of them ran on every message). A sound, conservative reading.
    """
    out: list[str] = []
    run: list[str] = []
    # Per open group (the pattern itself first): the runs found in it so far, and whether a |
    # splits it (then none of them is required). A group's runs join its parent's once it is
    # known not to be optional: at the next token, unless that is a ?, * or {0,...} repeat.
    levels: list[list[str]] = [[]]
    split: list[bool] = [False]
    held: list[str] = []
    depth = 0
    alternatives = False
    last_in_run = False  # whether the last token was a character appended to the run
    # Counted repeats: per open group the largest count product inside it, and the
    # product inside the group just closed (a repeat right after it multiplies it).
    inside: list[int] = [1]
    closed = 1
    # Unicode word classes (\w, \W, a \b spelt out), counted with their repeats: the large part of
    # the program, which the size check estimates without building it (kinds.WIDE_CLASS_STEPS).
    wide: list[int] = [0]  # per open group
    last_wide = 0  # of the last atom

    def close() -> None:
        nonlocal last_in_run
        if run:
            levels[-1].append("".join(run))
            run.clear()
        last_in_run = False

    def literal(char: str) -> None:
        nonlocal last_in_run
        text = char if case_sensitive else char.casefold()
        escaped = "".join(re2.escape(c) if not c.isalnum() else c for c in text)
        out.append(escaped if len(text) == 1 else f"(?:{escaped})")
        run.append(fold(char))
        last_in_run = True

    i = 0
    n = len(source)
    side = _OPEN  # what the text just before the current position is (see _boundary)
    while i < n:
        char = source[i]
        if held:  # a group just closed: required unless this repeat may leave it out
            if not _may_skip(source, i):
                levels[-1].extend(held)
            held = []
        after_group, closed = closed, 1  # only a repeat right after ")" multiplies
        atom_wide, last_wide = last_wide, 0
        before, side = side, _UNKNOWN  # each token says what it leaves behind
        if char == "\\" and i + 1 < n:
            letter = source[i + 1]
            if letter in syntax.classes:
                close()
                out.append(syntax.classes[letter])
                if letter in "wW":
                    wide[-1] += 1
                    last_wide = 1
                side = _WORD_SIDE if letter in "wd" else _OTHER_SIDE if letter in "Ws" else _UNKNOWN
                i += 2
            elif letter in "bB":
                close()
                spelt = _boundary(letter, before, _next_side(source, i + 2, depth), syntax)
                wide[-1] += spelt in (syntax.before_any_word, syntax.after_any_word)
                out.append(spelt)
                side = before
                i += 2
            elif letter == "Z":
                close()
                out.append(r"\z")
                i += 2
            elif letter in "uU" and source[i + 2 : i + (6 if letter == "u" else 10)].isalnum():
                close()
                digits = source[i + 2 : i + (6 if letter == "u" else 10)]
                out.append(f"\\x{{{digits}}}")
                i += 2 + len(digits)
            elif letter == "Q":
                close()
                end = source.find(r"\E", i + 2)
                end = n if end < 0 else end
                for quoted in source[i + 2 : end]:
                    literal(quoted)
                close()  # a repeat after \E applies to the last character only: keep it simple
                i = end + 2
            elif not letter.isalnum() and not letter.isspace():
                literal(letter)
                side = _OTHER_SIDE
                i += 2
            else:  # \b, \B, \A, \z, \pL, \x41, \n, \t...: not literal text here
                close()
                if letter in "pP" and i + 2 < n and source[i + 2] != "{":
                    out.append(source[i : i + 3])  # a one-letter class: \pL
                    i += 3
                elif letter in "pPx" and source.startswith("{", i + 2):
                    end = source.find("}", i + 2)
                    end = n - 1 if end < 0 else end
                    out.append(source[i : end + 1])
                    i = end + 1
                else:  # \x41 and \101 take their digits along: one character, not literal text
                    allowed = _HEX if letter == "x" else _OCTAL if letter.isdigit() else frozenset()
                    end = i + 2
                    while end < min(n, i + 4) and source[end] in allowed:
                        end += 1
                    out.append(source[i:end])
                    i = end
        elif char == "[":
            close()
            end = class_end(source, i)
            body = source[i + 1 : end - 1]
            out.append(_translate_class(body, i + 1, syntax))
            if "\\w" in body or "\\W" in body:
                wide[-1] += 1
                last_wide = 1
            i = end
        elif char in "*+?" or (char == "{" and _repeat_end(source, i) > i):
            at_least_once = char == "+" or (char == "{" and not source.startswith(("{0,", "{0}"), i))
            side = before if at_least_once or (char == "?" and source[i - 1 : i] in "*+?}") else _UNKNOWN
            if last_in_run:
                run.pop()  # the repeated character may be absent (or the run stops here)
            close()
            end = i + 1 if char != "{" else _repeat_end(source, i)
            if char == "{":
                low, _comma, high = source[i + 1 : end - 1].partition(",")
                count = after_group * int(high or low)
                if count > MAX_REPEAT_COUNT:
                    raise RegexRefused(
                        f"regex refused: the repeat {source[i:end]} counts to {count} (nested counts "
                        f"multiplied), over {MAX_REPEAT_COUNT}: large counts make matching slow; "
                        "use + or *, or smaller counts",
                        i,
                    )
                inside[-1] = max(inside[-1], count)
                wide[-1] += atom_wide * (int(high or low) - 1)  # RE2 writes the atom out that many times
            out.append(source[i:end])
            i = end
        elif char == "(":
            close()
            depth += 1
            inside.append(1)
            wide.append(0)
            levels.append([])
            split.append(False)
            out.append(char)
            i += 1
            if source.startswith(("?P<", "?<"), i):  # a named group: copy its name
                end = source.find(">", i)
                end = n if end < 0 else end + 1
                out.append(source[i:end])
                i = end
            elif source.startswith("?", i):  # flags: (?i:...) opens a group, (?i) does not
                end = i + 1
                while end < n and source[end] not in ":)":
                    end += 1
                out.append(source[i : end + 1])
                if source.startswith(")", end):
                    depth -= 1
                    inside.pop()
                    wide.pop()
                    levels.pop()
                    split.pop()
                i = end + 1
        elif char == ")":
            close()
            if len(levels) > 1:
                found, alternated = levels.pop(), split.pop()
                held = [] if alternated else found
            depth = max(0, depth - 1)
            closed = inside.pop() if len(inside) > 1 else 1
            inside[-1] = max(inside[-1], closed)
            last_wide = wide.pop() if len(wide) > 1 else 0
            wide[-1] += last_wide
            out.append(char)
            i += 1
        elif char == "|":
            close()
            split[-1] = True
            if depth == 0:
                alternatives = True
                side = _OPEN
            out.append(char)
            i += 1
        elif char in ".^$":
            close()
            out.append(char)
            side = _ANCHOR if char == "^" else _UNKNOWN
            i += 1
        else:
            literal(char)
            side = _WORD_SIDE if is_word_char(char) else _OTHER_SIDE
            i += 1
    close()
    levels[-1].extend(held)
    runs = [] if alternatives or len(levels) > 1 else levels[0]  # an unclosed group: RE2 refuses it
    return "".join(out), tuple(dict.fromkeys(r for r in runs if r)), sum(wide)


__all__ = ["ASCII", "MAX_REPEAT_COUNT", "UNICODE", "Syntax", "is_word_char", "translate_regex"]
