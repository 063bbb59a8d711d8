"""The pattern kinds: exact, contains, glob and regex, each compiled to what decides it fastest.

* **exact** (punctuation kept): a comparison of texts. The message, its blanks between words
  made one space, equals the pattern's words so joined: :class:`Exact`, no regex engine.
* **contains** (punctuation kept): ``str.find`` of the words with the word-boundary test, on a
  message in ASCII (:class:`Contains`); on other scripts its RE2 program decides, as Unicode's
  word characters are RE2's table, not Python's.
* **glob**, **regex**, and exact or contains with punctuation ignored: an RE2 program
  (:class:`~bots.patterns.programs.Regex`).

Every fast kind also has its RE2 program (built when first needed), the definition it is
held to: the adversarial suite checks each fast kind against it on generated messages,
ASCII and Unicode (``adversarial/test_matching.py``). Either way a match costs time linear
in the message, whatever the pattern.
"""

from __future__ import annotations

import unicodedata

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from bots.normalize import fold, nfc
from bots.patterns.dialect import ASCII, UNICODE, Syntax, is_word_char, translate_regex
from bots.patterns.programs import NO_CAPTURES, Found, Regex, compile_program
from bots.patterns.refusals import RegexRefused

MAX_PROGRAM_SIZE = 6000  # RE2 instructions of a user regex: building the matcher's states
# costs up to ~1.5 ms per 1,000 on a 4,096-character message (measured, adversarial suite),
# so this keeps one match under 10 ms; a Unicode \w is ~1,350 of them, plain text ~1 a letter
WIDE_CLASS_STEPS = 1341  # RE2 steps a Unicode word class adds over its ASCII part: [\pL\pN_] is 1,347
MAX_CAPTURE_WORK = 2500  # a user regex with groups: its ASCII program's RE2 steps times (1 + its
# groups). Once the match is found, RE2 finds the groups' text by running every step that can be
# alive at each byte of it, copying the groups' positions along; the cold search that finds the
# match grows with the steps too. Measured at worst ~2.5 us a unit on a 1,024-byte message
# ((\S{0,13}b|a*?a{0,13}[^x]{0,13}){1,5}aaa\b, 2,988 units: 7.4 ms; the issue's
# (\S{0,20}b|a*?a{0,20}[^x]{0,20}){1,5}aaa\b, 4,528 units: 12.5 ms), so 2,500 keeps a match near
# 6 ms, under 10 ms on a busy machine; the hostile suite's largest, (.?){100}!, is 2,210
MAX_GLOB_STARS = 20  # wildcards in one glob: each is a capture, which RE2 tracks along the
# whole message; 20 cost ~3 ms at the cap and 80 ~20 ms (adversarial suite: test_matching)

#: ASCII's word characters, RE2's ``[0-9A-Za-z_]``: what a contains word may not touch.
_ASCII_WORD = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")


class _Words:
    """A pattern of words decided without a regex engine (exact and contains, punctuation kept):
    what both kinds share, their RE2 program built only when asked for (what the pattern means)."""

    __slots__ = ("_program", "case_sensitive", "folded", "text")
    #: The kind, as a dialogue names it (its RE2 program is that kind's).
    kind = ""
    groups = 0
    groupindex: dict[str, int] = {}  # noqa: RUF012  # read only: a fast kind has no groups
    keys: tuple[tuple[str, ...], ...] = ()

    def __init__(self, text: str, *, case_sensitive: bool) -> None:
        #: The pattern as written.
        self.text = text
        self.case_sensitive = case_sensitive
        #: Whether it runs on the case-folded message.
        self.folded = not case_sensitive
        self._program: Regex | None = None

    def _key(self) -> tuple[list[str], str]:
        """The pattern's words, and them joined by one space (folded unless case-sensitive)."""
        words = _words(nfc(self.text), False)
        return words, " ".join(words if self.case_sensitive else [fold(word) for word in words])

    @property
    def program(self) -> Regex:
        """Its RE2 program: what it means, written as a regex (built on first use)."""
        if self._program is None:
            self._program = _kind_regex(self.kind, self.text, self.case_sensitive, False)
        return self._program

    @property
    def source(self) -> str:
        """Its RE2 program's source (Unicode classes)."""
        return self.program.source


class Exact(_Words):
    """An exact pattern with its punctuation kept, decided without a regex engine.

    The message matches when it is the pattern's words, blanks around and between them
    (``\\A\\s*word\\s+word\\s*\\z``): its words joined by one space equal :attr:`key`. Python's
    blanks (``str.split``) are the pattern's ``\\s``, Unicode's alike (tested on every code point).
    """

    __slots__ = ("key",)
    kind = "exact"

    def __init__(self, text: str, *, case_sensitive: bool) -> None:
        super().__init__(text, case_sensitive=case_sensitive)
        #: The pattern's words joined by one space (folded unless case-sensitive).
        self.key = self._key()[1]

    def hit(self, text: str, folded: str) -> Found | None:
        """Whether the prepared message matches: :data:`NO_CAPTURES`, or None."""
        subject = folded if self.folded else text
        key = self.key
        if subject == key:  # typed as written: the usual match
            return NO_CAPTURES
        if len(subject) < len(key):  # joining its words by one space never lengthens it
            return None
        return NO_CAPTURES if " ".join(subject.split()) == key else None

    def search(self, text: str, folded: str) -> Found | None:
        """The match: the whole message (an exact pattern has no groups)."""
        return None if self.hit(text, folded) is None else Found(text, [(0, len(text))], {}, ())


class Contains(_Words):
    """A contains pattern with its punctuation kept: ``str.find`` and the word-boundary test.

    The words appear in the message in order, separated by blanks, as whole words where the
    pattern starts or ends with a word character. Decided here on a message in ASCII (the
    usual one); on any other, by its RE2 program.
    """

    __slots__ = ("end", "needle", "spaced", "start")
    kind = "contains"

    def __init__(self, text: str, *, case_sensitive: bool) -> None:
        super().__init__(text, case_sensitive=case_sensitive)
        words, needle = self._key()
        #: The words joined by one space (folded unless case-sensitive): what the message must hold.
        self.needle = needle
        #: Whether the word before the needle must end (the pattern starts with a word character).
        self.start = _bounded(words[0][0])
        #: Whether the word after it must end.
        self.end = _bounded(words[-1][-1])
        #: Whether it has several words: blanks between the message's words then count as one.
        self.spaced = len(words) > 1

    def hit(self, text: str, folded: str) -> Found | None:
        """Whether the prepared message matches: :data:`NO_CAPTURES`, or None."""
        subject = folded if self.folded else text
        if not subject.isascii():
            return self.program.hit(text, folded)
        if self._finds(subject):
            return NO_CAPTURES
        if self.spaced:  # the words may be there with other blanks between them
            joined = " ".join(subject.split())
            if joined != subject and self._finds(joined):
                return NO_CAPTURES
        return None

    def _finds(self, subject: str) -> bool:
        """Whether *subject* holds the needle where the word boundaries hold."""
        needle = self.needle
        at = subject.find(needle)
        while at >= 0:
            end = at + len(needle)
            if (not self.start or at == 0 or subject[at - 1] not in _ASCII_WORD) and (
                not self.end or end == len(subject) or subject[end] not in _ASCII_WORD
            ):
                return True
            at = subject.find(needle, at + 1)
        return False

    def search(self, text: str, folded: str) -> Found | None:
        """The match, with where it is (its RE2 program's, once this kind says it matches)."""
        return None if self.hit(text, folded) is None else self.program.search(text, folded)


#: A compiled pattern alternative, whatever decides it.
Matcher = Regex | Exact | Contains


# -- each kind's RE2 program --------------------------------------------------------


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


def _needs_no_boundary(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK ", "HIRAGANA", "KATAKANA")) or char == "\u30fc"


def _bounded(char: str) -> bool:
    """Whether a contains pattern starting (or ending) with *char* needs a word boundary there."""
    return is_word_char(char) and not _needs_no_boundary(char)


def exact_regex(
    text: str, *, case_sensitive: bool = False, ignore_punctuation: bool = False, syntax: Syntax = UNICODE
) -> str:
    """Regex for an exact pattern: the whole message, blanks (and punctuation if ignored) aside."""
    words = _words(nfc(text), ignore_punctuation)
    gap, edge = syntax.gap[ignore_punctuation], syntax.edge[ignore_punctuation]
    return rf"\A{edge}" + gap.join(_escape(w, case_sensitive) for w in words) + rf"{edge}\z"


def contains_regex(
    text: str, *, case_sensitive: bool = False, ignore_punctuation: bool = False, syntax: Syntax = UNICODE
) -> str:
    """Regex for a contains pattern: the words appear in the message as whole words, in order.

    A word boundary is needed only where the pattern itself starts or ends with a word
    character (so ``hi`` does not match "this" but ``?`` still matches "why?"), and not
    next to Han, Hiragana or Katakana, scripts written without spaces between words.
    """
    words = _words(nfc(text), ignore_punctuation)
    body = syntax.gap[ignore_punctuation].join(_escape(w, case_sensitive) for w in words)
    start = syntax.before_word if _bounded(words[0][0]) else ""
    end = syntax.after_word if _bounded(words[-1][-1]) else ""
    return start + body + end


def glob_regex(
    text: str, *, case_sensitive: bool = False, ignore_punctuation: bool = False, syntax: Syntax = UNICODE
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


_BUILDERS = {"exact": exact_regex, "contains": contains_regex, "glob": glob_regex}


def _kind_regex(kind: str, text: str, case_sensitive: bool, ignore_punctuation: bool) -> Regex:
    """The RE2 program of an exact, contains or glob pattern (its Unicode program built on first need)."""
    build = _BUILDERS[kind]
    unicode_source, ascii_source = (
        build(text, case_sensitive=case_sensitive, ignore_punctuation=ignore_punctuation, syntax=syntax)
        for syntax in (UNICODE, ASCII)
    )
    return Regex(unicode_source, case_sensitive=case_sensitive, ascii_source=ascii_source, eager=False)


def word_runs(text: str, kind: str, ignore_punctuation: bool) -> tuple[str, ...]:
    """The folded literal text every match of an exact, contains or glob pattern contains."""
    runs: list[str] = []
    for word in _words(nfc(text), ignore_punctuation, keep="*?" if kind == "glob" else ""):
        pieces = word.replace("?", "*").split("*") if kind == "glob" else [word]
        runs.extend(fold(piece) for piece in pieces if piece)
    return tuple(dict.fromkeys(runs))


def _refuse_costly_groups(matcher: Regex) -> None:
    """Refuse a user regex whose groups would make one match cost more than the bound (see
    MAX_CAPTURE_WORK); a regex without groups never runs the program that tracks them."""
    if not matcher.groups:
        return
    work = matcher.ascii_size * (1 + matcher.groups)
    if work > MAX_CAPTURE_WORK:
        groups = f"{matcher.groups} group" + ("s" if matcher.groups > 1 else "")
        raise RegexRefused(
            f"regex refused: its groups make matching slow (~{matcher.ascii_size} RE2 steps x (1 + "
            f"{groups}) = {work}, over {MAX_CAPTURE_WORK}); use (?:...) for groups whose text no "
            "reply reads, or fewer and smaller counted repeats"
        )


def compile_pattern(
    kind: str, text: str, *, case_sensitive: bool, ignore_punctuation: bool
) -> tuple[Matcher, str | None, tuple[str, ...]]:
    """One alternative of a pattern: its matcher, its required literal (None: always try) and runs.

    Raises :class:`RegexRefused` (its position counts in *text*) for a regex RE2 cannot run.
    """
    matcher: Matcher
    if kind == "regex":
        written = nfc(text)
        source, runs, wide = translate_regex(written, case_sensitive=case_sensitive)
        twin, _runs, _wide = translate_regex(written, case_sensitive=case_sensitive, syntax=ASCII)
        try:
            matcher = Regex(source, case_sensitive=case_sensitive, ascii_source=twin, eager=False)
        except RegexRefused as refused:
            # Say what RE2 finds wrong, and where, in what the author wrote (where RE2 does not
            # stop first at an escape translate_regex rewrites).
            try:
                compile_program(written.replace("\\Z", "\\z"), case_sensitive)
            except RegexRefused as exc:
                if "invalid escape sequence: \\u" not in exc.message.lower():
                    raise exc from None
            raise refused from None
        # Only user regexes can be costly: the other kinds are a chain of words and gaps,
        # which RE2 runs in a few states however long (adversarial suite: test_matching).
        size = matcher.ascii_size + wide * WIDE_CLASS_STEPS
        if size > MAX_PROGRAM_SIZE:
            raise RegexRefused(
                f"regex refused: it is too large to match fast (~{size} RE2 steps, over "
                f"{MAX_PROGRAM_SIZE}): each \\w or \\W is ~1,350 steps as it covers every script, and "
                "counted repeats multiply them; use fewer, + instead of {n,m}, or classes like [^ ]"
            )
        _refuse_costly_groups(matcher)
    else:
        stars = text.count("*") if kind == "glob" else 0
        if stars > MAX_GLOB_STARS:
            raise RegexRefused(
                f"glob refused: it has {stars} wildcards *, over {MAX_GLOB_STARS}: each is a capture "
                "and together they make matching slow; use fewer, or a regex"
            )
        if kind == "exact" and not ignore_punctuation:
            matcher = Exact(text, case_sensitive=case_sensitive)
        elif kind == "contains" and not ignore_punctuation:
            matcher = Contains(text, case_sensitive=case_sensitive)
        else:
            matcher = _kind_regex(kind, text, case_sensitive, ignore_punctuation)
        runs = word_runs(text, kind, ignore_punctuation)
    literal = max(runs, key=len) if runs else None
    return matcher, literal, runs


__all__ = [
    "MAX_CAPTURE_WORK",
    "MAX_GLOB_STARS",
    "MAX_PROGRAM_SIZE",
    "WIDE_CLASS_STEPS",
    "Contains",
    "Exact",
    "Matcher",
    "compile_pattern",
    "contains_regex",
    "exact_regex",
    "glob_regex",
    "word_runs",
]
