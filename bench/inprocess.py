"""The in-process cost of one turn of the serving bot, per pattern kind, beside the echo's.

A turn here is one line handed to the serving path (:class:`bots.adapter.BotConnection`'s
``data_received``: the codec, the driver, the engine, the matcher, the reply's framing and the
write) on a transport that only keeps count; no socket, no event loop turn. The dialogue and the
messages are scenario 1's (:func:`bench.dialogues.twenty_rules`), sorted by the kind of rule that
answers them, and the baseline is the echo server's protocol (:class:`bench.echo.EchoProtocol`) on
the same transport. The figures say what the bot's own work costs per kind, without the loop and
the kernel's share that scenario 1 measures, so a regression in one kind shows in CI's quick run.

``python -m bench.inprocess`` prints the table alone.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import dialogues
from bench.echo import EchoProtocol
from bench.stats import ratio

PEERS = 100  # connections the turns are spread over, as scenario 1's quick run has clients
KINDS = ("exact", "contains", "glob", "regex", "fallback")  # the rows, in scenario 1's rule order
RULES_PER_KIND = 5  # twenty_rules: five rules of each kind, then the fallback's message


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


def _time_turns(feed: Callable[[int, bytes], None], lines: Sequence[bytes], turns: int) -> float:
    """Microseconds per turn of *turns* lines, spread over PEERS peers."""
    count = len(lines)
    began = time.perf_counter_ns()
    for turn in range(turns):
        feed(turn % PEERS, lines[turn % count])
    return (time.perf_counter_ns() - began) / turns / 1000


async def _measure(turns: int, rounds: int) -> dict[str, float]:
    from bots.adapter import BotConnection, Run
    from bots.loader import parse_dialogue
    from chat.protocol import MAX_MESSAGE_BYTES

    text, _script = dialogues.twenty_rules()
    dialogue = parse_dialogue(text, "twenty-rules.yaml")
    run = Run(dialogue, seed="bench", delays=False, max_message_bytes=MAX_MESSAGE_BYTES)
    bots = []
    for _peer in range(PEERS):
        connection = BotConnection(run)
        connection.connection_made(CountingTransport())
        bots.append(connection)
    echoes = []
    for _peer in range(PEERS):
        echo = EchoProtocol(set())
        echo.connection_made(CountingTransport())
        echoes.append(echo)
    by_kind = messages_by_kind()
    for connection in bots:  # each reply is checked once: a wrong one would make the figures meaningless
        for kind, checked in by_kind.items():
            for line, expected in checked:
                transport = connection.transport
                assert isinstance(transport, CountingTransport)
                before = transport.written
                connection.handled = 0
                connection.data_received(line)
                size = transport.written - before
                if expected is not None and size != len(expected.encode()) + 1:
                    raise RuntimeError(f"{kind} turn {line!r}: {size} bytes written, expected {expected!r}")

    def bot_feed(peer: int, line: bytes) -> None:
        connection = bots[peer]
        connection.handled = (
            0  # what the loop's next turn does (see MESSAGES_PER_CALLBACK): no loop runs here
        )
        connection.data_received(line)

    def echo_feed(peer: int, line: bytes) -> None:
        echoes[peer].data_received(line)

    figures: dict[str, list[float]] = {}
    for _round in range(rounds):  # interleaved, so a busy moment hits every kind alike
        figures.setdefault("echo", []).append(
            _time_turns(echo_feed, [line for line, _ in by_kind["exact"]], turns)
        )
        for kind in KINDS:
            lines = [line for line, _ in by_kind[kind]]
            figures.setdefault(kind, []).append(_time_turns(bot_feed, lines, turns))
    return {name: min(values) for name, values in figures.items()}


def measure(turns: int = 20_000, rounds: int = 5) -> dict[str, float]:
    """Microseconds per turn: the echo's and each kind's, the best of *rounds* runs of *turns* turns.

    The best, not the median: in process nothing but the machine's other work makes a run slower,
    so the fastest run is the one least disturbed.
    """
    return asyncio.run(_measure(turns, rounds))


def table(figures: dict[str, float]) -> str:
    """A Markdown table of *figures* (from :func:`measure`)."""
    lines = ["| turn | us per turn | vs echo |", "| --- | ---: | ---: |"]
    echo = figures["echo"]
    lines.append(f"| echo | {echo:.3f} | 1.00x |")
    lines.extend(f"| {kind} | {figures[kind]:.3f} | {ratio(figures[kind], echo):.2f}x |" for kind in KINDS)
    return "\n".join(lines)


def mean_turn(figures: dict[str, float]) -> float:
    """Scenario 1's mix: five rules of each kind and one fallback message in 21 turns."""
    return (sum(figures[kind] * RULES_PER_KIND for kind in KINDS[:-1]) + figures["fallback"]) / (
        len(KINDS[:-1]) * RULES_PER_KIND + 1
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table (``--quick``: fewer turns)."""
    args = sys.argv[1:] if argv is None else list(argv)
    quick = "--quick" in args
    figures = measure(turns=5_000 if quick else 20_000, rounds=3 if quick else 5)
    print(table(figures))
    print(f"\nscenario 1's mix: {mean_turn(figures):.3f} us per turn")
    return 0


if __name__ == "__main__":
    sys.exit(main())
