"""bots.server in-process: ServerThread serves real sockets on loopback, fairly, and stops politely."""

from __future__ import annotations

import socket
import threading

import pytest

from bots import loops
from bots.cli import bundled_dialogue_path
from bots.loader import load_dialogue, parse_dialogue
from bots.server import ServeOptions, ServerThread
from chat.status import ExitStatus

TIMEOUT_S = 5.0  # generous for a loaded machine; a healthy run takes milliseconds
FLOOD_MESSAGES = 20_000  # ~240 KB: many reads' worth, each far over the per-callback cap
SMALL_RECEIVE_BUFFER = 16 * 1024  # the flooder's: the bot's replies back up, so it pauses writing too


def _line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_server_thread_chats_with_several_clients_and_says_exit_when_stopped() -> None:
    bot = ServerThread(load_dialogue(bundled_dialogue_path()), ServeOptions(delays=False, seed="1"))
    port = bot.start()
    clients = [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) for _ in range(3)]
    try:
        for number, client in enumerate(clients):
            client.sendall(f"my name is N{number}\n".encode())
        for number, client in enumerate(clients):
            assert (
                _line(client)
                == f"Nice to meet you, N{number}! Ask me for help, or say bye to leave.\n".encode()
            )
        bot.stop()
        assert bot.status is ExitStatus.SUCCESS
        for client in clients:
            assert _line(client) == b"exit\n"
            assert client.recv(10) == b""
    finally:
        for client in clients:
            client.close()


# Each event loop the bot can serve on: their reads differ (libuv reads a socket up to 32 times
# a loop turn, asyncio once), and so does the path through the adapter's fairness cap.
EVENT_LOOPS = [
    loops.ASYNCIO,
    pytest.param(
        loops.UVLOOP,
        marks=pytest.mark.skipif(not loops.uvloop_installed(), reason="the fast extra (uvloop) is missing"),
    ),
]


@pytest.mark.parametrize("loop", EVENT_LOOPS)
def test_a_flood_from_one_client_is_answered_whole_and_in_order_while_another_chats(loop: str) -> None:
    echo = parse_dialogue('version: 1\nfallback: "{input}"\n', "echo.yaml")
    sent = [f"flood {number}" for number in range(FLOOD_MESSAGES)]
    with ServerThread(echo, ServeOptions(delays=False), loop=loop) as bot:
        flooder = socket.socket()
        flooder.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_RECEIVE_BUFFER)
        flooder.settimeout(TIMEOUT_S)
        flooder.connect(("127.0.0.1", bot.port))
        other = socket.create_connection(("127.0.0.1", bot.port), timeout=TIMEOUT_S)
        sender = threading.Thread(
            target=flooder.sendall, args=("".join(f"{text}\n" for text in sent).encode(),), daemon=True
        )
        try:
            sender.start()
            other.sendall(b"meanwhile\n")
            assert _line(other) == b"meanwhile\n"
            with flooder.makefile("rb") as replies:
                received = [replies.readline().rstrip(b"\n").decode() for _ in sent]
            sender.join(TIMEOUT_S)
            flooder.sendall(b"after the flood\n")  # reading resumed once the backlog was handled
            assert _line(flooder) == b"after the flood\n"
        finally:
            flooder.close()
            other.close()
    assert received == sent


@pytest.mark.parametrize("loop", EVENT_LOOPS)
def test_server_thread_serves_on_the_event_loop_it_is_given(loop: str) -> None:
    echo = parse_dialogue('version: 1\nfallback: "{input}"\n', "echo.yaml")
    with ServerThread(echo, ServeOptions(delays=False), loop=loop) as bot:
        with socket.create_connection(("127.0.0.1", bot.port), timeout=TIMEOUT_S) as client:
            client.sendall(b"which loop?\n")
            assert _line(client) == b"which loop?\n"
        assert type(bot._loop).__module__.split(".")[0] == loop
