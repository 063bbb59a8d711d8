"""The Docker harness whatever the engine's state: collection never crashes, and every problem is one line.

No engine: the tests skip and say why (a failure with CHAT_REQUIRE_DOCKER=1). An engine without the
base image: the tests fail with docker's words. BuildKit's image list, which does not show the base
after a build: nothing asks it for the base. Each case runs one Docker test in a child pytest.
"""

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
INNER_TIMEOUT_S = 50.0  # the inner pytest collects, finds its engine or not, builds from cache: seconds
ABSENT_BASE = "chat-e2e-absent-base:none"  # an image no engine has and no registry serves

# A `docker` in front of the real one that answers `docker image inspect` as BuildKit's image list
# does after a build from a base it pulled itself: the base is not there.
BUILDKIT_IMAGE_LIST = """#!/bin/sh
if [ "$1" = image ] && [ "$2" = inspect ]; then
    echo "Error response from daemon: No such image: (BuildKit keeps its base images to itself)" >&2
    exit 1
fi
exec {docker} "$@"
"""


def run_child(env: dict[str, str], path_first: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run one Docker test in a child pytest with *env* instead of this session's CHAT_/DOCKER_ settings."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("CHAT_", "DOCKER_"))}
    child_env.update(env)
    if path_first is not None:
        child_env["PATH"] = f"{path_first}{os.pathsep}{child_env['PATH']}"
    return subprocess.run(
        [sys.executable, "-m", "pytest", ONE_TEST, "-m", "docker", "-rsfE", "-p", "no:cacheprovider"],
        cwd=REPO,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=INNER_TIMEOUT_S,
        check=False,
    )


def test_without_an_engine_the_docker_tests_skip_and_say_why() -> None:
    done = run_child({"DOCKER_HOST": NO_ENGINE})

    assert done.returncode == 0, done.stdout
    assert "1 skipped" in done.stdout
    assert "Docker e2e tests need a Docker engine and the image: no Docker engine answers" in done.stdout
    assert "run `bash .ci/docker-setup.sh` to get one" in done.stdout


def test_without_an_engine_chat_require_docker_turns_the_skip_into_a_failure() -> None:
    done = run_child({"DOCKER_HOST": NO_ENGINE, "CHAT_REQUIRE_DOCKER": "1"})

    assert done.returncode == 1, done.stdout
    assert "1 error" in done.stdout
    assert "(CHAT_REQUIRE_DOCKER=1: failing instead of skipping)" in done.stdout


def test_an_engine_without_the_base_image_fails_the_tests_with_dockers_words_not_pytest(
    chat_base: str,
) -> None:
    done = run_child({"CHAT_DOCKER_BASE": ABSENT_BASE})

    assert done.returncode == 1, done.stdout + done.stderr
    assert "INTERNALERROR" not in done.stdout + done.stderr
    assert "1 error" in done.stdout
    said = f"the reaper's image {ABSENT_BASE} cannot be run (`docker run` exited with status 125: docker: "
    assert said in done.stdout


def test_an_image_list_without_the_base_as_buildkit_leaves_it_changes_nothing(
    tmp_path: Path, chat_base: str
) -> None:
    real_docker = subprocess.run(["sh", "-c", "command -v docker"], capture_output=True, text=True).stdout
    wrapper = tmp_path / "docker"
    wrapper.write_text(BUILDKIT_IMAGE_LIST.format(docker=real_docker.strip()), encoding="utf-8")
    wrapper.chmod(0o755)

    done = run_child({"CHAT_DOCKER_BASE": chat_base}, path_first=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
