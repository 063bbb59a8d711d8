"""What a test run leaves behind: report lines, a JSON Lines transcript, a JUnit XML file.

The JSON and XML modules are imported only when those files are asked for,
to keep ``chat-bot --check`` fast to start.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

from bots.actions import Outcome, StepResult
from bots.model import Dialogue
from chat.display import visible
from chat.errors import ChatError
from chat.status import ExitStatus

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET


class TestFailed(ChatError):
    """Test mode: the dialogue's test of its peer failed; the status names the cause."""

    def __init__(self, message: str, status: ExitStatus) -> None:
        super().__init__(message)
        self.status = status


class OutputFileError(ChatError):
    """A --transcript or --junit file cannot be written."""

    status = ExitStatus.USAGE


def format_result(result: StepResult, *, elapsed: bool = True) -> str:
    """One report line: verdict, file:line, step, expected versus received[, elapsed time]."""
    line = f"{result.verdict} {result.where.file_line} {result.label}"
    if result.expected is None:
        line += f": sent {visible(result.received or '')}"
    else:
        line += f": expected {visible(result.expected)}, received {visible(result.received or '')}"
    return f"{line} ({result.elapsed:.3f} s)" if elapsed else line


def not_run(dialogue: Dialogue, results: Sequence[StepResult]) -> list[StepResult]:
    """Report entries for the script steps that never ran."""
    ran = {id(r.step) for r in results if r.step is not None}
    return [
        StepResult(
            "NOT RUN", s.where, f"step {s.number} {s.kind}", None if s.kind == "say" else "", "", 0.0, s
        )
        for s in dialogue.script
        if id(s) not in ran
    ]


def summary(dialogue: Dialogue, results: Sequence[StepResult], outcome: Outcome, elapsed: float) -> str:
    """The last report line: passed or failed, with counts."""
    passed = sum(r.verdict == "PASS" for r in results)
    failed = sum(r.verdict == "FAIL" for r in results)
    skipped = len(not_run(dialogue, results))
    counts = f"{passed} passed, {failed} failed, {skipped} not run, in {elapsed:.3f} s"
    if outcome.status is ExitStatus.SUCCESS:
        return f"test passed ({dialogue.name}): {counts}"
    return f"test failed: {outcome.value} ({dialogue.name}): {counts}"


def failure(results: Sequence[StepResult], outcome: Outcome, reason: str) -> TestFailed:
    """The error that ends the program after a failed test (one stderr line, the outcome's status)."""
    failed = [r for r in results if r.verdict == "FAIL"]
    if failed:
        first = failed[0]
        detail = f"{first.label}: expected {first.expected}, received {first.received}"
        return TestFailed(
            f"test failed ({outcome.value}) at {first.where.file_line}: {visible(detail)}", outcome.status
        )
    return TestFailed(f"test failed ({outcome.value}): {reason}", outcome.status)


def _timestamp(wall: float) -> str:
    moment = datetime.datetime.fromtimestamp(wall, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


TRANSCRIPT_FLUSH_S = 1.0  # each line reaches the file within this: `tail -f` follows the chat, and a
# killed bot loses at most this much; one write per second at most, whatever the message rate


class Transcript:
    """``--transcript FILE``: one JSON object per line: time, direction (in/out), text[, peer].

    Lines are buffered and written out at most :data:`TRANSCRIPT_FLUSH_S` after they are
    recorded, once :meth:`flush_within` has been given the event loop's timer.
    """

    def __init__(self, path: str) -> None:
        import json  # only when a transcript is asked for

        self._dumps = json.dumps
        self._schedule: Callable[[float, Callable[[], None]], object] | None = None
        self._flush_due = False
        try:
            self._file: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        except OSError as exc:
            raise OutputFileError(
                f"cannot write the transcript {path}: {exc.strerror or exc}; choose another --transcript path"
            ) from None

    def flush_within(self, schedule: Callable[[float, Callable[[], None]], object]) -> None:
        """Write recorded lines out within a second, using *schedule* (an event loop's ``call_later``)."""
        self._schedule = schedule

    def record(self, wall: float, direction: str, text: str, peer: str | None = None) -> None:
        """Add one message; *direction* is "in" (from the peer) or "out" (from the bot)."""
        entry: dict[str, Any] = {"time": _timestamp(wall), "direction": direction, "text": text}
        if peer is not None:
            entry["peer"] = peer
        self._file.write(self._dumps(entry, ensure_ascii=False) + "\n")
        if not self._flush_due and self._schedule is not None:
            self._flush_due = True
            self._schedule(TRANSCRIPT_FLUSH_S, self.flush)

    def flush(self) -> None:
        """Push what was recorded to the file."""
        self._flush_due = False
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        """Flush and close; safe to call twice."""
        if not self._file.closed:
            self._file.close()


def relative(path: str) -> str:
    """*path* relative to the working directory when below it: JUnit names travel between machines."""
    import os

    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if shown.startswith(os.pardir) else shown


def junit_suite(
    dialogue: Dialogue,
    results: Sequence[StepResult],
    outcome: Outcome,
    reason: str,
    elapsed: float,
    started_wall: float,
) -> ET.Element:
    """One dialogue's ``<testsuite>``: one testcase per script step, plus the ending."""
    import xml.etree.ElementTree as ET  # only when a JUnit file is asked for

    cases = [r for r in results if r.step is not None or r.verdict == "FAIL"]
    cases.extend(not_run(dialogue, results))
    cases.sort(key=lambda r: (r.step.number if r.step is not None else 1 << 30, r.where.line))
    suite = ET.Element(
        "testsuite",
        name=dialogue.name,
        tests=str(len(cases) + 1),
        failures="0",
        errors="0",
        skipped="0",
        time=f"{elapsed:.3f}",
        timestamp=_timestamp(started_wall),
        file=relative(dialogue.path),
    )
    failures = skipped = 0
    for result in cases:
        where = f"{relative(result.where.file)}:{result.where.line}"
        case = ET.SubElement(
            suite,
            "testcase",
            classname=dialogue.name,
            name=f"{result.label} ({where})",
            file=relative(result.where.file),
            line=str(result.where.line),
            time=f"{result.elapsed:.3f}",
        )
        if result.verdict == "FAIL":
            failures += 1
            message = format_result(result).replace(result.where.file_line, where, 1)
            failed = ET.SubElement(case, "failure", message=message, type=outcome.value)
            failed.text = f"expected: {result.expected}\nreceived: {result.received}\n"
        elif result.verdict == "NOT RUN":
            skipped += 1
            ET.SubElement(case, "skipped", message="not run: the chat ended before this step")
    ending = ET.SubElement(
        suite, "testcase", classname=dialogue.name, name="chat ended", time=f"{elapsed:.3f}"
    )
    if outcome.status is not ExitStatus.SUCCESS and failures == 0:
        failures += 1
        ET.SubElement(ending, "failure", message=reason, type=outcome.value)
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    return suite


def junit_error_suite(path: str, message: str, status: ExitStatus, started_wall: float) -> ET.Element:
    """The ``<testsuite>`` of a dialogue that could not run (invalid file, no connection): one error."""
    import xml.etree.ElementTree as ET

    name = relative(path)
    suite = ET.Element(
        "testsuite",
        name=name,
        tests="1",
        failures="0",
        errors="1",
        skipped="0",
        time="0.000",
        timestamp=_timestamp(started_wall),
        file=name,
    )
    case = ET.SubElement(suite, "testcase", classname=name, name="chat", time="0.000")
    ET.SubElement(case, "error", message=message, type=status.meaning)
    return suite


def write_junit_suites(path: str, suites: Sequence[ET.Element]) -> None:
    """Write ``<testsuites>`` holding *suites* (one per dialogue) to *path*."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="chat-bot")
    for attribute in ("tests", "failures", "errors"):
        root.set(attribute, str(sum(int(s.get(attribute, "0")) for s in suites)))
    root.extend(suites)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    try:
        tree.write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise OutputFileError(
            f"cannot write the JUnit report {path}: {exc.strerror or exc}; choose another --junit path"
        ) from None


def write_junit(
    path: str,
    dialogue: Dialogue,
    results: Sequence[StepResult],
    outcome: Outcome,
    reason: str,
    elapsed: float,
    started_wall: float,
) -> None:
    """``--junit FILE`` for one chat: one testsuite, one testcase per script step (plus the ending)."""
    write_junit_suites(path, [junit_suite(dialogue, results, outcome, reason, elapsed, started_wall)])
