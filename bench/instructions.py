"""``python -m bench.instructions``: scenario 1's turn counted in machine instructions, not CPU time.

CPU time per turn on a shared 2-core VM moves by a fifth to a third between runs of the same
code (scenario 1's bot ratio on uvloop: 1.41x in one full run, 1.64x to 1.96x in three more the
same day), and with it every ratio built on it. The instructions a server executes per turn do
not (within 2% in two runs), so this command gives scenario 1's figures a steady companion: the echo
on asyncio (the baseline), the echo on uvloop (the floor), and the bot on its default loop and
on ``--loop asyncio``, each started under valgrind's callgrind and driven by the same load
generator with scenario 1's dialogue and script. The counters are zeroed once every client is
connected and dumped after the last reply (``callgrind_control``), so start-up, connecting and
shutdown are left out, as in scenario 1's CPU figure.

The issue's targets are set on CPU time (``python -m bench``): these rows inform, they do not
judge. Instructions leave out what a cache miss or the kernel costs, so CPU time stays the figure.

    python -m bench.instructions [--clients N] [--turns N] [--json FILE]

Needs ``valgrind`` (Debian: ``apt-get install valgrind``); a server runs about 50 times slower
under it, so the default load is small: about a minute in all. Exit status 0 when it ran, 1 when
it could not (one line on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import dialogues
from bench.load import drive_turns
from bench.procs import BenchError, Server
from bench.report import Row, markdown, write_json
from bench.scenarios import ASYNCIO_CPU_TARGET, CPU_TARGET, QUICK, Bench
from bench.stats import ratio
from bots import loops
from chat import program

PROG = "python -m bench.instructions"
TOOLS = ("valgrind", "callgrind_control")
START_TIMEOUT_S = 180.0  # a Python server's start-up takes 5-15 s under callgrind here, not 0.2 s
TIME_LIMIT_S = 600.0  # one load run, 50 times slower than without valgrind
WARMUP_TURNS = 5  # not counted: a fresh server's first turns allocate and warm up
CONTROL_TIMEOUT_S = 60.0  # callgrind_control waits for the server to act on its request: seconds
HELD = "the target (python -m bench) holds its CPU time to"
SUMMARY = "summary:"  # the dump's total of instructions (callgrind_annotate's PROGRAM TOTALS)

ECHO, ECHO_UVLOOP, BOT, BOT_ASYNCIO = "echo", "echo on uvloop", "bot", "bot on asyncio"


def callgrind(argv: Sequence[str], out_file: Path) -> list[str]:
    """*argv* run under callgrind, its profile written to *out_file* (a dump adds ``.1``)."""
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", *argv]


def dumped_instructions(path: Path) -> int:
    """The instructions a callgrind dump holds (its ``summary:`` line); BenchError when it has none."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise BenchError(f"cannot read the callgrind dump {path}: {exc.strerror or exc}") from None
    for line in text.splitlines():
        if line.startswith(SUMMARY):
            return int(line[len(SUMMARY) :].split()[0])
    raise BenchError(f"the callgrind dump {path} has no {SUMMARY!r} line: is it a callgrind profile?")


class Counted:
    """One server under callgrind, counted from its first turn to its last reply (:meth:`mark`)."""

    def __init__(self, server: Server, out_file: Path) -> None:
        self.server = Server(server.name, callgrind(server.argv, out_file), out_file.parent, server.env)
        self.dump = out_file.with_name(out_file.name + ".1")
        self._marks = 0

    def mark(self) -> float:
        """Zero the counters (first call: every client connected), then dump them (second: the last reply)."""
        self._marks += 1
        command = "--zero" if self._marks == 1 else "--dump"
        try:
            subprocess.run(
                ["callgrind_control", command, str(self.server.pid)],
                check=True,
                capture_output=True,
                text=True,
                timeout=CONTROL_TIMEOUT_S,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise BenchError(
                f"callgrind_control {command} failed for {self.server.name}: {detail.strip()}"
            ) from None
        return self.server.cpu_s()

    def per_turn(self, clients: int, turns: int, script: Path) -> float:
        """Start the server, warm it up, drive *clients* x *turns*; instructions per turn."""
        server = self.server
        server.start(START_TIMEOUT_S)
        try:
            drive_turns(server.host, server.port, clients, WARMUP_TURNS, script, TIME_LIMIT_S)
            result = drive_turns(
                server.host, server.port, clients, turns, script, TIME_LIMIT_S, server_cpu=self.mark
            )
        finally:
            server.stop()
        errors = sum(result["errors"].values())
        if errors or not result["turns"]:
            raise BenchError(f"{server.name} under callgrind: {errors} errors in {result['turns']} turns")
        # callgrind_control --dump returned once the dump was written, and the server is gone since.
        return dumped_instructions(self.dump) / int(result["turns"])


def rows(counts: dict[str, float], clients: int, turns: int) -> list[Row]:
    """The table: each server's instructions per turn against the echo's on asyncio."""
    echo = counts[ECHO]
    label = f"1. in instructions, {clients:,} clients x {turns} turns, 20 rules"
    details = {
        ECHO: "the baseline: the echo on asyncio",
        ECHO_UVLOOP: "the floor: a turn on uvloop with no dialogue logic",
        BOT: f"the bot on its default loop ({loops.default_loop()}); {HELD} {CPU_TARGET:.2f}x",
        BOT_ASYNCIO: f"the bot on --loop asyncio; {HELD} {ASYNCIO_CPU_TARGET:.2f}x",
    }
    return [
        Row(f"{label}: {name}", count, "instr", echo, ratio(count, echo), "-", None, details[name])
        for name, count in counts.items()
    ]


def count(text: str) -> int:
    """argparse type: a number of clients or turns, at least 1."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too few: at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Scenario 1's turn in machine instructions (valgrind's callgrind): the echo and the bot.",
        epilog="exit status: 0 when it ran, 1 when it could not, 2 bad usage.",
    )
    parser.add_argument("--clients", type=count, default=100, help="clients at once (default 100)")
    parser.add_argument("--turns", type=count, default=30, help="turns per client (default 30)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON to FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Count each server's turns under callgrind and print the table; return the exit status."""
    args = _parser().parse_args(argv)
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise BenchError(
            f"{' and '.join(missing)} not found on PATH: install valgrind (Debian: apt-get install valgrind)"
        )
    with tempfile.TemporaryDirectory(prefix="chat-bench-instructions-") as scratch:
        work = Path(scratch)
        bench = Bench(QUICK, work)
        text, script = dialogues.twenty_rules()
        dialogue = bench.file("twenty-rules.yaml", text)
        bot_script = bench.script("bot.json", script)
        echo_script = bench.script("echo.json", dialogues.echo_script(script))
        servers = {ECHO: (bench.echo(), echo_script)}
        if loops.uvloop_installed():
            servers[ECHO_UVLOOP] = (bench.echo("echo-uvloop", loops.UVLOOP), echo_script)
            servers[BOT] = (bench.bot("bot", dialogue, loops.UVLOOP), bot_script)
            servers[BOT_ASYNCIO] = (bench.bot("bot-asyncio", dialogue), bot_script)
        else:
            servers[BOT] = (bench.bot("bot", dialogue), bot_script)
        counts: dict[str, float] = {}
        for name, (server, load) in servers.items():
            print(f"{PROG}: {name} under callgrind", file=sys.stderr, flush=True)
            counted = Counted(server, work / f"{server.name}.callgrind")
            counts[name] = counted.per_turn(args.clients, args.turns, load)
    table = rows(counts, args.clients, args.turns)
    print(markdown(table))
    if args.json is not None:
        write_json(table, args.json)
    return 0


def run() -> None:
    """Entry point of ``python -m bench.instructions``."""
    sys.exit(program.run(PROG, main))


if __name__ == "__main__":
    run()
