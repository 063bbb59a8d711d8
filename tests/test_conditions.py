"""bots.conditions: the when: expressions, parsed once into a tree and judged on variables."""

from __future__ import annotations

import pytest

from bots.conditions import (
    MAX_CONDITION_CHARS,
    MAX_NESTING,
    Both,
    Compare,
    ConditionError,
    Items,
    Literal,
    Not,
    Variable,
    parse_condition,
)

VARIABLES = {"score": "4", "name": "Ada", "mood": "Calm", "empty": "", "word": "ten"}


def holds(source: str, *, case_sensitive: bool = False) -> bool:
    return parse_condition(source).holds(VARIABLES, case_sensitive=case_sensitive)


def test_a_condition_parses_into_a_tree_with_the_variables_it_reads() -> None:
    parsed = parse_condition("score >= 3 and not mood in ['sad', 2]")
    assert parsed.tree == Both(
        True,
        (
            Compare(">=", Variable("score"), Literal(3.0)),
            Not(Compare("in", Variable("mood"), Items(("sad", 2.0)))),
        ),
    )
    assert parsed.names == frozenset({"score", "mood"})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("score == 4", True),
        ("score == '4.0'", True),  # both read as numbers: compared as numbers
        ("score != 4", False),
        ("score > 3.5", True),
        ("score <= 3", False),
        ("-1 < score", True),
        ("word > 3", False),  # not a number: an order never holds
        ("name == 'ada'", True),  # text: case-insensitive by default
        ('mood == "calm"', True),
        ("mood in ['happy', 'calm']", True),
        ("mood not in ['happy', 'calm']", False),
        ("'ad' in name", True),  # text on the right: inside it
        ("name", True),
        ("empty", False),
        ("never_set", False),
        ("never_set == ''", True),
        ("not empty", True),
        ("score == 1 or name", True),
        ("(score == 1 or name) and empty", False),
        ("not not name", True),
        ("mood == ['calm']", False),  # a list equals no single value
        ("mood != ['calm']", True),
    ],
)
def test_conditions_judge_variables(source: str, expected: bool) -> None:
    assert holds(source) is expected


def test_a_case_sensitive_dialogue_compares_text_exactly() -> None:
    assert holds("name == 'Ada'", case_sensitive=True)
    assert not holds("name == 'ada'", case_sensitive=True)


def test_comparison_words_bind_tighter_than_not_and_than_or() -> None:
    assert parse_condition("not a == 1 or b").tree == Both(
        False, (Not(Compare("==", Variable("a"), Literal(1.0))), Variable("b"))
    )


@pytest.mark.parametrize(
    ("source", "message", "offset"),
    [
        (
            "score ==",
            "expected a variable, a quoted text, a number, a list or '(', found end of condition",
            8,
        ),
        ("score = 3", "cannot read '=' here: compare with ==, !=, <, <=, > or >=", 6),
        ("(score > 1", "expected ')' to close the '(' at character 1, found end of condition", 10),
        ("score 3", "unexpected '3': expected and, or or the end", 6),
        ("mood in ['a' 'b']", "expected ',' or ']' to close the '[' at character 9, found 'b'", 13),
        ("mood in [name]", "a list holds quoted texts and numbers, found 'name'", 9),
        ("name.upper()", "cannot read '.' here", 4),
        ("name == 'open", "the quote ' is never closed", 8),
        ("", "expected a variable, a quoted text, a number, a list or '(', found end of condition", 0),
        ("and", "expected a variable, a quoted text, a number, a list or '(', found 'and'", 0),
    ],
)
def test_bad_syntax_names_the_fault_and_its_offset(source: str, message: str, offset: int) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(source)
    assert (str(caught.value), caught.value.offset) == (message, offset)


def test_nothing_is_ever_evaluated_as_python() -> None:
    for source in ("__import__('os')", "x if y else z", "a + 1", "f(x)", "a[0]", "lambda: 1"):
        with pytest.raises(ConditionError):
            parse_condition(source)


def test_deep_nesting_is_refused_before_it_reaches_the_stack() -> None:
    with pytest.raises(ConditionError, match=f"nested over {MAX_NESTING} deep"):
        parse_condition("(" * (MAX_NESTING + 2) + "a" + ")" * (MAX_NESTING + 2))
    with pytest.raises(ConditionError, match=f"nested over {MAX_NESTING} deep"):
        parse_condition("not " * (MAX_NESTING + 2) + "a")


def test_an_overlong_condition_is_refused() -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition("a or " * MAX_CONDITION_CHARS + "a")
    assert str(caught.value) == f"condition is over {MAX_CONDITION_CHARS} characters: split the rule"
