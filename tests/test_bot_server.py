"""bots.server in-process: ServerThread serves real sockets on loopback and stops politely."""

from __future__ import annotations

import socket

from bots.cli import bundled_dialogue_path
from bots.dialogue import load_dialogue
from bots.server import ServeOptions, ServerThread
from chat.status import ExitStatus

TIMEOUT_S = 5.0  # generous for a loaded machine; a healthy run takes milliseconds


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
