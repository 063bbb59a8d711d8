"""chat-bot's coverage options: ``--coverage DATAFILE`` on every role that chats, and ``--coverage-report``.

Imported at start-up by :mod:`bots.cli`: argparse only; the collector and the report
are imported when asked for.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from chat.display import say
from chat.status import ExitStatus

if TYPE_CHECKING:
    from bots.coverage.collect import Collector
    from bots.model import Dialogue


def percentage(text: str) -> float:
    """argparse type: a percentage from 0 to 100."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be a percentage from 0 to 100")
    return value


def add(parser: argparse.ArgumentParser) -> None:
    """Add --coverage, --coverage-report, --fail-under and --html."""
    group = parser.add_argument_group("dialogue coverage (docs/testing.md, 'Dialogue coverage')")
    group.add_argument(
        "--coverage",
        metavar="DATAFILE",
        help="serving, --once, --connect: record which rules (each alternative), topics, redirects, "
        "fallbacks, remembered replies and script steps the chats used, in DATAFILE.<host>.<pid>.<random> "
        "(one file per process; --coverage-report combines them)",
    )
    group.add_argument(
        "--coverage-report",
        nargs="+",
        metavar="DATAFILE",
        help="combine the coverage data of each DATAFILE (and its DATAFILE.* parts), print a table per "
        "dialogue file with the file:line of what no chat used, and exit",
    )
    group.add_argument(
        "--fail-under",
        type=percentage,
        metavar="PCT",
        help=f"with --coverage-report: exit {int(ExitStatus.COVERAGE_UNDER)} when the total is under PCT",
    )
    group.add_argument(
        "--html", metavar="DIR", help="with --coverage-report: also write DIR/index.html and a page per file"
    )


def collector(args: argparse.Namespace, *dialogues: Dialogue) -> Collector | None:
    """--coverage: the process's collector, *dialogues* counted even if no chat runs; None without it."""
    if not args.coverage:
        return None
    from bots.coverage.collect import Collector

    found = Collector(args.coverage)
    for dialogue in dialogues:
        found.register(dialogue)
    return found


def save(found: Collector | None) -> None:
    """Write the process's coverage data, at the end of a role whatever its outcome.

    A failure to write is one stderr line; it ends the program with its status only when
    nothing else is ending it already (the chat's own failure is then the one reported).
    """
    if found is None:
        return
    from bots.coverage.data import CoverageDataError

    try:
        found.save()
    except CoverageDataError as exc:
        if sys.exc_info()[1] is None:
            raise
        print(f"chat-bot: {exc}", file=sys.stderr)


def report_role(args: argparse.Namespace) -> int:
    """--coverage-report: combine, print the tables, write the HTML; the threshold decides the status."""
    from bots.coverage import data, html, report

    combined, read = data.combine(args.coverage_report)
    found = report.Report(combined, read)
    for line in report.text(found):
        say(line)
    if args.html:
        try:
            pages = html.write(found, args.html)
        except OSError as exc:
            raise data.CoverageDataError(
                f"cannot write the HTML report to {args.html}: {exc.strerror or exc}"
            ) from None
        say(f"HTML report: {pages[0]}")
    if found.problems:
        for problem in found.problems[:-1]:
            print(f"chat-bot: {problem}", file=sys.stderr)
        raise report.NotReported(found.problems[-1])
    if args.fail_under is not None and found.percent < args.fail_under:
        raise report.CoverageUnder(
            f"coverage {report.shown_percent(found.percent)} is under --fail-under {args.fail_under:g}%"
        )
    return int(ExitStatus.SUCCESS)


__all__ = ["add", "collector", "percentage", "report_role", "save"]
