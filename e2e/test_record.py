"""chat-bot --record: a chat through the recording proxy becomes a test that checks and replays green.

Each test records a real chat between real programs, runs `chat-bot --check` on what was
written, then replays it with `chat-bot --connect` against a fresh server of the same kind:
the classic `chat-server` with its person typing at its terminal, a serving `chat-bot`, and
two servers nobody here wrote (aiosmtpd, ngIRCd). The peer dialogue (`--record-peer`) plays
the server in its turn, and the client's own test passes against it.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.loops import uvloop_installed
from chat_testing import Daemon, Programs, Terminal, free_port, wait_until
from chat_testing.env import EXPECT_TIMEOUT_S, child_env
from chat_testing.listening import port_listening
from chat_testing.plugin import require_tool
from chat_testing.programs import listening_port

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CONNECTED_BY = r"Connected by \('127\.0\.0\.1', (\d+)\)"
# What the client's person types, and what the server's person answers (blanks kept, Unicode).
TURNS = [("hello", "  hi there  "), ("ça va? 你好 🎉", "très bien")]

pytestmark = pytest.mark.timeout(120)
LOOPS = [
    "asyncio",
    pytest.param("uvloop", marks=pytest.mark.skipif(not uvloop_installed(), reason="no fast extra (uvloop)")),
]


def record(programs: Programs, out: Path, port: int, *options: str) -> tuple[Terminal, int]:
    """A recorder between a client to come and the server on *port*; it and the port it listens on."""
    recorder = programs.spawn(
        "chat-bot", "--record", str(out), "--to", f"127.0.0.1:{port}", "--port", "0", *options
    )
    return recorder, listening_port(recorder)


def check(*paths: Path) -> str:
    """`chat-bot --check` on *paths*: every file ok, its output."""
    done = subprocess.run(
        ["chat-bot", "--check", *map(str, paths)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=EXPECT_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for path in paths:
        assert f"{path}: ok" in done.stdout
    return done.stdout


def finished(recorder: Terminal, lines: int) -> None:
    recorder.expect(f"Recorded {lines} lines into ")
    assert recorder.wait_exit() == 0


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[list[Daemon]]:
    """Third-party servers, each in a process group of its own, stopped whole after the test."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def test_a_chat_with_chat_server_is_recorded_checked_and_replayed_with_its_person_typing(
    programs: Programs, tmp_path: Path
) -> None:
    out = tmp_path / "classic.chat.yaml"
    server, port = programs.server()
    recorder, proxy_port = record(programs, out, port)
    client = programs.client(proxy_port)
    server.expect_re(CONNECTED_BY)
    for mine, theirs in TURNS:
        client.expect("Client: ")
        client.send(mine)
        server.expect(f"Client: {mine}\r\n")
        server.expect("Server: ")
        server.send(theirs)
        client.expect(f"Server: {theirs}\r\n")
    client.expect("Client: ")
    client.send("exit")
    assert client.wait_exit() == 0
    assert server.wait_exit() == 0
    finished(recorder, 5)
    check(out)
    text = out.read_text(encoding="utf-8")
    assert "end: exit\n" in text  # the client ended the chat with `exit`: the test ends it so
    assert "  - say: 'ça va? 你好 🎉'\n  - expect: {exact: 'très bien'}\n" in text

    # The replay: a fresh chat-server, its person typing the same answers when the test speaks.
    server, port = programs.server()
    replay = programs.spawn("chat-bot", "--connect", "--port", str(port), "--script", str(out))
    server.expect_re(CONNECTED_BY)
    for mine, theirs in TURNS:
        server.expect(f"Client: {mine}\r\n")
        server.expect("Server: ")
        server.send(theirs)
    server.expect("Client: exit\r\n")
    replay.expect("test passed (classic): 5 passed, 0 failed, 0 not run")
    assert replay.wait_exit() == 0
    assert server.wait_exit() == 0


def test_a_serving_bot_is_recorded_through_its_own_test_and_both_dialogues_replay_green(
    programs: Programs, tmp_path: Path
) -> None:
    out, peer = tmp_path / "helpdesk.chat.yaml", tmp_path / "desk.yaml"
    _bot, port = programs.bot("--script", "helpdesk", "--no-delay")
    recorder, proxy_port = record(programs, out, port, "--record-peer", str(peer))
    client = programs.spawn(
        "chat-bot", "--connect", "--port", str(proxy_port), "--script", "helpdesk_test", "--no-delay"
    )
    client.expect("test passed (helpdesk-test): 28 passed")
    assert client.wait_exit() == 0
    finished(recorder, 28)
    check(out, peer)
    text = out.read_text(encoding="utf-8")
    assert "end: wait\n" in text  # the help desk said exit and closed first
    assert "  - say: 'my computer isn''t working'\n" in text

    # The test replays against a fresh help desk, its reply delays on.
    _bot, port = programs.bot("--script", "helpdesk")
    replay = programs.spawn("chat-bot", "--connect", "--port", str(port), "--script", str(out), "--quiet")
    replay.expect(
        "test passed (helpdesk): 28 passed, 0 failed, 0 not run", timeout=60
    )  # 14 delays of up to 0.8 s
    assert replay.wait_exit() == 0
    # The peer plays the help desk: the desk's own test passes against it (a client tested this way).
    desk, port = programs.bot("--script", str(peer), "--once")
    client = programs.spawn(
        "chat-bot", "--connect", "--port", str(port), "--script", "helpdesk_test", "--quiet"
    )
    client.expect("test passed (helpdesk-test): 28 passed")
    assert client.wait_exit() == 0
    desk.expect("test passed (desk): 28 passed, 0 failed, 0 not run")
    assert desk.wait_exit() == 0


PINGER = """\
version: 1
name: pinger
rules:
  - exact: hello
    reply:
      from: ["PING :3f9a2c71d0", "PING :b47e0d15aa", "PING :09c1e4f7b2", "PING :e5d3a8c610"]
      order: random
  - regex: '^PONG :(?P<token>[0-9a-f]+)$'
    reply: "got {token}"
"""
ANSWERER = """\
version: 1.2
name: answerer
script:
  - say: hello
  - expect: {regex: '^PING :(?P<token>[0-9a-f]+)$'}
  - say: "PONG :{token}"
  - expect: {regex: '^got [0-9a-f]+$'}
"""


@pytest.mark.parametrize("loop", LOOPS)
def test_volatile_tokens_become_captures_and_an_answer_that_repeats_one_uses_the_variable(
    programs: Programs, tmp_path: Path, loop: str
) -> None:
    (tmp_path / "pinger.yaml").write_text(PINGER, encoding="utf-8")
    (tmp_path / "answerer.yaml").write_text(ANSWERER, encoding="utf-8")
    out = tmp_path / "ping.chat.yaml"
    _bot, port = programs.bot("--script", str(tmp_path / "pinger.yaml"), "--seed", "1")
    recorder, proxy_port = record(programs, out, port, "--volatile", "--loop", loop)
    client = programs.spawn(
        "chat-bot", "--connect", "--port", str(proxy_port), "--script", str(tmp_path / "answerer.yaml")
    )
    recorded = client.expect_re(r"Server: PING :([0-9a-f]+)").group(1)
    client.expect("test passed (answerer)")
    assert client.wait_exit() == 0
    finished(recorder, 5)
    check(out)
    text = out.read_text(encoding="utf-8")
    assert "  - expect: {regex: '^PING :(?P<hex1>[0-9A-Fa-f]+)$'}\n  - say: 'PONG :{hex1}'\n" in text
    assert recorded not in text  # the token is a capture, never a literal

    _bot, port = programs.bot("--script", str(tmp_path / "pinger.yaml"), "--seed", "3")
    replay = programs.spawn("chat-bot", "--connect", "--port", str(port), "--script", str(out))
    replayed = replay.expect_re(r"Server: PING :([0-9a-f]+)").group(1)
    replay.expect("test passed (ping): 5 passed, 0 failed, 0 not run")
    assert replay.wait_exit() == 0
    assert replayed != recorded  # another token, the same test


def test_an_smtp_session_with_aiosmtpd_is_recorded_replayed_and_its_peer_passes_the_client_test(
    programs: Programs, daemons: list[Daemon], tmp_path: Path
) -> None:
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is not installed: pip install aiosmtpd")
    out, peer = tmp_path / "smtp.chat.yaml", tmp_path / "smtp_server.yaml"
    session = str(EXAMPLES / "smtp" / "test_session.chat.yaml")

    def smtp_server() -> int:
        port = free_port()
        daemons.append(
            Daemon(
                [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"],
                tmp_path,
                f"aiosmtpd{port}",
                new_session=True,
            )
        )
        wait_until(lambda: port_listening(port), EXPECT_TIMEOUT_S, "aiosmtpd's port")
        return port

    recorder, proxy_port = record(programs, out, smtp_server(), "--record-peer", str(peer), "--quiet")
    client = programs.spawn("chat-bot", "--connect", "--port", str(proxy_port), "--script", session)
    client.expect("test passed (smtp-session)")
    assert client.wait_exit() == 0
    finished(recorder, 13)
    assert "Client: " not in recorder.output  # --quiet: the chat is not shown
    check(out, peer)
    text = out.read_text(encoding="utf-8")
    assert "line_end: crlf\nend: wait\n" in text  # CR LF seen from the client; the server closed after 221
    assert re.search(
        r"  - expect: \{exact: '220 \S+ Python SMTP [\d.]+'\}\n  - say: 'EHLO client.example'\n", text
    )

    replay = programs.spawn("chat-bot", "--connect", "--port", str(smtp_server()), "--script", str(out))
    replay.expect("test passed (smtp): 13 passed, 0 failed, 0 not run")
    assert replay.wait_exit() == 0
    # The peer plays aiosmtpd: the example's client test passes against it.
    server, port = programs.bot("--script", str(peer), "--once")
    client = programs.spawn("chat-bot", "--connect", "--port", str(port), "--script", session)
    client.expect("test passed (smtp-session)")
    assert client.wait_exit() == 0
    server.expect("test passed (smtp_server)")
    assert server.wait_exit() == 0


def test_an_irc_registration_with_ngircd_replays_against_a_server_started_at_another_time(
    programs: Programs, daemons: list[Daemon], tmp_path: Path
) -> None:
    require_tool("ngircd")
    out = tmp_path / "irc.chat.yaml"
    settings = (EXAMPLES / "irc" / "ngircd.conf.in").read_text(encoding="utf-8")

    def irc_server() -> int:
        port = free_port()
        conf = tmp_path / f"ngircd{port}.conf"
        conf.write_text(settings.replace("@PORT@", str(port)), encoding="utf-8")
        daemons.append(Daemon(["ngircd", "-n", "-f", str(conf)], tmp_path, f"ngircd{port}", new_session=True))
        wait_until(lambda: port_listening(port), EXPECT_TIMEOUT_S, "ngircd's port")
        return port

    first = irc_server()
    started = int(time.time())  # the server's start time, to the second, is at most this
    recorder, proxy_port = record(programs, out, first, "--volatile")
    client = programs.spawn(
        "chat-bot",
        "--connect",
        "--port",
        str(proxy_port),
        "--script",
        str(EXAMPLES / "irc" / "test_register.chat.yaml"),
    )
    client.expect("test passed (irc-register)")
    assert client.wait_exit() == 0
    recorder.expect_re(r"Recorded (\d+) lines into ")
    assert recorder.wait_exit() == 0
    check(out)
    text = out.read_text(encoding="utf-8")
    # The server's start time is a capture: a server started another second still passes.
    assert re.search(r"003 ann :This server has been started .*\(\?P<time1>", text), text
    assert "  - say: 'NICK ann'\n  - say: 'USER ann 0 * :Ann Example'\n" in text

    wait_until(lambda: int(time.time()) > started, 2.0, "the next second on the clock")
    replay = programs.spawn("chat-bot", "--connect", "--port", str(irc_server()), "--script", str(out))
    replay.expect_re(r"test passed \(irc\): \d+ passed, 0 failed, 0 not run")
    assert replay.wait_exit() == 0


@pytest.mark.parametrize("loop", LOOPS)
def test_sigterm_cuts_a_recording_keeps_what_crossed_and_ends_with_143(
    programs: Programs, tmp_path: Path, loop: str
) -> None:
    out = tmp_path / "cut.chat.yaml"
    server, port = programs.server()
    recorder, proxy_port = record(programs, out, port, "--loop", loop)
    client = programs.client(proxy_port)
    server.expect_re(CONNECTED_BY)
    client.expect("Client: ")
    client.send("hello")
    server.expect("Client: hello\r\n")
    server.expect("Server: ")
    server.send("hi")
    recorder.expect("Server: hi\r\n")
    began = time.monotonic()
    recorder.child.kill(signal.SIGTERM)
    assert recorder.wait_exit() == 143
    assert time.monotonic() - began < 2.0
    assert "Recorded 2 lines into" in recorder.output
    check(out)
    text = out.read_text(encoding="utf-8")
    assert text.endswith("script:\n  - say: 'hello'\n  - expect: {exact: 'hi'}\n")
    assert "end: close\n" in text  # cut before either side closed


def test_a_client_that_leaves_before_a_whole_line_crossed_leaves_no_file_and_status_4(
    programs: Programs, tmp_path: Path
) -> None:
    out = tmp_path / "nothing.chat.yaml"
    _bot, port = programs.bot("--script", "helpdesk", "--no-delay")
    recorder, proxy_port = record(programs, out, port)
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=EXPECT_TIMEOUT_S):
        pass  # connected, then gone without a word
    assert recorder.wait_exit() == 4
    assert (
        recorder.lines[-1]
        == "chat-bot: no whole line crossed the connection: nothing to write: no dialogue written"
    )
    assert not out.exists()


def test_a_server_that_cannot_be_dialled_ends_the_recorder_with_one_line_and_status_3(
    programs: Programs, tmp_path: Path
) -> None:
    port = free_port()
    recorder, proxy_port = record(programs, tmp_path / "t.chat.yaml", port)
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=EXPECT_TIMEOUT_S) as client:
        assert client.recv(1) == b""  # closed: nothing to chat with
    assert recorder.wait_exit() == 3
    assert recorder.lines[-1] == (
        f"chat-bot: connection refused by 127.0.0.1:{port}: is the server running there? "
        "Start it, or fix --to"
    )
