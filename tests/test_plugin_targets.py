"""chat_testing.targets through pytester: each kind of target, started, used and stopped by the plugin."""

from __future__ import annotations

import os
import re
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
from chat_testing import ECHO_DIALOGUE

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
# The example server on a port of its own choosing, saying which: a command line without {port}.
OWN_PORT_SERVER = """\
import runpy, socket

shout = runpy.run_path("server.py")
with socket.create_server(("127.0.0.1", 0)) as listener:
    print(f"shout server listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
    while True:
        shout["serve_client"](listener.accept()[0])
"""
# The example server saying its process id, so a test can tell whether it outlived its wrapper.
PID_SERVER = """\
import os, runpy, sys

print(f"server pid {os.getpid()}", flush=True)
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


NO_PORT_HINT = (
    "put {port} where it takes its port, or give a ready pattern (--chat-ready, ini chat_ready, or ready: "
    "in the file's target) whose group (?P<port>...) reads the port from its output"
)


def test_a_command_target_without_port_is_a_usage_error_at_once_with_a_hint(folder: pytest.Pytester) -> None:
    write(folder, "test_shout.chat.yaml", PASSING)
    result = folder.runpytest_subprocess("--chat-target", f"command:{PYTHON} server.py 7000")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: --chat-target: the target command '{PYTHON} server.py 7000' has no {{port}}, so the "
            f"harness cannot know where it listens: {NO_PORT_HINT}"
        ],
        consecutive=True,
    )


def test_a_file_s_command_target_without_port_fails_at_once_with_a_hint(
    folder: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_E2E_TIMEOUT_SCALE", "0.1")  # before the refusal: a 3 s wait for nothing
    write(
        folder,
        "test_shout.chat.yaml",
        PASSING.replace("version: 1\n", "version: 1\ntarget: 'command:s 70'\n"),
    )
    result = folder.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_shout.chat.yaml: the target command 's 70' has no {port}, so the harness cannot know "
            f"where it listens: {NO_PORT_HINT}"
        ]
    )


def test_a_ready_pattern_without_a_port_group_does_not_make_up_for_a_missing_port(
    folder: pytest.Pytester,
) -> None:
    write(folder, "test_shout.chat.yaml", PASSING)
    result = folder.runpytest_subprocess(
        "--chat-target", f"command:{PYTHON} server.py 7000", "--chat-ready", "listening on"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: --chat-target: the target command '{PYTHON} server.py 7000' has no {{port}} and its "
            "ready pattern 'listening on' has no group (?P<port>...), so the harness cannot know where it "
            f"listens: {NO_PORT_HINT}"
        ]
    )


def test_a_command_without_port_is_found_at_the_port_its_ready_pattern_reads(folder: pytest.Pytester) -> None:
    write(folder, "test_shout.chat.yaml", PASSING)
    write(folder, "own_port.py", OWN_PORT_SERVER)
    result = folder.runpytest_subprocess(
        "--chat-target", f"command:{PYTHON} own_port.py", "--chat-ready", r"listening on \S+:(?P<port>\d+)"
    )
    result.assert_outcomes(passed=1)


def test_a_ready_pattern_that_does_not_compile_is_a_usage_error(folder: pytest.Pytester) -> None:
    write(folder, "test_shout.chat.yaml", PASSING)
    result = folder.runpytest_subprocess(
        "--chat-target", f"command:{PYTHON} server.py {{port}}", "--chat-ready", "listening (on"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --chat-ready: 'listening (on' does not compile: "
            "missing ), unterminated subpattern at position 10"
        ]
    )


def _running(pid: int) -> bool:
    """Whether process *pid* still runs (a zombie, dead but not yet reaped by its new parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] not in ("Z", "X")


def _wrapped_server_outlived_its_test(result: pytest.RunResult) -> bool:
    """Whether the server a failed run reported is still running or listening; it is killed if so."""
    output = result.stdout.str()
    pid = int(re.findall(r"^server pid (\d+)$", output, re.MULTILINE)[-1])
    port = int(re.findall(r"^shout server listening on 127\.0\.0\.1:(\d+)$", output, re.MULTILINE)[-1])
    outlived = _running(pid) or chat_testing.targets.port_listening(port)
    if _running(pid):
        os.kill(pid, 9)  # the failure left it behind: the next run must not meet it
    return outlived


@POSIX_ONLY
def test_a_server_wrapped_in_a_shell_is_stopped_with_its_shell(folder: pytest.Pytester) -> None:
    write(folder, "test_shout.chat.yaml", FAILING)
    write(folder, "pid_server.py", PID_SERVER)
    # `; echo`: the shell stays the server's parent instead of exec'ing it.
    target = f"command:sh -c '{PYTHON} pid_server.py {{port}}; echo the shell goes on'"
    result = folder.runpytest_subprocess("--chat-target", target)
    result.assert_outcomes(failed=1)
    assert not _wrapped_server_outlived_its_test(result)


@POSIX_ONLY
def test_a_wrapped_server_that_ignores_sigterm_is_killed_with_its_group_after_the_grace(
    folder: pytest.Pytester,
) -> None:
    write(folder, "test_shout.chat.yaml", FAILING)
    write(folder, "pid_server.py", PID_SERVER)
    # An ignored signal stays ignored across exec: the shell and the server both ignore SIGTERM.
    target = f"command:sh -c 'trap \"\" TERM; {PYTHON} pid_server.py {{port}}; echo the shell goes on'"
    result = folder.runpytest_subprocess("--chat-target", target)
    result.assert_outcomes(failed=1)
    assert not _wrapped_server_outlived_its_test(result)


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
