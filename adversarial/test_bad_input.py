"""Bad input on the wire, for every program in both roles: shown harmlessly, the chat goes on.

Each case is the peer's first message on a fresh connection, so garbage arrives
before any newline was ever seen. The program must show one harmless line
(controls as visible escapes, invalid UTF-8 as U+FFFD, an oversize message as a
notice), never a traceback, never a raw escape reaching the terminal, and then
carry on with the chat and end it cleanly on ``exit``.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chat.display import visible
from chat_testing import EXPECT_TIMEOUT_S, LineClient, Programs, RawPeer, Terminal

pytestmark = pytest.mark.adversarial

SMALL_LIMIT = 1000  # a small --max-message-bytes, so an oversize line is quick to send
_GARBAGE = bytes(
    b for b in random.Random(7).randbytes(300) if b != 0x0A
)  # no newline; even as U+FFFDs, under the limit


def _shown(raw: bytes) -> str:
    """What the screen must show for a message received as *raw* bytes (no newline)."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return visible(raw.decode("utf-8", errors="replace"))


OVERSIZE_NOTICE = (
    f"[message over the {SMALL_LIMIT:,}-byte limit, not shown; raise --max-message-bytes to receive it]"
)
# (case id, bytes the peer sends as its first message, newline excluded, what the screen shows)
BAD_INPUTS = [
    ("oversize line", b"x" * (SMALL_LIMIT * 50), OVERSIZE_NOTICE),
    ("invalid UTF-8", b"caf\xc3 \xff\xfe \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf end", None),
    ("NUL bytes", b"a\x00b\x00\x00c", None),
    (
        "escape sequences",
        b"\x1b[2J\x1b[H\x1b]0;owned\x07\x1b[31mred" + "\u009b6n \u202eevil\u202c \u2066x".encode(),
        None,
    ),
    ("only blanks", b"   \t   ", None),
    ("binary garbage", _GARBAGE, None),
]
CASE_IDS = [case[0] for case in BAD_INPUTS]


def assert_clean(term: Terminal) -> None:
    """Nothing a terminal would act on reached it, and no traceback or internal error was printed."""
    out = term.output
    assert "Traceback" not in out
    assert "internal error" not in out
    for char in out:
        assert char in "\n\r\t" or not (ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0), (
            f"raw control {char!r} reached the terminal"
        )
        assert char not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", (
            f"raw bidi control {char!r} reached the terminal"
        )


@pytest.mark.parametrize(("case", "raw", "notice"), BAD_INPUTS, ids=CASE_IDS)
def test_chat_server_shows_a_bad_first_message_harmlessly_and_chats_on(
    programs: Programs, chat_raw_peers: list[RawPeer], case: str, raw: bytes, notice: str | None
) -> None:
    server, port = programs.server("--max-message-bytes", str(SMALL_LIMIT))
    peer = RawPeer.connect(port)
    chat_raw_peers.append(peer)
    server.expect("Connected by")
    peer.send(raw + b"\n")
    server.expect(f"Client: {notice or _shown(raw)}\r\n")
    server.expect("Server: ")
    server.send("still here")
    assert peer.recv_line() == b"still here"
    peer.send(b"exit\n")
    server.expect("Client ended the chat.")
    assert server.wait_exit() == 0
    assert_clean(server)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback listening socket standing in for a server."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(EXPECT_TIMEOUT_S)
    yield sock
    sock.close()


@pytest.mark.parametrize(("case", "raw", "notice"), BAD_INPUTS, ids=CASE_IDS)
def test_chat_client_shows_a_bad_first_reply_harmlessly_and_chats_on(
    programs: Programs,
    chat_raw_peers: list[RawPeer],
    listener: socket.socket,
    case: str,
    raw: bytes,
    notice: str | None,
) -> None:
    port = listener.getsockname()[1]
    client = programs.spawn("chat-client", "--port", str(port), "--max-message-bytes", str(SMALL_LIMIT))
    peer = RawPeer(listener.accept()[0])
    chat_raw_peers.append(peer)
    client.expect("Client: ")
    client.send("hello")
    assert peer.recv_line() == b"hello"
    peer.send(raw + b"\n")
    client.expect(f"Server: {notice or _shown(raw)}\r\n")
    client.expect("Client: ")
    client.send("exit")
    assert peer.recv_line() == b"exit"
    client.expect("Client ended the chat.")
    assert client.wait_exit() == 0
    assert_clean(client)


def assert_echo(reply: bytes, raw: bytes, notice: str | None) -> None:
    """The echo dialogue sends back what it understood: the text, U+FFFD for each bad byte."""
    if notice is not None:
        return  # an oversize message is not a message: the bot may say anything, in one line
    text = raw.decode("utf-8", errors="replace").removesuffix("\r")
    if "\r" not in text:
        assert reply == text.encode()
    else:
        # A CR inside a line cannot be sent back in one line; any clear one-line notice will do,
        # but not a wrong reason: this message is well under the size limit.
        assert len(text.encode()) < SMALL_LIMIT
        assert not reply.startswith(b"[reply over the"), f"misleading notice for a CR, not a size: {reply!r}"


@pytest.mark.parametrize(("case", "raw", "notice"), BAD_INPUTS, ids=CASE_IDS)
def test_a_serving_bot_answers_a_bad_first_message_and_serves_on(
    echo_bot: Any, case: str, raw: bytes, notice: str | None
) -> None:
    bot, port = echo_bot("--max-message-bytes", str(SMALL_LIMIT))
    bystander = LineClient(port)
    bystander.round_trip("before")
    peer = LineClient(port)
    peer.sock.sendall(raw + b"\n")
    assert_echo(peer.line(), raw, notice)
    peer.round_trip("still here")
    bystander.round_trip("after")
    bot.assert_no_crash()
    for line in bot.stdout.splitlines():
        assert all(char in "\t" or char.isprintable() for char in line), (
            f"raw control on the bot's screen: {line!r}"
        )


@pytest.mark.parametrize(("case", "raw", "notice"), BAD_INPUTS, ids=CASE_IDS)
def test_a_connecting_bot_shows_a_bad_first_reply_harmlessly_and_chats_on(
    programs: Programs,
    chat_raw_peers: list[RawPeer],
    listener: socket.socket,
    echo_dialogue: Path,
    case: str,
    raw: bytes,
    notice: str | None,
) -> None:
    port = listener.getsockname()[1]
    bot = programs.spawn(
        "chat-bot",
        "--connect",
        "--script",
        str(echo_dialogue),
        "--port",
        str(port),
        "--no-delay",
        "--max-message-bytes",
        str(SMALL_LIMIT),
    )
    peer = RawPeer(listener.accept()[0])
    chat_raw_peers.append(peer)
    greeting = peer.recv_line()  # a connecting bot speaks first
    assert greeting
    peer.send(raw + b"\n")
    assert_echo(peer.recv_line(), raw, notice)
    peer.send(b"exit\n")
    assert bot.wait_exit() == 0
    assert_clean(bot)
