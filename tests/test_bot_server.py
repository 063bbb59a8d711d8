"""bots.server in-process: ServerThread serves real sockets on loopback, fairly, and stops politely."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from bots import loops, notices
from bots.actions import Action
from bots.cli import bundled_dialogue_path
from bots.loader import load_dialogue, parse_dialogue
from bots.server import BotServer, ServeOptions, ServerThread
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
        marks=pytest.mark.skipif(not loops.uvloop_installed(), reason="no uvloop here (Windows, PyPy)"),
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


# -- a bug in a turn ---------------------------------------------------------------------------

BUG_TRIGGER = "boom"  # the message the broken conversation below raises on


class Bug(Exception):
    """What the broken turn raises: an exception the bot does not expect."""


@pytest.fixture
def broken_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Conversation raises Bug on the message BUG_TRIGGER, as a bug in a turn would."""
    from bots.engine import Conversation

    receive = Conversation.receive

    def buggy(self: Conversation, text: str, now: float) -> list[Action]:
        if text == BUG_TRIGGER:
            raise Bug("a bug in the turn")
        return receive(self, text, now)

    monkeypatch.setattr(Conversation, "receive", buggy)


async def _serve_and_break(once: bool) -> tuple[ExitStatus, list[str], list[str], list[bytes], list[bytes]]:
    """Serve the echo dialogue; one client sends the trigger, another chats before and after.

    Returns the server's status, its log and report lines, and what each client received.
    """
    logged: list[str] = []
    reported: list[str] = []
    echo = parse_dialogue('version: 1\nfallback: "{input}"\n', "echo.yaml")
    server = BotServer(echo, ServeOptions(delays=False, once=once), log=logged.append, report=reported.append)
    port = await server.start("127.0.0.1", 0)
    other_in, other_out = await asyncio.open_connection("127.0.0.1", port)
    heard: list[bytes] = []
    if not once:  # --once serves one chat: the other client would be busy
        other_out.write(b"before\n")
        heard.append(await asyncio.wait_for(other_in.readline(), TIMEOUT_S))
    broken_in, broken_out = (
        (other_in, other_out) if once else await asyncio.open_connection("127.0.0.1", port)
    )
    broken_out.write(f"{BUG_TRIGGER}\n".encode())
    ending = await asyncio.wait_for(broken_in.read(), TIMEOUT_S)  # until the bot closes
    if not once:
        other_out.write(b"after\n")
        heard.append(await asyncio.wait_for(other_in.readline(), TIMEOUT_S))
        server.stop()
    status = await asyncio.wait_for(server.wait_stopped(), TIMEOUT_S)
    for writer in {other_out, broken_out}:
        writer.close()
    return status, logged, reported, heard, ending.splitlines(keepends=True)


@pytest.mark.usefixtures("broken_turn")
@pytest.mark.parametrize("loop", EVENT_LOOPS)
def test_a_bug_in_a_turn_ends_that_chat_alone_as_an_internal_error_and_the_other_chats_go_on(
    loop: str,
) -> None:
    status, logged, reported, heard, ending = loops.run(_serve_and_break(once=False), loop)
    assert status is ExitStatus.SUCCESS
    assert heard == [b"before\n", b"after\n"]
    assert ending == [f"{notices.INTERNAL_ERROR[0]}\n".encode(), b"exit\n"]
    ended = sorted(line.partition(" ended: ")[2] for line in logged if " ended: " in line)
    assert ended == ["ended by bot (the bot is stopping)", "internal error (Bug: a bug in the turn)"]
    tracebacks = [line for line in logged if line.startswith("Traceback")]
    assert len(tracebacks) == 1
    assert "Bug: a bug in the turn" in tracebacks[0]
    assert len(reported) == 1
    assert reported[0].startswith("internal error in the chat with 127.0.0.1:")
    assert reported[0].endswith(
        ": Bug: a bug in the turn; that chat ended, the others go on (a bug: please report it; "
        "--verbose shows its traceback)"
    )


@pytest.mark.usefixtures("broken_turn")
@pytest.mark.parametrize("loop", EVENT_LOOPS)
def test_once_ends_with_the_internal_error_status_when_its_chat_hits_a_bug(loop: str) -> None:
    status, _logged, _reported, _heard, ending = loops.run(_serve_and_break(once=True), loop)
    assert status is ExitStatus.CHAT_ERROR
    assert ending[-1] == b"exit\n"
