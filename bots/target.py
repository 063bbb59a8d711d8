"""What a dialogue test talks to under the pytest plugin: the ``target:`` key, and ``--chat-target``."""

from __future__ import annotations

from bots.model import Where
from chat.value import Value


class Target(Value):
    """What a dialogue test talks to under the pytest plugin (``target:``); chat-bot itself ignores it.

    *kind* is one of :data:`TARGET_KINDS`; *value* is the rest of ``KIND:VALUE``. *ready* (command
    targets) is a regular expression the program's output matches once it serves; *peer* (terminal
    targets) names the dialogue the client's peer bot serves, relative to the dialogue file.
    """

    __slots__ = ("kind", "peer", "ready", "value", "where")
    __match_args__ = ("kind", "value", "ready", "peer", "where")

    def __init__(
        self,
        kind: str,
        value: str,
        ready: str | None = None,
        peer: str | None = None,
        where: Where | None = None,
    ) -> None:
        self.kind = kind
        self.value = value
        self.ready = ready
        self.peer = peer
        self.where = where


#: The kinds of target: a running server, a server command, a container image, a client at its terminal.
TARGET_KINDS = ("tcp", "command", "image", "terminal")


def split_target(text: str) -> tuple[str, str]:
    """``KIND:VALUE`` -> (kind, value); ValueError with the reason when *text* is not a target."""
    kind, colon, value = text.partition(":")
    if not colon or kind not in TARGET_KINDS:
        raise ValueError(f"a target is KIND:VALUE with KIND one of {', '.join(TARGET_KINDS)}, not {text!r}")
    if not value.strip():
        raise ValueError(f"the {kind} target names nothing after '{kind}:'")
    if kind == "tcp":
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"a tcp target is tcp:HOST:PORT with a port from 1 to 65535, not {text!r}")
    return kind, value


__all__ = ["TARGET_KINDS", "Target", "split_target"]
