"""Abrupt disconnects at every point of a classic chat: one clear line, exit status 4, no traceback.

A peer that vanishes is normal life on a network. For each point where it can
happen (before a byte, mid-message, at a prompt, after a reply) and each way
(a close, or a reset: SO_LINGER 0 makes close() send RST), chat-server and
chat-client must say what happened in one line and exit with PEER_LOST.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest

from chat.status import ExitStatus
from chat_testing import EXPECT_TIMEOUT_S, Programs, RawPeer, Terminal

pytestmark = pytest.mark.adversarial

LOST_LINE = r"(chat-server|chat-client): connection lost[^\r\n]*\r\n"


def vanish(peer: RawPeer, how: str) -> None:
    """Close the peer's socket: ``reset`` sends RST (SO_LINGER 0), ``close`` a plain FIN."""
    if how == "reset":
        peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.sock.close()


def assert_lost_cleanly(term: Terminal) -> None:
    term.expect_re(LOST_LINE)
    assert term.wait_exit() == ExitStatus.PEER_LOST
    out = term.output
    assert "Traceback" not in out
    assert "internal error" not in out
    assert out.count("connection lost") == 1, out


SERVER_POINTS = ["before any byte", "mid-message", "at the server's prompt", "after the server's reply"]


@pytest.mark.parametrize("how", ["reset", "close"])
@pytest.mark.parametrize("point", SERVER_POINTS)
def test_chat_server_survives_a_client_vanishing(
    programs: Programs, chat_raw_peers: list[RawPeer], point: str, how: str
) -> None:
    server, port = programs.server()
    peer = RawPeer.connect(port)
    chat_raw_peers.append(peer)
    server.expect("Connected by")
    if point == "mid-message":
        peer.send(b"half a mess")
    elif point in ("at the server's prompt", "after the server's reply"):
        peer.send(b"hello\n")
        server.expect("Server: ")
        if point == "after the server's reply":
            server.send("hi")
            assert peer.recv_line() == b"hi"
    vanish(peer, how)
    if point == "mid-message" and how == "close":
        # Bytes then end of file is how a classic client's last message ends: shown, and the
        # loss right after it, without a prompt to answer first.
        server.expect("Client: half a mess\r\n")
    # Nothing typed: at the prompt too, the loss shows at once (the prompt watches the peer).
    assert_lost_cleanly(server)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(EXPECT_TIMEOUT_S)
    yield sock
    sock.close()


CLIENT_POINTS = ["before any byte", "at the client's first prompt", "mid-reply", "after a reply"]


@pytest.mark.parametrize("how", ["reset", "close"])
@pytest.mark.parametrize("point", CLIENT_POINTS)
def test_chat_client_survives_a_server_vanishing(
    programs: Programs, chat_raw_peers: list[RawPeer], listener: socket.socket, point: str, how: str
) -> None:
    client = programs.spawn("chat-client", "--port", str(listener.getsockname()[1]))
    peer = RawPeer(listener.accept()[0])
    chat_raw_peers.append(peer)
    client.expect("Client: ")
    if point == "before any byte":
        vanish(peer, how)
    elif point == "at the client's first prompt":
        client.send("hello")
        assert peer.recv_line() == b"hello"
        vanish(peer, how)
    elif point == "mid-reply":
        client.send("hello")
        assert peer.recv_line() == b"hello"
        peer.send(b"half a rep")
        vanish(peer, how)
        if how == "close":  # a classic server's last message: shown, then the loss at once
            client.expect("Server: half a rep\r\n")
    else:
        client.send("hello")
        assert peer.recv_line() == b"hello"
        peer.send(b"welcome\n")
        client.expect("Client: ")
        vanish(peer, how)
    # Nothing typed: the prompt watches the peer, so the loss shows at once.
    assert_lost_cleanly(client)
