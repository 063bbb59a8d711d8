"""Print a JUnit XML report's counts as a Markdown table, for a GitHub job summary.

    python .ci/junit_summary.py TITLE REPORT.xml >> "$GITHUB_STEP_SUMMARY"

The workflows' test jobs run pytest with --junitxml and call this in a step that runs whatever happened,
so every job's summary page shows what ran, passed, failed and skipped. A missing report (the job failed
before pytest ran) is said so in the table, never an error of this step: the test step's status is the
verdict.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Counts:
    """The totals of one report, over all its test suites."""

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped


def counts(report: Path) -> Counts:
    """Add up the <testsuite> elements of a JUnit report (pytest writes one, under <testsuites>)."""
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    total = Counts()
    for suite in suites:
        total = Counts(
            total.tests + int(suite.get("tests", 0)),
            total.failures + int(suite.get("failures", 0)),
            total.errors + int(suite.get("errors", 0)),
            total.skipped + int(suite.get("skipped", 0)),
            total.seconds + float(suite.get("time", 0)),
        )
    return total


def summary(title: str, report: Path) -> str:
    """The Markdown for one job: a heading and a one-row table, or why there is no table."""
    heading = f"### {title}\n\n"
    if not report.is_file():
        return heading + f"No test report ({report.name}): the job stopped before pytest ran.\n"
    c = counts(report)
    verdict = "passed" if c.failures == c.errors == 0 else "FAILED"
    return heading + (
        "| tests | passed | failed | errors | skipped | seconds | verdict |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- |\n"
        f"| {c.tests} | {c.passed} | {c.failures} | {c.errors} | {c.skipped} | {c.seconds:.1f} "
        f"| {verdict} |\n"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python .ci/junit_summary.py TITLE REPORT.xml", file=sys.stderr)
        return 2
    print(summary(argv[0], Path(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
