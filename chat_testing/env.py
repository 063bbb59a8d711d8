"""The environment every program under test gets: a plain terminal, bounded waits, installed programs."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

#: How long one wait on expected output lasts; CHAT_E2E_TIMEOUT_SCALE stretches it on slow machines.
EXPECT_TIMEOUT_S = 5.0 * float(os.environ.get("CHAT_E2E_TIMEOUT_SCALE", "1"))
#: How long a started program may take to be ready (its listening line, a container's first line): an
#: interpreter, a JVM or a container starting, on a machine whose cores other work keeps busy (a bot
#: started at a low CPU priority beside CI's other stages once took over 5 s). Only a failure waits it out.
START_TIMEOUT_S = 30.0 * float(os.environ.get("CHAT_E2E_TIMEOUT_SCALE", "1"))

# A fixed, plain terminal: no colours, no cursor queries, the same width everywhere.
CHILD_ENV_OVERRIDES = {
    "TERM": "dumb",
    "LC_ALL": "C.UTF-8",
    "LANG": "C.UTF-8",
    "PYTHONUNBUFFERED": "1",
    "PYTHONIOENCODING": "utf-8",
    "NO_COLOR": "1",
    "COLUMNS": "240",
    "LINES": "24",
}

#: Line tools the interop tests drive, and the Debian packages that hold them.
LINE_TOOL_PACKAGES = {
    "nc": "netcat-openbsd",
    "socat": "socat",
    "telnet": "telnet",
    "ncat": "ncat",
    "openssl": "openssl",
    "ngircd": "ngircd",  # the IRC server of the worked example (examples/irc)
}


class ToolMissing(Exception):
    """A program or line tool the test needs is not installed; the message says what to install."""


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child: ours, minus CHAT_* defaults, plus a plain terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env.update(CHILD_ENV_OVERRIDES)
    env.update(extra)
    return env


def program(name: str) -> str:
    """Path of an installed console script (next to this interpreter first, then on PATH)."""
    path = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    if path is None:
        raise ToolMissing(
            f"console script {name!r} is not installed: `pip install chat-classic` (or `pip install .`)"
        )
    return path


def find_tool(name: str) -> str:
    """Path of a line tool (nc, socat, telnet...); raise :class:`ToolMissing` naming its package."""
    path = shutil.which(name)
    if path is None:
        package = LINE_TOOL_PACKAGES.get(name, name)
        raise ToolMissing(f"{name} is not installed: install the Debian package {package}")
    return path


def ipv6_loopback_available() -> bool:
    """True when this machine can listen on ::1."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True
