"""What RE2 does not accept, said in one line with where and what to do instead.

A user regex RE2 cannot run (backreferences, lookaround, atomic groups, possessive repeats)
or does not parse is refused at load: :func:`refusal` turns RE2's own error into a
:class:`RegexRefused` whose message names the construct and a way around it.
"""

from __future__ import annotations


class RegexRefused(ValueError):
    """A pattern RE2 cannot run or does not accept; *position* is where, in the pattern text."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


_UNSUPPORTED = (
    # (what RE2's message shows, what it is, why and what to do instead)
    ("(?=", "lookahead", "write what must follow as part of the pattern, or use a second rule"),
    ("(?!", "negative lookahead", "match what may follow instead, or put a rule for it first"),
    ("(?<=", "lookbehind", "write what must come before as part of the pattern"),
    ("(?<!", "negative lookbehind", "match what may come before instead, or put a rule for it first"),
    ("(?>", "an atomic group", "RE2 never backtracks, so it is not needed: write (?:...)"),
    ("(?P=", "a backreference", "repeat the group's pattern instead of referring to its text"),
    ("(?#", "a comment group", "remove it (a YAML comment goes after the quoted pattern)"),
)
_LINEAR = "patterns run on RE2, which matches in linear time"


def refusal(source: str, error: str) -> RegexRefused:
    """One precise line for a pattern RE2 does not accept (*error*: RE2's message): where, what to do."""
    _kind, _sep, fragment = error.partition(": ")
    if fragment == "(?P" and "(?P=" in source:  # RE2 shows only (?P of a backreference (?P=name)
        fragment = "(?P="
    position = max(0, source.find(fragment)) if fragment else 0
    if error.startswith("invalid perl operator"):
        for start, what, hint in _UNSUPPORTED:
            if source.startswith(start, position):
                return RegexRefused(
                    f"regex refused: {what} {start} is not supported ({_LINEAR}): {hint}", position
                )
        return RegexRefused(
            f"regex refused: {fragment} is not supported ({_LINEAR}): "
            "the flags it knows are i, m, s and U, written (?i) or (?i:...)",
            position,
        )
    if error.startswith("invalid escape sequence") and fragment[1:2].isdigit():
        return RegexRefused(
            f"regex refused: a backreference {fragment} is not supported ({_LINEAR}): "
            "repeat the group's pattern instead of referring to its text",
            position,
        )
    if error.startswith("bad repetition operator") and fragment.endswith("+") and len(fragment) == 2:
        return RegexRefused(
            f"regex refused: a possessive repeat {fragment} is not supported ({_LINEAR}): "
            f"RE2 never backtracks, so it is not needed: write {fragment[0]}",
            position,
        )
    if error.startswith("invalid repetition size"):
        return RegexRefused(
            f"regex does not compile: invalid repetition size {fragment} at position {position}: "
            "RE2 repeats at most 1000 times, nested counts multiplied; use + or * or smaller counts",
            position,
        )
    if error.startswith("missing )"):
        position = _unclosed_group(source)
        return RegexRefused(f"regex does not compile: missing ) for the ( at position {position}", position)
    return RegexRefused(f"regex does not compile: {error} at position {position}", position)


def _unclosed_group(source: str) -> int:
    """Where the first group left open in *source* starts (0 when none is found)."""
    opened: list[int] = []
    i = 0
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source[i] == "[":
            i = class_end(source, i)
            continue
        if source[i] == "(":
            opened.append(i)
        elif source[i] == ")" and opened:
            opened.pop()
        i += 1
    return opened[0] if opened else 0


def class_end(source: str, start: int) -> int:
    """The index just past the character class opening at *start* (len(source) if unclosed)."""
    i = start + 1
    if source.startswith("^", i):
        i += 1
    if source.startswith("]", i):
        i += 1  # a ] first is a literal
    while i < len(source):
        if source[i] == "\\":
            i += 2
        elif source.startswith("[:", i):
            end = source.find(":]", i + 2)
            i = i + 1 if end < 0 else end + 2
        elif source[i] == "]":
            return i + 1
        else:
            i += 1
    return len(source)


__all__ = ["RegexRefused", "class_end", "refusal"]
