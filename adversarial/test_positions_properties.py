"""Property-based test of bots/loader/positions.py: a reported place is the character as written.

Any short value, in any of YAML's scalar styles and line widths, either gets no places (the problem
then points at the scalar's start) or one place per character, each at that character as the file
writes it (itself, its escape, a doubled quote, or a folded break).
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from yaml.nodes import MappingNode, ScalarNode

from bots.loader.compose import compose
from bots.loader.positions import value_places

pytestmark = pytest.mark.adversarial


def scalar(text: str, key: str = "k") -> ScalarNode:
    root = compose(text, "d.yaml")
    assert isinstance(root, MappingNode)
    node = next(value for name, value in root.value if name.value == key)
    assert isinstance(node, ScalarNode)
    return node


#: Values that exercise the styles' rules: quotes, escapes, blanks at line ends, line breaks.
VALUE_CHARACTERS = st.sampled_from([*"ab é'\"\\\t\n:#-{}()=😀", "e\u0301", "  ", "\n\n"])


@given(
    value=st.lists(VALUE_CHARACTERS, min_size=1, max_size=14).map("".join),
    style=st.sampled_from([None, "'", '"', "|", ">"]),
    width=st.sampled_from([8, 80]),
    unicode=st.booleans(),
)
def test_a_place_is_the_character_as_written_or_none_is_given(
    value: str, style: str | None, width: int, unicode: bool
) -> None:
    text = yaml.safe_dump({"k": value}, default_style=style, width=width, allow_unicode=unicode)
    node = scalar(text)
    places = value_places(text, node)
    if places is None:
        return  # unsure: the problem points at the scalar's start
    assert len(places) == len(node.value) + 1
    for char, index in zip(node.value, places, strict=False):
        written = text[index]
        # A character is written as itself, or as an escape or a doubled quote, or is a folded break.
        assert written == char or written in "\\'" or char in " \n", (text, node.value)
