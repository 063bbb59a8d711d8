"""The harness image (Dockerfile target ``harness``): pytest, the plugin and the line tools, no Python needed.

A user mounts a folder of tests at /tests and runs pytest in the image against a server it can reach;
the project's own e2e tests run in it too, so the same harness and tools test it on every machine: the
whole suite with CHAT_HARNESS_IMAGE_SUITE=full (the docker workflow), else the files that chat with the
image's own line tools and example servers (.ci/run, on 2 cores beside three other runs of the suite).
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from chat import __version__
from chat_testing import Programs
from chat_testing.docker import Containers, DockerSession

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
CHAT_PORT = 65432  # the image's port (EXPOSE)
BOT_READY = f"Bot listening on 0.0.0.0:{CHAT_PORT}..."
#: The project's e2e suite in the image: about 190 tests, some 60 s on two cores; room for a busy machine.
SUITE_TIMEOUT_S = 240
#: Set to "full", the whole e2e suite runs in the image (the docker workflow, on a runner of its own).
#: Otherwise (.ci/run, where the suite already runs on the host and in the README's container beside
#: this) only IMAGE_TESTS: what the image adds is its line tools and the worked examples' servers (nc,
#: socat and telnet in the classic interop, ncat and ngircd in the line protocols, openssl, socat and
#: ncat in the TLS tests named here), and a fourth whole run of the suite on the same two cores starved
#: the timing-bound tests (a 2 s stop took 2.9 s).
IMAGE_SUITE_ENV = "CHAT_HARNESS_IMAGE_SUITE"
IMAGE_TESTS = (
    "e2e/test_line_protocols.py",
    "e2e/test_classic_interop.py",
    "e2e/test_tls_interop.py::test_a_tls_line_tool_chats_with_chat_server",
    "e2e/test_tls_interop.py::test_a_tls_line_tool_chats_with_a_tls_chat_bot",
    "e2e/test_tls_interop.py::test_chat_client_chats_with_a_tls_line_tool_server",
    "e2e/test_tls_interop.py::test_chat_bot_connect_tests_a_tls_line_tool_server",
)
LINE_TOOLS = ("nc", "socat", "telnet", "openssl", "ncat")

#: How a container reaches the host's addresses (Docker 20.10 and later, on every platform).
HOST_GATEWAY = ("--add-host=host.docker.internal:host-gateway",)
# A user's own test, as a user would write it: the plugin's terminal fixture drives chat-client
# against the server at CHAT_SERVER:CHAT_PORT (on the host, or a container on the same network).
USER_TEST = """
import os


def test_the_greeter_learns_my_name(chat_programs):
    server = os.environ["CHAT_SERVER"], os.environ["CHAT_PORT"]
    client = chat_programs.spawn("chat-client", "--host", server[0], "--port", server[1])
    client.expect("Client: ")
    client.send("my name is Ann")
    client.expect("Server: Nice to meet you, Ann!")
    client.expect("Client: ")
    client.send("exit")
    assert client.wait_exit() == 0
"""


def e2e_command() -> list[str]:
    """The command of `tox -e e2e`, from tox.ini (one place for the suite's marker expression): the
    whole suite when CHAT_HARNESS_IMAGE_SUITE is "full", else IMAGE_TESTS."""
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini", encoding="utf-8")
    command = [arg for arg in shlex.split(tox["testenv:e2e"]["commands"]) if arg != "{posargs}"]
    if os.environ.get(IMAGE_SUITE_ENV) == "full":
        return command
    at = command.index("e2e")
    return [*command[:at], *IMAGE_TESTS, *command[at + 1 :]]


def test_the_harness_image_runs_pytest_with_the_chat_plugin(
    docker_cli: Callable[..., str], harness_image: str
) -> None:
    version = docker_cli("run", "--rm", harness_image, "pytest", "--version").strip()
    # An empty folder: nothing collected (status 5), but the plugins registered are listed.
    plugins = docker_cli("run", "--rm", harness_image, "pytest", "--trace-config", "/tmp", check=False)

    assert re.fullmatch(r"pytest \d+\.\d+\.\d+", version), version
    assert "chat_testing/plugin.py" in plugins
    assert docker_cli("run", "--rm", harness_image, "chat-bot", "--version").startswith(
        f"chat-bot {__version__}, event loop "
    )


def test_the_harness_image_has_the_line_tools(docker_cli: Callable[..., str], harness_image: str) -> None:
    script = "for tool in " + " ".join(LINE_TOOLS) + '; do command -v "$tool" || echo "missing $tool"; done'

    found = docker_cli("run", "--rm", harness_image, "sh", "-c", script).split()

    assert found == [f"/usr/bin/{tool}" for tool in LINE_TOOLS]


def run_user_tests(
    folder: Path, session: DockerSession, harness_image: str, server: str, port: int, *options: str
) -> str:
    """``docker run`` the harness on a folder of user tests against server:port; return pytest's output."""
    (folder / "test_greeter.py").write_text(USER_TEST, encoding="utf-8")
    folder.chmod(0o755)  # the image runs as an unprivileged user
    done = subprocess.run(
        [
            *("docker", "run", "--rm", *session.label_options(), *options, f"--volume={folder}:/tests:ro"),
            *(
                "--env",
                f"CHAT_SERVER={server}",
                "--env",
                f"CHAT_PORT={port}",
                harness_image,
                "pytest",
                "/tests",
            ),
        ],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_folder_of_user_tests_runs_in_the_harness_image_against_a_server_on_the_host(
    tmp_path: Path, programs: Programs, docker_session: DockerSession, harness_image: str
) -> None:
    _, port = programs.bot("--host", "0.0.0.0")  # the bundled greeter, reachable from containers

    out = run_user_tests(tmp_path, docker_session, harness_image, "host.docker.internal", port, *HOST_GATEWAY)

    assert "1 passed" in out


def test_a_folder_of_user_tests_runs_in_the_harness_image_against_a_server_in_a_container(
    tmp_path: Path, containers: Containers, harness_image: str, chat_network: str
) -> None:
    bot = containers.run("bot", ready=BOT_READY)  # the image's default: the bundled greeter

    out = run_user_tests(
        tmp_path, containers.session, harness_image, bot.name, CHAT_PORT, f"--network={chat_network}"
    )

    assert "1 passed" in out


@pytest.mark.timeout(SUITE_TIMEOUT_S + 30)
def test_the_projects_own_e2e_tests_pass_inside_the_harness_image(harness_image: str) -> None:
    done = subprocess.run(
        [
            *("docker", "run", "--rm", f"--volume={REPO}:/tests:ro", "--env", "CHAT_REQUIRE_LINE_TOOLS=1"),
            *(harness_image, *e2e_command()),
        ],
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT_S,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
    assert re.search(r"\d+ passed", done.stdout)
    assert "failed" not in done.stdout.splitlines()[-1]
