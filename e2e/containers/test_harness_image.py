"""The harness image (Dockerfile target ``harness``): pytest, the plugin and the line tools, no Python needed.

A user mounts a folder of tests at /tests and runs pytest in the image against a server it can reach;
the project's own e2e suite runs in it too, so the same harness and tools test it on every machine.
"""

from __future__ import annotations

import configparser
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from chat import __version__
from chat_testing.docker import Containers

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
BOT_READY = "Bot listening on 0.0.0.0:65432..."
#: The project's e2e suite in the image: about 70 tests, some 15 s on two cores; room for a busy machine.
SUITE_TIMEOUT_S = 240
LINE_TOOLS = ("nc", "socat", "telnet", "openssl", "ncat")

# A user's own test, as a user would write it: the plugin's terminal fixture drives chat-client
# against the server named by CHAT_SERVER (a container on the same network).
USER_TEST = """
import os


def test_the_greeter_learns_my_name(chat_programs):
    client = chat_programs.spawn("chat-client", "--host", os.environ["CHAT_SERVER"])
    client.expect("Client: ")
    client.send("my name is Ann")
    client.expect("Server: Nice to meet you, Ann!")
    client.expect("Client: ")
    client.send("exit")
    assert client.wait_exit() == 0
"""


def e2e_command() -> list[str]:
    """The command of `tox -e e2e`, from tox.ini (one place for the suite's marker expression)."""
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini", encoding="utf-8")
    return [arg for arg in shlex.split(tox["testenv:e2e"]["commands"]) if arg != "{posargs}"]


def test_the_harness_image_runs_pytest_with_the_chat_plugin(
    docker_cli: Callable[..., str], harness_image: str
) -> None:
    version = docker_cli("run", "--rm", harness_image, "pytest", "--version").strip()
    # An empty folder: nothing collected (status 5), but the plugins registered are listed.
    plugins = docker_cli("run", "--rm", harness_image, "pytest", "--trace-config", "/tmp", check=False)

    assert re.fullmatch(r"pytest \d+\.\d+\.\d+", version), version
    assert "chat_testing/plugin.py" in plugins
    assert (
        docker_cli("run", "--rm", harness_image, "chat-bot", "--version").strip() == f"chat-bot {__version__}"
    )


def test_the_harness_image_has_the_line_tools(docker_cli: Callable[..., str], harness_image: str) -> None:
    script = "for tool in " + " ".join(LINE_TOOLS) + '; do command -v "$tool" || echo "missing $tool"; done'

    found = docker_cli("run", "--rm", harness_image, "sh", "-c", script).split()

    assert found == [f"/usr/bin/{tool}" for tool in LINE_TOOLS]


def test_a_folder_of_user_tests_runs_in_the_harness_image_against_a_server_it_reaches(
    tmp_path: Path, containers: Containers, harness_image: str, chat_network: str
) -> None:
    (tmp_path / "test_greeter.py").write_text(USER_TEST, encoding="utf-8")
    tmp_path.chmod(0o755)  # the image runs as an unprivileged user
    bot = containers.run("bot", ready=BOT_READY)  # the image's default: the bundled greeter

    done = subprocess.run(
        [
            *("docker", "run", "--rm", f"--network={chat_network}", *containers.session.label_options()),
            *(f"--volume={tmp_path}:/tests:ro", "--env", f"CHAT_SERVER={bot.name}", harness_image),
            *("pytest", "/tests"),
        ],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


@pytest.mark.timeout(SUITE_TIMEOUT_S + 30)
def test_the_projects_own_e2e_suite_passes_inside_the_harness_image(harness_image: str) -> None:
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
