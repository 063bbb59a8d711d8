"""bots.loader.lists: {name} in patterns means any item of a word list; literal braces; the bounds."""

from __future__ import annotations

import textwrap

import pytest

from bots.loader import DialogueError, parse_dialogue
from bots.loader.lists import MAX_ALTERNATIVES, ListError, expand
from bots.model import Dialogue

COLORS = {"colors": ("red", "dark green"), "size": ("big", "small")}


def load(text: str) -> Dialogue:
    return parse_dialogue(textwrap.dedent(text).lstrip("\n"), "d.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(DialogueError) as caught:
        load(text)
    return [str(p) for p in caught.value.problems]


def test_a_text_expands_to_one_text_per_combination_of_its_lists() -> None:
    assert expand("a {size} {colors} ball", COLORS) == [
        "a big red ball",
        "a big dark green ball",
        "a small red ball",
        "a small dark green ball",
    ]


def test_doubled_braces_are_literal_and_other_braces_stay_as_written() -> None:
    assert expand("{{colors}} { } {2} }}", COLORS) == ["{colors} { } {2} }"]


def test_a_name_that_is_not_a_list_is_an_error_at_its_offset() -> None:
    with pytest.raises(ListError) as caught:
        expand("i like {colours}", COLORS)
    assert caught.value.offset == 7
    assert caught.value.message == (
        "{colours} is not a word list: define it under 'lists' (lists here: colors, size), "
        "or write {{ and }} for literal braces"
    )


def test_a_text_standing_for_too_many_texts_is_an_error() -> None:
    lists = {"n": tuple(str(i) for i in range(MAX_ALTERNATIVES // 2 + 1))}
    assert len(expand("{n}", lists)) == MAX_ALTERNATIVES // 2 + 1
    with pytest.raises(ListError, match=f"more than {MAX_ALTERNATIVES} texts"):
        expand("{n} {n}", lists)


def test_a_list_matches_any_of_its_items_in_exact_contains_and_glob_patterns() -> None:
    dialogue = load(
        """
        version: 1.1
        lists:
          colors: [red, dark green]
        rules:
          - exact: "{colors}"
            reply: just a colour
          - glob: "i like * {colors}"
            reply: "{1} then"
          - contains: "{colors} please"
            reply: coming
        """
    )

    def answer(text: str) -> int | None:
        found = dialogue.match(text)
        return None if found is None else dialogue.rules.index(found[0])

    assert [
        answer(t) for t in ["Dark  Green", "i like very dark green", "red please, now", "blue please"]
    ] == [
        0,
        1,
        2,
        None,
    ]


def test_regex_patterns_keep_their_braces() -> None:
    dialogue = load("version: 1.1\nlists: {d: [x]}\nrules: [{regex: 'a{2}', reply: two}]\n")
    assert dialogue.match("aa") is not None


def test_braces_in_a_format_1_pattern_are_literal_text_as_before() -> None:
    dialogue = load("version: 1\nrules: [{exact: '{colors}', reply: x}]\n")
    assert dialogue.match("{colors}") is not None


def test_an_unknown_list_and_bad_lists_are_reported_with_file_line_col() -> None:
    assert problems(
        """
        version: 1.1
        lists:
          1st: [a]
          ok: []
          stars: ["a*", b]
        rules:
          - contains: i like {colours}
            reply: x
        """
    ) == [
        "d.yaml:3:3: list name '1st' must be letters, digits and _ (not starting with a digit)",
        "d.yaml:4:7: list ok is an empty list",
        "d.yaml:5:11: a list item cannot hold '*' (patterns read it as syntax)",
        "d.yaml:7:22: {colours} is not a word list: define it under 'lists' (lists here: stars), "
        "or write {{ and }} for literal braces",
    ]
