"""bots.record.proxy: one client's chat with a server over real loopback sockets, every byte passed
on unchanged, its lines noted; a second client turned away, a server that cannot be dialled, a cut."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bots.record import proxy as proxy_module
from bots.record.proxy import Proxy
from bots.record.session import CLIENT, SERVER, Recording
from chat.errors import ConnectError
from chat.status import ExitStatus
from chat_testing.targets import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
STEP_S = 5.0  # any one exchange on loopback: far more than it takes


async def until(predicate: Callable[[], bool]) -> None:
    """Poll the proxy's state (its timers run meanwhile), at most STEP_S."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), STEP_S)


async def serving(handler: Handler) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


async def proxied(to_port: int) -> tuple[Proxy, int, asyncio.Task[ExitStatus]]:
    proxy = Proxy(Recording(), "127.0.0.1", to_port)
    port = await proxy.listen("127.0.0.1", 0)
    return proxy, port, asyncio.get_running_loop().create_task(proxy.wait())


def test_every_byte_passes_unchanged_both_ways_and_the_half_close_passes_on() -> None:
    received: list[bytes] = []

    async def echo_upper(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()  # up to the client's half-close
        received.append(data)
        writer.write(b"220 hello\r\n\xff\x00 not utf-8\n" + data.upper())
        writer.close()

    async def scenario() -> tuple[bytes, Recording, ExitStatus]:
        server, port = await serving(echo_upper)
        proxy, proxy_port, done = await proxied(port)
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        writer.write(b"ehlo x\r\nhalf")
        writer.write_eof()
        answer = await asyncio.wait_for(reader.read(), STEP_S)
        writer.close()
        status = await asyncio.wait_for(done, STEP_S)
        server.close()
        return answer, proxy.recording, status

    answer, recording, status = asyncio.run(scenario())
    assert received == [b"ehlo x\r\nhalf"]
    assert answer == b"220 hello\r\n\xff\x00 not utf-8\nEHLO X\r\nHALF"
    assert status is ExitStatus.SUCCESS
    assert [(line.side, line.text, line.crlf) for line in recording.lines] == [
        (CLIENT, "ehlo x", True),
        (CLIENT, "half", False),  # held until the client's end of stream
        (SERVER, "220 hello", True),
        (SERVER, "\ufffd\x00 not utf-8", False),
        (SERVER, "EHLO X", True),
        (SERVER, "HALF", False),
    ]
    assert recording.closed_first == CLIENT


def test_a_second_client_is_turned_away_while_the_first_chats_on() -> None:
    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hi\n")
        await reader.read()
        writer.close()

    async def scenario() -> tuple[bytes, bytes, Recording]:
        server, port = await serving(greet)
        proxy, proxy_port, done = await proxied(port)
        first_reader, first_writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        greeting = await asyncio.wait_for(first_reader.readline(), STEP_S)
        try:
            second_reader, second_writer = await asyncio.open_connection("127.0.0.1", proxy_port)
            turned_away = await asyncio.wait_for(second_reader.read(), STEP_S)
            second_writer.close()
        except ConnectionRefusedError:
            turned_away = b""  # the listener had already closed: refused is turned away too
        first_writer.close()
        await asyncio.wait_for(done, STEP_S)
        server.close()
        return greeting, turned_away, proxy.recording

    greeting, turned_away, recording = asyncio.run(scenario())
    assert (greeting, turned_away) == (b"hi\n", b"")
    assert [(line.side, line.text) for line in recording.lines] == [(SERVER, "hi")]


def test_a_classic_peers_message_without_a_newline_is_a_line_once_it_goes_quiet() -> None:
    async def classic(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Hello")  # the seed's server.py: no newline, then it waits
        await reader.read()
        writer.close()

    async def scenario() -> Recording:
        server, port = await serving(classic)
        proxy, proxy_port, done = await proxied(port)
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        assert await asyncio.wait_for(reader.readexactly(5), STEP_S) == b"Hello"
        await until(lambda: bool(proxy.recording.lines))  # the silence timer makes it whole
        writer.close()
        await asyncio.wait_for(done, STEP_S)
        server.close()
        return proxy.recording

    assert [(line.side, line.text) for line in asyncio.run(scenario()).lines] == [(SERVER, "Hello")]


def test_a_server_that_cannot_be_dialled_closes_the_client_and_says_which_in_one_line() -> None:
    port = free_port()

    async def scenario() -> bytes:
        _proxy, proxy_port, done = await proxied(port)
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        with pytest.raises(ConnectError) as refused:
            await asyncio.wait_for(done, STEP_S)
        assert str(refused.value) == (
            f"connection refused by 127.0.0.1:{port}: is the server running there? Start it, or fix --to"
        )
        closed = await asyncio.wait_for(reader.read(), STEP_S)
        writer.close()
        return closed

    assert asyncio.run(scenario()) == b""


def test_a_cut_keeps_what_each_side_held_and_ends_with_the_signals_status() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    async def scenario() -> tuple[ExitStatus, Recording]:
        server, port = await serving(silent)
        proxy, proxy_port, done = await proxied(port)
        _reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        writer.write(b"typed, not sent")
        await until(lambda: proxy.recording.pending(CLIENT) or bool(proxy.recording.lines))
        proxy.cut(ExitStatus.TERMINATED)
        status = await asyncio.wait_for(done, STEP_S)
        writer.close()
        server.close()
        return status, proxy.recording

    status, recording = asyncio.run(scenario())
    assert status is ExitStatus.TERMINATED
    assert [(line.side, line.text) for line in recording.lines] == [(CLIENT, "typed, not sent")]
    assert recording.cut is not None


def test_after_a_half_close_the_other_side_goes_on_while_it_sends_and_ends_when_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(proxy_module, "CLOSE_GRACE_S", 0.3)

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()  # the client's half-close
            for line in (b"a\n", b"b\n", b"c\n"):  # 0.6 s in all, never 0.3 s quiet
                await asyncio.sleep(0.2)
                writer.write(line)
            await asyncio.Event().wait()  # then silent, never closing: the grace ends the chat
        finally:
            writer.close()

    async def scenario() -> tuple[bytes, Recording, float]:
        server, port = await serving(slow)
        proxy, proxy_port, done = await proxied(port)
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        writer.write(b"q\n")
        writer.write_eof()
        began = asyncio.get_running_loop().time()
        await asyncio.wait_for(done, STEP_S)
        took = asyncio.get_running_loop().time() - began
        answer = await asyncio.wait_for(reader.read(), STEP_S)
        writer.close()
        server.close()
        return answer, proxy.recording, took

    answer, recording, took = asyncio.run(scenario())
    assert answer == b"a\nb\nc\n"
    assert [(line.side, line.text) for line in recording.lines] == [
        (CLIENT, "q"),
        (SERVER, "a"),
        (SERVER, "b"),
        (SERVER, "c"),
    ]
    assert 0.85 <= took < STEP_S  # the three lines (0.6 s), then 0.3 s of quiet
