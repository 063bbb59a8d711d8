"""bots.adapter: the one-line fast path of data_received writes exactly what the general path writes."""

from __future__ import annotations

import asyncio
import textwrap

from bots.adapter import BotConnection, Run
from bots.dialogue import Dialogue, parse_dialogue
from bots.engine import Outcome

DIALOGUE = parse_dialogue(
    textwrap.dedent(
        """
        version: 1
        max_turns: 9
        rules:
          - regex: 'my name is (?P<name>\\w+)'
            set: {name: "{name}"}
            reply: "Hi {name}!"
          - contains: pick
            reply: {from: [one, two, three], order: random}
          - glob: "say *"
            reply: "{1}"
          - contains: bye
            reply: exit
        fallback: "Go on, {name}."
        """
    ).lstrip("\n"),
    "t.yaml",
)

# Whole lines (the fast path) mixed with what only the general path takes: partial lines,
# several lines in one read, CRLF, invalid UTF-8, an oversize line, a reply with a line break.
CHUNKS = [
    b"hello\n",
    b"my name is Ann\n",
    b"pick\r\n",
    b"pi",
    b"ck again\n",
    b"say a\rb\n",
    b"one\ntwo\n",
    b"x" * 70 + b"\n",
    b"caf\xe9\n",
    b"pick\n",
    b"so long\n",
]


class Wire(asyncio.Transport):
    """Records what the bot writes; closing is only noted."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 4242) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass


def _chat(dialogue: Dialogue, chunks: list[bytes], *, general: bool) -> tuple[list[bytes], list[Outcome]]:
    ends: list[Outcome] = []

    async def run() -> list[bytes]:
        shown: list[tuple[str, str]] = []
        run = Run(
            dialogue,
            seed="7",
            delays=False,
            max_message_bytes=64,
            # A screen sends every turn down the general path.
            screen=(lambda direction, text: shown.append((direction, text))) if general else None,
            on_close=lambda _connection, outcome, _reason: ends.append(outcome),
        )
        wire = Wire()
        connection = BotConnection(run)
        connection.connection_made(wire)
        for chunk in chunks:
            connection.data_received(chunk)
        connection.connection_lost(None)
        return wire.written

    return asyncio.run(run()), ends


def test_the_fast_path_writes_the_same_bytes_as_the_general_path() -> None:
    fast, fast_ends = _chat(DIALOGUE, CHUNKS, general=False)
    general, general_ends = _chat(DIALOGUE, CHUNKS, general=True)

    assert fast == general
    assert fast_ends == general_ends == [Outcome.ENDED_BY_BOT]  # max_turns
    assert fast[:2] == [b"Go on, .\n", b"Hi Ann!\n"]
    assert b"[reply over the 64-byte limit, not sent]\n" in fast  # "a\rb" cannot be framed
    assert fast[-1] == b"exit\n"


def test_the_fast_path_ends_the_chat_like_the_general_path() -> None:
    chunks = [b"hi\n", b"bye now\n", b"late\n"]

    fast, fast_ends = _chat(DIALOGUE, chunks, general=False)
    general, general_ends = _chat(DIALOGUE, chunks, general=True)

    assert fast == general == [b"Go on, .\n", b"exit\n"]
    assert fast_ends == general_ends == [Outcome.ENDED_BY_BOT]


def test_the_peers_exit_on_the_fast_path_ends_the_chat_without_a_reply() -> None:
    fast, fast_ends = _chat(DIALOGUE, [b"exit\n"], general=False)

    assert fast == []
    assert fast_ends == [Outcome.ENDED_BY_PEER]
