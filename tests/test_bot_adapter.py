"""bots.adapter: one path whatever is watching, unframable replies, fairness under a flood."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable

import pytest

from bots import adapter
from bots.actions import Outcome
from bots.adapter import MESSAGES_PER_CALLBACK, BotConnection, Run, framable
from bots.loader import parse_dialogue
from bots.model import Dialogue
from chat.protocol import ChatConnection
from chat.status import ExitStatus

DIALOGUE = parse_dialogue(
    textwrap.dedent(
        """
        version: 1
        max_turns: 9
        rules:
          - regex: 'my name is (?P<name>\\w+)'
            set: {name: "{name}"}
            reply: "Hi {name}!"
          - contains: pick
            reply: {from: [one, two, three], order: random}
          - glob: "say *"
            reply: "{1}"
          - contains: bye
            reply: exit
        fallback: "Go on, {name}."
        """
    ).lstrip("\n"),
    "t.yaml",
)

# Whole lines mixed with partial lines, several lines in one read, CRLF, invalid UTF-8,
# an oversize line, a reply with a line break.
CHUNKS = [
    b"hello\n",
    b"my name is Ann\n",
    b"pick\r\n",
    b"pi",
    b"ck again\n",
    b"say a\rb\n",
    b"one\ntwo\n",
    b"x" * 70 + b"\n",
    b"caf\xe9\n",
    b"pick\n",
    b"so long\n",
]


ECHO = parse_dialogue('version: 1\nfallback: "{input}"\n', "echo.yaml")


class Wire(asyncio.Transport):
    """Records what the bot writes and whether it reads; closing is only noted."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False
        self.reading = True
        self.on_write: Callable[[], object] = lambda: None
        self.on_abort: Callable[[], object] = lambda: None

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))
        self.on_write()

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True
        self.on_abort()

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 4242) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass


def _chat(dialogue: Dialogue, chunks: list[bytes], *, watched: bool) -> tuple[list[bytes], list[Outcome]]:
    ends: list[Outcome] = []

    async def run() -> list[bytes]:
        shown: list[tuple[str, str]] = []
        run = Run(
            dialogue,
            seed="7",
            delays=False,
            max_message_bytes=64,
            # A screen watches every turn; it must not change what is written.
            screen=(lambda direction, text: shown.append((direction, text))) if watched else None,
            on_close=lambda _connection, outcome, _reason: ends.append(outcome),
        )
        wire = Wire()
        connection = BotConnection(run)
        connection.connection_made(wire)
        for chunk in chunks:
            connection.data_received(chunk)
        connection.connection_lost(None)
        return wire.written

    return asyncio.run(run()), ends


def test_a_screen_watching_does_not_change_the_bytes_written() -> None:
    plain, plain_ends = _chat(DIALOGUE, CHUNKS, watched=False)
    watched, watched_ends = _chat(DIALOGUE, CHUNKS, watched=True)

    assert plain == watched
    assert plain_ends == watched_ends == [Outcome.ENDED_BY_BOT]  # max_turns
    assert plain[:2] == [b"Go on, .\n", b"Hi Ann!\n"]
    assert b"a\\x0db\n" in plain  # "a\rb" cannot be framed as it is: its CR is sent visible
    assert plain[-1] == b"exit\n"


def test_a_screen_watching_does_not_change_how_the_chat_ends() -> None:
    chunks = [b"hi\n", b"bye now\n", b"late\n"]

    plain, plain_ends = _chat(DIALOGUE, chunks, watched=False)
    watched, watched_ends = _chat(DIALOGUE, chunks, watched=True)

    assert plain == watched == [b"Go on, .\n", b"exit\n"]
    assert plain_ends == watched_ends == [Outcome.ENDED_BY_BOT]


def test_the_peers_exit_ends_the_chat_without_a_reply() -> None:
    plain, plain_ends = _chat(DIALOGUE, [b"exit\n"], watched=False)

    assert plain == []
    assert plain_ends == [Outcome.ENDED_BY_PEER]


# -- replies that cannot be framed as they are ------------------------------------------------


def test_a_reply_with_a_carriage_return_is_sent_with_it_shown_as_an_escape() -> None:
    assert framable(ChatConnection(64), "a\rb") == ("a\\x0db", b"a\\x0db\n")


def test_a_reply_with_line_feeds_is_sent_with_them_shown_as_escapes() -> None:
    assert framable(ChatConnection(64), "one\r\ntwo\n") == (
        "one\\x0d\\x0atwo\\x0a",
        b"one\\x0d\\x0atwo\\x0a\n",
    )


def test_a_reply_over_the_limit_becomes_a_notice_saying_so() -> None:
    assert framable(ChatConnection(1000), "x" * 1001) == (
        "[reply over the 1,000-byte limit, not sent]",
        b"[reply over the 1,000-byte limit, not sent]\n",
    )


def test_a_reply_over_the_limit_once_its_line_breaks_are_escaped_becomes_the_size_notice() -> None:
    text = "x" * 40 + "\r"  # 41 bytes fit a 43-byte limit; escaped, 44 do not

    assert framable(ChatConnection(43), text)[0] == "[reply over the 43-byte limit, not sent]"


@pytest.mark.parametrize(
    ("limit", "notice"),
    [
        (40, "[reply over the 40-byte limit, not sent]"),  # exactly fits
        (39, "[reply too long, not sent]"),
        (26, "[reply too long, not sent]"),
        (25, "[not sent]"),
        (10, "[not sent]"),
        (9, "[not sent"),
        (1, "["),
    ],
)
def test_under_a_small_limit_the_notice_shortens_to_fit(limit: int, notice: str) -> None:
    codec = ChatConnection(limit)

    assert framable(codec, "y" * (limit + 1)) == (notice, notice.encode() + b"\n")


def test_a_notice_to_a_classic_peer_goes_without_a_newline() -> None:
    codec = ChatConnection(20, classic=True)

    assert framable(codec, "z" * 21) == ("[not sent]", b"[not sent]")


def _echo(limit: int, chunks: list[bytes], dialogue: Dialogue = ECHO) -> list[bytes]:
    async def run() -> list[bytes]:
        connection = BotConnection(Run(dialogue, seed=None, delays=False, max_message_bytes=limit))
        wire = Wire()
        connection.connection_made(wire)
        for chunk in chunks:
            connection.data_received(chunk)
        return wire.written

    return asyncio.run(run())


def test_an_echo_of_a_message_with_a_carriage_return_keeps_the_message_however_it_is_read() -> None:
    # b"a\rb\n" in one read, then split over two reads.
    assert _echo(1000, [b"a\rb\n", b"a\r", b"b\n"]) == [b"a\\x0db\n", b"a\\x0db\n"]


def test_an_oversize_reply_under_a_tiny_limit_sends_a_short_notice_instead_of_failing() -> None:
    doubled = parse_dialogue('version: 1\nfallback: "{input}{input}"\n', "double.yaml")

    # One message per read, then two in one read: neither raises.
    assert _echo(12, [b"0123456789\n", b"abcdefgh\nijklmnop\n"], doubled) == [
        b"[not sent]\n",
        b"[not sent]\n",
        b"[not sent]\n",
    ]


# -- fairness: a flood of messages in one read ------------------------------------------------


def _flood(count: int, start: int = 0) -> bytes:
    """*count* messages m<start>, m<start+1>... in one piece of bytes."""
    return b"".join(b"m%d\n" % number for number in range(start, start + count))


def _echoes(count: int) -> list[bytes]:
    return [b"m%d\n" % number for number in range(count)]


def _echo_connection() -> tuple[BotConnection, Wire]:
    """A serving connection on the echo dialogue, made on a fresh Wire (call inside a running loop)."""
    connection = BotConnection(Run(ECHO, seed=None, delays=False, max_message_bytes=1000))
    wire = Wire()
    connection.connection_made(wire)
    return connection, wire


async def next_loop_turn() -> None:
    """Let the event loop run exactly one iteration (no wall-clock wait).

    The fairness cap is counted in loop turns: each turn lets a backlogged peer's
    continuation (scheduled with call_soon) answer one more batch, so the tests step
    the loop turn by turn and check what was written after each.
    """
    await asyncio.sleep(0)


def test_one_read_of_many_messages_is_handled_a_bounded_number_per_callback_in_order() -> None:
    async def run() -> None:
        connection, wire = _echo_connection()

        connection.data_received(_flood(200))
        assert wire.written == _echoes(MESSAGES_PER_CALLBACK)
        assert not wire.reading  # the rest waits for a later callback; nothing more is read meanwhile
        for turn in (2, 3):
            await next_loop_turn()  # the continuation answers one more batch
            assert wire.written == _echoes(turn * MESSAGES_PER_CALLBACK)
            assert not wire.reading
        await next_loop_turn()
        assert wire.written == _echoes(200)
        assert wire.reading

    asyncio.run(run())


def test_a_read_of_exactly_the_cap_resumes_reading_once_nothing_is_left() -> None:
    async def run() -> None:
        connection, wire = _echo_connection()

        connection.data_received(_flood(MESSAGES_PER_CALLBACK))
        assert wire.written == _echoes(MESSAGES_PER_CALLBACK)
        await next_loop_turn()
        assert wire.reading
        connection.data_received(b"next\n")
        assert wire.written[-1] == b"next\n"

    asyncio.run(run())


def test_many_reads_in_one_loop_turn_share_one_cap_as_libuv_delivers_them() -> None:
    # libuv (uvloop) reads a socket up to 32 times in a row while each read fills its buffer,
    # calling data_received each time, until reading is paused: each read here is under the
    # cap, but their sum is not. Counted per call, one flooding peer took ~45 ms a loop turn.
    async def run() -> None:
        connection, wire = _echo_connection()
        per_read = MESSAGES_PER_CALLBACK // 2 + 8
        reads = [_flood(per_read, start) for start in range(0, 32 * per_read, per_read)]

        delivered = 0
        while wire.reading and delivered < len(reads):  # libuv's uv__read, in one loop turn
            connection.data_received(reads[delivered])
            delivered += 1
        assert delivered == 2  # the second read reached the cap and paused reading
        assert wire.written == _echoes(MESSAGES_PER_CALLBACK)
        await next_loop_turn()  # the rest of that read, then reading resumes
        assert wire.written == _echoes(2 * per_read)
        assert wire.reading

    asyncio.run(run())


def test_a_peer_chatting_one_message_a_read_gets_every_reply_at_once_past_the_cap() -> None:
    async def run() -> None:
        connection, wire = _echo_connection()
        for number in range(3 * MESSAGES_PER_CALLBACK):
            connection.data_received(b"m%d\n" % number)
            assert wire.written[-1] == b"m%d\n" % number  # answered in the same callback
            await next_loop_turn()
            assert wire.reading  # a cap reached on the last message costs one turn, no reply

    asyncio.run(run())


def test_a_full_write_buffer_holds_the_backlog_and_its_end_does_not_resume_reading_early() -> None:
    async def run() -> None:
        connection, wire = _echo_connection()

        connection.data_received(_flood(200))
        connection.pause_writing()  # the peer stopped reading our replies
        for _ in range(5):
            await next_loop_turn()
        assert wire.written == _echoes(MESSAGES_PER_CALLBACK)  # a peer that does not read gets no turn
        assert not wire.reading

        connection.resume_writing()
        assert not wire.reading  # the backlog still holds reading
        await next_loop_turn()
        connection.pause_writing()
        for _ in range(5):
            await next_loop_turn()
        assert wire.written == _echoes(2 * MESSAGES_PER_CALLBACK)
        assert not wire.reading

        connection.resume_writing()
        for _ in range(2):
            await next_loop_turn()
        assert wire.written == _echoes(200)
        assert wire.reading

    asyncio.run(run())


def test_a_write_buffer_filling_on_the_backlogs_last_message_keeps_reading_paused_until_it_drains() -> None:
    async def run() -> None:
        connection, wire = _echo_connection()
        # The transport calls pause_writing from inside write() when its buffer passes the mark.

        def full_after_the_cap() -> None:
            if len(wire.written) == MESSAGES_PER_CALLBACK + 1:
                connection.pause_writing()

        wire.on_write = full_after_the_cap

        connection.data_received(_flood(MESSAGES_PER_CALLBACK + 1))
        await next_loop_turn()  # the last message goes out and fills the write buffer
        assert wire.written == _echoes(MESSAGES_PER_CALLBACK + 1)
        assert not wire.reading
        await next_loop_turn()
        assert not wire.reading  # the backlog is over, but the peer still is not reading

        connection.resume_writing()
        await next_loop_turn()
        assert wire.reading

    asyncio.run(run())


def test_end_of_file_after_a_flood_answers_every_message_before_closing() -> None:
    async def run() -> list[bytes]:
        connection, wire = _echo_connection()
        connection.data_received(_flood(200))
        assert connection.eof_received() is False
        return wire.written

    assert asyncio.run(run()) == _echoes(200)


# -- the end of a chat: a peer that never takes the last lines is dropped ---------------------


def test_an_ended_chat_whose_peer_never_takes_the_rest_is_dropped_after_the_close_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(adapter, "CLOSE_TIMEOUT_S", 0.01)

    async def run() -> None:
        connection, wire = _echo_connection()
        dropped = asyncio.get_running_loop().create_future()
        wire.on_abort = lambda: dropped.set_result(True)
        connection.data_received(b"exit\n")  # the chat ends; the Wire's close never completes
        assert wire.closed
        await asyncio.wait_for(dropped, 5)

    asyncio.run(run())


def test_a_peer_that_takes_the_rest_in_time_is_closed_not_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter, "CLOSE_TIMEOUT_S", 0.01)

    async def run() -> None:
        connection, wire = _echo_connection()
        aborted: list[bool] = []
        wire.on_abort = lambda: aborted.append(True)
        connection.data_received(b"exit\n")
        connection.connection_lost(None)  # the close completed: the peer took everything
        await asyncio.sleep(0.05)  # five times the timeout: what is tested is that it never fires
        assert aborted == []

    asyncio.run(run())


# -- fixed replies, framed once ----------------------------------------------------------------


def test_a_fixed_reply_is_framed_once_per_peer_style_and_shared_by_every_chat() -> None:
    dialogue = parse_dialogue(
        'version: 1\nrules:\n  - exact: hi\n    reply: "hello there"\nfallback: "{input}"\n', "f.yaml"
    )

    async def chat() -> tuple[Run, list[bytes], list[bytes]]:
        run = Run(dialogue, seed=None, delays=False, max_message_bytes=64)
        line, classic = Wire(), Wire()
        for wire, chunks in ((line, [b"hi\n", b"hi\n"]), (classic, [b"hi"])):
            connection = BotConnection(run)
            connection.connection_made(wire)
            for chunk in chunks:
                connection.data_received(chunk)
            if wire is classic:
                assert connection.codec is not None
                connection.codec.silence()  # what the silence timer does for a classic peer
                connection._drain()
        return run, line.written, classic.written

    run, line, classic = asyncio.run(chat())

    assert line == [b"hello there\n", b"hello there\n"]
    assert classic == [b"hello there"]
    assert run.framed_lines == {"hello there": ("hello there", b"hello there\n")}
    assert run.framed_classic == {"hello there": ("hello there", b"hello there")}


# -- the error edge: a bug in a turn ends that chat alone ---------------------------------------


class Broken(Exception):
    """A bug: an exception the adapter does not expect."""


def _broken_chat(
    dialogue: Dialogue, monkeypatch: pytest.MonkeyPatch, where: str, chunks: list[bytes]
) -> tuple[Wire, list[Exception], list[tuple[Outcome, str]], BotConnection]:
    """Feed *chunks* to a chat whose Driver method *where* raises Broken."""
    from bots.driver import Driver

    def broken(*_args: object, **_kwargs: object) -> list[object]:
        raise Broken(f"in {where}")

    monkeypatch.setattr(Driver, where, broken)
    errors: list[Exception] = []
    ends: list[tuple[Outcome, str]] = []

    async def run() -> tuple[Wire, BotConnection]:
        run = Run(
            dialogue,
            seed=None,
            delays=False,
            max_message_bytes=64,
            on_close=lambda _connection, outcome, reason: ends.append((outcome, reason)),
            on_error=lambda _connection, exc: errors.append(exc),
        )
        wire = Wire()
        connection = BotConnection(run)
        connection.connection_made(wire)
        for chunk in chunks:
            connection.data_received(chunk)
        if where == "poll":
            connection._wake()  # what the deadline's timer calls
        connection.connection_lost(None)
        return wire, connection

    wire, connection = asyncio.run(run())
    return wire, errors, ends, connection


def test_a_bug_in_a_turn_ends_the_chat_as_an_internal_error_told_once_never_as_the_peers_doing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wire, errors, ends, _connection = _broken_chat(ECHO, monkeypatch, "receive", [b"hi\n", b"more\n"])

    assert [str(exc) for exc in errors] == ["in receive"]
    assert ends == [(Outcome.INTERNAL_ERROR, "Broken: in receive")]
    assert wire.written == [b"[internal error: chat ended]\n", b"exit\n"]  # the form that fits 64 bytes
    assert wire.closed


def test_a_bug_at_a_deadline_ends_the_chat_as_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    timed = parse_dialogue("version: 1.2\nscript:\n  - expect: {exact: hi}\n    timeout: 5\n", "t.yaml")

    wire, errors, ends, _connection = _broken_chat(timed, monkeypatch, "poll", [])

    assert [str(exc) for exc in errors] == ["in poll"]
    assert ends == [(Outcome.INTERNAL_ERROR, "Broken: in poll")]
    assert wire.written[-1] == b"exit\n"


def test_a_bug_in_a_chat_that_ends_by_closing_closes_without_a_notice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closing = parse_dialogue('version: 1.2\nend: close\nfallback: "{input}"\n', "c.yaml")

    wire, errors, ends, _connection = _broken_chat(closing, monkeypatch, "receive", [b"HELO\n"])

    assert len(errors) == 1
    assert ends == [(Outcome.INTERNAL_ERROR, "Broken: in receive")]
    assert wire.written == []
    assert wire.closed


def test_the_internal_error_outcome_has_its_own_exit_status() -> None:
    assert Outcome.INTERNAL_ERROR.status is ExitStatus.CHAT_ERROR
    assert Outcome.INTERNAL_ERROR.value == "internal error"
