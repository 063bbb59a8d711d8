"""The sans-IO codec: framing, reassembly, decoding, the size limit and the classic style."""

from __future__ import annotations

import itertools
import re

import pytest

from chat.errors import ChatError, LocalProtocolError
from chat.protocol import (
    MAX_MESSAGE_BYTES,
    NEED_DATA,
    ChatConnection,
    ConnectionClosed,
    Event,
    MessageTooLong,
    PeerStyle,
    Received,
    is_exit,
)

SAMPLE = "héllo\n你好\r\n🎉 ok\n\nexit\n".encode()
SAMPLE_MESSAGES = ["héllo", "你好", "🎉 ok", "", "exit"]


def drain(conn: ChatConnection) -> list[Received]:
    """Every event the codec has ready (a message as its text)."""
    events: list[Received] = []
    while (event := conn.next_event()) is not NEED_DATA:
        assert isinstance(event, str | Event)
        events.append(event)
    return events


def feed(conn: ChatConnection, *chunks: bytes) -> list[Received]:
    """Feed each chunk (``b""`` is end of file), then drain the events."""
    for chunk in chunks:
        conn.receive_data(chunk)
    return drain(conn)


def segments(*chunks: bytes) -> list[bytes]:
    """The non-empty chunks of a split: an empty one would mean end of file."""
    return [chunk for chunk in chunks if chunk]


# -- reassembly ----------------------------------------------------------------


def test_a_fresh_connection_needs_data() -> None:
    conn = ChatConnection()

    assert conn.next_event() is NEED_DATA
    assert repr(NEED_DATA) == "NEED_DATA"
    assert conn.peer_style is PeerStyle.UNKNOWN


def test_every_split_into_two_segments_reassembles_exactly() -> None:
    for cut in range(len(SAMPLE) + 1):
        assert feed(ChatConnection(), *segments(SAMPLE[:cut], SAMPLE[cut:])) == SAMPLE_MESSAGES, cut


def test_every_split_into_three_segments_reassembles_exactly() -> None:
    for first, second in itertools.combinations(range(len(SAMPLE) + 1), 2):
        chunks = SAMPLE[:first], SAMPLE[first:second], SAMPLE[second:]
        assert feed(ChatConnection(), *segments(*chunks)) == SAMPLE_MESSAGES, (first, second)


def test_one_byte_at_a_time_reassembles_exactly() -> None:
    conn = ChatConnection()

    events = [event for byte in SAMPLE for event in feed(conn, bytes([byte]))]

    assert events == SAMPLE_MESSAGES


def test_many_messages_coalesced_in_one_segment_come_out_one_by_one_in_order() -> None:
    conn = ChatConnection()
    conn.receive_data(b"one\ntwo\nthree\n")

    assert conn.next_event() == "one"
    assert conn.next_event() == "two"
    assert conn.next_event() == "three"
    assert conn.next_event() is NEED_DATA


def test_a_partial_message_waits_for_its_newline() -> None:
    conn = ChatConnection()

    assert feed(conn, b"half a mes") == []
    assert conn.pending_bytes == len(b"half a mes")
    assert feed(conn, b"sage\n") == ["half a message"]
    assert conn.pending_bytes == 0


def test_crlf_and_lf_both_end_a_message_and_a_lone_cr_inside_is_kept() -> None:
    assert feed(ChatConnection(), b"telnet\r\nnc\na\rb\nc\r\r\n") == [
        "telnet",
        "nc",
        "a\rb",
        "c\r",  # only the \r of the CRLF goes
    ]


def test_a_line_ending_makes_the_peer_a_line_peer_for_good() -> None:
    conn = ChatConnection()
    feed(conn, b"hi\n")

    assert conn.peer_style is PeerStyle.LINE
    assert feed(conn, b"partial") == []
    assert not conn.wants_silence_timer
    conn.silence()  # ignored: a line peer's message ends only at its newline
    assert drain(conn) == []


# -- decoding ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"caf\xe9\n", "caf\ufffd"),
        (b"\xff\xfe\n", "\ufffd\ufffd"),
        (b"cut \xe4\xbd\n", "cut \ufffd"),
        (b"\xed\xa0\x80\n", "\ufffd\ufffd\ufffd"),  # an encoded surrogate is not UTF-8
    ],
)
def test_invalid_utf8_decodes_with_replacement_characters(raw: bytes, text: str) -> None:
    assert feed(ChatConnection(), raw) == [text]


def test_a_character_split_across_segments_is_decoded_whole() -> None:
    data = "🎉\n".encode()

    for cut in range(1, 4):
        assert feed(ChatConnection(), data[:cut], data[cut:]) == ["🎉"]


# -- the size limit --------------------------------------------------------------


def test_the_default_limit_is_1_mib() -> None:
    assert MAX_MESSAGE_BYTES == 1024 * 1024
    assert ChatConnection().max_message_bytes == MAX_MESSAGE_BYTES


def test_a_message_of_exactly_the_limit_is_accepted() -> None:
    text = "x" * MAX_MESSAGE_BYTES

    assert feed(ChatConnection(), text.encode() + b"\n") == [text]


def test_the_limit_counts_message_bytes_not_the_crlf_that_ends_them() -> None:
    conn = ChatConnection(max_message_bytes=4)

    assert feed(conn, b"abcd\r", b"\n") == ["abcd"]
    assert feed(conn, b"abcd\r\n") == ["abcd"]


def test_the_limit_counts_bytes_not_characters() -> None:
    conn = ChatConnection(max_message_bytes=4)

    assert feed(conn, "éé\n".encode()) == ["éé"]
    assert feed(conn, "ééé\n".encode()) == [MessageTooLong(4)]


def test_one_byte_over_the_limit_is_reported_and_discarded_never_cut() -> None:
    conn = ChatConnection()

    events = feed(conn, b"x" * (MAX_MESSAGE_BYTES + 1) + b"\nnext\n")

    assert events == [MessageTooLong(MAX_MESSAGE_BYTES), "next"]


def test_an_oversize_message_is_reported_once_however_it_is_segmented() -> None:
    conn = ChatConnection(max_message_bytes=10)

    events = feed(conn, *([b"y" * 7] * 20), b"tail\nafter\n")

    assert events == [MessageTooLong(10), "after"]


def test_an_endless_stream_without_newline_keeps_memory_bounded_and_reports_once() -> None:
    conn = ChatConnection(max_message_bytes=1000)
    reports = 0
    peak = 0

    for _ in range(10_000):  # 10 MB, never a newline
        conn.receive_data(b"z" * 1000)
        reports += sum(isinstance(event, MessageTooLong) for event in drain(conn))
        peak = max(peak, conn.pending_bytes)

    assert reports == 1
    assert peak <= 1000
    assert feed(conn, b"\nback to normal\n") == ["back to normal"]


def test_an_oversize_message_ending_at_eof_is_not_shown_cut() -> None:
    conn = ChatConnection(max_message_bytes=3)

    assert feed(conn, b"abcdef", b"") == [MessageTooLong(3), ConnectionClosed()]


@pytest.mark.parametrize("limit", [0, -5])
def test_a_limit_below_one_byte_is_refused_with_a_clear_message(limit: int) -> None:
    with pytest.raises(LocalProtocolError, match=rf"^max_message_bytes must be >= 1, not {limit}$"):
        ChatConnection(max_message_bytes=limit)


# -- end of file -----------------------------------------------------------------


def test_eof_gives_connection_closed() -> None:
    assert feed(ChatConnection(), b"bye\n", b"") == ["bye", ConnectionClosed()]


def test_eof_flushes_a_classic_final_message_without_newline() -> None:
    conn = ChatConnection()

    assert feed(conn, b"exit", b"") == ["exit", ConnectionClosed()]


def test_eof_twice_is_harmless_but_data_after_eof_is_a_local_error() -> None:
    conn = ChatConnection()
    feed(conn, b"")
    conn.receive_data(b"")

    assert drain(conn) == []
    assert not conn.wants_silence_timer
    with pytest.raises(LocalProtocolError, match=r"^receive_data called after end of file$"):
        conn.receive_data(b"late")


# -- the classic style: a message ends at silence ------------------------------------


def test_silence_after_a_bare_message_makes_it_whole_and_the_peer_classic() -> None:
    conn = ChatConnection()

    assert feed(conn, b"hel", b"lo") == []
    assert conn.wants_silence_timer
    conn.silence()

    assert drain(conn) == ["hello"]
    assert conn.peer_style is PeerStyle.CLASSIC
    assert not conn.wants_silence_timer
    assert conn.pending_bytes == 0


def test_silence_with_nothing_pending_is_ignored() -> None:
    conn = ChatConnection()

    assert not conn.wants_silence_timer
    conn.silence()

    assert drain(conn) == []
    assert conn.peer_style is PeerStyle.UNKNOWN


def test_a_classic_peer_can_send_many_bare_messages() -> None:
    conn = ChatConnection(classic=True)
    events: list[Received] = []

    for text in ["one", "ça", "exit"]:
        conn.receive_data(text.encode())
        conn.silence()
        events += drain(conn)

    assert events == ["one", "ça", "exit"]


def test_a_classic_oversize_message_is_reported_once_and_ends_at_silence() -> None:
    conn = ChatConnection(max_message_bytes=5, classic=True)

    assert feed(conn, b"abcdef", b"ghi") == [MessageTooLong(5)]
    assert conn.wants_silence_timer
    conn.silence()
    assert drain(conn) == []
    assert feed(conn, b"ok") == []
    conn.silence()
    assert drain(conn) == ["ok"]


def test_classic_true_presets_the_peer_style() -> None:
    assert ChatConnection(classic=True).peer_style is PeerStyle.CLASSIC


# -- sending -------------------------------------------------------------------------


def test_send_ends_a_message_with_a_newline_for_line_and_unknown_peers() -> None:
    conn = ChatConnection()

    assert conn.frame("ça va 🎉") == "ça va 🎉\n".encode()
    feed(conn, b"hi\n")
    assert conn.frame("") == b"\n"


def test_send_to_a_classic_peer_is_bare_and_an_empty_message_is_one_blank() -> None:
    conn = ChatConnection(classic=True)

    assert conn.frame("hello") == b"hello"
    assert conn.frame("") == b" "


def test_send_switches_to_the_classic_style_once_the_peer_is_detected() -> None:
    conn = ChatConnection()
    feed(conn, b"hello")
    conn.silence()

    assert conn.frame("hi") == b"hi"


def test_what_one_side_sends_the_other_receives_exactly() -> None:
    sender, receiver = ChatConnection(), ChatConnection()
    texts = ["plain", "ünïcødé 你好 שלום 🎉", "", "  exit  ", "\x1b[31m\t\x00"]

    wire = b"".join(sender.frame(text) for text in texts)

    assert feed(receiver, wire) == list(texts)


@pytest.mark.parametrize("text", ["two\nlines", "carriage\rreturn"])
def test_a_line_break_is_unsendable_and_framing_it_anyway_is_a_misuse(text: str) -> None:
    line_break = "a chat message is one line: it cannot contain a line break"
    assert ChatConnection().unsendable(text) == line_break
    with pytest.raises(LocalProtocolError, match=rf"^{line_break}$"):
        ChatConnection().frame(text)


def test_a_message_over_the_limit_is_unsendable_with_its_size() -> None:
    conn = ChatConnection(max_message_bytes=4)

    assert conn.unsendable("abcd") is None
    assert conn.frame("abcd") == b"abcd\n"
    assert conn.unsendable("ééé") == "message of 6 bytes is over the 4-byte limit"
    with pytest.raises(LocalProtocolError, match=re.escape("message of 6 bytes is over the 4-byte limit")):
        conn.frame("ééé")


def test_a_local_protocol_error_is_a_bug_not_an_expected_chat_error() -> None:
    assert not issubclass(LocalProtocolError, ChatError)


def test_frame_any_sends_line_breaks_as_visible_escapes() -> None:
    conn = ChatConnection()

    assert conn.frame_any("plain") == ("plain", b"plain\n")
    assert conn.frame_any("a\rb\nc") == ("a\\x0db\\x0ac", b"a\\x0db\\x0ac\n")


def test_frame_any_gives_nothing_for_a_text_over_the_limit_even_escaped() -> None:
    conn = ChatConnection(max_message_bytes=6)

    assert conn.frame_any("abcdef") == ("abcdef", b"abcdef\n")
    assert conn.frame_any("abcdefg") is None
    assert conn.frame_any("a\nb") == ("a\\x0ab", b"a\\x0ab\n")
    assert conn.frame_any("ab\ncd") is None  # ab\x0acd: 8 bytes


def test_send_replaces_an_unencodable_surrogate_instead_of_failing() -> None:
    assert ChatConnection().frame("a\udcffb") == b"a?b\n"


# -- the exit word ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["exit", "EXIT", "Exit", "  exit  ", "\texit\r"])
def test_exit_in_any_case_with_surrounding_blanks_ends_the_chat(text: str) -> None:
    assert is_exit(text)


@pytest.mark.parametrize("text", ["exit now", "exi t", "", "quit", "exits"])
def test_other_words_do_not_end_the_chat(text: str) -> None:
    assert not is_exit(text)


# -- the one receive path: a whole line, a line after a partial, the limit's one measure ------


@pytest.mark.parametrize(
    ("line", "text"),
    [
        (b"hello\n", "hello"),
        (b"telnet\r\n", "telnet"),
        (b"c\r\r\n", "c\r"),
        (b"\n", ""),
        (b"a\xffb\n", "a\ufffdb"),
        (b"12345678\r\n", "12345678"),  # exactly the limit: the CR of the CRLF is not counted
    ],
)
def test_one_whole_line_gives_its_message_and_leaves_nothing_pending(line: bytes, text: str) -> None:
    conn = ChatConnection(max_message_bytes=8)

    assert feed(conn, line) == [text]
    assert conn.next_event() is NEED_DATA
    assert conn.peer_style is PeerStyle.LINE
    assert conn.pending_bytes == 0
    assert not conn.wants_silence_timer
    assert not conn.has_events


@pytest.mark.parametrize(
    ("before", "data", "events"),
    [
        (b"hal", b"f\n", ["half"]),
        (b"a\nb", b"\nc\n", ["a", "b", "c"]),
        (b"12345678\r", b"\n", ["12345678"]),  # held at limit + 1: it may be a CRLF
        (b"12345678\r", b"9\n", [MessageTooLong(8)]),
        (b"123456789", b"\nnext\n", [MessageTooLong(8), "next"]),
    ],
)
def test_a_line_completed_by_a_later_read_joins_the_bytes_held_before_it(
    before: bytes, data: bytes, events: list[Event]
) -> None:
    conn = ChatConnection(max_message_bytes=8)

    assert feed(conn, before) + feed(conn, data) == events


def test_a_partial_over_the_limit_is_reported_once_and_its_tail_dropped_as_it_comes() -> None:
    conn = ChatConnection(max_message_bytes=8)

    assert feed(conn, b"123456789") == [MessageTooLong(8)]
    assert conn.pending_bytes == 0
    assert feed(conn, b"more and more") == []
    assert conn.pending_bytes == 0
    assert feed(conn, b"end\nok\n") == ["ok"]


def test_one_oversize_line_in_one_segment_is_reported_once_and_the_next_line_is_read() -> None:
    conn = ChatConnection(max_message_bytes=4)

    assert feed(conn, b"abcde\n") == [MessageTooLong(4)]
    assert feed(conn, b"abcd\r\n") == ["abcd"]
    assert conn.peer_style is PeerStyle.LINE


def test_frame_is_send_for_a_text() -> None:
    conn = ChatConnection()

    assert conn.frame("héllo") == conn.frame("héllo") == "héllo\n".encode()


def test_a_codec_for_an_internet_protocol_ends_what_it_sends_with_crlf() -> None:
    conn = ChatConnection(line_end=b"\r\n")

    assert conn.frame("EHLO me") == b"EHLO me\r\n"
    assert feed(conn, b"250 ok\r\n") == ["250 ok"]


def test_a_message_comes_as_its_text_and_the_rare_events_as_records() -> None:
    conn = ChatConnection(max_message_bytes=3)
    conn.receive_data(b"ok\ntoo long\n")
    conn.receive_data(b"")

    assert list(conn.events) == ["ok", MessageTooLong(3), ConnectionClosed()]
    assert type(conn.events[0]) is str


def test_events_compare_print_and_hash_like_records() -> None:
    assert MessageTooLong(1) == MessageTooLong(1) != MessageTooLong(2)
    assert ConnectionClosed() == ConnectionClosed()
    assert repr(MessageTooLong(5)) == "MessageTooLong(limit=5)"
    assert repr(ConnectionClosed()) == "ConnectionClosed()"
    assert len({MessageTooLong(1), MessageTooLong(1), ConnectionClosed()}) == 2
