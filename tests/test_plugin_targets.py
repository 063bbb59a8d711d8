"""chat_testing.targets through pytester: each kind of target, started, used and stopped by the plugin."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Imported before any in-process run (see tests/test_plugin.py).
import chat_testing.dialogue_tests
import chat_testing.targets
from bots.server import ServerThread
from chat_testing import ECHO_DIALOGUE, RawListener

pytest_plugins = ["pytester"]

#: A pty (pexpect) and catchable signals exist on POSIX only; the Windows CI job runs tests/ too.
POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty and POSIX signals")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shout"
PYTHON = Path(sys.executable).as_posix()  # command lines split by POSIX shell rules, on Windows too
PASSING = "version: 1\ntimeout: 5\nscript:\n  - say: hello\n  - expect: {exact: HELLO!}\n"
FAILING = "version: 1\ntimeout: 5\nscript:\n  - say: hello\n  - expect: {exact: hello}\n"
# Ends politely on SIGTERM, saying so: the report shows whether the harness asked politely first.
POLITE_SERVER = """\
import runpy, signal, sys

def stop(*_):
    print("stopping on SIGTERM", flush=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
sys.argv = ["server.py", *sys.argv[1:]]
runpy.run_path("server.py", run_name="__main__")
"""
CLASSIC_CLIENT = f"terminal:{PYTHON} -m chat_testing.classic.client 127.0.0.1 {{port}}"
# The bundled greeter, as seen at a client's screen.
GREETER_CHAT = """\
version: 1
timeout: 5
script:
  - expect: "Connected to server"
  - say: my name is Ann
  - expect: "Nice to meet you, Ann"
  - say: bye
  - expect: "Server ended the chat"
"""


@pytest.fixture
def folder(pytester: pytest.Pytester) -> pytest.Pytester:
    """A folder holding the example server."""
    shutil.copy(EXAMPLE / "server.py", pytester.path / "server.py")
    return pytester


def write(folder: pytest.Pytester, name: str, text: str) -> None:
    (folder.path / name).write_text(text, encoding="utf-8")


# -- tcp: -------------------------------------------------------------------------------------------


def test_a_tcp_target_is_a_running_server(
    folder: pytest.Pytester, chat_bot: Callable[..., ServerThread]
) -> None:
    bot = chat_bot(ECHO_DIALOGUE, text=True)
    write(folder, "test_echo.chat.yaml", "version: 1\nscript:\n  - say: ping\n  - expect: {exact: ping}\n")
    folder.runpytest_subprocess("--chat-target", f"tcp:127.0.0.1:{bot.port}").assert_outcomes(passed=1)


def test_a_tcp_target_that_does_not_answer_fails_with_the_connection_error(folder: pytest.Pytester) -> None:
    write(folder, "test_echo.chat.yaml", PASSING)
    port = chat_testing.targets.free_port()
    result = folder.runpytest_subprocess("--chat-target", f"tcp:127.0.0.1:{port}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"test_echo.chat.yaml: connection refused by 127.0.0.1:{port}: is a chat server or a serving "
            "chat-bot running there? Start it first, or pass the right --host/--port"
        ]
    )


# -- command: ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc/net/tcp (Linux)")
def test_a_listening_port_is_seen_without_connecting_to_it(chat_raw_listener: RawListener) -> None:
    """A two-person server must not take the readiness probe for its one client."""
    assert chat_testing.targets.port_listening(chat_raw_listener.port)
    chat_raw_listener.sock.settimeout(0)
    with pytest.raises(BlockingIOError):
        chat_raw_listener.sock.accept()  # nobody connected
    chat_raw_listener.close()
    assert not chat_testing.targets.port_listening(chat_raw_listener.port)


def test_a_command_target_is_ready_when_its_output_matches_the_ready_pattern(folder: pytest.Pytester) -> None:
    write(folder, "test_shout.chat.yaml", PASSING)
    target = f"command:{PYTHON} server.py {{port}}"
    folder.runpytest_subprocess("--chat-target", target, "--chat-ready", r"listening on \S+").assert_outcomes(
        passed=1
    )


def test_a_command_that_never_prints_the_ready_pattern_fails_naming_it(
    folder: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_E2E_TIMEOUT_SCALE", "0.1")  # a 3 s start-up limit
    write(folder, "test_shout.chat.yaml", PASSING)
    target = f"command:{PYTHON} server.py {{port}}"
    result = folder.runpytest_subprocess("--chat-target", target, "--chat-ready", "never printed")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"test_shout.chat.yaml: the target command '{PYTHON} server.py {{port}}' printed nothing "
            "matching 'never printed' after 3 s"
        ]
    )


def test_a_command_that_exits_before_it_is_ready_fails_with_its_output(folder: pytest.Pytester) -> None:
    write(folder, "test_shout.chat.yaml", PASSING)
    write(folder, "broken.py", "import sys\nprint('no port for you', file=sys.stderr)\nsys.exit(3)\n")
    result = folder.runpytest_subprocess("--chat-target", f"command:{PYTHON} broken.py {{port}}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"test_shout.chat.yaml: the target command '{PYTHON} broken.py {{port}}' exited with status 3 "
            "before it was ready (its output is in the report)",
            "*Captured output of command:*broken.py {port} call*",
            "no port for you",
        ]
    )


def test_a_command_that_does_not_exist_fails_naming_it(folder: pytest.Pytester) -> None:
    write(folder, "test_shout.chat.yaml", PASSING)
    result = folder.runpytest_subprocess("--chat-target", "command:no-such-server {port}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["test_shout.chat.yaml: command target: 'no-such-server' not found; check the command line"]
    )


@POSIX_ONLY
def test_a_command_target_is_stopped_with_sigterm_after_the_test(folder: pytest.Pytester) -> None:
    write(folder, "test_shout.chat.yaml", FAILING)
    write(folder, "polite.py", POLITE_SERVER)
    result = folder.runpytest_subprocess("--chat-target", f"command:{PYTHON} polite.py {{port}}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["stdout:", "shout server listening on 127.0.0.1:*", "stopping on SIGTERM"])


def test_a_command_named_in_the_file_starts_in_the_file_s_folder(folder: pytest.Pytester) -> None:
    (folder.path / "chat").mkdir()
    shutil.move(str(folder.path / "server.py"), folder.path / "chat" / "server.py")
    own = PASSING.replace("version: 1\n", f"version: 1\ntarget: 'command:{PYTHON} server.py {{port}}'\n")
    write(folder, "chat/test_shout.chat.yaml", own)
    folder.runpytest_subprocess().assert_outcomes(passed=1)


# -- terminal: --------------------------------------------------------------------------------------


@POSIX_ONLY
def test_a_terminal_target_drives_the_seed_s_classic_client_against_the_greeter(
    folder: pytest.Pytester,
) -> None:
    write(folder, "test_client.chat.yaml", GREETER_CHAT)
    folder.runpytest_subprocess("--chat-target", CLASSIC_CLIENT).assert_outcomes(passed=1)


@POSIX_ONLY
def test_a_terminal_target_drives_chat_client_against_the_greeter(folder: pytest.Pytester) -> None:
    chat_client = shutil.which("chat-client", path=str(Path(PYTHON).parent))
    assert chat_client is not None
    write(folder, "test_client.chat.yaml", GREETER_CHAT)
    target = f"terminal:{chat_client} --host 127.0.0.1 --port {{port}}"
    folder.runpytest_subprocess("--chat-target", target).assert_outcomes(passed=1)


@POSIX_ONLY
def test_an_expect_step_never_matches_the_echo_of_what_was_typed(folder: pytest.Pytester) -> None:
    write(
        folder,
        "test_echo.chat.yaml",
        "version: 1\ntimeout: 2\nscript:\n  - say: purple elephant\n  - expect: purple elephant\n",
    )
    result = folder.runpytest_subprocess("--chat-target", CLASSIC_CLIENT)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_echo.chat.yaml:5: step 2 expect failed (mismatch)",
            "  expected: {contains: 'purple elephant'}",
            "  received: 2 line(s) matching nothing: 'Connected to server. Type ''exit'' to quit.', "
            "'Client: Server: Tell me more, friend.'; then nothing within 2 s",
            "*Captured screen of terminal:*classic.client 127.0.0.1 {port} call*",
        ]
    )


@POSIX_ONLY
def test_the_peer_of_a_terminal_target_serves_the_dialogue_it_names(folder: pytest.Pytester) -> None:
    write(folder, "echo.yaml", ECHO_DIALOGUE)
    write(
        folder,
        "test_echo.chat.yaml",
        "version: 1\ntimeout: 5\nscript:\n  - say: ping\n  - expect: 'Server: ping'\n",
    )
    folder.runpytest_subprocess("--chat-target", CLASSIC_CLIENT, "--chat-peer", "echo.yaml").assert_outcomes(
        passed=1
    )


@POSIX_ONLY
def test_an_invalid_peer_dialogue_fails_the_test_with_its_problems(folder: pytest.Pytester) -> None:
    write(folder, "peer.yaml", "version: 1\nmax_turns: 0\n")
    write(folder, "test_echo.chat.yaml", GREETER_CHAT)
    result = folder.runpytest_subprocess("--chat-target", CLASSIC_CLIENT, "--chat-peer", "peer.yaml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_echo.chat.yaml: the peer dialogue is invalid:",
            "*peer.yaml:2:12: max_turns must be at least 1",
        ]
    )


@POSIX_ONLY
def test_a_file_names_its_terminal_target_and_peer_relative_to_itself(folder: pytest.Pytester) -> None:
    (folder.path / "client").mkdir()
    write(folder, "client/echo.yaml", ECHO_DIALOGUE)
    client = CLASSIC_CLIENT.removeprefix("terminal:")
    own = (
        f"version: 1\ntimeout: 5\ntarget: {{terminal: '{client}', peer: echo.yaml}}\n"
        "script:\n  - say: ping\n  - expect: 'Server: ping'\n"
    )
    write(folder, "client/test_echo.chat.yaml", own)
    folder.runpytest_subprocess().assert_outcomes(passed=1)


# -- image: -----------------------------------------------------------------------------------------

BASE_IMAGE = "chat-base:local"  # made by .ci/docker-setup.sh: a Python image, no registry needed
IMAGE = "chat-testing-shout:test"


def _docker_problem() -> str | None:
    if shutil.which("docker") is None:
        return "no `docker` command on PATH"
    done = subprocess.run(
        ["docker", "image", "inspect", BASE_IMAGE], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        return f"no Docker engine answers, or no {BASE_IMAGE} image ({done.stderr.strip()[:200]})"
    return None


@pytest.fixture(scope="module")
def shout_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example server in a small image built from the local base (no network needed)."""
    problem = _docker_problem()
    if problem is not None:
        pytest.skip(f"image targets need Docker: {problem}")
    context = tmp_path_factory.mktemp("image")
    shutil.copy(EXAMPLE / "server.py", context / "server.py")
    (context / "Dockerfile").write_text(
        f"FROM {BASE_IMAGE}\nCOPY server.py /srv/server.py\nEXPOSE 7000\n"
        'CMD ["python3", "/srv/server.py", "7000", "0.0.0.0"]\n',
        encoding="utf-8",
    )
    subprocess.run(
        ["docker", "build", "-q", "-t", IMAGE, str(context)], check=True, capture_output=True, timeout=300
    )
    yield IMAGE
    subprocess.run(["docker", "rmi", "-f", IMAGE], capture_output=True, timeout=60, check=False)


@pytest.mark.docker
def test_an_image_target_runs_the_server_in_a_container_removed_after(
    folder: pytest.Pytester, shout_image: str
) -> None:
    write(folder, "test_shout.chat.yaml", FAILING)
    result = folder.runpytest_subprocess(
        "--chat-target", f"image:{shout_image}", "--chat-reaper-image", BASE_IMAGE
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*Captured log of image:chat-testing-shout:test call*", "shout server listening on 0.0.0.0:7000"]
    )
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={chat_testing.targets.CONTAINER_LABEL}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert left.stdout == ""
