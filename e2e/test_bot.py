"""chat-bot end to end: real processes under a pty, real sockets, every role and every bundled dialogue."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

import bots
from bots.loops import uvloop_installed
from chat_testing import CONNECTED_TO_SERVER, Programs, RawPeer, Terminal, listening_port

DIALOGUES = Path(bots.__file__).parent / "dialogues"
QUIZ_TEST = str(DIALOGUES / "quiz_test.yaml")  # report lines name the file as it was given


def serve_bot(programs: Programs, *args: str) -> tuple[Terminal, int]:
    """A serving chat-bot on a free port, replying at once; return it and its port."""
    term = programs.spawn("chat-bot", "--port", "0", "--no-delay", *args)
    return term, listening_port(term)


def test_a_person_at_chat_client_chats_with_the_default_bot(programs: Programs) -> None:
    bot, port = serve_bot(programs, "--seed", "1")
    client = programs.client(port)
    client.expect("Client: ")
    client.send("my name is Ann")
    client.expect("Server: Nice to meet you, Ann! Ask me for help, or say bye to leave.\r\n")
    client.expect("Client: ")
    client.send("how are you?")
    client.expect("Server: I am a few rules in a YAML file, and I feel fine. And you, Ann?\r\n")
    client.expect("Client: ")
    client.send("bye")
    client.expect("Server: exit\r\nServer ended the chat.\r\n")
    assert client.wait_exit() == 0
    assert bot.child.isalive()  # a serving bot outlives its chats


def test_the_classic_client_chats_with_the_eliza_bot(programs: Programs) -> None:
    _bot, port = serve_bot(programs, "--script", str(DIALOGUES / "eliza.yaml"))
    client = programs.classic_client(port)
    client.expect(CONNECTED_TO_SERVER)
    client.expect("Client: ")
    client.send("I need my holiday")
    # The classic client sends no newline: the bot detects it by the silence and
    # answers in the classic style, so the classic screen shows the bare reply.
    client.expect_re(
        r"Server: (Why do you need|Would it really help you to get|Are you sure you need) your holiday\?\r\n"
    )
    client.expect("Client: ")
    client.send("goodbye")
    client.expect("Server: exit\r\nServer ended the chat.\r\n")
    assert client.wait_exit() == 0


def test_a_connecting_bot_chats_with_a_person_at_chat_server(programs: Programs) -> None:
    server, port = programs.server()
    bot = programs.spawn("chat-bot", "--connect", "--port", str(port), "--no-delay")
    server.expect("Client: Hello! I am the chat-bot greeter. What is your name?\r\n")
    server.expect("Server: ")
    server.send("call me Zed")
    server.expect("Client: Nice to meet you, Zed! Ask me for help, or say bye to leave.\r\n")
    server.expect("Server: ")
    server.send("bye")
    server.expect("Client: exit\r\nClient ended the chat.\r\n")
    assert server.wait_exit() == 0
    bot.expect("Server: bye\r\nClient: exit\r\nClient ended the chat.\r\n")
    assert bot.wait_exit() == 0


def test_three_clients_at_once_each_keep_their_own_conversation(programs: Programs) -> None:
    _bot, port = serve_bot(programs, "--seed", "3")
    clients = {name: programs.client(port) for name in ("Ann", "Bob", "Cy")}
    for name, client in clients.items():  # all three connected before anyone speaks
        client.expect("Client: ")
        client.send(f"my name is {name}")
    for name, client in clients.items():
        client.expect(f"Server: Nice to meet you, {name}!")
        client.expect("Client: ")
        client.send("what now?")
    for name, client in reversed(clients.items()):
        client.expect(f"Server: Tell me more, {name}.\r\n")
        client.expect("Client: ")
        client.send("exit")
        assert client.wait_exit() == 0


def test_bot_against_bot_the_quiz_test_passes_against_the_quiz(programs: Programs, tmp_path: Path) -> None:
    _quiz, port = serve_bot(programs, "--script", str(DIALOGUES / "quiz.yaml"))
    junit = tmp_path / "quiz.xml"
    tester = programs.spawn(
        "chat-bot", "--connect", "--port", str(port), "--no-delay", "--quiet",
        "--script", str(DIALOGUES / "quiz_test.yaml"), "--junit", str(junit),
    )  # fmt: skip
    tester.expect(f"PASS {QUIZ_TEST}:25 step 14 expect: expected {{exact: 'exit'}}, received 'exit'")
    tester.expect("test passed (quiz-test): 14 passed, 0 failed, 0 not run")
    assert tester.wait_exit() == 0
    report = junit.read_text(encoding="utf-8")
    assert 'tests="15" failures="0"' in report
    # JUnit names are relative to the working directory (the child runs in ours).
    assert f'name="step 14 expect ({os.path.relpath(QUIZ_TEST)}:25)"' in report


def test_a_failing_test_reports_the_step_and_exits_with_the_mismatch_status(programs: Programs) -> None:
    _greeter, port = serve_bot(programs, "--seed", "1")
    tester = programs.spawn(
        "chat-bot",
        "--connect",
        "--port",
        str(port),
        "--no-delay",
        "--script",
        str(DIALOGUES / "quiz_test.yaml"),
    )
    tester.expect(
        f"FAIL {QUIZ_TEST}:13 step 2 expect: expected {{glob: 'Welcome to the quiz*'}}, "
        "received 'Hey friend, good to see you.' ("
    )
    tester.expect(f"NOT RUN {QUIZ_TEST}:25 step 14 expect\r\n")
    tester.expect("test failed: mismatch (quiz-test): 1 passed, 1 failed, 12 not run")
    tester.expect(
        f"chat-bot: test failed (mismatch) at {QUIZ_TEST}:13: step 2 expect: "
        "expected {glob: 'Welcome to the quiz*'}, received 'Hey friend, good to see you.'\r\n"
    )
    assert tester.wait_exit() == 6


def _test_dialogue(tmp_path: Path, body: str) -> str:
    path = tmp_path / "t.yaml"
    path.write_text("version: 1\n" + body, encoding="utf-8")
    return str(path)


def test_silence_past_the_timeout_exits_with_the_timeout_status(programs: Programs, tmp_path: Path) -> None:
    script = _test_dialogue(tmp_path, "timeout: 0.5\nscript:\n  - say: hi\n  - expect: hello\n")
    server, port = programs.server()
    tester = programs.spawn("chat-bot", "--connect", "--port", str(port), "--script", script)
    server.expect("Client: hi\r\n")  # the person at chat-server says nothing
    tester.expect(
        f"FAIL {script}:5 step 2 expect: expected {{contains: 'hello'}}, received nothing within 0.5 s ("
    )
    tester.expect(f"chat-bot: test failed (timeout) at {script}:5")
    assert tester.wait_exit() == 7
    assert "Client: exit\n" in tester.output  # it ended the chat politely


def test_an_abort_pattern_exits_with_the_abort_status(programs: Programs, tmp_path: Path) -> None:
    script = _test_dialogue(tmp_path, "abort: [NO CARRIER]\nscript:\n  - say: dial\n  - expect: CONNECT\n")
    server, port = programs.server()
    tester = programs.spawn("chat-bot", "--connect", "--port", str(port), "--script", script)
    server.expect("Server: ")
    server.send("no carrier")
    tester.expect(
        f"FAIL {script}:2 abort {{contains: 'NO CARRIER'}}: expected no abort pattern, received 'no carrier'"
    )
    assert tester.wait_exit() == 8


def test_a_refused_connection_exits_with_the_connection_error_status(programs: Programs) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tester = programs.spawn("chat-bot", "--connect", "--port", str(port))
    tester.expect(f"chat-bot: connection refused by 127.0.0.1:{port}: is a chat server or a serving chat-bot")
    assert tester.wait_exit() == 3


def test_check_reports_every_problem_of_broken_files(programs: Programs, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "version: 1\nrules:\n  - regex: 'hello (?P<who>\\w+'\n    reply: hi {name}\n  - contain: x\n",
        encoding="utf-8",
    )
    checker = programs.spawn("chat-bot", "--check", str(DIALOGUES / "default.yaml"), str(broken))
    checker.expect(f"{DIALOGUES / 'default.yaml'}: ok\r\n")
    checker.expect(f"{broken}:3:19: regex does not compile: missing ) for the ( at position 6\r\n")
    checker.expect(
        f"{broken}:5:5: unknown key 'contain' in rule 2: did you mean 'contains'? "
        "expected one of: exact, contains, glob, regex, case_sensitive, reply, set, examples, "
        "when, after, topic, redirect, rank, remember\r\n"
    )
    checker.expect(f"{broken}:5:5: rule 2 needs a 'reply'\r\n")
    checker.expect("chat-bot: 3 problems in 1 of 2 dialogue file(s)\r\n")
    assert checker.wait_exit() == 5


def test_an_invalid_script_is_refused_before_listening(programs: Programs, tmp_path: Path) -> None:
    broken = tmp_path / "tags.yaml"
    broken.write_text("version: 1\nfallback: !!python/object/apply:os.system [echo hi]\n", encoding="utf-8")
    bot = programs.spawn("chat-bot", "--port", "0", "--script", str(broken))
    bot.expect(f"chat-bot: {broken}:2:11: YAML tag '!!python/object/apply:os.system' is not allowed")
    assert bot.wait_exit() == 5
    assert "listening" not in bot.output


def test_try_chats_with_the_bundled_bot_in_this_terminal(programs: Programs) -> None:
    me = programs.spawn("chat-bot", "--try", "--no-delay")
    me.expect(CONNECTED_TO_SERVER)
    me.expect("Client: ")
    me.send("I'm Eve")
    me.expect("Server: Nice to meet you, Eve!")
    me.expect("Client: ")
    me.send("exit")
    me.expect("Client ended the chat.\r\n")
    assert me.wait_exit() == 0


def test_max_clients_refuses_one_more_and_idle_timeout_closes_a_silent_client(programs: Programs) -> None:
    _bot, port = serve_bot(programs, "--max-clients", "1", "--idle-timeout", "0.6")
    first = RawPeer.connect(port)
    first.send(b"hello\n")
    assert first.recv_line().startswith(b"H")
    second = RawPeer.connect(port)
    try:
        assert (
            second.recv_until_closed()
            == b"busy: this bot serves at most 1 clients at once; try again later\nexit\n"
        )
    finally:
        second.close()
    try:
        # The notice, then `exit`: a classic client ends the chat cleanly (issue 14 item 4).
        assert first.recv_until_closed() == b"idle: no message for 0.6 s, so this bot closed the chat\nexit\n"
    finally:
        first.close()


def test_sigterm_ends_every_chat_with_exit_and_flushes_the_transcript(
    programs: Programs, tmp_path: Path
) -> None:
    transcript = tmp_path / "chat.jsonl"
    bot, port = serve_bot(programs, "--transcript", str(transcript))
    peers = [RawPeer.connect(port) for _ in range(3)]
    try:
        for number, peer in enumerate(peers):
            peer.send(f"my name is P{number}\n".encode())
            assert (
                peer.recv_line()
                == f"Nice to meet you, P{number}! Ask me for help, or say bye to leave.".encode()
            )
        started = time.monotonic()
        bot.child.kill(signal.SIGTERM)
        for peer in peers:
            assert peer.recv_until_closed() == b"exit\n"
        assert bot.wait_exit() == 143
        assert time.monotonic() - started < 2.0
    finally:
        for peer in peers:
            peer.close()
    entries = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    assert [e["direction"] for e in entries].count("in") == 3
    assert {e["text"] for e in entries if e["direction"] == "out"} >= {"exit"}
    assert all(set(e) == {"time", "direction", "text", "peer"} for e in entries)


@pytest.mark.parametrize(
    "loop",
    [
        "asyncio",
        pytest.param(
            "uvloop",
            marks=pytest.mark.skipif(not uvloop_installed(), reason="no uvloop here (Windows, PyPy)"),
        ),
    ],
)
def test_bot_against_bot_passes_with_both_bots_on_the_loop_chosen(programs: Programs, loop: str) -> None:
    version = programs.spawn("chat-bot", "--loop", loop, "--version")
    assert version.wait_exit() == 0
    assert f", event loop {loop} " in version.lines[0]
    _quiz, port = serve_bot(programs, "--loop", loop, "--script", str(DIALOGUES / "quiz.yaml"))
    tester = programs.spawn(
        "chat-bot", "--loop", loop, "--connect", "--port", str(port), "--no-delay", "--quiet",
        "--script", str(DIALOGUES / "quiz_test.yaml"),
    )  # fmt: skip
    tester.expect("test passed (quiz-test): 14 passed, 0 failed, 0 not run")
    assert tester.wait_exit() == 0
