"""The Docker harness without an engine: a clear skip, or a failure when CI requires Docker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
NO_ENGINE = "unix:///nonexistent/chat-e2e-docker.sock"  # a socket no engine listens on
ONE_TEST = "e2e/containers/test_chat.py::test_docker_stop_ends_a_server_still_waiting_for_its_client"
INNER_TIMEOUT_S = 50.0  # the inner pytest only collects and finds no engine: a few seconds


def run_without_engine(**env: str) -> subprocess.CompletedProcess[str]:
    """Run one Docker test in a child pytest whose docker command reaches no engine."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("CHAT_", "DOCKER_"))}
    child_env.update(DOCKER_HOST=NO_ENGINE, **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", ONE_TEST, "-m", "docker", "-rsf", "-p", "no:cacheprovider"],
        cwd=REPO,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=INNER_TIMEOUT_S,
        check=False,
    )


def test_without_an_engine_the_docker_tests_skip_and_say_why() -> None:
    done = run_without_engine()

    assert done.returncode == 0, done.stdout
    assert "1 skipped" in done.stdout
    assert "Docker e2e tests need a Docker engine and the image: no Docker engine answers" in done.stdout
    assert "run `bash .ci/docker-setup.sh` to get one" in done.stdout


def test_without_an_engine_chat_require_docker_turns_the_skip_into_a_failure() -> None:
    done = run_without_engine(CHAT_REQUIRE_DOCKER="1")

    assert done.returncode == 1, done.stdout
    assert "1 error" in done.stdout
    assert "(CHAT_REQUIRE_DOCKER=1: failing instead of skipping)" in done.stdout
