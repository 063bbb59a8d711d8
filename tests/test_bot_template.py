"""bots.template: {name} placeholders, escaped braces, errors with their offset."""

from __future__ import annotations

import pytest

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
