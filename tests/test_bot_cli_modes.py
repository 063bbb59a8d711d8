"""bots.cli and bots.roles: the role options (--try, --connect, --check, serving...) and what each takes.

Any combination that cannot apply is one stderr line naming both options, and status 2;
the plain serving form (``chat-bot --script d.yaml``) is unchanged.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

import pytest

from bots import cli, loops, notices, roles
from bots.actions import Action
from chat.errors import ChatError
from chat.program import run
from chat.status import ExitStatus


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--try", "--connect", "--port", "1"], "--try and --connect cannot be used together: choose one"),
        (["--check", "F", "--connect"], "--check and --connect cannot be used together: choose one"),
        (["--check", "F", "--try"], "--check and --try cannot be used together: choose one"),
        (["--list", "--connect"], "--connect and --list cannot be used together: choose one"),
        (["--print-schema", "--list"], "--list and --print-schema cannot be used together: choose one"),
        (
            ["--list", "--port", "1"],
            "--port cannot be used with --list: it is for serving and --connect and --record",
        ),
        (
            ["--print-schema", "--script", "q"],
            "--script cannot be used with --print-schema: it is for serving and --try and --connect",
        ),
        (
            ["--try", "--transcript", "F"],
            "--transcript cannot be used with --try: it is for serving and --connect",
        ),
        (
            ["--try", "--port", "1"],
            "--port cannot be used with --try: it is for serving and --connect and --record",
        ),
        (["--try", "--junit", "r.xml"], "--junit cannot be used with --try: it is for serving and --connect"),
        (["--try", "--once"], "--once cannot be used with --try: it is for serving"),
        (
            ["--try", "--quiet"],
            "--quiet cannot be used with --try: it is for serving and --connect and --record",
        ),
        (
            ["--check", "F", "--script", "G"],
            "--script cannot be used with --check: it is for serving and --try and --connect",
        ),
        (
            ["--check", "F", "--seed", "1"],
            "--seed cannot be used with --check: it is for serving and --try and --connect",
        ),
        (
            ["--check", "F", "--junit", "r.xml"],
            "--junit cannot be used with --check: it is for serving and --connect",
        ),
        (["--connect", "--once"], "--once cannot be used with --connect: it is for serving"),
        (
            ["--connect", "--max-clients", "2"],
            "--max-clients cannot be used with --connect: it is for serving",
        ),
        (
            ["--connect", "--idle-timeout", "3"],
            "--idle-timeout cannot be used with --connect: it is for serving",
        ),
        (["--connect", "--verbose"], "--verbose cannot be used with --connect: it is for serving"),
        (["--try", "--classic"], "--classic cannot be used with --try: it is for --connect"),
        (["--classic"], "--classic goes with --connect (a serving bot detects classic clients itself)"),
        (["--junit", "r.xml"], "--junit reports one chat: use it with --connect or --once"),
        (
            ["--script", "a.yaml", "b.yaml"],
            "--script takes one file with serving; several files run as a suite with --connect",
        ),
        (
            ["--try", "--script", "a.yaml", "b.yaml"],
            "--script takes one file with --try; several files run as a suite with --connect",
        ),
        (["--record", "t.yaml"], "--record needs --to HOST:PORT: the server whose chat it records"),
        (["--record", "t.yaml", "--connect"], "--connect and --record cannot be used together: choose one"),
        (["--to", "h:1"], "--to cannot be used with serving: it is for --record"),
        (["--connect", "--volatile"], "--volatile cannot be used with --connect: it is for --record"),
        (["--record-peer", "p.yaml"], "--record-peer cannot be used with serving: it is for --record"),
        (
            ["--record", "t.yaml", "--to", "h:1", "--script", "d.yaml"],
            "--script cannot be used with --record: it is for serving and --try and --connect",
        ),
        (
            ["--try", "--coverage", "D"],
            "--coverage cannot be used with --try: it is for serving and --connect",
        ),
        (
            ["--check", "F", "--coverage", "D"],
            "--coverage cannot be used with --check: it is for serving and --connect",
        ),
        (
            ["--coverage-report", "D", "--check", "F"],
            "--check and --coverage-report cannot be used together: choose one",
        ),
        (
            ["--coverage-report", "D", "--coverage", "D"],
            "--coverage cannot be used with --coverage-report: it is for serving and --connect",
        ),
        (["--fail-under", "80"], "--fail-under cannot be used with serving: it is for --coverage-report"),
        (["--connect", "--html", "out"], "--html cannot be used with --connect: it is for --coverage-report"),
    ],
)
def test_options_that_cannot_apply_together_exit_2_with_one_line_naming_both(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("chat-bot", cli.main, argv) == ExitStatus.USAGE
    captured = capsys.readouterr()
    assert captured.err == f"chat-bot: {message}\n"
    assert captured.out == ""


def test_an_option_left_at_its_default_is_not_taken_as_given() -> None:
    assert cli.given_options(["--try"]) == {"try_it"}
    assert cli.given_options(["--script", "d.yaml", "--port", "0"]) == {"script", "port"}


@pytest.mark.parametrize(
    ("argv", "role"),
    [
        (["--script", "d.yaml"], roles.SERVING),
        (["--script", "d.yaml", "--port", "0", "--once", "--junit", "r.xml", "--quiet"], roles.SERVING),
        (["--max-clients", "2", "--idle-timeout", "1", "--verbose", "--transcript", "t"], roles.SERVING),
        (["--try", "--seed", "1", "--no-delay", "--script", "d.yaml"], "--try"),
        (["--connect", "--classic", "--port", "1", "--junit", "r.xml", "--transcript", "t"], "--connect"),
        (["--connect", "--script", "a.yaml", "b.yaml", "dir/"], "--connect"),
        (["--check", "a.yaml", "b.yaml"], "--check"),
        (["--list"], "--list"),
        (["--print-schema"], "--print-schema"),
        (
            [
                "--record",
                "t.yaml",
                "--to",
                "h:1",
                "--port",
                "0",
                "--record-peer",
                "p",
                "--volatile",
                "--quiet",
            ],
            "--record",
        ),
        (["--coverage-report", "D", "E", "--fail-under", "80", "--html", "out"], "--coverage-report"),
        (["--script", "d.yaml", "--once", "--coverage", "D"], roles.SERVING),
        (["--connect", "--script", "a.yaml", "d/", "--coverage", "D"], "--connect"),
    ],
)
def test_options_that_apply_choose_their_role(argv: list[str], role: str) -> None:
    args = cli.build_parser().parse_args(argv)
    assert roles.choose_role(args, cli.given_options(argv)) == role


# -- --once: a bug in its chat -------------------------------------------------------------------

EVENT_LOOPS = [
    loops.ASYNCIO,
    pytest.param(
        loops.UVLOOP,
        marks=pytest.mark.skipif(not loops.uvloop_installed(), reason="no uvloop here (Windows, PyPy)"),
    ),
]
WAIT_S = 10.0  # generous for a loaded machine; each step takes milliseconds


@pytest.mark.parametrize("loop", EVENT_LOOPS)
def test_once_ends_with_status_10_and_one_line_when_a_bug_ends_its_chat(
    loop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bots.engine import Conversation

    receive = Conversation.receive

    def buggy(self: Conversation, text: str, now: float) -> list[Action]:
        if text == "boom":
            raise KeyError("x")  # a bug in the turn: nothing the bot expects
        return receive(self, text, now)

    monkeypatch.setattr(Conversation, "receive", buggy)
    script = tmp_path / "echo.yaml"
    script.write_text('version: 1\nfallback: "{input}"\n', encoding="utf-8")
    ended: list[BaseException | int] = []

    def serve() -> None:
        try:
            ended.append(
                cli.main(["--once", "--quiet", "--port", "0", "--loop", loop, "--script", str(script)])
            )
        except ChatError as exc:
            ended.append(exc)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    shown = ""
    deadline = time.monotonic() + WAIT_S
    while (found := re.search(r"listening on [^:]*:(\d+)\.\.\.", shown)) is None:  # its own line, once said
        assert time.monotonic() < deadline, shown
        shown += capsys.readouterr().out
        time.sleep(0.01)
    with socket.create_connection(("127.0.0.1", int(found.group(1))), timeout=WAIT_S) as client:
        client.sendall(b"hi\nboom\n")
        received = b""
        while chunk := client.recv(4096):  # until the bot closes
            received += chunk
    server.join(WAIT_S)

    assert received.splitlines() == [b"hi", notices.INTERNAL_ERROR[0].encode(), b"exit"]
    assert len(ended) == 1
    error = ended[0]
    assert isinstance(error, ChatError)
    assert error.status is ExitStatus.CHAT_ERROR
    assert str(error) == "test failed (internal error): KeyError: 'x'"
    assert "internal error in the chat with 127.0.0.1:" in capsys.readouterr().err
