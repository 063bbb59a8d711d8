"""chat-bot --connect with several dialogues, real processes: one suite, one summary, status 6."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import bots
from chat_testing import Programs, listening_port

DIALOGUES = Path(bots.__file__).resolve().parent / "dialogues"
# Fails at once: the quiz greets with its welcome, not with this.
WRONG_WELCOME = """\
version: 1
timeout: 5
script:
  - say: hello
  - expect: {glob: "Welcome to the cinema*"}
"""


def test_a_suite_against_the_quiz_runs_every_file_and_exits_6_when_one_fails(
    programs: Programs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the child runs here too: its JUnit names are relative to it
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_cinema.chat.yaml").write_text(WRONG_WELCOME, encoding="utf-8")
    quiz = programs.spawn("chat-bot", "--port", "0", "--no-delay", "--script", str(DIALOGUES / "quiz.yaml"))
    port = listening_port(quiz)
    suite = programs.spawn(
        "chat-bot", "--connect", "--port", str(port), "--no-delay", "--quiet",
        "--script", str(DIALOGUES / "quiz_test.yaml"), "tests", "--junit", "suite.xml",
    )  # fmt: skip
    suite.expect("test passed (quiz-test): 14 passed, 0 failed, 0 not run")
    suite.expect("== tests/test_cinema.chat.yaml\r\n")
    suite.expect("test failed: mismatch (test_cinema.chat): 1 passed, 1 failed, 0 not run")
    suite.expect("suite: 1 passed, 1 failed, 0 errors, in ")
    suite.expect(
        "chat-bot: suite failed (1 passed, 1 failed, 0 errors); first: test failed (mismatch) at "
        "tests/test_cinema.chat.yaml:5: step 2 expect: expected {glob: 'Welcome to the cinema*'}, "
        "received 'Welcome to the quiz! Three questions. Ready? (yes/no)'\r\n"
    )
    assert suite.wait_exit() == 6
    suites = ET.parse(tmp_path / "suite.xml").getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["quiz-test", "test_cinema.chat"]
    assert suites[1].get("file") == "tests/test_cinema.chat.yaml"
