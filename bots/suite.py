"""A suite: ``chat-bot --connect --script A.yaml B.yaml DIR/`` runs every dialogue, one connection each.

A directory stands for the dialogue tests below it, found as the pytest plugin finds
them: files named ``test_*.chat.yaml``, at any depth, in name order. Other YAML files
in it (the serving dialogues the tests talk to, say) are left alone.

The suite ends with one summary line and the exit status of its worst cause, ranked
by :data:`SEVERITY`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from chat.errors import UsageError
from chat.status import ExitStatus

#: The file names a directory contributes to a suite (the pytest plugin collects the same).
SUITE_PATTERN = "test_*.chat.yaml"

#: Worst first. A cause that kept a dialogue from running at all (no connection, an invalid
#: file) outranks a test that ran and failed; among failures, the ones that say least about
#: the peer's answers (it vanished, it printed an abort pattern) outrank a plain mismatch.
SEVERITY = (
    ExitStatus.ERROR,
    ExitStatus.CONNECTION_ERROR,
    ExitStatus.INVALID_DIALOGUE,
    ExitStatus.PEER_LOST,
    ExitStatus.ABORT,
    ExitStatus.TIMEOUT,
    ExitStatus.MISMATCH,
    ExitStatus.SUCCESS,
)

#: Statuses that mean a dialogue could not run, counted as errors (the others as failures).
ERRORS = frozenset({ExitStatus.ERROR, ExitStatus.CONNECTION_ERROR, ExitStatus.INVALID_DIALOGUE})


def expand(paths: Sequence[str]) -> list[str]:
    """The dialogue files of a suite, each once: files as given, directories by their dialogue tests."""
    files: list[str] = []
    for path in paths:
        if not os.path.isdir(path):
            files.append(path)
            continue
        found = sorted(str(p) for p in Path(path).rglob(SUITE_PATTERN) if p.is_file())
        if not found:
            raise UsageError(
                f"--script {path}: the directory holds no {SUITE_PATTERN} file; "
                "name the dialogue tests so, or list the files"
            )
        files.extend(found)
    # A file named twice (listed, and found in a directory also listed) runs once, where first named.
    once: dict[str, str] = {}
    for file in files:
        once.setdefault(os.path.normpath(file), file)
    return list(once.values())


def worst(statuses: Sequence[ExitStatus]) -> ExitStatus:
    """The status of the worst cause among *statuses* (SUCCESS when there are none)."""
    return min(statuses, key=SEVERITY.index, default=ExitStatus.SUCCESS)


def tally(statuses: Sequence[ExitStatus]) -> tuple[int, int, int]:
    """Passed, failed and error counts of a suite's dialogues."""
    passed = sum(s is ExitStatus.SUCCESS for s in statuses)
    errors = sum(s in ERRORS for s in statuses)
    return passed, len(statuses) - passed - errors, errors


def summary(statuses: Sequence[ExitStatus], elapsed: float) -> str:
    """The suite's last line: ``suite: N passed, M failed, K errors, in T s``."""
    passed, failed, errors = tally(statuses)
    return f"suite: {passed} passed, {failed} failed, {errors} errors, in {elapsed:.3f} s"


__all__ = ["ERRORS", "SEVERITY", "SUITE_PATTERN", "expand", "summary", "tally", "worst"]
