"""Dialogue tests of real line-protocol programs nobody here wrote: the worked examples, passing and failing.

ngIRCd (an IRC server: two lines before the server says a word, a welcome of many lines, a
close after QUIT), aiosmtpd (an SMTP server that speaks first and answers EHLO with several
lines), ncat's --chat broker (two dialogues talking through it, and a room that must never
see `exit`), telnet at its terminal (its peer's own expect steps count), and an echo that
upper-cases (a test with a fallback ends when its script is done).

The examples run as a user runs them, `pytest examples/NAME`, in a pytest of their own.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chat_testing import Daemon, Programs, free_port, wait_until
from chat_testing.env import child_env
from chat_testing.plugin import require_tool

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: A whole example run: a pytest start, a server start, a few seconds of chat.
RUN_TIMEOUT_S = 60.0

pytestmark = pytest.mark.timeout(120)


def run_example(folder: Path) -> subprocess.CompletedProcess[str]:
    """`pytest` in *folder*, as a user runs a worked example; its output kept for the report."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-W", "ignore"],
        cwd=folder,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def copy_example(name: str, tmp_path: Path, edit: tuple[str, str, str] | None = None) -> Path:
    """The example *name* copied into *tmp_path*; *edit* (file, old, new) makes it fail."""
    folder = tmp_path / name
    shutil.copytree(EXAMPLES / name, folder)
    if edit is not None:
        path = folder / edit[0]
        text = path.read_text(encoding="utf-8")
        assert edit[1] in text, f"{edit[1]!r} is not in {path}"
        path.write_text(text.replace(edit[1], edit[2]), encoding="utf-8")
    return folder


def passes(name: str, tmp_path: Path) -> None:
    """The worked example *name* passes, run as a user runs it."""
    done = run_example(copy_example(name, tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert_lines(done.stdout, "1 passed")


def fails(name: str, tmp_path: Path, edit: tuple[str, str, str]) -> str:
    """The worked example *name*, made wrong by *edit*, fails; its pytest output, for the report's lines."""
    done = run_example(copy_example(name, tmp_path, edit))
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout


def assert_lines(output: str, *wanted: str) -> None:
    for line in wanted:
        assert line in output, f"{line!r} not in:\n{output}"


def test_an_irc_registration_of_two_lines_and_a_welcome_of_many_passes_against_ngircd(tmp_path: Path) -> None:
    # Two says in a row (NICK, USER), two expects in a row (001, 002), a block up to the end of
    # the MOTD, and QUIT answered by ERROR and the server's close: the end the dialogue waits for.
    require_tool("ngircd")
    started = time.monotonic()
    passes("irc", tmp_path)
    assert time.monotonic() - started < 20  # the registration used to hang until the server gave up (90 s)


def test_an_irc_dialogue_that_expects_the_wrong_nick_fails_with_a_report_to_paste_from(
    tmp_path: Path,
) -> None:
    require_tool("ngircd")
    output = fails("irc", tmp_path, ("test_register.chat.yaml", " 001 ann :Welcome", " 001 bob :Welcome"))
    assert_lines(
        output,
        "test_register.chat.yaml:13: step 3 expect failed (mismatch)",
        "  expected: {regex: '^:(?P<server>\\S+) 001 bob :Welcome'}",
        "  received: ':irc.test 001 ann :Welcome to the Internet Relay Network ann!~ann@127.0.0.1'",
        "PASS test_register.chat.yaml:11 step 1 say: sent 'NICK ann'",
        "PASS test_register.chat.yaml:12 step 2 say: sent 'USER ann 0 * :Ann Example'",
        "NOT RUN test_register.chat.yaml:14 step 4 expect",
    )
    assert "'exit'" not in output  # the ending is `wait`: nothing but the script went to the server


def test_an_smtp_server_that_speaks_first_is_tested_through_a_whole_session(tmp_path: Path) -> None:
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is not installed: pip install aiosmtpd")
    passes("smtp", tmp_path)


def test_an_smtp_dialogue_that_expects_one_line_where_a_block_comes_fails_on_the_first(
    tmp_path: Path,
) -> None:
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is not installed: pip install aiosmtpd")
    edit = ("test_session.chat.yaml", "expect_until: {regex: '^250 '}", "expect: {regex: '^250 '}")
    assert_lines(
        fails("smtp", tmp_path, edit),
        "test_session.chat.yaml:12: step 3 expect failed (mismatch)",
        "  expected: {regex: '^250 '}",
        "  received: '250-",  # the server's name follows: localhost, or a container's
    )


def test_two_dialogues_talk_through_ncats_broker_and_the_room_never_sees_exit(
    programs: Programs, tmp_path: Path
) -> None:
    require_tool("ncat")
    port = free_port()
    broker = Daemon([require_tool("ncat"), "-l", "127.0.0.1", str(port), "--chat"], tmp_path, "ncat")
    try:
        wait_until(lambda: _listening(port), 10, "ncat's port")
        watcher = programs.spawn_command("watcher", require_tool("nc"), "127.0.0.1", str(port))
        watcher.expect("already connected: nobody")
        folder = EXAMPLES / "broker"
        alice = programs.spawn(
            "chat-bot", "--connect", "--port", str(port), "--script", str(folder / "alice.chat.yaml")
        )
        alice.expect("PASS ")  # she is in the room: bob may come
        bob = programs.spawn(
            "chat-bot", "--connect", "--port", str(port), "--script", str(folder / "bob.chat.yaml")
        )
        bob.expect("test passed (bob): 2 passed, 0 failed, 0 not run")
        alice.expect("test passed (alice): 4 passed, 0 failed, 0 not run")
        assert (alice.wait_exit(), bob.wait_exit()) == (0, 0)
        watcher.expect("is disconnected.")
        watcher.expect("is disconnected.")
        seen = watcher.output
        assert "> hi bob" in seen
        assert "> hi alice" in seen
        assert "> exit" not in seen.lower()
        assert "> hello!" not in seen.lower()  # no greeting either: the scripts say what is said
    finally:
        broker.stop()


def test_a_dialogue_waiting_for_a_line_the_room_never_says_fails_with_what_came_instead(
    programs: Programs, tmp_path: Path
) -> None:
    require_tool("ncat")
    port = free_port()
    broker = Daemon([require_tool("ncat"), "-l", "127.0.0.1", str(port), "--chat"], tmp_path, "ncat")
    try:
        wait_until(lambda: _listening(port), 10, "ncat's port")
        bob = (
            copy_example("broker", tmp_path, ("bob.chat.yaml", "timeout: 10", "timeout: 1")) / "bob.chat.yaml"
        )
        tester = programs.spawn("chat-bot", "--connect", "--port", str(port), "--script", str(bob))
        tester.expect(
            f"FAIL {bob}:9 step 1 expect: expected {{regex: '^<user\\d+> hi bob$'}}, "
            "received 2 line(s) matching nothing: '<announce> 127.0.0.1 is connected as <user"
        )
        tester.expect("test failed: mismatch (bob)")
        assert tester.wait_exit() == 6
    finally:
        broker.stop()


def _listening(port: int) -> bool:
    from chat_testing.listening import port_listening

    return port_listening(port)


def test_a_client_at_its_terminal_is_tested_with_its_peer_through_a_whole_chat(tmp_path: Path) -> None:
    require_tool("telnet")
    passes("telnet", tmp_path)


def test_at_a_terminal_a_failed_expect_step_of_the_peer_fails_the_test(tmp_path: Path) -> None:
    # The client's own steps all pass; the desk expected `bye` and was told `see you`.
    require_tool("telnet")
    edit = ("test_telnet.chat.yaml", "  - say: bye\n  - expect: {contains: Goodbye.}\n", "  - say: see you\n")
    assert_lines(
        fails("telnet", tmp_path, edit),
        "desk.yaml:11: the peer dialogue's step 4 expect failed (mismatch)",
        "  expected: {exact: 'bye'}",
        "  received: 'see you'",
        "peer dialogue:",
    )


def test_a_test_with_a_fallback_ends_when_its_script_is_done_against_an_echo(
    programs: Programs, tmp_path: Path
) -> None:
    # Format 1.1 went on answering after its script: the fallback and the echo answered each
    # other at full CPU, for ever. Now the test ends, passed, when its last step has run.
    socat = require_tool("socat")
    port = free_port()
    upper = tmp_path / "upper.sed"
    upper.write_text("s/.*/\\U&/\n", encoding="utf-8")  # GNU sed: each line in capitals
    echo = Daemon(
        [socat, f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", f"EXEC:sed -u -f {upper}"],
        tmp_path,
        "echo",
    )
    try:
        wait_until(lambda: _listening(port), 10, "the echo's port")
        script = tmp_path / "shout.yaml"
        script.write_text(
            "version: 1.2\nend: close\nscript:\n  - say: hello\n  - expect: {exact: HELLO}\nfallback: ok\n",
            encoding="utf-8",
        )
        started = time.monotonic()
        tester = programs.spawn("chat-bot", "--connect", "--port", str(port), "--script", str(script))
        tester.expect("test passed (shout): 2 passed, 0 failed, 0 not run")
        assert tester.wait_exit() == 0
        assert time.monotonic() - started < 10
    finally:
        echo.stop()
