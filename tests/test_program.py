"""Options, environment defaults and the one place where errors become exit statuses."""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence

import pytest

from chat import __version__, program
from chat.classic import client, server
from chat.display import say
from chat.errors import ConnectError, HungUp, PeerLost, Terminated, UsageError
from chat.program import DEFAULT_HOST, DEFAULT_PORT
from chat.protocol import MAX_MESSAGE_BYTES
from chat.status import ExitStatus

Main = Callable[[Sequence[str] | None], int]
CLIENT_OPTIONS = ["--host", "--port", "--classic", "--max-message-bytes", "--version", "--help"]


@pytest.fixture(autouse=True)
def _no_chat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's own CHAT_HOST/CHAT_PORT must not change what these tests see.
    monkeypatch.delenv("CHAT_HOST", raising=False)
    monkeypatch.delenv("CHAT_PORT", raising=False)
    monkeypatch.delenv("CHAT_DEBUG", raising=False)


#: The signals whose handlers program.run installs (Windows has no SIGHUP).
INSTALLED = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]


@pytest.fixture
def sigterm_restored() -> Iterator[None]:
    """program.run installs SIGTERM and SIGHUP handlers; give pytest its own back."""
    previous = {sig: signal.getsignal(sig) for sig in INSTALLED}
    yield
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def parser_for(*, listening: bool) -> argparse.ArgumentParser:
    parser = program.new_parser("chat-test", "a test program")
    program.add_address_options(parser, listening=listening)
    program.add_common_options(parser)
    return parser


# -- port_number and positive_bytes --------------------------------------------------


@pytest.mark.parametrize(("text", "port"), [("0", 0), ("1", 1), ("65432", 65432), ("65535", 65535)])
def test_port_number_accepts_0_to_65535(text: str, port: int) -> None:
    assert program.port_number(text) == port


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http", "'http' is not a port number (0-65535)"),
        ("", "'' is not a port number (0-65535)"),
        ("1.5", "'1.5' is not a port number (0-65535)"),
        ("65536", "65536 is out of range (0-65535)"),
        ("-1", "-1 is out of range (0-65535)"),
    ],
)
def test_port_number_refuses_anything_else_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=f"^{re.escape(message)}$"):
        program.port_number(text)


def test_positive_bytes_accepts_one_and_more() -> None:
    assert program.positive_bytes("1") == 1
    assert program.positive_bytes("1048576") == MAX_MESSAGE_BYTES


@pytest.mark.parametrize(
    ("text", "message"),
    [("0", "must be at least 1 byte"), ("-3", "must be at least 1 byte"), ("1MiB", "'1MiB' is not a whole")],
)
def test_positive_bytes_refuses_nonsense(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=f"^{message}"):
        program.positive_bytes(text)


# -- defaults and the environment ----------------------------------------------------------


def test_the_classic_defaults_are_127_0_0_1_and_65432() -> None:
    args = parser_for(listening=True).parse_args([])

    assert (DEFAULT_HOST, DEFAULT_PORT) == ("127.0.0.1", 65432)
    assert args.host == "127.0.0.1"
    assert program.resolve_port(args) == 65432
    assert args.max_message_bytes == MAX_MESSAGE_BYTES


def test_chat_host_and_chat_port_set_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_HOST", "::1")
    monkeypatch.setenv("CHAT_PORT", "4000")

    args = parser_for(listening=False).parse_args([])

    assert args.host == "::1"
    assert program.resolve_port(args) == 4000


def test_options_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_HOST", "::1")
    monkeypatch.setenv("CHAT_PORT", "4000")

    args = parser_for(listening=True).parse_args(["--host", "127.0.0.2", "--port", "0"])

    assert args.host == "127.0.0.2"
    assert program.resolve_port(args) == 0


def test_an_empty_environment_variable_means_the_classic_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_HOST", "")
    monkeypatch.setenv("CHAT_PORT", "")

    args = parser_for(listening=True).parse_args([])

    assert args.host == "127.0.0.1"
    assert program.resolve_port(args) == 65432


def test_an_invalid_chat_port_says_what_is_wrong_and_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_PORT", "99999")

    with pytest.raises(UsageError) as caught:
        program.env_port()

    assert str(caught.value) == (
        "environment variable CHAT_PORT='99999' is invalid: 99999 is out of range (0-65535); fix or unset it"
    )
    assert caught.value.status is ExitStatus.USAGE


def test_an_invalid_chat_port_does_not_matter_when_port_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_PORT", "http")

    args = parser_for(listening=True).parse_args(["--port", "5000"])

    assert program.resolve_port(args) == 5000


def test_a_bad_port_option_is_an_argparse_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parser_for(listening=True).parse_args(["--port", "x"])

    assert caught.value.code == ExitStatus.USAGE
    assert "argument --port: 'x' is not a port number (0-65535)" in capsys.readouterr().err


# -- the programs' parsers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("main", "prog", "options"),
    [
        (server.main, "chat-server", ["--host", "--port", "--max-message-bytes", "--version", "--help"]),
        (client.main, "chat-client", [*CLIENT_OPTIONS]),
    ],
)
def test_help_lists_every_option_and_the_environment(
    capsys: pytest.CaptureFixture[str], main: Main, prog: str, options: list[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])

    out = capsys.readouterr().out
    assert caught.value.code == 0
    assert out.startswith(f"usage: {prog} ")
    for option in options:
        assert option in out
    assert "CHAT_HOST" in out
    assert "CHAT_PORT" in out


@pytest.mark.parametrize(("main", "prog"), [(server.main, "chat-server"), (client.main, "chat-client")])
def test_version_shows_the_package_version(capsys: pytest.CaptureFixture[str], main: Main, prog: str) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])

    assert capsys.readouterr().out == f"{prog} {__version__}\n"


# -- run(): errors become one line and a status -------------------------------------------------


def failing_with(exc: BaseException) -> Main:
    """A program main that fails with *exc*."""

    def main(argv: Sequence[str] | None) -> int:
        raise exc

    return main


@pytest.mark.usefixtures("sigterm_restored")
@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (ConnectError("connection refused by 127.0.0.1:1: start it"), ExitStatus.CONNECTION_ERROR),
        (PeerLost("connection lost: the client closed"), ExitStatus.PEER_LOST),
        (UsageError("CHAT_PORT is bad"), ExitStatus.USAGE),
    ],
)
def test_run_turns_an_expected_error_into_one_stderr_line_and_its_status(
    capsys: pytest.CaptureFixture[str], exc: Exception, status: ExitStatus
) -> None:
    assert program.run("chat-test", failing_with(exc)) == status

    captured = capsys.readouterr()
    assert captured.err == f"chat-test: {exc}\n"
    assert captured.out == ""


@pytest.mark.usefixtures("sigterm_restored")
def test_run_returns_the_status_of_main() -> None:
    assert program.run("chat-test", lambda argv: 0) == 0


@pytest.mark.usefixtures("sigterm_restored")
def test_run_ends_quietly_on_sigterm(capsys: pytest.CaptureFixture[str]) -> None:
    assert program.run("chat-test", failing_with(Terminated("terminated by SIGTERM"))) == 143

    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("sigterm_restored")
def test_run_installs_a_sigterm_handler_that_raises_terminated() -> None:
    def main(argv: Sequence[str] | None) -> int:
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)
        with pytest.raises(Terminated, match=r"^terminated by SIGTERM$"):
            handler(signal.SIGTERM, None)
        return 0

    assert program.run("chat-test", main) == 0


needs_sighup = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here (Windows)")


@needs_sighup
@pytest.mark.usefixtures("sigterm_restored")
def test_run_installs_a_sighup_handler_that_raises_hung_up() -> None:
    def main(argv: Sequence[str] | None) -> int:
        handler = signal.getsignal(signal.SIGHUP)
        assert callable(handler)
        with pytest.raises(HungUp, match=r"^hung up by SIGHUP$"):
            handler(signal.SIGHUP, None)
        return 0

    assert program.run("chat-test", main) == 0


@needs_sighup
@pytest.mark.usefixtures("sigterm_restored")
def test_run_ends_quietly_on_sighup_with_status_129(capsys: pytest.CaptureFixture[str]) -> None:
    assert program.run("chat-test", failing_with(HungUp("hung up by SIGHUP"))) == 129

    assert capsys.readouterr().err == ""


@pytest.mark.skipif(sys.platform == "win32", reason="a pipe without a reader: POSIX")
@pytest.mark.usefixtures("sigterm_restored")
def test_output_a_closed_terminal_cannot_take_is_dropped_and_the_status_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read it, as nobody sees a closed terminal window
    gone = io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", gone)
    monkeypatch.setattr(sys, "stderr", gone)

    def main(argv: Sequence[str] | None) -> int:
        say("Client ended the chat.")  # fails underneath: dropped
        sys.stdout.write("and a line left in the buffer")
        raise HungUp("hung up by SIGHUP")

    try:
        assert program.run("chat-test", main) == ExitStatus.HANGUP
        gone.flush()  # as Python does at exit: it no longer fails (that made the status 120)
        assert os.path.samestat(os.fstat(write_end), os.stat(os.devnull))
    finally:
        monkeypatch.undo()
        gone.close()


@pytest.mark.usefixtures("sigterm_restored")
def test_run_ends_a_ctrl_c_with_status_130_and_no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert program.run("chat-test", failing_with(KeyboardInterrupt())) == 130

    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.usefixtures("sigterm_restored")
def test_run_reports_a_bug_in_one_line_with_how_to_get_the_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = program.run("chat-test", failing_with(ZeroDivisionError("division by zero")))

    assert status == ExitStatus.ERROR
    assert capsys.readouterr().err == (
        "chat-test: internal error: ZeroDivisionError: division by zero "
        "(set CHAT_DEBUG=1 for a traceback, and please report it)\n"
    )


@pytest.mark.usefixtures("sigterm_restored")
def test_chat_debug_lets_the_traceback_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_DEBUG", "1")

    with pytest.raises(ZeroDivisionError):
        program.run("chat-test", failing_with(ZeroDivisionError("division by zero")))


@pytest.mark.usefixtures("sigterm_restored")
def test_an_invalid_chat_port_ends_a_program_with_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHAT_PORT", "http")

    assert program.run(server.PROG, server.main, []) == ExitStatus.USAGE
    assert capsys.readouterr().err == (
        "chat-server: environment variable CHAT_PORT='http' is invalid: "
        "'http' is not a port number (0-65535); fix or unset it\n"
    )


@pytest.mark.parametrize(
    ("module", "prog"), [("chat.classic.server", "chat-server"), ("chat.classic.client", "chat-client")]
)
def test_python_dash_m_runs_the_programs(module: str, prog: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=30, check=False
    )

    assert (done.returncode, done.stdout, done.stderr) == (0, f"{prog} {__version__}\n", "")
