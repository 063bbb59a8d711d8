"""What a message may hold: Unicode, 1 MiB, too much, many per segment, escapes, bad UTF-8.

Large and hostile messages come from a RawPeer (a plain socket in the test),
never typed through the pty: a terminal line is not the place for 1 MiB, and
the client's readline would act on an ESC typed at its prompt.
"""

from __future__ import annotations

import socket

import pytest

from chat.protocol import MAX_MESSAGE_BYTES
from chat_testing import CONNECTED_TO_SERVER, Programs, RawListener, RawPeer, Terminal

UNICODE_LINES = [
    "héllo, ça va? Grüße, ñandú",  # accents
    "你好 世界。こんにちは 안녕하세요",  # CJK
    "שלום עולם مرحبا بالعالم",  # right to left
    "emoji 🎉👍🏽 👩‍💻 🇫🇷",  # emoji, skin tone, ZWJ sequence, flag
]

# ASCII, so bytes and characters count alike; no 'Client: ' or 'Server: ' inside.
MIB_TEXT = ("0123456789abcdef" * (MAX_MESSAGE_BYTES // 16))[:MAX_MESSAGE_BYTES]

OVERSIZE_NOTICE = (
    "[message over the 1,048,576-byte limit, not shown; raise --max-message-bytes to receive it]"
)

# A hostile message: clear screen, set the window title, bell, colour, C1 CSI,
# a bidi override and a NUL. Every one must be shown, none executed.
HOSTILE = "\x1b[2J\x1b]0;owned\x07\x1b[31mred\u009b\u202eevil\x00"
HOSTILE_SHOWN = r"\x1b[2J\x1b]0;owned\x07\x1b[31mred\x9b\u202eevil\x00"


def _server_with_raw_client(
    programs: Programs, chat_raw_peers: list[RawPeer], *args: str
) -> tuple[Terminal, RawPeer]:
    server, port = programs.server(*args)
    peer = RawPeer.connect(port)
    chat_raw_peers.append(peer)
    # The classic line names the peer's own address and port, as accept() returned them.
    server.expect(f"Connected by ('127.0.0.1', {peer.sock.getsockname()[1]})\r\n")
    return server, peer


def test_unicode_travels_intact_in_both_directions(programs: Programs) -> None:
    server, client, _ = programs.chat()
    for text in UNICODE_LINES:
        client.expect("Client: ")
        client.send(text)
        server.expect(f"Client: {text}\r\n")
        server.expect("Server: ")
        server.send(text[::-1])
        client.expect(f"Server: {text[::-1]}\r\n")
    client.expect("Client: ")
    client.send("exit")

    assert client.wait_exit() == 0
    assert server.wait_exit() == 0
    for text in UNICODE_LINES:
        assert f"Client: {text}" in server.lines
        assert f"Server: {text[::-1]}" in client.lines


def test_a_1_mib_message_reaches_the_server_whole(programs: Programs, chat_raw_peers: list[RawPeer]) -> None:
    server, peer = _server_with_raw_client(programs, chat_raw_peers)
    peer.send(b"hi\n")  # a first line makes the peer a line peer, as nc would be
    server.expect("Server: ")
    server.send("go ahead")
    assert peer.recv_line() == b"go ahead"

    peer.send(MIB_TEXT.encode() + b"\n")
    server.expect(MIB_TEXT[-40:] + "\r\nServer: ")
    server.send("got it")

    assert peer.recv_line() == b"got it"
    assert f"Client: {MIB_TEXT}" in server.lines


def test_a_1_mib_message_reaches_the_client_whole(programs: Programs, chat_raw_listener: RawListener) -> None:
    client = programs.client(chat_raw_listener.port)
    peer = chat_raw_listener.accept()
    client.expect("Client: ")
    client.send("send me a lot")
    assert peer.recv_line() == b"send me a lot"

    peer.send(MIB_TEXT.encode() + b"\n")
    client.expect(MIB_TEXT[-40:] + "\r\nClient: ")
    client.send("exit")

    assert peer.recv_line() == b"exit"
    assert client.wait_exit() == 0
    assert f"Server: {MIB_TEXT}" in client.lines


def test_an_oversize_message_is_reported_once_and_the_chat_goes_on(
    programs: Programs, chat_raw_peers: list[RawPeer]
) -> None:
    server, peer = _server_with_raw_client(programs, chat_raw_peers, "--max-message-bytes", "1000")
    peer.send(b"hi\n")  # a line peer, as nc would be
    server.expect("Server: ")
    server.send("go ahead")
    assert peer.recv_line() == b"go ahead"
    # The notice comes as soon as the limit is passed, and the turn passes to the server.
    peer.send(b"y" * 1500)
    server.expect("Server: ")
    server.send("ok")
    assert peer.recv_line() == b"ok"
    # The same message streams on for 3 MB: discarded as it arrives, never reported twice.
    for _ in range(30):
        peer.send(b"y" * 100_000)
    peer.send(b"\nafter\n")
    server.expect("Client: after\r\nServer: ")
    server.send("exit")

    assert server.wait_exit() == 0
    assert server.lines[2:] == [
        "Client: hi",
        "Server: go ahead",
        "Client: " + OVERSIZE_NOTICE.replace("1,048,576", "1,000"),
        "Server: ok",
        "Client: after",
        "Server: exit",
        "Server ended the chat.",
    ]


def test_one_byte_over_1_mib_is_reported_not_cut(programs: Programs, chat_raw_peers: list[RawPeer]) -> None:
    server, peer = _server_with_raw_client(programs, chat_raw_peers)
    peer.send(b"hi\n")
    server.expect("Server: ")
    server.send("go ahead")
    assert peer.recv_line() == b"go ahead"

    peer.send(MIB_TEXT.encode() + b"!\n")
    server.expect(f"Client: {OVERSIZE_NOTICE}\r\nServer: ")
    server.send("exit")

    assert server.wait_exit() == 0
    assert "0123456789abcdef0123" not in server.output


def test_several_messages_in_one_segment_are_shown_one_per_turn(
    programs: Programs, chat_raw_peers: list[RawPeer]
) -> None:
    server, peer = _server_with_raw_client(programs, chat_raw_peers)
    peer.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    peer.send(b"one\ntwo\r\nthree\n")  # one send, one segment on loopback
    for text in ["one", "two"]:
        server.expect(f"Client: {text}\r\nServer: ")
        server.send(f"re {text}")
        assert peer.recv_line() == f"re {text}".encode()
    server.expect("Client: three\r\nServer: ")
    server.send("exit")

    assert server.wait_exit() == 0
    assert server.lines[2:] == [
        "Client: one",
        "Server: re one",
        "Client: two",
        "Server: re two",
        "Client: three",
        "Server: exit",
        "Server ended the chat.",
    ]


def test_a_message_split_into_single_bytes_is_reassembled(
    programs: Programs, chat_raw_peers: list[RawPeer]
) -> None:
    server, peer = _server_with_raw_client(programs, chat_raw_peers)
    peer.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = "ça 你好 🎉\n".encode()
    for i in range(len(data)):  # multi-byte characters cut between segments too
        peer.send(data[i : i + 1])
    server.expect("Client: ça 你好 🎉\r\nServer: ")
    server.send("exit")

    assert server.wait_exit() == 0


def test_escape_sequences_from_a_client_are_shown_never_executed(
    programs: Programs, chat_raw_peers: list[RawPeer]
) -> None:
    server, peer = _server_with_raw_client(programs, chat_raw_peers)
    peer.send(HOSTILE.encode() + b"\n")
    server.expect("Server: ")
    server.send("exit")

    assert server.wait_exit() == 0
    assert f"Client: {HOSTILE_SHOWN}" in server.lines
    for raw in ["\x1b", "\x07", "\x00", "\u009b", "\u202e"]:
        assert raw not in server.output


def test_escape_sequences_from_a_server_are_shown_never_executed(
    programs: Programs, chat_raw_listener: RawListener
) -> None:
    client = programs.client(chat_raw_listener.port)
    peer = chat_raw_listener.accept()
    client.expect("Client: ")
    client.send("hello")
    assert peer.recv_line() == b"hello"
    peer.send(HOSTILE.encode() + b"\n")
    client.expect("Client: ")
    client.send("exit")

    assert client.wait_exit() == 0
    assert f"Server: {HOSTILE_SHOWN}" in client.lines
    for raw in ["\x1b", "\x07", "\x00", "\u009b", "\u202e"]:
        assert raw not in client.output


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        (b"caf\xe9 \xff\xfe ok\n", "caf\ufffd \ufffd\ufffd ok"),  # Latin-1 and stray bytes
        (b"cut \xe4\xbd\n", "cut \ufffd"),  # a truncated CJK character
    ],
)
def test_invalid_utf8_is_shown_with_replacement_characters(
    programs: Programs, chat_raw_peers: list[RawPeer], sent: bytes, shown: str
) -> None:
    server, peer = _server_with_raw_client(programs, chat_raw_peers)
    peer.send(sent)
    server.expect(f"Client: {shown}\r\nServer: ")
    server.send("still fine")

    assert peer.recv_line() == b"still fine"
    assert server.child.isalive()


def test_the_client_shows_the_classic_screen_to_a_raw_server(
    programs: Programs, chat_raw_listener: RawListener
) -> None:
    client = programs.client(chat_raw_listener.port)
    peer = chat_raw_listener.accept()
    client.expect("Client: ")
    client.send("ping")
    assert peer.recv_line() == b"ping"
    peer.send(b"exit\n")

    assert client.wait_exit() == 0
    assert client.lines == [CONNECTED_TO_SERVER, "Client: ping", "Server: exit", "Server ended the chat."]
