"""chat_testing.plugin.require_tool: a missing line tool skips with one summary line, or fails in CI."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# Both states in one run (a pytest process costs seconds): the second test sets what CI sets.
MISSING_TOOL_TESTS = """
from chat_testing.plugin import require_tool

def test_a_developer_without_the_tool(monkeypatch):
    monkeypatch.delenv("CHAT_REQUIRE_LINE_TOOLS", raising=False)
    require_tool("chat-no-such-tool")

def test_ci_without_the_tool(monkeypatch):
    monkeypatch.setenv("CHAT_REQUIRE_LINE_TOOLS", "1")
    require_tool("chat-other-missing-tool")
"""


# tox runs the suites with pytest-xdist: the tests skip in the workers, the summary is written by the
# controller. Both ways of running must end with the line.
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_missing_tool_skips_with_one_line_naming_the_package_or_fails_under_chat_require_line_tools(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    pytester.makepyfile(MISSING_TOOL_TESTS)
    result = pytester.runpytest_subprocess("-rfs", *workers)
    result.assert_outcomes(skipped=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "chat-other-missing-tool is not installed: install the Debian package chat-other-missing-tool "
            "(CHAT_REQUIRE_LINE_TOOLS=1: failing instead of skipping)",
            # Only the skipped tool: the run ends with the one line a developer needs.
            "chat: tests skipped for missing line tools (chat-no-such-tool); "
            "install them with: apt-get install chat-no-such-tool",
            "FAILED *::test_ci_without_the_tool*",
            "SKIPPED * chat-no-such-tool is not installed: install the Debian package chat-no-such-tool",
        ]
    )
