"""Property-based test of the dialogue loader: any document gives a clear DialogueError or a dialogue.

Documents come three ways: any text at all; YAML built from the format's own keys
with values of every type (so deep paths of the validator are reached), dumped
and then mutated (tags that build objects, anchors and aliases, cut or inserted
characters). Loading must never raise anything but :class:`DialogueError`, whose
message is one line starting ``file:line:col:``; a valid dialogue must then
route any message without raising.
"""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bots import loader
from bots.conditions import ConditionError, parse_condition
from bots.loader.format import SHAPES
from bots.model import Ending, LineEnd, OnMismatch, Order

pytestmark = [pytest.mark.adversarial, pytest.mark.timeout(600)]


PATH = "fuzzed.yaml"
ERROR_LINE = re.compile(rf"{re.escape(PATH)}:\d+:\d+: \S[^\n]*")

KEYS = sorted(
    {
        *(key for shape in SHAPES for key in shape.names),
        *Order.words(),
        *OnMismatch.words(),
        *Ending.words(),
        *LineEnd.words(),
        "from",
    }
)
SCALARS = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(
        ["{input}", "{name}", "{", "}", "{{", "(a+)+$", "(", "[a-", "*?", "exit", "(?P<name>\\w+)"]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.sampled_from(KEYS),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(st.characters(codec="utf-8"), max_size=6)),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=8,  # small documents: 10,000 of them must load in well under a minute
)
DOCUMENTS_AS_DATA = st.one_of(
    st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4).map(lambda doc: {"version": 1, **doc}),
    VALUES,
)
INSERTS = st.sampled_from(
    [
        "!!python/object/apply:os.system ['true'] ",
        "!!python/name:os.system ",
        "!!binary aGVsbG8= ",
        "!!set ",
        "!local ",
        "&a ",
        "*a ",
        "<<: *a\n",
        "\t",
        "\n",
        ": ",
        "- ",
        "'",
        '"',
        "\\",
        "%YAML 1.1\n---\n",
        "\x00",
        "\ufeff",
    ]
)


# What a dialogue file can hold once read: read_dialogue_text decodes UTF-8 strictly, so never a
# lone surrogate (parse_dialogue given one directly raises UnicodeEncodeError: reported, not a file case).
FILE_CHARACTERS = st.characters(codec="utf-8")


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A document: raw text, or the format's keys dumped as YAML and then mutated."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.text(FILE_CHARACTERS, max_size=200))
    text = yaml.safe_dump(draw(DOCUMENTS_AS_DATA), allow_unicode=draw(st.booleans()), sort_keys=False)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(INSERTS) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
    return text


@given(text=documents(), message=st.text(max_size=40))
def test_any_document_loads_as_a_dialogue_or_fails_with_one_clear_positioned_line(
    text: str, message: str
) -> None:
    try:
        loaded = loader.parse_dialogue(text, PATH)
    except loader.DialogueError as exc:
        error = exc  # checked below, outside the handler
    else:
        loaded.match(message)  # a valid dialogue routes any message without raising
        return
    assert ERROR_LINE.fullmatch(str(error)), f"unclear error: {error!s}"
    assert error.problems


CONDITION_PIECES = st.sampled_from(
    [
        "a",
        "b",
        "input",
        "'x'",
        '"y"',
        "3",
        "-2.5",
        "==",
        "!=",
        "<",
        ">=",
        "in",
        "not",
        "and",
        "or",
        "(",
        ")",
        "[",
        "]",
        ",",
        "=",
        "'",
        "_",
        "1e9",
    ]
)


@given(
    source=st.one_of(
        st.text(max_size=60),
        st.lists(CONDITION_PIECES, max_size=24).map(" ".join),
    ),
    values=st.dictionaries(st.sampled_from(["a", "b", "input"]), st.text(max_size=6), max_size=3),
)
def test_any_condition_text_parses_or_is_refused_and_a_parsed_one_always_gives_a_verdict(
    source: str, values: dict[str, str]
) -> None:
    try:
        parsed = parse_condition(source)
    except ConditionError as exc:
        refused: ConditionError | None = exc
    else:
        refused = None
    if refused is not None:
        assert 0 <= refused.offset <= len(source)
        return
    assert parsed.names <= set(re.findall(r"[A-Za-z_]\w*", source))
    assert parsed.holds(values) in (True, False)
    assert parsed.holds(values, case_sensitive=True) in (True, False)
