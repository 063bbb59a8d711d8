"""bots.suite and ``chat-bot --connect`` with several dialogues: one suite, one summary, one JUnit file."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots import cli, suite
from chat.errors import UsageError
from chat.program import run
from chat.status import ExitStatus
from chat_testing import ECHO_DIALOGUE, bot_in_process

PASSING = "version: 1\ntimeout: 2\nscript:\n  - say: hello\n  - expect: hello\n  - say: exit\n"
FAILING = "version: 1\ntimeout: 2\nscript:\n  - say: hello\n  - expect: goodbye\n  - say: exit\n"


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A serving echo bot in this process; its port."""
    with bot_in_process(ECHO_DIALOGUE, text=True) as bot:
        yield bot.port


@pytest.fixture
def tests_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory, holding a passing and a failing dialogue test."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "test_a.chat.yaml").write_text(PASSING, encoding="utf-8")
    (tmp_path / "test_b.chat.yaml").write_text(FAILING, encoding="utf-8")
    return tmp_path


def connect(port: int, *args: str) -> int:
    return run("chat-bot", cli.main, ["--connect", "--port", str(port), "--quiet", *args])


def test_a_suite_with_one_failing_dialogue_exits_6_with_one_summary(
    tests_dir: Path, echo_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    status = connect(echo_port, "--script", "test_a.chat.yaml", "test_b.chat.yaml")
    out, err = capsys.readouterr()
    assert status == ExitStatus.MISMATCH
    assert out.splitlines()[0] == "== test_a.chat.yaml"
    assert "== test_b.chat.yaml" in out.splitlines()
    assert out.splitlines()[-1].startswith("suite: 1 passed, 1 failed, 0 errors, in ")
    assert err == (
        "chat-bot: suite failed (1 passed, 1 failed, 0 errors); first: test failed (mismatch) at "
        "test_b.chat.yaml:5: step 2 expect: expected {contains: 'goodbye'}, received 'hello'\n"
    )


def test_a_suite_of_passing_dialogues_exits_0(
    tests_dir: Path, echo_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    (tests_dir / "test_b.chat.yaml").write_text(PASSING, encoding="utf-8")
    assert connect(echo_port, "--script", "test_a.chat.yaml", "test_b.chat.yaml") == ExitStatus.SUCCESS
    assert capsys.readouterr().out.splitlines()[-1].startswith("suite: 2 passed, 0 failed, 0 errors, in ")


def test_a_directory_runs_its_test_chat_yaml_files_at_any_depth_and_nothing_else(
    tests_dir: Path, echo_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    (tests_dir / "deeper").mkdir()
    (tests_dir / "deeper" / "test_c.chat.yaml").write_text(PASSING, encoding="utf-8")
    (tests_dir / "serving.yaml").write_text("not: a dialogue\n", encoding="utf-8")
    (tests_dir / "test_d.yaml").write_text("not: a dialogue\n", encoding="utf-8")
    connect(echo_port, "--script", ".")
    headers = [line for line in capsys.readouterr().out.splitlines() if line.startswith("== ")]
    assert headers == ["== deeper/test_c.chat.yaml", "== test_a.chat.yaml", "== test_b.chat.yaml"]


def test_a_file_named_twice_runs_once_where_first_named(tests_dir: Path) -> None:
    assert suite.expand(["test_b.chat.yaml", ".", "./test_a.chat.yaml"]) == [
        "test_b.chat.yaml",
        "test_a.chat.yaml",
    ]


def test_one_directory_alone_is_a_suite(
    tests_dir: Path, echo_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    (tests_dir / "test_b.chat.yaml").unlink()
    assert connect(echo_port, "--script", str(tests_dir)) == ExitStatus.SUCCESS
    assert capsys.readouterr().out.splitlines()[-1].startswith("suite: 1 passed, 0 failed, 0 errors")


def test_the_junit_file_has_one_testsuite_per_dialogue_named_relative_to_the_working_directory(
    tests_dir: Path, echo_port: int
) -> None:
    connect(echo_port, "--script", str(tests_dir), "--junit", "report.xml")
    root = ET.parse(tests_dir / "report.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("8", "1", "0")
    suites = root.findall("testsuite")
    assert [s.get("file") for s in suites] == ["test_a.chat.yaml", "test_b.chat.yaml"]
    failure = suites[1].find("testcase[@line='5']/failure")
    assert failure is not None
    assert failure.get("message", "").startswith("FAIL test_b.chat.yaml:5 step 2 expect: expected ")
    assert str(tests_dir) not in (tests_dir / "report.xml").read_text(encoding="utf-8")


def test_an_invalid_dialogue_is_an_error_and_the_others_still_run(
    tests_dir: Path, echo_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    (tests_dir / "test_0.chat.yaml").write_text("version: 1\nmax_turns: 0\n", encoding="utf-8")
    status = connect(echo_port, "--script", ".", "--junit", "report.xml")
    out = capsys.readouterr().out.splitlines()
    assert status == ExitStatus.INVALID_DIALOGUE
    assert "ERROR test_0.chat.yaml:2:12: max_turns must be at least 1" in out
    assert out[-1].startswith("suite: 1 passed, 1 failed, 1 errors, in ")
    error = ET.parse(tests_dir / "report.xml").getroot().find("testsuite/testcase/error")
    assert error is not None
    assert error.get("message") == "test_0.chat.yaml:2:12: max_turns must be at least 1"


def test_no_server_makes_every_dialogue_an_error_with_the_connection_status(
    tests_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert connect(port, "--script", ".") == ExitStatus.CONNECTION_ERROR
    assert capsys.readouterr().out.splitlines()[-1].startswith("suite: 0 passed, 0 failed, 2 errors")


def test_a_directory_without_dialogue_tests_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "serving.yaml").write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        suite.expand([str(tmp_path)])
    assert str(caught.value) == (
        f"--script {tmp_path}: the directory holds no test_*.chat.yaml file; "
        "name the dialogue tests so, or list the files"
    )


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [
        ([], ExitStatus.SUCCESS),
        ([ExitStatus.SUCCESS, ExitStatus.MISMATCH], ExitStatus.MISMATCH),
        ([ExitStatus.MISMATCH, ExitStatus.TIMEOUT], ExitStatus.TIMEOUT),
        ([ExitStatus.ABORT, ExitStatus.PEER_LOST], ExitStatus.PEER_LOST),
        ([ExitStatus.PEER_LOST, ExitStatus.INVALID_DIALOGUE], ExitStatus.INVALID_DIALOGUE),
        ([ExitStatus.INVALID_DIALOGUE, ExitStatus.CONNECTION_ERROR], ExitStatus.CONNECTION_ERROR),
    ],
)
def test_the_suite_status_is_the_worst_cause(statuses: list[ExitStatus], worst: ExitStatus) -> None:
    assert suite.worst(statuses) is worst
