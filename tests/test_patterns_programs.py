"""bots.patterns.programs: RE2 programs and the match record."""

from __future__ import annotations

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
