"""The few error classes of the package.

The split follows h11 and trio: who is at fault decides the class, and the
program's edge (:func:`chat.program.run`) turns each expected error into one
stderr line and an exit status.
"""

from __future__ import annotations

from chat.status import ExitStatus


class ChatError(Exception):
    """Base of every expected error; carries the exit status the program should end with."""

    status: ExitStatus = ExitStatus.ERROR


class UsageError(ChatError):
    """The command line or the environment asked for something impossible."""

    status = ExitStatus.USAGE


class LocalProtocolError(Exception):
    """We were misused: our own code asked the protocol for something it cannot do.

    A bug, not an expected error (h11's rule): not a :class:`ChatError`, so the program's
    edge reports it as an internal error. Code that may hold a text the protocol cannot
    carry asks first (:meth:`chat.protocol.ChatConnection.unsendable`, ``frame_any``).
    """


class ConnectError(ChatError):
    """A connection could not be made, a port could not be opened, or TLS failed to start."""

    status = ExitStatus.CONNECTION_ERROR


class PeerLost(ChatError):
    """The peer went away (closed, reset, killed) without ending the chat with `exit`."""

    status = ExitStatus.PEER_LOST


class Terminated(ChatError):
    """SIGTERM arrived; raised from the signal handler so every `finally` still runs."""

    status = ExitStatus.TERMINATED


class HungUp(Terminated):
    """SIGHUP arrived (the terminal was closed): ended like SIGTERM, with its own status."""

    status = ExitStatus.HANGUP


__all__ = [
    "ChatError",
    "ConnectError",
    "HungUp",
    "LocalProtocolError",
    "PeerLost",
    "Terminated",
    "UsageError",
]
