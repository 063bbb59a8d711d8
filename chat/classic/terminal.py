"""The person at the terminal: line editing for the prompt."""

from __future__ import annotations

import contextlib
import sys


def enable_line_editing() -> None:
    """Give ``input()`` line editing and in-memory history where readline exists."""
    if not sys.stdin.isatty():
        return
    # Windows and minimal builds have no readline: plain input() still works.
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (importing it is what hooks input())
