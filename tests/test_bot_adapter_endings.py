"""bots.adapter: every ending, in every role, with and without reply delays, on real loopback sockets.

Each test runs a real event loop and real TCP connections; the peer is a few lines of
asyncio streams. Issue 14 item 2: a peer that closes (or half-closes, or resets) while a
reply waits for its delay must end the chat once, with its outcome, and lose no reply owed.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import textwrap
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

import pytest

from bots import loops
from bots.actions import Outcome, StepResult
from bots.adapter import BotConnection
from bots.connect import ChatResult, ConnectOptions, converse
from bots.loader import parse_dialogue
from bots.model import Dialogue
from bots.server import BotServer, ServeOptions
from chat.status import ExitStatus


class RunOn(Protocol):
    """Runs a coroutine to its end on a new event loop, as asyncio.run does."""

    def __call__(self, main: Coroutine[Any, Any, T]) -> T: ...


@pytest.fixture(params=loops.LOOPS)
def run_on(request: pytest.FixtureRequest) -> RunOn:
    """Each event loop the bot can use (uvloop's half-close is other code than asyncio's)."""
    kind = str(request.param)
    if kind == loops.UVLOOP and not loops.uvloop_installed():
        pytest.skip("uvloop is not installed")

    def run(main: Coroutine[Any, Any, T]) -> T:
        return loops.run(main, kind)

    return run


LIMIT_S = 5.0  # every chat here ends in well under a second; this only bounds a broken one
DELAY_S = 0.3
# The reset test's reply waits RESET_DELAY_S and the peer resets RESET_AFTER_S after its line: the
# reset must win even when a loaded machine stalls this process (with 0.3 s against 0.1 s, a stall
# in CI's readme container let the delayed reply go out first, 1 run in 6). The reset ends the chat
# at once, so the long delay costs only the first say's wait.
RESET_DELAY_S = 1.5
RESET_AFTER_S = 0.1
T = TypeVar("T")


def dialogue(text: str) -> Dialogue:
    return parse_dialogue(textwrap.dedent(text).lstrip("\n"), "t.yaml")


SLOW = dialogue(f"version: 1\ndelay: {DELAY_S}\nfallback: slow reply\n")
SLOW_TEST_TEXT = f"""
    version: 1
    delay: {DELAY_S}
    script:
      - say: first
      - expect: {{contains: hi}}
      - say: second
      - expect: {{contains: more}}
    """
SLOW_TEST = dialogue(SLOW_TEST_TEXT)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a reset (SO_LINGER 0 makes close() send RST)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def one_line_server(handler: Handler) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


async def connect_and_end(
    test: Dialogue, handler: Handler, *, delays: bool = True
) -> tuple[float, ChatResult]:
    server, port = await one_line_server(handler)
    started = time.monotonic()
    async with server:
        chat = await asyncio.wait_for(
            converse(test, "127.0.0.1", port, ConnectOptions(delays=delays)), LIMIT_S
        )
    return time.monotonic() - started, chat


def said(results: list[StepResult]) -> list[str]:
    return [f"{r.verdict} {r.label}" for r in results]


# -- the connecting role ------------------------------------------------------------------


async def answer_hi_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readline()
    writer.write(b"hi\n")
    await writer.drain()
    writer.close()


async def answer_hi_and_reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readline()
    writer.write(b"hi\n")
    await writer.drain()
    await asyncio.sleep(RESET_AFTER_S)  # the bot has read "hi"; its reply is waiting for its delay
    reset(writer)


@pytest.mark.parametrize("delays", [True, False])
def test_a_connecting_bot_whose_server_closes_during_a_reply_delay_ends_peer_lost(
    run_on: RunOn, delays: bool
) -> None:
    elapsed, chat = run_on(connect_and_end(SLOW, answer_hi_and_close, delays=delays))

    assert chat.outcome is Outcome.PEER_LOST
    assert chat.outcome.status is ExitStatus.PEER_LOST
    assert elapsed < 3 * DELAY_S + 1.0


def test_a_connecting_test_reports_the_say_step_sent_after_a_close_and_fails_the_next_expect(
    run_on: RunOn,
) -> None:
    _elapsed, chat = run_on(connect_and_end(SLOW_TEST, answer_hi_and_close))

    assert chat.outcome is Outcome.PEER_LOST
    assert said(chat.results) == [
        "PASS step 1 say",
        "PASS step 2 expect",
        "PASS step 3 say",  # the peer only closed its side: "second" was written to it
        "FAIL step 4 expect",
    ]


def test_a_reset_during_a_reply_delay_reports_no_pass_for_the_say_step_never_sent(run_on: RunOn) -> None:
    slow_test = dialogue(SLOW_TEST_TEXT.replace(f"delay: {DELAY_S}", f"delay: {RESET_DELAY_S}"))
    _elapsed, chat = run_on(connect_and_end(slow_test, answer_hi_and_reset))

    assert chat.outcome is Outcome.PEER_LOST
    assert said(chat.results) == [
        "PASS step 1 say",
        "PASS step 2 expect",
        "FAIL step 4 expect",
    ]


# -- the serving role ------------------------------------------------------------------------


async def serve_and_talk(
    test: Dialogue, talk: Callable[[int], Awaitable[bytes]], **options: object
) -> tuple[bytes, BotServer, list[tuple[Outcome, str]]]:
    ends: list[tuple[Outcome, str]] = []

    def closed(_connection: BotConnection, outcome: Outcome, reason: str) -> None:
        ends.append((outcome, reason))

    bot = BotServer(test, ServeOptions(**options), on_close=closed)  # type: ignore[arg-type]
    port = await bot.start("127.0.0.1", 0)
    try:
        heard = await asyncio.wait_for(talk(port), LIMIT_S)
    finally:
        bot.stop()
        await asyncio.wait_for(bot.wait_stopped(), LIMIT_S)
    return heard, bot, ends


def half_close_after(lines: bytes) -> Callable[[int], Awaitable[bytes]]:
    """A peer as `printf LINES | nc -q 3`: send, shut its writing side, read to the end."""

    async def talk(port: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(lines)
        writer.write_eof()
        heard = await reader.read()
        writer.close()
        return heard

    return talk


@pytest.mark.parametrize("delays", [True, False])
def test_a_half_closed_peer_gets_the_reply_owed_before_its_exit(run_on: RunOn, delays: bool) -> None:
    heard, _bot, ends = run_on(serve_and_talk(SLOW, half_close_after(b"hello\nexit\n"), delays=delays))

    assert heard == b"slow reply\n"
    assert ends == [(Outcome.ENDED_BY_PEER, "the peer said exit")]


@pytest.mark.parametrize("delays", [True, False])
def test_messages_arriving_together_are_answered_one_per_turn_in_order_delays_included(
    run_on: RunOn, delays: bool
) -> None:
    echo = dialogue(f'version: 1\ndelay: {DELAY_S}\nfallback: "re: {{input}}"\n')
    started = time.monotonic()
    heard, _bot, ends = run_on(serve_and_talk(echo, half_close_after(b"one\ntwo\nthree\n"), delays=delays))

    assert heard == b"re: one\nre: two\nre: three\n"
    assert ends == [(Outcome.PEER_LOST, "the peer closed the connection without saying exit")]
    if delays:
        assert time.monotonic() - started >= 3 * DELAY_S


def test_a_once_bot_whose_client_closes_during_a_reply_delay_stops_with_peer_lost(run_on: RunOn) -> None:
    async def run() -> tuple[ExitStatus, float]:
        bot = BotServer(SLOW, ServeOptions(once=True))
        port = await bot.start("127.0.0.1", 0)
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello\n")
        await writer.drain()
        writer.close()  # a full close, while the reply waits for its delay
        started = time.monotonic()
        status = await asyncio.wait_for(bot.wait_stopped(), LIMIT_S)
        return status, time.monotonic() - started

    status, elapsed = run_on(run())

    assert status is ExitStatus.PEER_LOST
    assert elapsed < DELAY_S + 1.0


def test_a_serving_bot_reports_the_end_of_a_chat_reset_during_a_reply_delay_once(run_on: RunOn) -> None:
    async def talk(port: int) -> bytes:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello\n")
        await writer.drain()
        await asyncio.sleep(DELAY_S / 3)
        reset(writer)
        await asyncio.sleep(DELAY_S)  # past the delay: the reply had nowhere to go
        return b""

    _heard, _bot, ends = run_on(serve_and_talk(SLOW, talk))

    assert ends == [(Outcome.PEER_LOST, "the peer closed the connection without saying exit")]


@pytest.mark.parametrize(
    ("lines", "heard", "end"),
    [
        (b"hello\n", b"slow reply\nexit\n", (Outcome.ENDED_BY_BOT, "the bot is stopping")),
        # The peer's exit, waiting behind the reply, is read before the bot's own end.
        (b"hello\nexit\n", b"slow reply\n", (Outcome.ENDED_BY_PEER, "the peer said exit")),
    ],
)
def test_stopping_during_a_reply_delay_sends_what_is_owed_at_once_and_reports_once(
    run_on: RunOn, lines: bytes, heard: bytes, end: tuple[Outcome, str]
) -> None:
    async def run() -> tuple[bytes, list[tuple[Outcome, str]], float]:
        ends: list[tuple[Outcome, str]] = []
        bot = BotServer(
            SLOW, ServeOptions(), on_close=lambda _c, outcome, reason: ends.append((outcome, reason))
        )
        port = await bot.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(lines)
        await writer.drain()
        await asyncio.sleep(DELAY_S / 3)
        started = time.monotonic()
        bot.stop(ExitStatus.TERMINATED)
        status = await asyncio.wait_for(bot.wait_stopped(), LIMIT_S)
        assert status is ExitStatus.TERMINATED
        received = await reader.read()
        writer.close()
        return received, ends, time.monotonic() - started

    received, ends, elapsed = run_on(run())

    assert received == heard
    assert ends == [end]
    assert elapsed < DELAY_S


def test_stopping_when_the_chats_end_is_queued_reports_that_end_once(run_on: RunOn) -> None:
    async def run() -> tuple[bytes, list[tuple[Outcome, str]]]:
        ends: list[tuple[Outcome, str]] = []
        bye = dialogue(f"version: 1\ndelay: {DELAY_S}\nfallback: exit\n")
        bot = BotServer(
            bye, ServeOptions(), on_close=lambda _c, outcome, reason: ends.append((outcome, reason))
        )
        port = await bot.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello\nhello again\n")
        await writer.drain()
        await asyncio.sleep(DELAY_S / 3)
        bot.stop(ExitStatus.TERMINATED)
        await asyncio.wait_for(bot.wait_stopped(), LIMIT_S)
        heard = await reader.read()
        writer.close()
        return heard, ends

    heard, ends = run_on(run())

    assert heard == b"exit\n"
    assert ends == [(Outcome.ENDED_BY_BOT, "the bot said exit")]
