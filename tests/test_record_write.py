"""bots.record.write: a recording as the test that plays the client, and the peer that plays the server.

The property that matters (whatever crossed, both files load, and the test passes against its
peer) is in adversarial/test_record_properties.py.
"""

from __future__ import annotations

import pytest
import yaml

from bots import patterns
from bots.loader import parse_dialogue
from bots.record import write
from bots.record.session import CLIENT, SERVER, Recording


def recording(*lines: tuple[str, str | bytes, float], closed: tuple[str, float] | None = None) -> Recording:
    """A recording of *lines* (side, text, time), its sides closed as *closed* says (the other just after)."""
    made = Recording()
    made.start(0.0)
    for side, text, when in lines:
        made.data(side, (text.encode() if isinstance(text, str) else text) + b"\n", when)
    if closed is not None:
        side, when = closed
        made.end_of_stream(side, when)
        made.end_of_stream(CLIENT if side == SERVER else SERVER, when + 0.01)
    return made


def script(text: str) -> str:
    return text.split("script:\n", 1)[1]


def head(text: str) -> dict[str, object]:
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return {k: v for k, v in loaded.items() if k != "script"}


def test_the_client_says_and_the_server_is_expected_in_crossing_order_with_timeouts_from_the_delays() -> None:
    made = recording((CLIENT, "hello", 0.2), (SERVER, "hi there", 0.25), (SERVER, "how are you?", 5.0))
    text = write.dialogue(made, CLIENT, name="greet", source="127.0.0.1:7000")
    assert script(text) == (
        "  - say: 'hello'\n"
        "  - expect: {exact: 'hi there'}\n"
        "  - expect: {exact: 'how are you?'}\n"
        "    timeout: 10.5\n"  # 4.75 s seen: twice, plus 1 s (rounded up to half a second)
    )
    assert head(text) == {
        "version": 1.2,
        "name": "greet",
        "line_end": "lf",
        "end": "close",  # nobody closed: a cut
        "case_sensitive": True,
        "punctuation": "keep",
        "timeout": 2,
    }
    assert text.startswith(
        "# Recorded by chat-bot --record from a chat with 127.0.0.1:7000: this dialogue plays"
    )


def test_the_peer_dialogue_says_what_the_server_said_and_expects_the_client() -> None:
    made = recording(
        (SERVER, "220 ready", 0.1), (CLIENT, "QUIT", 0.3), (SERVER, "221 bye", 0.4), closed=(SERVER, 0.5)
    )
    text = write.dialogue(made, SERVER, name="smtp", source="x")
    assert script(text) == "  - say: '220 ready'\n  - expect: {exact: 'QUIT'}\n  - say: '221 bye'\n"
    assert head(text)["end"] == "close"  # the server closed first


def test_timeouts_double_the_delay_add_a_second_and_never_go_under_two_seconds() -> None:
    assert [write.timeout(d) for d in (0.0, 0.001, 0.5, 0.51, 4.2, -1.0)] == [2.0, 2.0, 2.0, 2.5, 9.5, 2.0]


def test_the_ending_is_as_seen() -> None:
    lines = ((CLIENT, "hi", 0.1), (SERVER, "hello", 0.2))
    cases = [
        (recording(*lines, (CLIENT, "exit", 0.3), closed=(CLIENT, 0.4)), "exit", "wait", 3),
        (recording(*lines, (CLIENT, "EXIT", 0.3), closed=(SERVER, 0.4)), "exit", "wait", 3),
        (recording(*lines, (SERVER, "exit", 0.3), closed=(CLIENT, 0.4)), "wait", "exit", 3),
        (recording(*lines, closed=(CLIENT, 0.4)), "close", "wait", 2),
        (recording(*lines, closed=(SERVER, 0.4)), "wait", "close", 2),
        (recording(*lines), "close", "close", 2),
    ]
    for made, client_end, server_end, client_steps in cases:
        test = write.dialogue(made, CLIENT, name="t", source="x")
        assert (head(test)["end"], head(write.dialogue(made, SERVER, name="p", source="x"))["end"]) == (
            client_end,
            server_end,
        )
        assert script(test).count("  - ") == client_steps


def test_crlf_from_the_side_written_makes_its_lines_end_so() -> None:
    made = Recording()
    made.data(CLIENT, b"EHLO x\r\n", 0.1)
    made.data(SERVER, b"250 ok\n", 0.2)
    assert head(write.dialogue(made, CLIENT, name="t", source="x"))["line_end"] == "crlf"
    assert head(write.dialogue(made, SERVER, name="t", source="x"))["line_end"] == "lf"


def test_braces_quotes_and_control_characters_are_written_to_read_back_as_they_came() -> None:
    made = recording((CLIENT, "it's {x}", 0.1), (SERVER, "a\x1bb {y}", 0.2))
    text = write.dialogue(made, CLIENT, name="t", source="x")
    assert script(text) == "  - say: 'it''s {{x}}'\n  - expect: {exact: \"a\\x1bb {{y}}\"}\n"


def test_an_empty_line_is_expected_as_blank_and_one_to_say_is_a_comment() -> None:
    made = recording((CLIENT, "", 0.1), (SERVER, "", 0.2), (CLIENT, "ok", 0.3))
    text = write.dialogue(made, CLIENT, name="t", source="x")
    assert script(text) == (
        "  # the client sent an empty line here: a say step cannot send one\n"
        "  - expect: {regex: '^\\s*$'}\n"
        "  - say: 'ok'\n"
    )


def test_a_line_too_long_to_be_seen_whole_is_expected_by_its_start() -> None:
    assert write.SEEN_BYTES == patterns.MAX_MATCH_BYTES
    long = "é" * 600  # 1,200 bytes
    text = write.dialogue(recording((SERVER, long, 0.1)), CLIENT, name="t", source="x")
    assert script(text) == f"  - expect: {{regex: '^{'é' * 256}'}}\n"


def test_a_side_that_said_nothing_leaves_a_dialogue_of_says_that_says_it_does_not_end_by_itself() -> None:
    text = write.dialogue(
        recording((SERVER, "the time is 10:00", 0.1), closed=(SERVER, 0.2)), SERVER, name="t", source="x"
    )
    assert "# The client said nothing: with no expect step this is no test, and after its\n" in text
    assert "said nothing" not in write.dialogue(recording((SERVER, "hi", 0.1)), CLIENT, name="t", source="x")


def test_a_recording_with_no_line_to_step_on_writes_nothing() -> None:
    made = Recording()
    made.start(0.0)
    made.end_of_stream(CLIENT, 1.0)
    with pytest.raises(write.NothingRecorded) as refused:
        write.dialogue(made, CLIENT, name="t", source="x")
    assert str(refused.value) == "no whole line crossed the connection: nothing to write"


def test_volatile_tokens_are_captured_and_a_say_that_repeats_one_uses_its_variable() -> None:
    made = recording(
        (
            SERVER,
            "220 mx ready at 10:20:30 on Fri, 13 Jun 2025 id 9f8e7d6c5b "
            "uuid 123e4567-e89b-12d3-a456-426614174000",
            0.1,
        ),
        (SERVER, "PING :4a7f2c19e0 since 2025-06-13T10:20:30Z, 123456 bytes, code 250", 0.2),
        (CLIENT, "PONG :4a7f2c19e0 and 123456", 0.3),
    )
    text = write.dialogue(made, CLIENT, name="t", source="x", volatile=True)
    assert script(text) == (
        "  - expect: {regex: '^220 mx ready at (?P<time1>\\d{1,2}:\\d{2}(?::\\d{2})?(?:\\.\\d+)?) on "
        "(?P<day1>[A-Za-z]+,? +(?:\\d{1,2} +)?[A-Za-z]+(?: +\\d{1,2})?) (?P<number1>\\d+) id "
        "(?P<hex1>[0-9A-Fa-f]+) uuid (?P<uuid1>[0-9A-Fa-f-]{36})$'}\n"
        "  - expect: {regex: '^PING :(?P<hex2>[0-9A-Fa-f]+) since "
        "(?P<date1>\\d{4}-\\d{2}-\\d{2}(?:[T ][0-9:.]+(?:Z|[+-][0-9:]+)?)?), "
        "(?P<number2>\\d+) bytes, code 250$'}\n"
        "  - say: 'PONG :{hex2} and {number2}'\n"
    )
    test = parse_dialogue(text, "t.yaml")
    first, second = (step.patterns[0] for step in test.script[:2])
    line = (
        "220 mx ready at 9:01:02 on Sat, 14 Jun 2025 id 00ff00ff11 uuid 00000000-0000-0000-0000-000000000000"
    )
    assert first.search(line) is not None  # other values, the same shape
    assert second.search("PING :4a7f2c19e0 since 2025-06-13T10:20:30Z, 123456 bytes, code 550") is None


def test_without_the_volatile_flag_tokens_stay_exact() -> None:
    made = recording((SERVER, "PING :4a7f2c19e0", 0.1), (CLIENT, "PONG :4a7f2c19e0", 0.2))
    assert script(write.dialogue(made, CLIENT, name="t", source="x")) == (
        "  - expect: {exact: 'PING :4a7f2c19e0'}\n  - say: 'PONG :4a7f2c19e0'\n"
    )
