"""bots.loader.positions: a problem inside a text points at its character, whatever its YAML style."""

from __future__ import annotations

import textwrap

import pytest
from yaml.nodes import MappingNode, ScalarNode

from bots.loader import DialogueError, parse_dialogue
from bots.loader.compose import compose
from bots.loader.positions import line_col, value_places


def problems(text: str) -> list[str]:
    with pytest.raises(DialogueError) as caught:
        parse_dialogue(textwrap.dedent(text).lstrip("\n"), "d.yaml")
    return [str(p) for p in caught.value.problems]


def scalar(text: str, key: str = "k") -> ScalarNode:
    root = compose(text, "d.yaml")
    assert isinstance(root, MappingNode)
    node = next(value for name, value in root.value if name.value == key)
    assert isinstance(node, ScalarNode)
    return node


@pytest.mark.parametrize(
    ("written", "col"), [("name != '' and score = 1", 32), ("\"name != '' and score = 1\"", 33)]
)
def test_a_condition_with_quotes_is_reported_at_the_bad_character_not_at_its_start(
    written: str, col: int
) -> None:
    found = problems(
        f"""
        version: 1.1
        vars: {{name: "", score: "0"}}
        rules:
          - contains: a
            when: {written}
            reply: x
        """
    )
    assert found == [f"d.yaml:5:{col}: when: cannot read '=' here: compare with ==, !=, <, <=, > or >="]


def test_a_regex_in_double_quotes_is_reported_at_the_bad_character() -> None:
    found = problems(
        """
        version: 1.1
        rules:
          - contains: b
            after: {regex: "tea ("}
            reply: y
        """
    )
    assert found == ["d.yaml:4:25: regex does not compile: missing ) for the ( at position 4"]


def test_escapes_count_as_the_characters_they_are_written_with() -> None:
    # \t and \u00e9 are one character of the regex each, written with two and six.
    found = problems('version: 1\nrules: [{regex: "\\t\\u00e9 (", reply: x}]\n')
    assert found == ["d.yaml:2:27: regex does not compile: missing ) for the ( at position 3"]


def test_a_doubled_single_quote_is_one_character_of_the_text() -> None:
    found = problems(
        """
        version: 1.1
        vars: {name: ""}
        rules:
          - contains: a
            when: 'name == ''it''''s'' and name = 1'
            reply: x
        """
    )
    assert found == ["d.yaml:5:41: when: cannot read '=' here: compare with ==, !=, <, <=, > or >="]


def test_a_text_folded_over_two_lines_points_at_the_second_line() -> None:
    found = problems(
        'version: 1.1\nvars: {a: ""}\nrules:\n  - contains: a\n'
        "    when: \"a == 'x'\n      and a = 1\"\n    reply: x\n"
    )
    assert found == ["d.yaml:6:13: when: cannot read '=' here: compare with ==, !=, <, <=, > or >="]


def test_an_unclosed_parenthesis_is_named_by_its_column_in_the_file() -> None:
    found = problems(
        """
        version: 1.1
        vars: {a: ""}
        rules:
          - contains: hi
            when: (a == 'x'
            reply: first
        """
    )
    assert found == ["d.yaml:5:20: when: expected ')' to close the '(' at col 11, found end of condition"]


def test_a_literal_block_points_at_its_line_and_column() -> None:
    node = scalar("k: |\n  first line\n  sec(ond\n")
    places = value_places("k: |\n  first line\n  sec(ond\n", node)
    assert places is not None
    assert line_col("k: |\n  first line\n  sec(ond\n", places[node.value.index("(")]) == (3, 6)


def test_crlf_line_ends_count_as_one_break() -> None:
    text = 'a: 1\r\nk: "x (y"\r\n'
    node = scalar(text)
    places = value_places(text, node)
    assert places is not None
    assert line_col(text, places[2]) == (2, 7)
