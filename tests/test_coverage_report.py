"""bots.coverage.report and chat-bot --coverage-report: a table per dialogue file, what was never used,
the total judged by --fail-under; a dialogue that cannot be loaded, a file that changed since."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots import cli
from bots.coverage.collect import Collector
from bots.coverage.report import percent, shown_percent
from bots.engine import Conversation
from bots.model import Dialogue
from chat.program import run
from chat.status import ExitStatus

DESK_REPORT = """\
desk.yaml (desk, 1 chat)
  kind            used  total    cover
  rules              3      5    60.0%
  alternatives       1      4    25.0%
  topics             1      1   100.0%
  redirects          1      1   100.0%
  fallbacks          1      2    50.0%
  memories           0      1     0.0%
  all                7     14    50.0%
  never used:
    desk.yaml:6  rule 1: 1 of 2 alternatives never used: 'printer is broken'
    desk.yaml:11  rule 3 {regex: 'i am (?P<mood>\\w+)'}
    desk.yaml:17  rule 1 of topic fixing {contains: ['yes', 'works']}
    desk.yaml:21  the fallback

total: 7 of 14 items used, 50.0%, in 1 dialogue file (data: 1 file)
"""


@pytest.fixture
def coverage(desk: Dialogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """One chat on the desk, its data saved as tmp_path/cov.*; the working folder is tmp_path."""
    monkeypatch.chdir(tmp_path)
    collector = Collector("cov")
    chat = Conversation(desk, delays=False, observer=collector.observer(desk))
    chat.start(0.0, dialling=False)
    for n, message in enumerate(["my mouse is broken", "hmm", "a cuppa"], start=1):
        chat.receive(message, float(n))
    collector.save()
    return "cov"


def test_the_report_is_a_table_per_dialogue_file_with_the_place_of_what_was_never_used(
    coverage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("chat-bot", cli.main, ["--coverage-report", coverage]) == ExitStatus.SUCCESS
    assert capsys.readouterr().out == DESK_REPORT


def test_fail_under_passes_at_the_total_and_fails_above_it_with_status_9(
    coverage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run("chat-bot", cli.main, ["--coverage-report", coverage, "--fail-under", "50"]) == ExitStatus.SUCCESS
    )
    capsys.readouterr()
    assert run("chat-bot", cli.main, ["--coverage-report", coverage, "--fail-under", "50.1"]) == 9
    captured = capsys.readouterr()
    assert captured.out == DESK_REPORT  # the table first, whatever the verdict
    assert captured.err == "chat-bot: coverage 50.0% is under --fail-under 50.1%\n"


def test_a_dialogue_gone_since_the_chats_is_reported_in_one_line_and_status_5(
    coverage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "desk.yaml").unlink()
    assert run("chat-bot", cli.main, ["--coverage-report", coverage]) == ExitStatus.INVALID_DIALOGUE
    captured = capsys.readouterr()
    assert captured.err == (
        f"chat-bot: desk.yaml: cannot report on it: {tmp_path / 'desk.yaml'}:1:1: "
        "cannot read the dialogue file: No such file or directory\n"
    )
    assert captured.out == "total: 0 of 0 items used, 100.0%, in 0 dialogue files (data: 1 file)\n"


def test_a_dialogue_file_changed_since_the_chats_is_warned_of(
    coverage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = tmp_path / "desk.yaml"
    desk.write_text(desk.read_text(encoding="utf-8").replace("what?", "pardon?"), encoding="utf-8")
    assert run("chat-bot", cli.main, ["--coverage-report", coverage]) == ExitStatus.SUCCESS
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "  warning: desk.yaml changed since the chats ran: the places below may be off"


def test_the_html_option_writes_the_pages_and_names_the_index(
    coverage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("chat-bot", cli.main, ["--coverage-report", coverage, "--html", "out"]) == ExitStatus.SUCCESS
    assert capsys.readouterr().out.endswith("HTML report: out/index.html\n")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "common_yaml.html",
        "desk_yaml.html",
        "index.html",
    ]


def test_percentages_round_down_so_that_only_everything_shows_as_100() -> None:
    assert shown_percent(percent(9999, 10000)) == "99.9%"
    assert shown_percent(percent(3, 3)) == "100.0%"
    assert shown_percent(percent(0, 7)) == "0.0%"
    assert percent(0, 0) == 100.0  # nothing to use: nothing missed
