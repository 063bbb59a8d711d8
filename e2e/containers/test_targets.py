"""The pytest plugin's image: target against the project's own image (the greeter it serves by default)."""

from __future__ import annotations

import subprocess

import pytest

from chat_testing.plugin import DEFAULT_REAPER_IMAGE
from chat_testing.targets import CONTAINER_LABEL

pytestmark = pytest.mark.docker
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
            "  expected: contains 'Goodbye, Ann'",
            "*Captured log of image:* call*",
            "Bot listening on 0.0.0.0:65432...",
        ]
    )
