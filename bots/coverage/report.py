"""The coverage report: per dialogue file, what was used of each kind, and the ``file:line`` of the rest.

The dialogues named in the data are loaded again, as they are now, and their items
(:mod:`bots.coverage.items`) compared with the keys the chats recorded. The total is
every item of every dialogue, as coverage.py counts statements and branches together;
``--fail-under`` compares it, unrounded, with the threshold.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

from bots.coverage import data, items
from bots.loader import DialogueError, load_dialogue
from chat.errors import ChatError
from chat.status import ExitStatus

MAX_SHOWN_ALTERNATIVES = 5  # a word list may stand for 256 texts: the table names a few, the HTML all


class CoverageUnder(ChatError):
    """--fail-under: the total is under the threshold."""

    status = ExitStatus.COVERAGE_UNDER


class NotReported(ChatError):
    """A dialogue of the data cannot be loaded now (moved, deleted, broken): its items are unknown."""

    status = ExitStatus.INVALID_DIALOGUE


def shown_path(path: str, cwd: str | None = None) -> str:
    """*path* relative to the working folder when it is under it (as the chats' reports name files)."""
    cwd = cwd or os.getcwd()
    relative = os.path.relpath(path, cwd) if os.path.isabs(path) else path
    return path if relative.startswith("..") else relative


def percent(used: int, total: int) -> float:
    """Used of total in %, 100 when there is nothing to use."""
    return 100.0 if total == 0 else 100.0 * used / total


def shown_percent(value: float) -> str:
    """One decimal, rounded down: 99.96% shows as 99.9%, never as 100.0% (coverage.py's rule)."""
    return f"{math.floor(value * 10) / 10:.1f}%"


class DialogueReport:
    """One dialogue's items and which of them the chats used."""

    def __init__(
        self, path: str, name: str, recorded: data.DialogueData, inventory: list[items.Item]
    ) -> None:
        self.path = path
        self.name = name
        self.chats = recorded.chats
        self.items = inventory
        self.used = {item.key for item in inventory if item.key in recorded.used}
        #: Keys the data holds that name no item of the file as it is now (it changed since).
        self.stale = recorded.used - {item.key for item in inventory}
        self.changed = sorted(f for f, d in recorded.files.items() if d and data.digest(f) != d)

    def counts(self) -> dict[str, tuple[int, int]]:
        """Per kind present: (used, total)."""
        found: dict[str, tuple[int, int]] = {}
        for item in self.items:
            used, total = found.get(item.kind, (0, 0))
            found[item.kind] = (used + (item.key in self.used), total + 1)
        return {kind: found[kind] for kind in items.KINDS if kind in found}

    @property
    def total(self) -> tuple[int, int]:
        return len(self.used), len(self.items)

    def never_used(self) -> Iterator[tuple[items.Item, str]]:
        """Each item never used, with how the table names it; a rule's alternatives in one line."""
        unused_rules = {i.key for i in self.items if i.kind == items.RULE and i.key not in self.used}
        by_rule: dict[str, list[items.Item]] = {}
        for item in self.items:
            if item.kind == items.ALTERNATIVE and item.parent is not None:
                by_rule.setdefault(item.parent, []).append(item)
        for item in self.items:
            if item.key in self.used:
                continue
            if item.kind == items.ALTERNATIVE:
                siblings = by_rule[item.parent or ""]
                if item.parent in unused_rules or item is not next(
                    s for s in siblings if s.key not in self.used
                ):
                    continue  # the rule's line says it, or the first unused alternative's line names them all
                yield (
                    item,
                    _alternatives_line(item, [s for s in siblings if s.key not in self.used], len(siblings)),
                )
            elif item.parent is not None and item.parent in unused_rules:
                continue  # a redirect or memory of a rule never used: the rule's line says it
            else:
                yield item, item.label


def _alternatives_line(first: items.Item, unused: list[items.Item], count: int) -> str:
    rule = first.label.split(", alternative ")[0]
    texts = [item.label.split(": ", 1)[1] for item in unused[:MAX_SHOWN_ALTERNATIVES]]
    more = f" and {len(unused) - MAX_SHOWN_ALTERNATIVES} more" if len(unused) > MAX_SHOWN_ALTERNATIVES else ""
    return f"{rule}: {len(unused)} of {count} alternatives never used: {', '.join(texts)}{more}"


class Report:
    """Every dialogue of the combined data; the dialogues that could not be loaded, each with its problem."""

    def __init__(self, combined: data.CoverageData, datafiles: list[str]) -> None:
        self.datafiles = datafiles
        self.dialogues: list[DialogueReport] = []
        self.problems: list[str] = []
        for path, recorded in sorted(combined.dialogues.items()):
            try:
                dialogue = load_dialogue(path)
            except DialogueError as exc:
                self.problems.append(f"{shown_path(path)}: cannot report on it: {exc.problems[0]}")
                continue
            self.dialogues.append(DialogueReport(path, dialogue.name, recorded, items.inventory(dialogue)))

    @property
    def total(self) -> tuple[int, int]:
        used = sum(d.total[0] for d in self.dialogues)
        return used, sum(d.total[1] for d in self.dialogues)

    @property
    def percent(self) -> float:
        return percent(*self.total)


def text(report: Report) -> Iterator[str]:
    """The report as lines: a table per dialogue file, what was never used, then the total."""
    for dialogue in report.dialogues:
        chats = f"{dialogue.chats} chat{'' if dialogue.chats == 1 else 's'}"
        yield f"{shown_path(dialogue.path)} ({dialogue.name}, {chats})"
        for file in dialogue.changed:
            yield f"  warning: {shown_path(file)} changed since the chats ran: the places below may be off"
        if dialogue.stale:
            yield (
                f"  warning: {len(dialogue.stale)} item(s) used in the chats are not in the file as it is now"
            )
        yield f"  {'kind':<14}{'used':>6}{'total':>7}{'cover':>9}"
        for kind, (used, total) in dialogue.counts().items():
            yield f"  {items.KINDS[kind]:<14}{used:>6}{total:>7}{shown_percent(percent(used, total)):>9}"
        used, total = dialogue.total
        yield f"  {'all':<14}{used:>6}{total:>7}{shown_percent(percent(used, total)):>9}"
        unused = list(dialogue.never_used())
        if unused:
            yield "  never used:"
            for item, line in unused:
                yield f"    {shown_path(item.file)}:{item.line}  {line}"
        yield ""
    used, total = report.total
    files, parts = len(report.dialogues), len(report.datafiles)
    yield (
        f"total: {used} of {total} items used, {shown_percent(report.percent)}, in {files} dialogue "
        f"file{'' if files == 1 else 's'} (data: {parts} file{'' if parts == 1 else 's'})"
    )


__all__ = [
    "CoverageUnder",
    "DialogueReport",
    "NotReported",
    "Report",
    "percent",
    "shown_path",
    "shown_percent",
    "text",
]
