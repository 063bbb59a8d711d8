"""RE2 programs: a compiled regex run on the prepared message, and the match record it gives.

Glob and regex patterns run here, as do the cases the fast kinds leave to RE2 (see
:mod:`bots.patterns.kinds`). RE2 matches in time linear in the message, whatever the
pattern, so no message can freeze the bot and no pattern shape needs refusing for speed.
"""

from __future__ import annotations

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information
from re2 import _re2  # its extension, for the match call: see compile_program

from bots.normalize import fold_offsets
from bots.patterns.refusals import refusal

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Program = Callable[[Any, bytes, int, int], list[tuple[int, int]]]

FILTER_FROM_BYTES = 64  # from this length, a regex with groups is first run without them: RE2 then
# answers "no match" with its DFA (3.5 us on 1,024 bytes) instead of tracking the groups (70 us),
# so a 1 KB message no rule of doctor.yaml matches costs 0.24 ms, not 3 ms (issue 19, item 4); on
# shorter messages both cost about a microsecond, and the groups are tracked at once. When it
# matches, the groups are then read on the match alone (see _groups_in_match)

_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_ANCHOR_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH


class Found:
    """A match: its groups read from the message's NFC text (not its folded form).

    It reads like :class:`re.Match` (group, groups, groupdict), plus :meth:`captures`,
    what a reply's placeholders see.
    """

    __slots__ = ("_keys", "_names", "_spans", "_text")

    def __init__(
        self,
        text: str,
        spans: list[tuple[int, int]],
        names: dict[str, int],
        keys: tuple[tuple[str, ...], ...],
    ) -> None:
        self._text = text
        self._spans = spans
        #: Group numbers by name.
        self._names = names
        #: Per group (1, 2...), the keys its text goes under in captures(): its number, its name.
        self._keys = keys

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
        return {name: groups[number - 1] for name, number in self._names.items()}

    def captures(self, found: dict[str, str] | None = None) -> dict[str, str]:
        """Every group's text, blanks stripped, by number ("1", "2"...) and by name ("": no part);
        put into *found* when given (a reply's values: no dictionary made to be copied)."""
        text = self._text
        spans = self._spans
        if found is None:
            found = {}
        number = 1
        for keys in self._keys:  # plain loops (no comprehension, no zip): a reply's captures, each turn
            start, end = spans[number]
            number += 1
            value = text[start:end].strip() if start >= 0 else ""
            for key in keys:
                found[key] = value
        return found


#: What a search returns.
Match = Found

#: A match whose record was not built (:meth:`Regex.hit`): it has no groups, and its group 0 is empty.
NO_CAPTURES = Found("", [(0, 0)], {}, ())


def _options(case_sensitive: bool, captures: bool = True) -> object:
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False  # RE2 would print every refused pattern on stderr
    options.never_capture = not captures  # a program that only says whether, and where, it matches
    return options


def compile_program(source: str, case_sensitive: bool, captures: bool = True) -> Any:
    """RE2's program for *source* (without its groups unless *captures*); raise
    :class:`~bots.patterns.refusals.RegexRefused` when RE2 refuses it.

    RE2's extension directly, not the wrapper's compile() and search(): its search decodes
    offsets through a generator and a dict on every call (5 us a match against 0.5 us
    here, and a turn is a few microseconds in all: bench twenty_rules).
    """
    compiled = _re2.RE2(source.encode(), _options(case_sensitive, captures))
    if not compiled.ok():
        raise refusal(source, compiled.error().decode("utf-8", "replace"))
    return compiled


class Regex:
    """One compiled alternative: an RE2 regex, run on the folded message or on its NFC text.

    It has two programs: *source*, with Unicode classes, and *ascii_source*, the same with
    their ASCII part, which gives the same matches on an ASCII message and is far cheaper
    to build. The Unicode one is built now when *eager* (a user regex: its size is checked
    at load), else at the first message that is not ASCII. A regex with groups also has each
    program's twin without them: :meth:`hit` runs it, as does :meth:`search` on a long message
    to find the match whose groups it then reads (see FILTER_FROM_BYTES).
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
        "keys",
        "size",
        "source",
    )

    def __init__(
        self, source: str, *, case_sensitive: bool, ascii_source: str | None = None, eager: bool = True
    ) -> None:
        """Compile (see the class); raise :class:`RegexRefused` when RE2 refuses a program."""
        compiled = compile_program(source if ascii_source is None else ascii_source, case_sensitive)
        self.source = source
        self.case_sensitive = case_sensitive
        #: Whether it runs on the case-folded message (case-insensitive patterns do).
        self.folded = not case_sensitive
        self.groups: int = compiled.NumberOfCapturingGroups()
        self.groupindex: dict[str, int] = {
            name.decode(): number for name, number in compiled.NamedCapturingGroups()
        }
        names: dict[int, list[str]] = {}
        for name, number in self.groupindex.items():
            names.setdefault(number, []).append(name)
        #: Per group, the keys a reply reads it by: "1", "2"... and its name: made once, not at each match.
        self.keys = tuple((str(n), *names.get(n, ())) for n in range(1, self.groups + 1))
        self._ascii: Program = compiled.Match
        #: The ASCII program's size (RE2 instructions).
        self.ascii_size: int = compiled.ProgramSize()
        ascii_program = source if ascii_source is None else ascii_source
        self._ascii_any: Program = self._without_groups(ascii_program) if self.groups else compiled.Match
        self._unicode: Program | None = None
        self._unicode_any: Program | None = None
        #: RE2's program size (the Unicode one, 0 until built): instructions, what a match can cost per byte.
        self.size = 0
        if ascii_source is None:  # one program serves both
            self._unicode = compiled.Match
            self._unicode_any = self._ascii_any
            self.size = compiled.ProgramSize()
        elif eager:
            self._unicode_program()

    def _without_groups(self, source: str) -> Program:
        """*source*'s twin without groups: it only says whether, and where, the regex matches."""
        program: Program = compile_program(source, self.case_sensitive, captures=False).Match
        return program

    def _unicode_program(self) -> Program:
        compiled = compile_program(self.source, self.case_sensitive)
        self.size = compiled.ProgramSize()
        unicode: Program = compiled.Match
        self._unicode = unicode
        self._unicode_any = self._without_groups(self.source) if self.groups else unicode
        return unicode

    def hit(self, text: str, folded: str) -> Found | None:
        """Whether it matches the prepared message (*text* its NFC form, *folded* that case-folded),
        without the match record: :data:`NO_CAPTURES`, or None."""
        subject = folded if self.folded else text
        data = subject.encode()
        size = len(data)
        if size == len(subject):  # ASCII
            program = self._ascii_any
        else:
            if self._unicode is None:
                self._unicode_program()
            program = self._unicode_any  # type: ignore[assignment]  # built with the Unicode program
        return None if program(_UNANCHORED, data, 0, size)[0][0] < 0 else NO_CAPTURES

    def search(self, text: str, folded: str) -> Found | None:
        """The first match in the prepared message (*text* its NFC form, *folded* that case-folded)."""
        subject = folded if self.folded else text
        data = subject.encode()
        size = len(data)
        if size == len(subject):  # ASCII
            if size >= FILTER_FROM_BYTES and self.groups:
                spans = _groups_in_match(self._ascii_any, self._ascii, data)
            else:
                spans = self._ascii(_UNANCHORED, data, 0, size)
            if spans[0][0] < 0:
                return None
        else:
            search = self._unicode or self._unicode_program()
            if size >= FILTER_FROM_BYTES and self.groups:
                spans = _groups_in_match(self._unicode_any, search, data)  # type: ignore[arg-type]
            else:
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
        return Found(text, spans, self.groupindex, self.keys)


def _groups_in_match(find: Program, groups: Program, data: bytes) -> list[tuple[int, int]]:
    """The spans of the first match in *data*: *find* (without groups) says where it is, then
    *groups* runs on that match alone, anchored at both its ends, as RE2 itself does once its DFA
    has found the match; RE2's unanchored search with groups would first find it again with
    the groups' own program, cold: twice the cost on a long message."""
    found = find(_UNANCHORED, data, 0, len(data))
    start, end = found[0]
    if start < 0:
        return found
    return groups(_ANCHOR_BOTH, data, start, end)


__all__ = ["FILTER_FROM_BYTES", "NO_CAPTURES", "Found", "Match", "Regex", "compile_program"]
