"""A serving chat-bot as the peer of a program under test: in this process, or as a program of its own."""

from __future__ import annotations

from pathlib import Path

from bots.loader import load_dialogue, parse_dialogue
from bots.server import ServeOptions, ServerThread
from chat_testing.env import program
from chat_testing.processes import Daemon

#: A dialogue whose only reply is the message received: the peer compares what comes back byte for byte.
ECHO_DIALOGUE = """\
# Echoes every message: the adversarial suite's peer compares what comes back byte for byte.
version: 1
name: echo
fallback: "{input}"
"""


def bot_in_process(dialogue: str | Path, *, delays: bool = False, text: bool = False) -> ServerThread:
    """A serving bot on a free loopback port, on its own event loop in a thread; use it as a context manager.

    *dialogue* is a file path, or the dialogue's YAML text when *text* is true.
    ``with bot_in_process(path) as bot: ... bot.port ...``
    """
    model = parse_dialogue(str(dialogue)) if text else load_dialogue(dialogue)
    return ServerThread(model, ServeOptions(delays=delays), host="127.0.0.1", port=0)


def bot_process(
    dialogue: str | Path, workdir: Path, *args: str, name: str = "chat-bot"
) -> tuple[Daemon, int]:
    """Start ``chat-bot --script DIALOGUE --port 0 ARGS...``; return it and its port once it listens."""
    daemon = Daemon([program("chat-bot"), "--script", str(dialogue), "--port", "0", *args], workdir, name)
    _host, port = daemon.listening()
    return daemon, port
