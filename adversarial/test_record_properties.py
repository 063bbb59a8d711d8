"""Property-based tests of chat-bot --record's sans-IO parts (bots/record/): any bytes, any split, any chat.

* The lines a side's bytes make do not depend on how the bytes arrive.
* Every text, however odd, is written as a YAML scalar that reads back as it.
* Whatever crossed, both dialogues written load, and the test that plays the client passes
  against the peer that plays the server (in memory, chat_testing.memory): the recording
  replays, each side's timeouts and endings fitting the other's.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.loader import parse_dialogue
from bots.record import write
from bots.record.session import CLIENT, SERVER, LineSplitter, Recording
from chat_testing.memory import converse

pytestmark = [pytest.mark.adversarial, pytest.mark.timeout(600)]

# A chat in memory costs a few milliseconds: the replay property takes fewer examples than the profile's.
FEW = settings(max_examples=min(2_000, settings().max_examples))


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@given(
    st.lists(st.binary(max_size=20).filter(lambda b: b"\n" not in b), max_size=8),
    st.lists(st.integers(min_value=0), max_size=10),
    st.booleans(),
)
def test_lines_are_the_same_however_the_bytes_are_cut(
    lines: list[bytes], cuts: list[int], crlf: bool
) -> None:
    data = b"".join(line + (b"\r\n" if crlf else b"\n") for line in lines)
    splitter = LineSplitter()
    found = [line for piece in chunks(data, cuts) for line in splitter.feed(piece)]
    expected = []
    for line in lines:
        text, ends_crlf = (line, crlf) if crlf or not line.endswith(b"\r") else (line[:-1], True)
        expected.append((text.decode("utf-8", "replace"), ends_crlf))
    assert found == expected
    assert not splitter.pending


@given(st.text())
def test_a_scalar_reads_back_as_its_text(text: str) -> None:
    assert yaml.safe_load(f"key: {write.scalar(text)}") == {"key": text}


# Lines a say step can send (not empty, not blanks only), odd ones among them, volatile tokens inside.
texts = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), min_size=1, max_size=30
).filter(lambda t: t.strip() != "")
tokens = st.sampled_from(["4a7f2c19e0", "10:20:30", "123456", "2025-06-13", "Fri Jun 13"])
odd = st.sampled_from(["exit", "EXIT ", "{x}", "'", '"', "#x", "- a", ": b", "a\x85b", "x\u2028y", "é" * 600])
lines = st.lists(
    st.tuples(
        st.sampled_from([CLIENT, SERVER]),
        st.one_of(texts, st.builds("{} {} {}".format, texts, tokens, texts), odd),
    ),
    min_size=2,
    max_size=12,
).filter(
    lambda crossed: {side for side, _text in crossed} == {CLIENT, SERVER}
)  # a side that never spoke: no test


@FEW
@given(
    lines,
    st.sampled_from([None, CLIENT, SERVER]),
    st.booleans(),
    st.lists(st.floats(min_value=0, max_value=40), min_size=12, max_size=12),
)
def test_whatever_crossed_the_test_passes_against_its_peer(
    crossed: list[tuple[str, str]], closer: str | None, volatile: bool, gaps: list[float]
) -> None:
    made = Recording()
    made.start(0.0)
    when = 0.0
    for (side, text), gap in zip(crossed, gaps, strict=False):
        when += gap
        made.data(side, text.encode() + b"\n", when)
    if closer is not None:
        made.end_of_stream(closer, when + 0.1)
        made.end_of_stream(SERVER if closer == CLIENT else CLIENT, when + 0.2)
    test = parse_dialogue(write.dialogue(made, CLIENT, name="t", source="x", volatile=volatile), "t.yaml")
    peer = parse_dialogue(write.dialogue(made, SERVER, name="p", source="x", volatile=volatile), "p.yaml")
    run = converse(test, peer)
    assert run.passed, run.report()
