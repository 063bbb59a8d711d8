"""chat-bot's endings end to end: a peer leaving during a reply delay, half-closes, signals.

Issue 14 item 2, as a user meets it: the real chat-bot under a pty, real sockets, nc.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bots.actions import Send
from bots.engine import Conversation
from bots.loader import load_dialogue
from bots.loops import uvloop_installed
from chat_testing import Programs, RawListener, RawPeer, Terminal, listening_port, wait_until
from chat_testing.plugin import require_tool

ENDS_SOON_S = 2.0  # a chat whose peer is gone ends at its next turn: well under this


def half_closing_tool(programs: Programs, port: int, lines: str, linger_s: int) -> Terminal:
    """A line tool that sends *lines* (printf syntax), half-closes, and reads for *linger_s* seconds.

    ``nc -q`` where the nc has it (Debian's and the OpenBSD nc: the issue's own repro), else
    ``socat -t``, which does the same everywhere (macOS's nc has no -q).
    """
    nc = shutil.which("nc")
    usage = (
        "" if nc is None else subprocess.run([nc, "-h"], capture_output=True, text=True, timeout=10).stderr
    )
    if nc is not None and "-q" in usage:
        tool, command = "nc", f"{nc} -q {linger_s} 127.0.0.1 {port}"
    else:
        tool, command = "socat", f"{require_tool('socat')} -t {linger_s} - TCP:127.0.0.1:{port}"
    return programs.spawn_command(tool, "sh", "-c", f"printf '{lines}' | {command}")


def _dialogue(tmp_path: Path, body: str) -> str:
    path = tmp_path / "d.yaml"
    path.write_text("version: 1\n" + body, encoding="utf-8")
    return str(path)


def test_a_connecting_bot_whose_server_closes_during_a_delay_exits_peer_lost_at_once(
    programs: Programs, chat_raw_listener: RawListener, tmp_path: Path
) -> None:
    script = _dialogue(tmp_path, "delay: 0.5\nfallback: slow reply\n")
    bot = programs.spawn("chat-bot", "--connect", "--port", str(chat_raw_listener.port), "--script", script)
    server = chat_raw_listener.accept()
    assert server.recv_line() == b"Hello!"
    server.send(b"hi\n")
    server.close()
    started = time.monotonic()
    bot.expect("Server: hi\r\n")
    bot.expect("chat-bot: test failed (peer lost): the peer closed the connection without saying exit\r\n")
    assert bot.wait_exit() == 4
    assert time.monotonic() - started < ENDS_SOON_S


def test_a_connecting_test_whose_server_closes_during_a_delay_prints_its_summary_and_junit(
    programs: Programs, chat_raw_listener: RawListener, tmp_path: Path
) -> None:
    script = _dialogue(
        tmp_path,
        "delay: 0.5\nscript:\n  - say: first\n  - expect: hi\n  - say: second\n  - expect: more\n",
    )
    junit = tmp_path / "report.xml"
    bot = programs.spawn(
        "chat-bot",
        "--connect",
        "--port",
        str(chat_raw_listener.port),
        "--script",
        script,
        "--junit",
        str(junit),
    )
    server = chat_raw_listener.accept()
    assert server.recv_line() == b"first"
    server.send(b"hi\n")
    server.close()
    bot.expect(f"PASS {script}:5 step 2 expect")
    bot.expect(
        f"FAIL {script}:7 step 4 expect: expected {{contains: 'more'}}, "
        "received the peer closed the connection"
    )
    bot.expect("test failed: peer lost (d): 3 passed, 1 failed, 0 not run, in ")
    assert bot.wait_exit() == 4
    report = junit.read_text(encoding="utf-8")
    assert 'failures="1"' in report
    assert "step 4 expect" in report


def test_a_connecting_test_whose_server_resets_during_a_delay_reports_the_unsent_say_as_not_run(
    programs: Programs, chat_raw_listener: RawListener, tmp_path: Path
) -> None:
    script = _dialogue(
        tmp_path,
        "delay: 0.5\nscript:\n  - say: first\n  - expect: hi\n  - say: second\n  - expect: more\n",
    )
    bot = programs.spawn("chat-bot", "--connect", "--port", str(chat_raw_listener.port), "--script", script)
    server = chat_raw_listener.accept()
    assert server.recv_line() == b"first"
    server.send(b"hi\n")
    bot.expect(f"PASS {script}:5 step 2 expect")
    server.reset()
    bot.expect(f"NOT RUN {script}:6 step 3 say")
    bot.expect("test failed: peer lost (d): 2 passed, 1 failed, 1 not run, in ")
    assert bot.wait_exit() == 4
    assert "PASS " + script + ":6" not in bot.output


def test_a_once_bot_whose_client_leaves_during_a_delay_exits_peer_lost(
    programs: Programs, tmp_path: Path
) -> None:
    script = _dialogue(tmp_path, "delay: 0.5\nfallback: slow reply\n")
    bot = programs.spawn("chat-bot", "--port", "0", "--once", "--script", script)
    port = listening_port(bot)
    nc = half_closing_tool(programs, port, "hello\\n", 0)
    bot.expect("Client: hello\r\n")
    assert bot.wait_exit() == 4
    nc.wait_exit()


def test_a_serving_bot_logs_the_end_of_a_chat_whose_client_left_during_a_delay(
    programs: Programs, tmp_path: Path
) -> None:
    script = _dialogue(tmp_path, "delay: 0.5\nfallback: slow reply\n")
    bot = programs.spawn("chat-bot", "--port", "0", "--verbose", "--script", script)
    port = listening_port(bot)
    nc = half_closing_tool(programs, port, "hello\\n", 0)
    bot.expect_re(
        r"chat with 127\.0\.0\.1:\d+ ended: peer lost \(the peer closed the connection without saying exit\)"
    )
    nc.wait_exit()
    assert bot.output.count(" ended: ") == 1


@pytest.mark.parametrize("delay", ["on", "off"])
def test_printf_hello_exit_into_nc_gets_the_greeters_reply(programs: Programs, delay: str) -> None:
    bot = programs.spawn(
        "chat-bot", "--port", "0", "--seed", "1", *(["--no-delay"] if delay == "off" else [])
    )
    port = listening_port(bot)
    nc = half_closing_tool(programs, port, "hello\\nexit\\n", 3)
    nc.expect_re(r"\S[^\r\n]*\r\n")  # the greeter's answer to hello (its wording is the dialogue's)
    assert nc.wait_exit() == 0
    assert "exit" not in nc.output  # the peer ended the chat: the bot does not say exit back


@pytest.mark.parametrize("delay", ["on", "off"])
def test_three_lines_into_nc_get_three_replies_in_order(
    programs: Programs, tmp_path: Path, delay: str
) -> None:
    script = _dialogue(tmp_path, 'delay: 0.3\nfallback: "re: {input}"\n')
    bot = programs.spawn(
        "chat-bot", "--port", "0", "--script", script, *(["--no-delay"] if delay == "off" else [])
    )
    port = listening_port(bot)
    nc = half_closing_tool(programs, port, "one\\ntwo\\nthree\\n", 3)
    nc.expect("re: one\r\nre: two\r\nre: three\r\n")
    assert nc.wait_exit() == 0


LONG_DELAY = "delay: [0, 60]\nfallback: slow reply\n"


def _seed_for_a_quick_greeting_then_a_long_delay(script: str) -> str:
    """A --seed whose first drawn delay (the greeting) is short and whose second (the reply) is long."""
    dialogue = load_dialogue(script)
    for number in range(1000):
        seed = str(number)
        chat = Conversation(dialogue, seed=f"{seed}:1")  # the first chat of a run, as --seed seeds it
        greeting, reply = chat.start(0.0)[0], chat.receive("hi", 0.0)[0]
        assert isinstance(greeting, Send)
        assert isinstance(reply, Send)
        if greeting.delay < 0.2 and reply.delay > 30:
            return seed
    raise AssertionError("no such seed in the first 1000")


ENDING_SIGNALS = [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)]
LOOPS = [
    "asyncio",
    pytest.param(
        "uvloop", marks=pytest.mark.skipif(not uvloop_installed(), reason="no uvloop here (Windows, PyPy)")
    ),
]


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("server_state", ["open", "closed"])
@pytest.mark.parametrize(("sig", "status"), ENDING_SIGNALS)
def test_a_signal_during_a_reply_delay_ends_a_connecting_bot_within_two_seconds(
    programs: Programs,
    chat_raw_listener: RawListener,
    tmp_path: Path,
    sig: signal.Signals,
    status: int,
    server_state: str,
    loop: str,
) -> None:
    script = _dialogue(tmp_path, LONG_DELAY)
    seed = _seed_for_a_quick_greeting_then_a_long_delay(script)
    bot = programs.spawn(
        "chat-bot", "--connect", "--port", str(chat_raw_listener.port), "--script", script, "--seed", seed,
        "--loop", loop,
    )  # fmt: skip
    server = chat_raw_listener.accept()
    assert server.recv_line() == b"Hello!"
    server.send(b"hi\n")
    if server_state == "closed":
        server.close()
    bot.expect("Server: hi\r\n")  # the reply now waits for its long delay
    started = time.monotonic()
    bot.child.kill(sig)
    bot.expect("Client ended the chat.\r\n")
    assert bot.wait_exit() == status
    assert time.monotonic() - started < ENDS_SOON_S


# -- notices out of turn (issue 14 items 4 and 5) ------------------------------------------


def _end_after_notice(client: Terminal, notice: str) -> None:
    """chat-client shows the notice, then `exit`, and ends cleanly (a client that does not watch
    the connection at its prompt reads the `exit` on its next turn: the bot lingers for it)."""
    client.expect(f"Server: {notice}\r\n")
    if client.expect_re(r"Client: |Server ended the chat\.\r\n").group(0) == "Client: ":
        client.send("still there?")  # this chat-client reads the `exit` on its next turn
        client.expect("Server ended the chat.\r\n")
    assert client.wait_exit() == 0
    assert "connection lost" not in client.output


def test_a_chat_client_refused_as_busy_ends_cleanly_with_status_0(programs: Programs) -> None:
    bot = programs.spawn("chat-bot", "--port", "0", "--no-delay", "--max-clients", "1")
    port = listening_port(bot)
    first = programs.client(port)
    first.expect("Client: ")
    first.send("hello")
    first.expect("Server: ")
    second = programs.client(port)  # it watches the connection at its prompt: the notice shows at once
    _end_after_notice(second, "busy: this bot serves at most 1 clients at once; try again later")


def test_a_chat_client_closed_as_idle_ends_cleanly_with_status_0_and_is_logged_once(
    programs: Programs,
) -> None:
    bot = programs.spawn("chat-bot", "--port", "0", "--no-delay", "--idle-timeout", "0.5", "--verbose")
    port = listening_port(bot)
    client = programs.client(port)
    client.expect("Client: ")
    bot.expect_re(
        r"chat with 127\.0\.0\.1:\d+ ended: ended by bot "
        r"\(idle: no message for 0\.5 s, so this bot closed the chat\)\r\n"
    )
    _end_after_notice(client, "idle: no message for 0.5 s, so this bot closed the chat")
    bot.child.kill(signal.SIGTERM)
    assert bot.wait_exit() == 143
    assert bot.output.count(" ended: ") == 1  # not a second time as "peer lost"


def test_under_a_40_byte_limit_the_notices_are_shortened_not_replaced(programs: Programs) -> None:
    bot = programs.spawn(
        "chat-bot",
        "--port",
        "0",
        "--no-delay",
        "--max-clients",
        "1",
        "--idle-timeout",
        "0.5",
        "--max-message-bytes",
        "40",
    )
    port = listening_port(bot)
    with RawPeer.connect(port) as first, RawPeer.connect(port) as second:
        assert second.recv_until_closed() == b"busy: too many clients; try again later\nexit\n"
        first.send(b"x" * 41 + b"\n")
        assert first.recv_line() == b"[message over 40 bytes, not read]"
        assert first.recv_until_closed() == b"idle: no message for 0.5 s\nexit\n"


# -- the serving transcript, written as it goes (issue 14 item 6) ---------------------------


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_the_serving_transcript_reaches_the_file_within_a_second_and_survives_a_kill(
    programs: Programs, tmp_path: Path
) -> None:
    transcript = tmp_path / "chat.jsonl"
    bot = programs.spawn(
        "chat-bot", "--port", "0", "--no-delay", "--seed", "1", "--transcript", str(transcript)
    )
    port = listening_port(bot)
    with RawPeer.connect(port) as peer:
        peer.send(b"my name is Tia\n")
        peer.recv_line()
        started = time.monotonic()
        wait_until(lambda: len(_lines(transcript)) >= 2, 1.5, "both chat lines in the transcript file")
        assert time.monotonic() - started < 1.5
        lines = _lines(transcript)
        assert [json.loads(line)["text"] for line in lines] == [
            "my name is Tia",
            "Nice to meet you, Tia! Ask me for help, or say bye to leave.",
        ]
        bot.child.kill(signal.SIGKILL)  # no chance to flush: what reached the file stays
        bot.wait_exit()
    assert len(_lines(transcript)) == 2


@pytest.mark.parametrize("version", ["1", "1.2"])
def test_a_once_bots_first_expect_step_times_out_on_time_and_reports_its_own_time(
    programs: Programs, tmp_path: Path, version: str
) -> None:
    # The step's timeout was never armed: a silent client held --once for ever, and a chat of
    # 0.3 s reported the step as 1041.915 s, the time since the machine booted.
    script = tmp_path / "d.yaml"
    script.write_text(
        f"version: {version}\nname: d\nscript:\n  - expect: hello\n    timeout: 1\n", encoding="utf-8"
    )
    bot = programs.spawn(
        "chat-bot", "--port", "0", "--once", "--script", str(script), "--junit", str(tmp_path / "r.xml")
    )
    port = listening_port(bot)
    started = time.monotonic()
    client = RawPeer.connect(port)
    try:
        bot.expect_re(
            r"FAIL \S+d\.yaml:4 step 1 expect: expected \{contains: 'hello'\}, "
            r"received nothing within 1 s \(1\.0\d\d s\)"
        )
        assert bot.wait_exit() == 7
        assert time.monotonic() - started < 1 + ENDS_SOON_S
        assert client.recv_line() == b"exit"  # the classic ending, at the timeout
    finally:
        client.sock.close()
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite is not None
    cases = [float(case.get("time", "0")) for case in suite.findall("testcase")]
    assert max(cases) <= float(suite.get("time", "0")) < 1 + ENDS_SOON_S


# -- SIGHUP: the terminal window closed, in every role (issue 19, item 9) ----------------------


def close_window(term: Terminal) -> int:
    """Close *term*'s terminal window: the kernel hangs up its terminal and sends it SIGHUP.
    Return the program's exit status."""
    term.child.ptyproc.fileobj.close()
    wait_until(lambda: not term.child.ptyproc.isalive(), ENDS_SOON_S, f"{term.name} to exit")
    process = term.child.ptyproc
    return 128 + int(process.signalstatus) if process.signalstatus is not None else int(process.exitstatus)


@pytest.mark.parametrize("loop", LOOPS)
def test_sighup_ends_a_once_bot_s_chat_with_exit_and_status_129(programs: Programs, loop: str) -> None:
    bot, port = programs.bot("--once", "--no-delay", "--loop", loop)
    with RawPeer.connect(port) as client:
        client.send(b"hello\n")
        client.recv_line()  # the greeter's answer: the chat is under way
        bot.child.kill(signal.SIGHUP)

        assert client.recv_line() == b"exit"
        assert client.recv_until_closed() == b""
    assert bot.wait_exit(timeout=ENDS_SOON_S) == 129
    assert "Traceback" not in bot.output


@pytest.mark.parametrize("loop", LOOPS)
def test_closing_the_window_of_a_connecting_bot_ends_it_with_129_and_the_server_gets_exit(
    programs: Programs, chat_raw_listener: RawListener, tmp_path: Path, loop: str
) -> None:
    script = _dialogue(tmp_path, "script:\n  - say: Hello!\n  - expect: anything\n    timeout: 60\n")
    bot = programs.spawn(
        "chat-bot", "--connect", "--port", str(chat_raw_listener.port), "--script", script, "--loop", loop
    )
    server = chat_raw_listener.accept()
    assert server.recv_line() == b"Hello!"
    bot.expect("Client: Hello!\r\n")

    assert close_window(bot) == 129  # not 1 (a traceback), nor 120 (its output failing)
    assert server.recv_line() == b"exit"


@pytest.mark.parametrize("loop", LOOPS)
def test_sighup_ends_chat_bot_try_politely_with_129(programs: Programs, loop: str) -> None:
    bot = programs.spawn("chat-bot", "--try", "--no-delay", "--loop", loop)
    bot.expect("Client: ")
    bot.send("hello")
    bot.expect("Client: ")
    bot.child.kill(signal.SIGHUP)

    assert bot.wait_exit(timeout=ENDS_SOON_S) == 129
    assert bot.lines[-2:] == ["Client: ", "Client ended the chat."]  # its `exit` went to the bot
