"""Exit statuses shared by every program of the package (chat-server, chat-client, chat-bot)."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Program exit status code constants; the README lists them for users and scripts."""

    SUCCESS = 0
    #: An unexpected internal error (a bug: please report it).
    ERROR = 1
    #: Bad command-line usage (argparse's own convention).
    USAGE = 2
    #: The connection could not be made: refused, unknown host, port in use, permission denied.
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
    #: Interrupted by Ctrl-C (128 + SIGINT).
    INTERRUPTED = 130
    #: Terminated by SIGTERM, e.g. `docker stop` (128 + SIGTERM).
    TERMINATED = 143
