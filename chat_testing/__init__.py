"""chat_testing: the test harness of the chat programs, public, in the manner of ``click.testing``.

It drives real programs the way a person and a network would:

* :class:`Terminal`, :class:`Programs`: programs under a pseudo-terminal (pexpect), their
  transcripts kept; ``Programs.server()`` / ``client()`` / ``bot()`` start the chat programs
  on a free port and wait until they listen or connect.
* :class:`RawPeer`, :class:`RawListener`, :class:`LineClient`: plain TCP peers.
* :class:`ChunkingProxy`: a proxy that re-cuts every byte stream into random pieces.
* :class:`Daemon`: a program as a plain subprocess (servers under load), :func:`wait_until`.
* :func:`bot_in_process`, :func:`bot_process`: a serving chat-bot as the peer of a program under test.
* Targets (:mod:`chat_testing.targets`): :class:`CommandServer`, :class:`ImageServer`,
  :class:`TerminalClient`, :func:`parse_target`, :func:`free_port`; and running a dialogue test
  against one (:mod:`chat_testing.dialogue_tests`): :func:`run_over_tcp`, :func:`run_at_terminal`,
  their :class:`ChatRun`; or in memory, against another dialogue or a Python function, with no
  sockets and a fake clock (:mod:`chat_testing.memory`): :func:`converse`.

The pytest plugin (:mod:`chat_testing.plugin`, loaded automatically) adds fixtures around
these. Names load on first use, so importing the package costs nothing and needs no pexpect.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chat_testing.bots import ECHO_DIALOGUE, bot_in_process, bot_process
    from chat_testing.dialogue_tests import TEST_DEADLINE_S, ChatRun, run_at_terminal, run_over_tcp
    from chat_testing.env import EXPECT_TIMEOUT_S, ToolMissing, child_env, find_tool, program
    from chat_testing.memory import converse
    from chat_testing.peers import LineClient, RawListener, RawPeer
    from chat_testing.processes import Daemon, wait_until
    from chat_testing.programs import CONNECTED_TO_SERVER, LISTENING, Programs, listening_port
    from chat_testing.proxy import ChunkingProxy
    from chat_testing.targets import (
        CommandServer,
        ImageServer,
        TargetError,
        TerminalClient,
        free_port,
        parse_target,
    )
    from chat_testing.terminal import Terminal

# Where each public name lives (PEP 562 lazy loading: pexpect loads only with Terminal).
_HOME = {
    "ECHO_DIALOGUE": "bots",
    "bot_in_process": "bots",
    "bot_process": "bots",
    "ChatRun": "dialogue_tests",
    "TEST_DEADLINE_S": "dialogue_tests",
    "run_at_terminal": "dialogue_tests",
    "run_over_tcp": "dialogue_tests",
    "EXPECT_TIMEOUT_S": "env",
    "ToolMissing": "env",
    "child_env": "env",
    "find_tool": "env",
    "program": "env",
    "converse": "memory",
    "LineClient": "peers",
    "RawListener": "peers",
    "RawPeer": "peers",
    "Daemon": "processes",
    "wait_until": "processes",
    "CONNECTED_TO_SERVER": "programs",
    "LISTENING": "programs",
    "Programs": "programs",
    "listening_port": "programs",
    "ChunkingProxy": "proxy",
    "CommandServer": "targets",
    "ImageServer": "targets",
    "TargetError": "targets",
    "TerminalClient": "targets",
    "free_port": "targets",
    "parse_target": "targets",
    "Terminal": "terminal",
}

__all__ = [
    "CONNECTED_TO_SERVER",
    "ECHO_DIALOGUE",
    "EXPECT_TIMEOUT_S",
    "LISTENING",
    "TEST_DEADLINE_S",
    "ChatRun",
    "ChunkingProxy",
    "CommandServer",
    "Daemon",
    "ImageServer",
    "LineClient",
    "Programs",
    "RawListener",
    "RawPeer",
    "TargetError",
    "Terminal",
    "TerminalClient",
    "ToolMissing",
    "bot_in_process",
    "bot_process",
    "child_env",
    "converse",
    "find_tool",
    "free_port",
    "listening_port",
    "parse_target",
    "program",
    "run_at_terminal",
    "run_over_tcp",
    "wait_until",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'chat_testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"chat_testing.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
