"""bots.template: {name} placeholders, escaped braces, errors with their offset, bounded filled texts."""

from __future__ import annotations

import pytest

from bots.limits import MAX_REPLY_CHARS, REPLY_REFUSED
from bots.template import TemplateError, parse_template


def test_placeholders_are_filled_and_missing_names_render_empty() -> None:
    template = parse_template("Hi {name}, you said {input}{missing}!")
    assert template.names == ("name", "input", "missing")
    assert template.render({"name": "Ann", "input": "yo"}) == "Hi Ann, you said yo!"


def test_double_braces_are_literal_braces() -> None:
    assert parse_template("{{name}} is {name}").render({"name": "x"}) == "{name} is x"


def test_numbered_captures_are_placeholders() -> None:
    assert parse_template("{1}-{2}").render({"1": "a", "2": "b"}) == "a-b"


def test_plain_text_has_no_names() -> None:
    template = parse_template("just text")
    assert template.names == ()
    assert template.render({}) == "just text"


@pytest.mark.parametrize(
    ("source", "offset", "message"),
    [
        ("a { b", 2, "'{' starts no placeholder: write {name} for a value, or {{ for a literal brace"),
        ("a {x.attr}", 2, "'{' starts no placeholder: write {name} for a value, or {{ for a literal brace"),
        ("a } b", 2, "'}' closes no placeholder: write }} for a literal brace"),
    ],
)
def test_malformed_braces_are_errors_with_their_offset(source: str, offset: int, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(source)
    assert str(caught.value) == message
    assert caught.value.offset == offset


# -- issue 19 item 2: every filled text is bounded ---------------------------------------------


def test_a_reply_over_its_limit_is_refused_without_being_built() -> None:
    template = parse_template("{a}{a}{a}")
    assert template.limit == MAX_REPLY_CHARS
    assert template.render({"a": "x" * (MAX_REPLY_CHARS // 3)}) == "x" * (MAX_REPLY_CHARS // 3 * 3)
    assert template.render({"a": "x" * (MAX_REPLY_CHARS // 3 + 1)}) == REPLY_REFUSED
    assert REPLY_REFUSED == "[reply over the 1,048,576-character limit, not sent]"


def test_a_value_over_its_limit_is_cut_there() -> None:
    template = parse_template("<{a}|{b}>", limit=6, refusal=None)
    assert template.render({"a": "12", "b": "3"}) == "<12|3>"
    assert template.render({"a": "1234", "b": "5"}) == "<1234|"
    assert template.render({"a": "123456789"}) == "<12345"
    assert parse_template("1234567", limit=6, refusal=None).render({}) == "123456"
