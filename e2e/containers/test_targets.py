"""The pytest plugin's image: target against the project's own image (the greeter it serves by default)."""

from __future__ import annotations

import subprocess
import time

import pytest

from chat_testing.plugin import DEFAULT_REAPER_IMAGE
from chat_testing.targets import CONTAINER_LABEL

pytestmark = pytest.mark.docker
#: A run whose reaper cannot start ends well within this (a pytest start and two `docker run` refusals).
REAPER_REFUSAL_BOUND_S = 30.0
pytest_plugins = ["pytester"]

# The image's default command serves the bundled greeter.
GREETER_TEST = """\
version: 1
timeout: 10
script:
  - say: my name is Ann
  - expect: "Nice to meet you, Ann"
  - say: bye
  - expect: {exact: exit}
"""


def test_an_image_target_tests_the_project_s_image_and_removes_its_container(
    pytester: pytest.Pytester, chat_image: str, chat_base: str | None
) -> None:
    (pytester.path / "test_greeter.chat.yaml").write_text(GREETER_TEST, encoding="utf-8")
    result = pytester.runpytest_subprocess(
        "--chat-target",
        f"image:{chat_image}",
        "--chat-reaper-image",
        chat_base or DEFAULT_REAPER_IMAGE,
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1)
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={CONTAINER_LABEL}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert left.stdout == ""


def test_a_failing_dialogue_against_an_image_shows_the_container_s_log(
    pytester: pytest.Pytester, chat_image: str, chat_base: str | None
) -> None:
    failing = GREETER_TEST.replace("Nice to meet you, Ann", "Goodbye, Ann")
    (pytester.path / "test_greeter.chat.yaml").write_text(failing, encoding="utf-8")
    result = pytester.runpytest_subprocess(
        "--chat-target",
        f"image:{chat_image}",
        "--chat-reaper-image",
        chat_base or DEFAULT_REAPER_IMAGE,
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_greeter.chat.yaml:5: step 2 expect failed (mismatch)",
            "  expected: {contains: 'Goodbye, Ann'}",
            "*Captured log of image:* call*",
            "Bot listening on 0.0.0.0:65432...",
        ]
    )


#: No engine has this image and no registry serves it: the reaper cannot start from it.
MISSING_REAPER_IMAGE = "chat-testing-no-such-reaper:missing"


@pytest.mark.usefixtures("docker_engine")
def test_an_image_target_whose_reaper_image_cannot_be_had_fails_at_once_naming_the_option(
    pytester: pytest.Pytester,
) -> None:
    for name in ("test_one.chat.yaml", "test_two.chat.yaml"):
        (pytester.path / name).write_text(GREETER_TEST, encoding="utf-8")
    started = time.monotonic()
    result = pytester.runpytest_subprocess(
        "--chat-target",
        f"image:{MISSING_REAPER_IMAGE}",  # never reached: the reaper comes first
        "--chat-reaper-image",
        MISSING_REAPER_IMAGE,
        "-p",
        "no:cacheprovider",
    )
    took = time.monotonic() - started
    result.assert_outcomes(failed=2)
    hint = (
        "; give an image with python3 that this engine has: --chat-reaper-image IMAGE (ini chat_reaper_image)"
    )
    for name in ("test_one", "test_two"):
        result.stdout.fnmatch_lines(
            [
                f"{name}.chat.yaml: the reaper's image {MISSING_REAPER_IMAGE} cannot be run "
                f"(`docker run` exited with status 125: docker: *){hint}"
            ]
        )
    assert took < REAPER_REFUSAL_BOUND_S
