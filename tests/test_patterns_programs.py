"""bots.patterns.programs: RE2 programs and the match record."""

from __future__ import annotations

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from bots import patterns


def test_a_match_gives_every_group_stripped_by_number_and_by_name_and_empty_for_a_group_not_taken() -> None:
    regex = patterns.Regex(r"(?P<first>\w+)( and +(?P<second>\w+) )?(x)?", case_sensitive=True)
    found = regex.search("tea and  cake ", "tea and  cake ")
    assert found is not None
    assert found.captures() == {
        "1": "tea",
        "2": "and  cake",
        "3": "cake",
        "4": "",
        "first": "tea",
        "second": "cake",
    }
    assert found.groups() == ("tea", " and  cake ", "cake", None)
    assert found.groupdict() == {"first": "tea", "second": "cake"}


def test_groups_read_from_the_match_alone_are_the_groups_re2s_own_search_finds() -> None:
    # From FILTER_FROM_BYTES on, the groups run on the match found without them, anchored at its
    # ends: the same spans as RE2's unanchored search, word boundaries and anchors seen in context.
    cases = [
        (r"(a|ab)(c|bcd)(d*)", "x" * 70 + "abcd" + "abcd"),
        (r"\b(a+)(b*)", "b" + "a" * 80 + " aab"),  # no boundary before the first run of a
        (r"^(\w+) (\w+)$", "hello " + "w" * 70),
        (r"(é+)(字?)", "x" * 40 + "éé字" + "é" * 30),
        (r"(?P<first>\S+) +(\S+) *$", "one " * 30 + "two"),
    ]
    for source, message in cases:
        regex = patterns.Regex(source, case_sensitive=True)
        text = patterns.prepare(message)[0]
        assert len(text.encode()) >= patterns.programs.FILTER_FROM_BYTES
        found = regex.search(text, text)
        expected = re2.search(source, text)
        assert found is not None, source
        assert expected is not None, source
        assert [found.group(n) for n in range(regex.groups + 1)] == [
            expected.group(n) for n in range(regex.groups + 1)
        ], source
