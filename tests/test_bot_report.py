"""bots.report: report lines, the JSON Lines transcript and the JUnit XML file."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from bots.actions import Outcome, StepResult
from bots.engine import Conversation
from bots.loader import parse_dialogue
from bots.report import TRANSCRIPT_FLUSH_S, Transcript, failure, format_result, not_run, summary, write_junit
from chat.status import ExitStatus

TEST = parse_dialogue(
    "version: 1\nscript:\n  - say: hi\n  - expect: welcome\n  - say: bye\n  - expect: {exact: exit}\n",
    "t.yaml",
)


def _failed_run() -> list[StepResult]:
    chat = Conversation(TEST, delays=False)
    actions = chat.start(0.0) + chat.receive("go \x1b[31maway", 1.25)
    return [a for a in actions if isinstance(a, StepResult)]


def test_report_lines_show_verdict_place_expected_received_and_time() -> None:
    results = _failed_run()
    assert [format_result(r) for r in results] == [
        "PASS t.yaml:3 step 1 say: sent 'hi' (0.000 s)",
        "FAIL t.yaml:4 step 2 expect: expected {contains: 'welcome'}, "
        'received "go \\x1b[31maway" (1.250 s)',
    ]
    assert [r.label for r in not_run(TEST, results)] == ["step 3 say", "step 4 expect"]
    assert summary(TEST, results, Outcome.MISMATCH, 1.5) == (
        "test failed: mismatch (t): 1 passed, 1 failed, 2 not run, in 1.500 s"
    )


def test_the_failure_error_carries_the_outcome_status_and_the_first_failed_step() -> None:
    error = failure(_failed_run(), Outcome.MISMATCH, "step 2 did not match")
    assert error.status is ExitStatus.MISMATCH
    assert str(error) == (
        "test failed (mismatch) at t.yaml:4: step 2 expect: expected {contains: 'welcome'}, "
        'received "go \\x1b[31maway"'
    )


def test_junit_has_one_testcase_per_step_with_failures_and_skips(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    write_junit(str(path), TEST, _failed_run(), Outcome.MISMATCH, "step 2 did not match", 1.5, 0.0)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "1", "2")
    names = [case.get("name") for case in suite.iter("testcase")]
    assert names == [
        "step 1 say (t.yaml:3)",
        "step 2 expect (t.yaml:4)",
        "step 3 say (t.yaml:5)",
        "step 4 expect (t.yaml:6)",
        "chat ended",
    ]
    failed = suite.find("testcase/failure")
    assert failed is not None
    assert failed.get("type") == "mismatch"


def test_transcript_writes_one_json_object_per_message(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    transcript = Transcript(str(path))
    transcript.record(0.0, "out", "hello")
    transcript.record(1.5, "in", "ça va 🎉", peer="127.0.0.1:5000")
    transcript.close()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {"time": "1970-01-01T00:00:00.000Z", "direction": "out", "text": "hello"},
        {"time": "1970-01-01T00:00:01.500Z", "direction": "in", "text": "ça va 🎉", "peer": "127.0.0.1:5000"},
    ]


def test_transcript_schedules_one_flush_a_second_and_writes_out_when_it_fires(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    transcript = Transcript(str(path))
    timers: list[tuple[float, Callable[[], None]]] = []
    transcript.flush_within(lambda delay, flush: timers.append((delay, flush)))

    transcript.record(0.0, "in", "one")
    transcript.record(0.1, "out", "two")
    assert [delay for delay, _flush in timers] == [TRANSCRIPT_FLUSH_S] == [1.0]  # one timer for both
    assert path.read_text(encoding="utf-8") == ""  # buffered until the timer fires
    timers[0][1]()
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2
    transcript.record(2.0, "in", "three")
    assert len(timers) == 2  # the next line arms the next flush
    transcript.close()
