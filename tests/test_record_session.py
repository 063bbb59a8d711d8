"""bots.record.session: bytes cut into whole lines per side; how the chat ended (any split of the bytes:
adversarial/test_record_properties.py)."""

from __future__ import annotations

from bots.record.session import CLIENT, SERVER, Line, LineSplitter, Recording


def test_a_part_held_is_a_line_at_silence_or_at_the_end() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"no newline") == []
    assert splitter.pending
    assert splitter.flush() == ("no newline", False)
    assert splitter.flush() is None


def test_a_line_over_the_limit_is_noted_and_its_bytes_are_not_kept() -> None:
    splitter = LineSplitter(max_bytes=8)
    assert splitter.feed(b"12345678\r\n") == [("12345678", True)]  # at the limit, a CR not counted
    assert splitter.feed(b"123456789x") == []
    assert len(splitter._buffer) == 0  # the bound is the point: nothing of it is kept
    assert splitter.feed(b"more and more\nok\n") == [(None, False), ("ok", False)]


def test_a_recording_keeps_both_sides_in_crossing_order_and_who_closed_first() -> None:
    recording = Recording()
    recording.start(0.0)
    assert recording.data(SERVER, b"220 hi\r\n", 0.1) == [Line(SERVER, 0.1, "220 hi", True)]
    recording.data(CLIENT, b"QUIT\r", 0.2)
    recording.data(CLIENT, b"\n", 0.3)
    recording.data(SERVER, b"221 bye", 0.4)
    assert recording.end_of_stream(SERVER, 0.5) == [Line(SERVER, 0.5, "221 bye", False)]
    recording.end_of_stream(CLIENT, 0.6)
    assert [(line.side, line.text) for line in recording.lines] == [
        (SERVER, "220 hi"),
        (CLIENT, "QUIT"),
        (SERVER, "221 bye"),
    ]
    assert recording.lines[1].time == 0.3  # a line's time is when it was whole
    assert recording.closed_first == SERVER
    assert recording.cut is None


def test_a_cut_keeps_what_each_side_held_and_is_noted_when_no_side_had_closed() -> None:
    recording = Recording()
    recording.start(0.0)
    recording.data(CLIENT, b"half", 1.0)
    assert recording.stop(2.0) == [Line(CLIENT, 2.0, "half", False)]
    assert (recording.cut, recording.closed_first) == (2.0, None)
