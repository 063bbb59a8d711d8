"""Exit statuses shared by every program of the package (chat-server, chat-client, chat-bot).

The one place they are defined: the programs' ``--help`` texts are made from
:data:`MEANINGS`, and a test checks the docs' table against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class ExitStatus(IntEnum):
    """Program exit status code constants."""

    SUCCESS = 0
    #: An unexpected internal error (a bug: please report it).
    ERROR = 1
    #: Bad command-line usage (argparse's own convention).
    USAGE = 2
    #: The connection could not be made: refused, unknown host, port in use, permission denied, TLS.
    CONNECTION_ERROR = 3
    #: The peer vanished mid-chat (closed, reset or killed) without saying `exit`.
    PEER_LOST = 4
    #: A dialogue file is invalid (chat-bot --check / --script).
    INVALID_DIALOGUE = 5
    #: Test mode: a message did not match what an `expect` step wanted.
    MISMATCH = 6
    #: Test mode: the peer stayed silent past a step's timeout.
    TIMEOUT = 7
    #: Test mode: an `abort` pattern was seen.
    ABORT = 8
    #: --coverage-report --fail-under: the dialogues' coverage is under the threshold.
    COVERAGE_UNDER = 9
    #: chat-bot: a bug ended the chat (an exception in a turn); the bot's other chats went on.
    CHAT_ERROR = 10
    #: Hung up by SIGHUP, e.g. its terminal window was closed (128 + SIGHUP).
    HANGUP = 129
    #: Interrupted by Ctrl-C (128 + SIGINT).
    INTERRUPTED = 130
    #: Terminated by SIGTERM, e.g. `docker stop` (128 + SIGTERM).
    TERMINATED = 143

    @property
    def meaning(self) -> str:
        """A few words for help texts and docs: ``peer lost``."""
        return MEANINGS[self]


#: What each status means, in a few words; the order of the help texts.
MEANINGS: dict[ExitStatus, str] = {
    ExitStatus.SUCCESS: "chat ended (test passed)",
    ExitStatus.ERROR: "internal error",
    ExitStatus.USAGE: "bad usage",
    ExitStatus.CONNECTION_ERROR: "connection failed",
    ExitStatus.PEER_LOST: "peer lost",
    ExitStatus.INVALID_DIALOGUE: "invalid dialogue",
    ExitStatus.MISMATCH: "test mismatch",
    ExitStatus.TIMEOUT: "test timeout",
    ExitStatus.ABORT: "test abort",
    ExitStatus.COVERAGE_UNDER: "coverage under threshold",
    ExitStatus.CHAT_ERROR: "internal error in a chat",
    ExitStatus.HANGUP: "SIGHUP",
    ExitStatus.INTERRUPTED: "Ctrl-C",
    ExitStatus.TERMINATED: "SIGTERM",
}

#: The statuses the classic programs can end with (chat-bot can end with any).
CLASSIC_STATUSES = (
    ExitStatus.SUCCESS,
    ExitStatus.ERROR,
    ExitStatus.USAGE,
    ExitStatus.CONNECTION_ERROR,
    ExitStatus.PEER_LOST,
    ExitStatus.HANGUP,
    ExitStatus.INTERRUPTED,
    ExitStatus.TERMINATED,
)


def status_help(statuses: Iterable[ExitStatus] = tuple(ExitStatus)) -> str:
    """The ``exit status: 0 chat ended, 2 bad usage, ...`` line of a program's help."""
    listed = ", ".join(f"{int(status)} {status.meaning}" for status in statuses)
    return f"exit status: {listed}."


__all__ = ["CLASSIC_STATUSES", "MEANINGS", "ExitStatus", "status_help"]
