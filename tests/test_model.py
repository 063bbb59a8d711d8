"""bots.model: the format's words are enum members that equal, hash and show as those words."""

from __future__ import annotations

import pytest

from bots.model import Kind, OnMismatch, Order, PatternKind, StepKind


@pytest.mark.parametrize("kinds", [PatternKind, Order, StepKind, OnMismatch])
def test_every_kind_equals_hashes_and_shows_as_its_word(kinds: type[Kind]) -> None:
    for kind in kinds:
        assert kind == kind.value
        assert {kind.value: True}[kind]
        assert str(kind) == f"{kind}" == kind.value


def test_the_words_are_listed_in_the_order_of_the_format() -> None:
    assert PatternKind.words() == ("exact", "contains", "glob", "regex")
    assert Order.words() == ("in_order", "random", "no_repeat")
    assert StepKind.words() == ("say", "expect")
    assert OnMismatch.words() == ("fail", "rules")
