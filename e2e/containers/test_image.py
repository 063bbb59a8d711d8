"""The image itself: one image for every program, non-root, tini as PID 1, the documented settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from chat import __version__

pytestmark = pytest.mark.docker

# The runtime stage adds a virtual environment with the package, PyYAML and google-re2 (about 10 MB), uvloop
# (uvloop, 14 MB) and, on the public python image, tini; more than this means build tools or caches
# leaked into the image.
MAX_INCREMENT_BYTES = 40_000_000


Docker = Callable[..., str]


def inspect(docker: Docker, name: str) -> dict[str, Any]:
    return dict(json.loads(docker("image", "inspect", name))[0])


@pytest.fixture(scope="module")
def config(docker_cli: Docker, chat_image: str) -> dict[str, Any]:
    return dict(inspect(docker_cli, chat_image)["Config"])


def test_the_image_runs_as_a_non_root_user_under_tini(
    docker_cli: Docker, chat_image: str, config: dict[str, Any]
) -> None:
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["/usr/bin/tini", "--"]
    assert docker_cli("run", "--rm", chat_image, "id", "-u").strip() == "10001"


def test_the_image_listens_on_all_addresses_on_the_classic_port_unbuffered(config: dict[str, Any]) -> None:
    assert "CHAT_HOST=0.0.0.0" in config["Env"]
    assert "PYTHONUNBUFFERED=1" in config["Env"]
    assert set(config["ExposedPorts"]) == {"65432/tcp"}


def test_the_image_has_no_health_check_that_could_take_the_servers_one_chat(config: dict[str, Any]) -> None:
    assert config["Healthcheck"]["Test"] == ["NONE"]


@pytest.mark.parametrize("program", ["chat-server", "chat-client", "chat-bot"])
def test_every_program_runs_from_the_one_image(docker_cli: Docker, chat_image: str, program: str) -> None:
    # chat-bot adds the event loop it runs on: uvloop, which the image installs (a dependency).
    shown = docker_cli("run", "--rm", chat_image, program, "--version").strip()
    if program == "chat-bot":
        assert shown.startswith(f"chat-bot {__version__}, event loop uvloop ")
    else:
        assert shown == f"{program} {__version__}"


def test_the_image_adds_little_to_its_base(
    docker_cli: Docker, chat_image: str, chat_base: str | None
) -> None:
    if chat_base is None:
        pytest.fail(
            "the base image of the build is unknown: set CHAT_DOCKER_BASE or keep ARG BASE= in the Dockerfile"
        )
    increment = int(inspect(docker_cli, chat_image)["Size"]) - int(inspect(docker_cli, chat_base)["Size"])

    assert 0 < increment < MAX_INCREMENT_BYTES, f"the image adds {increment / 1e6:.1f} MB to {chat_base}"
