"""The in-process cost of one turn of the serving bot: per pattern kind, and as the rules grow.

A turn here is one line handed to the serving path (:class:`bots.adapter.BotConnection`'s
``data_received``: the codec, the driver, the engine, the matcher, the reply's framing and the
write) on a transport that only keeps count: no socket, no event loop turn. So the figures say
what the bot's own work costs, without the loop's and the kernel's share that scenario 1
measures, and a regression in one kind shows in CI's quick run.

* **Per kind** (beside scenario 1): scenario 1's dialogue and messages
  (:func:`bench.dialogues.twenty_rules`), sorted by the kind of rule that answers them; the
  baseline is the echo server's protocol (:class:`bench.echo.EchoProtocol`) on the same transport.
* **Scaling** (beside scenario 2): a turn that only the fallback takes, against 10 and 1,000
  regex rules (:func:`bench.dialogues.regex_rules`), with a message of 40 and of 1,000 characters.

``python -m bench.inprocess [--quick]`` prints both tables alone.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import dialogues
from bench.echo import EchoProtocol
from bench.report import Row, markdown
from bench.stats import ratio

PEERS = 100  # connections the turns are spread over, as scenario 1's quick run has clients
KINDS = ("exact", "contains", "glob", "regex", "fallback")  # the rows, in scenario 1's rule order
RULES_PER_KIND = 5  # twenty_rules: five rules of each kind, then the fallback's message
RULE_COUNTS = (10, 1000)  # the scaling target: 1,000 rules within 2x of 10
MESSAGE_CHARS = (40, 1000)  # a chat line, and a paragraph near the cap patterns read (1,024)
SCALING_TARGET = 2.0


class CountingTransport(asyncio.Transport):
    """A transport that writes nowhere: it counts bytes, so that a turn's write costs a call."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += len(data)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def messages_by_kind() -> dict[str, list[tuple[bytes, str | None]]]:
    """Scenario 1's messages (each a line, with the reply it must get), by the kind of rule answering."""
    _text, script = dialogues.twenty_rules()
    lines = [((message + "\n").encode(), expected) for message, expected in script]
    found = {kind: lines[n * RULES_PER_KIND : (n + 1) * RULES_PER_KIND] for n, kind in enumerate(KINDS[:-1])}
    found["fallback"] = lines[len(KINDS[:-1]) * RULES_PER_KIND :]
    return found


def fallback_message(chars: int) -> str:
    """A message of *chars* characters that no regex rule of :func:`bench.dialogues.regex_rules` takes."""
    words = (dialogues.UNMATCHED_MESSAGE + " ") * (chars // len(dialogues.UNMATCHED_MESSAGE) + 1)
    return words[:chars].rstrip().ljust(chars, ".")


def _peers(dialogue_text: str, count: int) -> list[Any]:
    """*count* serving connections on *dialogue_text*, each on its own counting transport."""
    from bots.adapter import BotConnection, Run
    from bots.loader import parse_dialogue
    from chat.protocol import MAX_MESSAGE_BYTES

    run = Run(
        parse_dialogue(dialogue_text, "bench.yaml"),
        seed="bench",
        delays=False,
        max_message_bytes=MAX_MESSAGE_BYTES,
    )
    peers = []
    for _peer in range(count):
        connection = BotConnection(run)
        connection.connection_made(CountingTransport())
        peers.append(connection)
    return peers


def _feeder(peers: Sequence[Any]) -> Callable[[int, bytes], None]:
    def feed(peer: int, line: bytes) -> None:
        connection = peers[peer]
        connection.handled = (
            0  # what the loop's next turn does (see MESSAGES_PER_CALLBACK): no loop runs here
        )
        connection.data_received(line)

    return feed


def _check(
    feed: Callable[[int, bytes], None], peers: Sequence[Any], line: bytes, expected: str | None
) -> None:
    """Send *line* once to each peer; every reply must be *expected* (else the figures mean nothing)."""
    for number, connection in enumerate(peers):
        transport = connection.transport
        before = transport.written
        feed(number, line)
        size = transport.written - before
        if expected is not None and size != len(expected.encode()) + 1:
            raise RuntimeError(f"{line!r}: {size} bytes written, expected {expected!r}")


def _time_turns(feed: Callable[[int, bytes], None], lines: Sequence[bytes], turns: int, peers: int) -> float:
    """Microseconds per turn of *turns* lines, spread over *peers* peers."""
    count = len(lines)
    began = time.perf_counter_ns()
    for turn in range(turns):
        feed(turn % peers, lines[turn % count])
    return (time.perf_counter_ns() - began) / turns / 1000


async def _per_kind(turns: int, rounds: int) -> dict[str, float]:
    text, _script = dialogues.twenty_rules()
    bots = _peers(text, PEERS)
    echoes = []
    for _peer in range(PEERS):
        echo = EchoProtocol(set())
        echo.connection_made(CountingTransport())
        echoes.append(echo)
    by_kind = messages_by_kind()
    bot_feed = _feeder(bots)
    for checked in by_kind.values():
        for line, expected in checked:
            _check(bot_feed, bots, line, expected)

    def echo_feed(peer: int, line: bytes) -> None:
        echoes[peer].data_received(line)

    figures: dict[str, list[float]] = {}
    for _round in range(rounds):  # interleaved, so a busy moment hits every kind alike
        exact = [line for line, _ in by_kind["exact"]]
        figures.setdefault("echo", []).append(_time_turns(echo_feed, exact, turns, PEERS))
        for kind in KINDS:
            lines = [line for line, _ in by_kind[kind]]
            figures.setdefault(kind, []).append(_time_turns(bot_feed, lines, turns, PEERS))
    return {name: min(values) for name, values in figures.items()}


async def _scaling(turns: int, rounds: int) -> dict[tuple[int, int], float]:
    feeds = {}
    for count in RULE_COUNTS:
        peers = _peers(dialogues.regex_rules(count), 1)
        feeds[count] = _feeder(peers)
        _check(feeds[count], peers, f"{fallback_message(40)}\n".encode(), dialogues.FALLBACK_REPLY)
    figures: dict[tuple[int, int], list[float]] = {}
    for _round in range(rounds):
        for chars in MESSAGE_CHARS:
            line = f"{fallback_message(chars)}\n".encode()
            for count in RULE_COUNTS:
                figures.setdefault((count, chars), []).append(_time_turns(feeds[count], [line], turns, 1))
    return {key: min(values) for key, values in figures.items()}


def measure(turns: int = 20_000, rounds: int = 5) -> dict[str, float]:
    """Microseconds per turn: the echo's and each kind's, the best of *rounds* runs of *turns* turns.

    The best, not the median: in process nothing but the machine's other work makes a run slower,
    so the fastest run is the one least disturbed.
    """
    return asyncio.run(_per_kind(turns, rounds))


def scaling(turns: int = 5_000, rounds: int = 5) -> dict[tuple[int, int], float]:
    """Microseconds per fallback turn, by (rule count, message characters): the best of *rounds* runs."""
    return asyncio.run(_scaling(turns, rounds))


def kind_rows(figures: dict[str, float], detail: str) -> list[Row]:
    """Rows beside scenario 1: each kind's turn in process against the echo's."""
    echo = figures["echo"]
    what = {
        "exact": "exact rule (fixed reply)",
        "contains": "contains rule (fixed reply)",
        "glob": "glob rule (fixed reply)",
        "regex": "regex rule, captures in the reply",
        "fallback": "fallback (no rule matches)",
    }
    return [
        Row(
            f"1. in process: a turn, {what[kind]}",
            figures[kind],
            "us",
            echo,
            ratio(figures[kind], echo),
            "-",
            None,
            f"{detail}; baseline: the echo's protocol on the same transport",
        )
        for kind in KINDS
    ]


def scaling_rows(figures: dict[tuple[int, int], float], detail: str) -> list[Row]:
    """Rows beside scenario 2: the fallback turn at 1,000 rules against 10, per message length."""
    small, large = RULE_COUNTS
    rows = []
    for chars in MESSAGE_CHARS:
        figure, baseline = figures[(large, chars)], figures[(small, chars)]
        rows.append(
            Row(
                f"2. in process: fallback turn, {large:,} regex rules vs {small}, {chars:,} characters",
                figure,
                "us",
                baseline,
                ratio(figure, baseline),
                f"<= {SCALING_TARGET:.2f}x",
                ratio(figure, baseline) <= SCALING_TARGET,
                detail,
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print both tables (``--quick``: fewer turns)."""
    args = sys.argv[1:] if argv is None else list(argv)
    quick = "--quick" in args
    turns, rounds = (5_000, 3) if quick else (20_000, 5)
    detail = f"best of {rounds} runs of {turns:,} turns"
    rows = kind_rows(measure(turns, rounds), detail) + scaling_rows(scaling(turns // 4, rounds), detail)
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
