"""Property-based tests of the wire codec (chat/protocol.py): any bytes, any split.

The unsplit stream is the reference: cutting the same bytes anywhere, any number
of times, must give exactly the same events, and no input may raise anything.
A small independent model of the framing rules (README, "Wire protocol") checks
the reference itself. The main property runs 10,000 examples in this env.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adversarial import profiles
from chat.errors import LocalProtocolError
from chat.protocol import (
    MAX_MESSAGE_BYTES,
    NEED_DATA,
    ChatConnection,
    ConnectionClosed,
    Event,
    MessageTooLong,
    PeerStyle,
    Received,
)

pytestmark = [pytest.mark.adversarial, pytest.mark.timeout(600)]

# Arbitrary bytes, with some byte values turned into LF and CR so that lines are short and
# frequent (about one byte in 32): every framing path is reached, NUL, ESC and invalid UTF-8 too.
# Drawing one binary string and translating it is far cheaper than drawing token lists.
_FRAMING = bytes.maketrans(bytes(range(0xF0, 0xFA)), b"\n" * 8 + b"\r" * 2)
STREAMS = st.binary(max_size=160).map(lambda raw: raw.translate(_FRAMING))
LIMITS = st.one_of(st.integers(min_value=1, max_value=48), st.just(MAX_MESSAGE_BYTES))
# The byte-level property (any bytes, any split) takes the profile's examples; the others add
# angles on the same code and take fewer (adversarial/profiles.py), to keep the env within minutes.
SIZES = profiles.active_sizes()
FEW = settings(max_examples=SIZES.codec_angles)


def drain(conn: ChatConnection) -> list[Received]:
    """Every event the codec has ready."""
    events: list[Received] = []
    while (event := conn.next_event()) is not NEED_DATA:
        assert isinstance(event, str | Event)
        events.append(event)
    return events


def feed(stream: bytes, cuts: list[int], limit: int) -> list[Received]:
    """Feed *stream* cut at *cuts*, then end of file; check the memory bound after every piece."""
    conn = ChatConnection(limit)
    events: list[Received] = []
    start = 0
    for cut in [*sorted(cuts), len(stream)]:
        if cut == start:
            continue  # an empty piece means end of file, so equal cuts give no piece
        conn.receive_data(stream[start:cut])
        start = cut
        # The limit, plus the CR of a CRLF whose LF has not arrived yet (a message of exactly the limit).
        assert conn.pending_bytes <= limit + 1, "a partial message outgrew the size limit"
        events += drain(conn)
    conn.receive_data(b"")
    return events + drain(conn)


def model(stream: bytes, limit: int) -> list[Received]:
    """The framing rules written plainly: lines end at LF, one CR before it dropped, oversize reported.

    A last line without LF counts as a message too (a classic peer's ``exit``), CR dropped alike.
    """
    *lines, tail = stream.split(b"\n")
    if tail:
        lines.append(tail)  # a classic peer's last message has no newline
    events: list[Received] = []
    for line in lines:
        text = line[:-1] if line.endswith(b"\r") else line
        if len(text) > limit:  # the limit counts the message, not the CR of its CRLF
            events.append(MessageTooLong(limit))
        else:
            events.append(text.decode("utf-8", errors="replace"))
    return [*events, ConnectionClosed()]


def cuts_for(stream: bytes) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=12)


@given(data=st.data(), stream=STREAMS, limit=LIMITS)
def test_any_split_of_any_bytes_gives_the_same_events_as_the_unsplit_stream(
    data: st.DataObject, stream: bytes, limit: int
) -> None:
    whole = feed(stream, [], limit)
    assert whole == model(stream, limit)
    assert feed(stream, data.draw(cuts_for(stream), label="cuts"), limit) == whole
    assert feed(stream, list(range(len(stream))), limit) == whole  # one byte per read


# Text a person can type: anything but line breaks (a message is one line) and lone surrogates.
TEXTS = st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=60)


@FEW
@given(data=st.data(), texts=st.lists(TEXTS, max_size=20))
def test_every_message_sent_arrives_once_in_order_byte_for_byte_under_any_split(
    data: st.DataObject, texts: list[str]
) -> None:
    sender = ChatConnection()
    stream = b"".join(sender.frame(text) for text in texts)
    received = feed(stream, data.draw(cuts_for(stream), label="cuts"), MAX_MESSAGE_BYTES)
    assert received == [*texts, ConnectionClosed()]


@FEW
@given(data=st.data(), texts=st.lists(TEXTS, min_size=1, max_size=8))
def test_classic_messages_ended_by_silence_arrive_whole_under_any_split(
    data: st.DataObject, texts: list[str]
) -> None:
    # A classic peer sends bare messages and waits; the adapter reports the silence.
    sender = ChatConnection(classic=True)
    receiver = ChatConnection()
    received: list[Received] = []
    for text in texts:
        payload = sender.frame(text)
        cuts = sorted(set(data.draw(cuts_for(payload), label="cuts")) - {0, len(payload)})
        for start, end in zip([0, *cuts], [*cuts, len(payload)], strict=True):
            receiver.receive_data(payload[start:end])
            received += drain(receiver)
        assert receiver.wants_silence_timer
        receiver.silence()
        received += drain(receiver)
    assert receiver.peer_style is PeerStyle.CLASSIC
    # An empty classic message travels as one blank (a bare empty send would hang both sides).
    assert received == [text or " " for text in texts]


@FEW
@given(data=st.data(), stream=STREAMS, limit=LIMITS)
def test_no_sequence_of_calls_raises_or_lets_memory_grow(
    data: st.DataObject, stream: bytes, limit: int
) -> None:
    # Silence may be reported at any moment, also when it means nothing; the codec must shrug.
    conn = ChatConnection(limit, classic=data.draw(st.booleans(), label="classic"))
    cuts = sorted(set(data.draw(cuts_for(stream), label="cuts")) - {0, len(stream)})
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        if end > start:
            conn.receive_data(stream[start:end])
        if data.draw(st.booleans(), label="silence here"):
            conn.silence()
        assert conn.pending_bytes <= limit + 1
        for event in drain(conn):
            assert isinstance(event, str | MessageTooLong)
            if isinstance(event, str):
                assert len(event.encode("utf-8", errors="surrogatepass")) <= 3 * limit
    conn.receive_data(b"")
    assert drain(conn)[-1] == ConnectionClosed()
    conn.receive_data(b"")  # a second end of file is harmless
    with pytest.raises(LocalProtocolError, match=r"^receive_data called after end of file$"):
        conn.receive_data(b"late")


@FEW
@given(text=st.text(max_size=40), limit=LIMITS)
def test_sending_never_raises_anything_but_a_clear_local_protocol_error(text: str, limit: int) -> None:
    conn = ChatConnection(limit)
    if "\n" in text or "\r" in text:
        line_break = r"^a chat message is one line: it cannot contain a line break$"
        with pytest.raises(LocalProtocolError, match=line_break):
            conn.frame(text)
        return
    size = len(text.encode("utf-8", errors="replace"))
    if size > limit:
        over = rf"^message of {size} bytes is over the {limit}-byte limit$"
        with pytest.raises(LocalProtocolError, match=over):
            conn.frame(text)
        return
    data = conn.frame(text)
    assert data.endswith(b"\n")
    assert data.count(b"\n") == 1
    assert b"\r" not in data
