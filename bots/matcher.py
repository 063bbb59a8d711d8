"""Pattern matching for dialogues: every pattern runs on RE2, and an index picks the rules to try.

Every pattern kind (exact, contains, glob, regex) is compiled to an RE2 regex
(google-re2): RE2 matches in time linear in the message, whatever the pattern, so
no message can freeze the bot and no pattern shape needs refusing for speed. What
RE2 cannot run (backreferences, lookaround, atomic groups, possessive repeats) is
refused at load with a hint (:class:`RegexRefused`).

Patterns see the message in Unicode NFC, and case-insensitive ones see it
case-folded (:mod:`bots.normalize`); captures are read from the NFC text, never the
folded one. User regexes keep Python's Unicode meaning of ``\\w``, ``\\d`` and
``\\s``: RE2's are ASCII, so they are rewritten to Unicode classes at load.

The :class:`RuleIndex` makes the cost of a turn nearly independent of the number of
rules: each pattern has a *required literal* (folded text every matching message
contains), the literals are indexed by a short piece of text, and a message only
runs the regexes of the rules whose piece it contains, in rule order. Rules whose
patterns have no literal (``regex: '.*'``) are always tried.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information
from re2 import _re2  # its extension, for the match call: see Regex.__init__

from bots.normalize import fold, fold_offsets, nfc

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Search = Callable[[str, str], "Found | None"]

MAX_MATCH_CHARS = 1024  # patterns see at most this much of a message: a long paragraph, far
# more than a chat line, and it bounds the cost of one match (RE2 is linear in the text). The
# property test found accepted regexes over the 10 ms bound at the former caps: at 4,096,
# (((a))((a))((a)|(a))*){0,20} took 10.6 ms (captures make RE2 track many threads); at 2,048,
# (\S{0,20}b|a*?a{0,20}[^x]{0,20}){1,5}aaa\b took 7.5 ms alone and 10.2 ms on a busy machine.
# 1,024 halves every match's worst cost again (3.8 ms for that one), leaving room for load
MAX_MATCH_BYTES = 1024  # ... and at most this much of its UTF-8 (341 CJK characters):
# RE2 walks bytes, so this is what bounds a match's time for every script alike
MAX_PROGRAM_SIZE = 6000  # RE2 instructions of a user regex: building the matcher's states
# costs up to ~1.5 ms per 1,000 on a 4,096-character message (measured, adversarial suite),
# so this keeps one match under 10 ms; a Unicode \w is ~1,350 of them, plain text ~1 a letter
_WIDE = 1341  # RE2 steps a Unicode word class adds over its ASCII part: [\pL\pN_] is 1,347
MAX_GLOB_STARS = 20  # wildcards in one glob: each is a capture, which RE2 tracks along the
# whole message; 20 cost ~3 ms at the cap and 80 ~20 ms (adversarial suite: test_matching)
MAX_REPEAT_COUNT = 100  # the largest counted repeat, nested counts multiplied: a count
# makes RE2 track that many positions at once, and (.{1,30}){30} (900) costs ~100 ms on a
# 4,096-character message where every repeat up to 100 stays under 10 ms (adversarial suite)
FILTER_FROM_BYTES = 64  # from this length, a regex with groups is first run without them: RE2 then
# answers "no match" with its DFA (3.5 us on 1,024 bytes) instead of tracking the groups (70 us),
# so a 1 KB message no rule of doctor.yaml matches costs 0.24 ms, not 3 ms (issue 19, item 4); on
# shorter messages both cost about a microsecond, and the groups are tracked at once
GRAM = 3  # literals are indexed by one 3-character piece: selective, and few per message
LINEAR_SCAN_MAX = 48  # below this many rules a plain scan is faster than building grams

_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_HEX = frozenset("0123456789abcdefABCDEF")
_OCTAL = frozenset("01234567")


class _Syntax:
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


UNICODE = _Syntax(
    word=r"\pL\pN_",
    digit=r"\p{Nd}",
    not_digit=r"\P{Nd}",
    space=r"\t-\r\x{1c}-\x{1f}\x{85}\p{Z}",
    punct=r"\pP",
    no_space=r"\p{Han}\p{Hiragana}\p{Katakana}\x{30FC}",  # U+30FC: the long-vowel mark ー
)
ASCII = _Syntax(
    word="0-9A-Za-z_",
    digit="0-9",
    not_digit=r"\x00-/:-\x{7f}",
    space=r"\t-\r\x{1c}-\x{1f} ",
    punct=_ascii_punctuation(),
    no_space="",
)


class RegexRefused(ValueError):
    """A pattern RE2 cannot run or does not accept; *position* is where, in the pattern text."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _options(case_sensitive: bool, captures: bool = True) -> object:
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False  # RE2 would print every refused pattern on stderr
    options.never_capture = not captures  # a program that only says whether, and where, it matches
    return options


class Found:
    """A match: its groups read from the message's NFC text (not its folded form).

    It reads like :class:`re.Match` (group, groups, groupdict), plus :meth:`captures`,
    what a reply's placeholders see.
    """

    __slots__ = ("_regex", "_spans", "_text")

    def __init__(self, text: str, spans: list[tuple[int, int]], regex: Regex) -> None:
        self._text = text
        self._spans = spans
        self._regex = regex

    def group(self, number: int = 0) -> str | None:
        """The text of group *number* (0: the whole match), None when it took no part."""
        start, end = self._spans[number]
        return None if start < 0 else self._text[start:end]

    def groups(self) -> tuple[str | None, ...]:
        """Every numbered group's text, as re.Match.groups()."""
        text = self._text
        return tuple([None if start < 0 else text[start:end] for start, end in self._spans[1:]])

    def groupdict(self) -> dict[str, str | None]:
        """Every named group's text, as re.Match.groupdict()."""
        groups = self.groups()
        return {name: groups[number - 1] for name, number in self._regex.groupindex.items()}

    def captures(self) -> dict[str, str]:
        """Every group's text, blanks stripped, by number ("1", "2"...) and by name ("": no part)."""
        text = self._text
        values = ["" if start < 0 else text[start:end].strip() for start, end in self._spans[1:]]
        regex = self._regex
        found = dict(zip(regex.numbers, values, strict=True))
        for name, number in regex.groupindex.items():
            found[name] = values[number - 1]
        return found


#: What a search returns.
Match = Found


def _compile(source: str, case_sensitive: bool, captures: bool = True) -> Any:
    """RE2's program for *source* (without its groups unless *captures*); raise :class:`RegexRefused`
    when RE2 refuses it.

    RE2's extension directly, not the wrapper's compile() and search(): its search decodes
    offsets through a generator and a dict on every call (5 us a match against 0.5 us
    here, and a turn is a few microseconds in all: bench twenty_rules).
    """
    compiled = _re2.RE2(source.encode(), _options(case_sensitive, captures))
    if not compiled.ok():
        raise _refusal(source, compiled.error().decode("utf-8", "replace"))
    return compiled


class Regex:
    """One compiled alternative: an RE2 regex, run on the folded message or on its NFC text.

    It has two programs: *source*, with Unicode classes, and *ascii_source*, the same with
    their ASCII part, which gives the same matches on an ASCII message and is far cheaper
    to build. The Unicode one is built now when *eager* (a user regex: its size is checked
    at load), else at the first message that is not ASCII.
    """

    __slots__ = (
        "_ascii",
        "_ascii_any",
        "_unicode",
        "_unicode_any",
        "ascii_size",
        "case_sensitive",
        "folded",
        "groupindex",
        "groups",
        "numbers",
        "size",
        "source",
    )

    def __init__(
        self, source: str, *, case_sensitive: bool, ascii_source: str | None = None, eager: bool = True
    ) -> None:
        """Compile (see the class); raise :class:`RegexRefused` when RE2 refuses a program."""
        compiled = _compile(source if ascii_source is None else ascii_source, case_sensitive)
        self.source = source
        self.case_sensitive = case_sensitive
        #: Whether it runs on the case-folded message (case-insensitive patterns do).
        self.folded = not case_sensitive
        self.groups: int = compiled.NumberOfCapturingGroups()
        self.groupindex: dict[str, int] = {
            name.decode(): number for name, number in compiled.NamedCapturingGroups()
        }
        #: The names of the numbered groups, "1" to str(groups): made once, not at each match.
        self.numbers = tuple(str(number) for number in range(1, self.groups + 1))
        self._ascii = compiled.Match
        #: The ASCII program's size (RE2 instructions).
        self.ascii_size: int = compiled.ProgramSize()
        # Each program's twin without groups, run first on a long message (see FILTER_FROM_BYTES).
        self._ascii_any = self._filter(source if ascii_source is None else ascii_source)
        self._unicode: Callable[..., list[tuple[int, int]]] | None = None
        self._unicode_any: Callable[..., list[tuple[int, int]]] | None = None
        #: RE2's program size (the Unicode one, 0 until built): instructions, what a match can cost per byte.
        self.size = 0
        if ascii_source is None:  # one program serves both
            self._unicode = compiled.Match
            self._unicode_any = self._ascii_any
            self.size = compiled.ProgramSize()
        elif eager:
            self._unicode_program()

    def _filter(self, source: str) -> Callable[..., list[tuple[int, int]]] | None:
        return _compile(source, self.case_sensitive, captures=False).Match if self.groups else None

    def _unicode_program(self) -> Callable[..., list[tuple[int, int]]]:
        compiled = _compile(self.source, self.case_sensitive)
        self.size = compiled.ProgramSize()
        self._unicode_any = self._filter(self.source)
        self._unicode = compiled.Match
        return self._unicode

    def search(self, text: str, folded: str) -> Found | None:
        """The first match in the message (*text* its NFC form, *folded* that case-folded)."""
        subject = folded if self.folded else text
        data = subject.encode()
        size = len(data)
        if size == len(subject):  # ASCII
            if size >= FILTER_FROM_BYTES and _misses(self._ascii_any, data):
                return None
            spans = self._ascii(_UNANCHORED, data, 0, size)
            if spans[0][0] < 0:
                return None
        else:
            search = self._unicode or self._unicode_program()
            if size >= FILTER_FROM_BYTES and _misses(self._unicode_any, data):
                return None
            spans = search(_UNANCHORED, data, 0, size)
            if spans[0][0] < 0:
                return None
            spans = [  # byte offsets -> character offsets
                (-1, -1) if a < 0 else (len(data[:a].decode()), len(data[:b].decode())) for a, b in spans
            ]
        if self.folded and len(folded) != len(text):  # folding lengthened it: back to the NFC text
            offsets = fold_offsets(text)
            spans = [
                (-1, -1) if a < 0 else (offsets[a], offsets[b - 1] + 1 if b > a else offsets[b])
                for a, b in spans
            ]
        return Found(text, spans, self)


def _misses(program: Callable[..., list[tuple[int, int]]] | None, data: bytes) -> bool:
    """Whether a program without groups (None: there is none) finds no match in *data*."""
    return program is not None and program(_UNANCHORED, data, 0, len(data))[0][0] < 0


def prepare(text: str) -> tuple[str, str]:
    """What patterns see of a message: its NFC text and that text case-folded, each capped."""
    subject = text[:MAX_MATCH_CHARS]
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


# -- refusals -------------------------------------------------------------------

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


def _refusal(source: str, error: str) -> RegexRefused:
    """One precise line for a pattern RE2 does not accept, with where and what to do."""
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
            i = _class_end(source, i)
            continue
        if source[i] == "(":
            opened.append(i)
        elif source[i] == ")" and opened:
            opened.pop()
        i += 1
    return opened[0] if opened else 0


# -- user regexes -----------------------------------------------------------------


def _class_end(source: str, start: int) -> int:
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


def _translate_class(body: str, offset: int, syntax: _Syntax) -> str:
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
        side, width = (_WORD_SIDE if _is_word_char(source[j]) else _OTHER_SIDE), 1
    optional = source.startswith(("?", "*", "{0,", "{0}"), j + width)
    return _UNKNOWN if optional else side


def _boundary(letter: str, before: str, after: str, syntax: _Syntax) -> str:
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
    source: str, *, case_sensitive: bool, syntax: _Syntax = UNICODE
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
    # Unicode word classes (\w, \W, a \b spelt out), counted with their repeats: the large
    # part of the program, which the size check estimates without building it (see _WIDE).
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
            end = _class_end(source, i)
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
            side = _WORD_SIDE if _is_word_char(char) else _OTHER_SIDE
            i += 1
    close()
    levels[-1].extend(held)
    runs = [] if alternatives or len(levels) > 1 else levels[0]  # an unclosed group: RE2 refuses it
    return "".join(out), tuple(dict.fromkeys(r for r in runs if r)), sum(wide)


# -- the other pattern kinds --------------------------------------------------------


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def _words(text: str, ignore_punctuation: bool, keep: str = "") -> list[str]:
    """The pattern's words; with punctuation ignored, without the punctuation around each."""
    words = text.split()
    if not ignore_punctuation:
        return words
    stripped = []
    for word in words:
        start, end = 0, len(word)
        while start < end and _is_punctuation(word[start]) and word[start] not in keep:
            start += 1
        while end > start and _is_punctuation(word[end - 1]) and word[end - 1] not in keep:
            end -= 1
        if start < end:
            stripped.append(word[start:end])
    return stripped or words  # a pattern of punctuation only keeps it: "?" still finds "why?"


def _escape(text: str, case_sensitive: bool) -> str:
    return str(re2.escape(text if case_sensitive else fold(text)))


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _needs_no_boundary(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK ", "HIRAGANA", "KATAKANA")) or char == "\u30fc"


def exact_regex(
    text: str, *, case_sensitive: bool = False, ignore_punctuation: bool = False, syntax: _Syntax = UNICODE
) -> str:
    """Regex for an exact pattern: the whole message, blanks (and punctuation if ignored) aside."""
    words = _words(nfc(text), ignore_punctuation)
    gap, edge = syntax.gap[ignore_punctuation], syntax.edge[ignore_punctuation]
    return rf"\A{edge}" + gap.join(_escape(w, case_sensitive) for w in words) + rf"{edge}\z"


def contains_regex(
    text: str, *, case_sensitive: bool = False, ignore_punctuation: bool = False, syntax: _Syntax = UNICODE
) -> str:
    """Regex for a contains pattern: the words appear in the message as whole words, in order.

    A word boundary is needed only where the pattern itself starts or ends with a word
    character (so ``hi`` does not match "this" but ``?`` still matches "why?"), and not
    next to Han, Hiragana or Katakana, scripts written without spaces between words.
    """
    words = _words(nfc(text), ignore_punctuation)
    body = syntax.gap[ignore_punctuation].join(_escape(w, case_sensitive) for w in words)
    first, last = words[0][0], words[-1][-1]
    start = syntax.before_word if _is_word_char(first) and not _needs_no_boundary(first) else ""
    end = syntax.after_word if _is_word_char(last) and not _needs_no_boundary(last) else ""
    return start + body + end


def glob_regex(
    text: str, *, case_sensitive: bool = False, ignore_punctuation: bool = False, syntax: _Syntax = UNICODE
) -> str:
    """Regex for a glob pattern: ``*`` any text (captured as {1}, {2}...), ``?`` one character."""
    words = _words(nfc(text), ignore_punctuation, keep="*?")
    parts = []
    for word in words:
        part = []
        for char in word:
            if char == "*":
                part.append("(.*?)")
            elif char == "?":
                part.append(".")
            else:
                part.append(_escape(char, case_sensitive))
        parts.append("".join(part))
    edge = syntax.edge[ignore_punctuation]
    return rf"\A{edge}" + syntax.gap[ignore_punctuation].join(parts) + rf"{edge}\z"


def word_runs(text: str, kind: str, ignore_punctuation: bool) -> tuple[str, ...]:
    """The folded literal text every match of an exact, contains or glob pattern contains."""
    runs: list[str] = []
    for word in _words(nfc(text), ignore_punctuation, keep="*?" if kind == "glob" else ""):
        pieces = word.replace("?", "*").split("*") if kind == "glob" else [word]
        runs.extend(fold(piece) for piece in pieces if piece)
    return tuple(dict.fromkeys(runs))


def compile_pattern(
    kind: str, text: str, *, case_sensitive: bool, ignore_punctuation: bool
) -> tuple[Regex, str | None, tuple[str, ...]]:
    """One alternative of a pattern: its regex, its required literal (None: always try) and runs.

    Raises :class:`RegexRefused` (its position counts in *text*) for a regex RE2 cannot run.
    """
    if kind == "regex":
        written = nfc(text)
        source, runs, wide = translate_regex(written, case_sensitive=case_sensitive)
        twin, _runs, _wide = translate_regex(written, case_sensitive=case_sensitive, syntax=ASCII)
        try:
            regex = Regex(source, case_sensitive=case_sensitive, ascii_source=twin, eager=False)
        except RegexRefused as refused:
            # Say what RE2 finds wrong, and where, in what the author wrote (where RE2 does not
            # stop first at an escape translate_regex rewrites).
            try:
                _compile(written.replace("\\Z", "\\z"), case_sensitive)
            except RegexRefused as exc:
                if "invalid escape sequence: \\u" not in exc.message.lower():
                    raise exc from None
            raise refused from None
    else:
        stars = text.count("*") if kind == "glob" else 0
        if stars > MAX_GLOB_STARS:
            raise RegexRefused(
                f"glob refused: it has {stars} wildcards *, over {MAX_GLOB_STARS}: each is a capture "
                "and together they make matching slow; use fewer, or a regex"
            )
        build = {"exact": exact_regex, "contains": contains_regex, "glob": glob_regex}[kind]
        unicode_source, ascii_source = (
            build(text, case_sensitive=case_sensitive, ignore_punctuation=ignore_punctuation, syntax=syntax)
            for syntax in (UNICODE, ASCII)
        )
        regex = Regex(unicode_source, case_sensitive=case_sensitive, ascii_source=ascii_source, eager=False)
        runs = word_runs(text, kind, ignore_punctuation)
    # Only user regexes can be costly: the other kinds are a chain of words and gaps,
    # which RE2 runs in a few states however long (adversarial suite: test_matching).
    size = regex.ascii_size + wide * _WIDE if kind == "regex" else 0
    if size > MAX_PROGRAM_SIZE:
        raise RegexRefused(
            f"regex refused: it is too large to match fast (~{size} RE2 steps, over "
            f"{MAX_PROGRAM_SIZE}): each \\w or \\W is ~1,350 steps as it covers every script, and "
            "counted repeats multiply them; use fewer, + instead of {n,m}, or classes like [^ ]"
        )
    literal = max(runs, key=len) if runs else None
    return regex, literal, runs


class RuleIndex:
    """Find the first rule whose patterns match a message, without trying every rule.

    *rules* holds, per rule in order, its compiled alternatives and for each the
    required literal (or None). A regex runs only when the folded message
    contains its literal: a substring test in C, far cheaper than a failed search.
    """

    __slots__ = ("_always", "_flat", "_grams", "_index", "_rules", "_scan")

    def __init__(
        self,
        rules: Sequence[Sequence[tuple[Regex, str | None]]],
        runs: Sequence[Sequence[tuple[str, ...]]] | None = None,
    ) -> None:
        """*runs* (optional, parallel to *rules*): per alternative, every literal it requires."""
        self._rules = [tuple((rx, lit or None) for rx, lit in alts) for alts in rules]
        self._scan = len(rules) <= LINEAR_SCAN_MAX
        self._always: list[int] = []
        self._index: dict[str, list[tuple[int, str]]] = {}
        self._grams: tuple[int, ...] = ()
        self._flat: list[tuple[str, list[tuple[int, str, Search]]]] = []
        if self._scan:
            self._flat = _scan_groups(self._rules, runs)
            return
        keyed: list[tuple[int, str]] = []
        for number, alts in enumerate(self._rules):
            literals = [lit for _rx, lit in alts]
            if any(lit is None for lit in literals):
                self._always.append(number)
                continue
            keyed.extend((number, lit) for lit in literals if lit is not None)
        # Key each literal by its rarest piece, so rules sharing a prefix
        # ("rule0001", "rule0002") do not all land in one bucket.
        counts: dict[str, int] = {}
        for _number, lit in keyed:
            for piece in _pieces(lit):
                counts[piece] = counts.get(piece, 0) + 1
        lengths: set[int] = set()
        for number, lit in keyed:
            key = min(sorted(_pieces(lit)), key=lambda p: counts[p])
            lengths.add(len(key))
            self._index.setdefault(key, []).append((number, lit))
        self._grams = tuple(sorted(lengths))

    def candidates(self, folded: str) -> list[int]:
        """Rule numbers that may match the folded message, in rule order."""
        if self._scan:
            return list(range(len(self._rules)))
        found = set(self._always)
        index = self._index
        if len(index) < len(folded) * len(self._grams):
            # Fewer pieces indexed than the message has: look each up in the message (a search in
            # C) rather than cutting the message into pieces (0.6 ms for doctor.yaml's 68 rules on
            # 1,024 characters, 0.03 ms this way: issue 19, item 4). The same pieces are found.
            keys: Iterable[str] = [piece for piece in index if piece in folded]
        else:
            keys = set()
            for size in self._grams:
                keys |= {folded[i : i + size] for i in range(len(folded) - size + 1)} & index.keys()
        for piece in keys:
            for number, lit in index[piece]:
                if lit in folded:
                    found.add(number)
        return sorted(found)

    def match(self, text: str) -> tuple[int, Match] | None:
        """The first rule (by number) that matches *text*, with its match; None when none does."""
        subject, folded = prepare(text)
        if self._scan:
            for literal, searches in self._flat:
                if literal in folded:
                    for number, second, search in searches:
                        if second in folded:
                            found = search(subject, folded)
                            if found is not None:
                                return number, found
            return None
        rules = self._rules
        for number in self.candidates(folded):
            for rx, required in rules[number]:
                if required is not None and required not in folded:
                    continue
                found = rx.search(subject, folded)
                if found is not None:
                    return number, found
        return None


def _scan_groups(
    rules: Sequence[Sequence[tuple[Regex, str | None]]],
    runs: Sequence[Sequence[tuple[str, ...]]] | None,
) -> list[tuple[str, list[tuple[int, str, Search]]]]:
    """The plain scan's order of work: every alternative in rule order, grouped by a literal they share.

    Each alternative requires some literal runs (without *runs*, its one literal): every
    match contains each of them. A group is keyed by the run that the most alternatives
    from its first one on share in a row (ties: the longest), so rules written alike (five
    ``exact: status report ...``, five ``regex: ^order ... for ...``) are passed over with
    one substring test: twenty rules written five by five make four groups, and a message
    for the last rule makes four group tests, not one per rule. Within a group each
    alternative also checks a second run it requires, the one fewest alternatives share
    (``alpha`` in ``status report alpha``), so only the rule that can match runs its regex.
    An alternative with no run forms a group keyed "" (always contained).

    Linear in the runs of all alternatives (issue 19, item 8): a group's key is found by
    walking only the alternatives the group then holds.
    """
    flat = [
        (number, rx, runs[number][position] if runs is not None else (lit,) if lit else ())
        for number, alts in enumerate(rules)
        for position, (rx, lit) in enumerate(alts)
    ]
    sets = [frozenset(required) for _number, _rx, required in flat]
    shared: dict[str, int] = {}
    for _number, _rx, required in flat:
        for run in required:
            shared[run] = shared.get(run, 0) + 1
    groups: list[tuple[str, list[tuple[int, str, Search]]]] = []
    for at, (number, rx, required) in enumerate(flat):
        joins = bool(groups) and (groups[-1][0] in sets[at] if required else groups[-1][0] == "")
        if not joins:
            groups.append((_group_key(sets, required, at), []))
        key = groups[-1][0]
        others = [run for run in required if run != key]
        second = min(others, key=lambda run: (shared[run], -len(run))) if others else ""
        groups[-1][1].append((number, second, rx.search))
    return groups


def _group_key(sets: Sequence[frozenset[str]], required: tuple[str, ...], at: int) -> str:
    """The run of alternative *at* (*required*, in order) that the most alternatives from it on
    require in a row.

    Each run's count stops at the first alternative without it, and the group then holds as
    many alternatives as the largest count: so the counts cost at most the runs of the group's
    alternatives. (Slicing the rest of the list for each run, as this once did, made the scan
    quadratic: one rule of 120,000 alternatives took 50 s to load.)
    """

    def reach(run: str) -> int:
        end = at
        while end < len(sets) and run in sets[end]:
            end += 1
        return end - at

    return max(required, key=lambda run: (reach(run), len(run))) if required else ""


def _pieces(literal: str) -> set[str]:
    return {literal[i : i + GRAM] for i in range(max(1, len(literal) - GRAM + 1))}
