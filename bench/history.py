"""``python -m bench.history [options] REV[::ARGS] ...``: scenario 1's CPU per turn at several revisions.

Each revision is checked out (``git worktree add --detach``) into a temporary folder, and its
serving bot runs from there, beside the echo server, against the same 20-rule dialogue and load
generator as scenario 1; the servers take their turns round by round and the medians are printed as
a Markdown table. ``ARGS`` after ``::`` are extra options for that revision's bot, e.g.
``HEAD::--loop asyncio``. Run it from the repository (git must know the revisions).

    python -m bench.history 100ad67 'HEAD::--loop asyncio' 'HEAD::--loop uvloop'

Exit status 0 when it ran, 1 when it could not (one line on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench import dialogues
from bench.load import drive_turns
from bench.procs import BenchError, Server, module_env, python_module
from bench.stats import median, ratio
from chat import program

PROG = "python -m bench.history"
HOST = "127.0.0.1"  # loopback only, as every server the benchmark starts
START_TIMEOUT_S = 30.0
TIME_LIMIT_S = 120.0  # one load run; a revision slower than this gets an error, not a hang
WARMUP_TURNS = 10  # not counted: a fresh server's first turns allocate and warm up
MAX_CLIENTS = "5000"  # above any load here; old revisions refuse --max-clients 0
# The bot must run the revision's code only: not the working directory's (python -c puts it first
# on sys.path), and not through an editable install of this checkout, whose finder would still
# serve a module the old tree lacks.
_BOT_MAIN = (
    "import runpy, sys; "
    "sys.path[:] = [p for p in sys.path if p not in ('', '.') and not p.startswith('__editable__')]; "
    "sys.meta_path[:] = [f for f in sys.meta_path if not f.__module__.startswith('__editable__')]; "
    "runpy.run_module('bots.cli', run_name='__main__', alter_sys=True)"
)


def parse_revision(spec: str) -> tuple[str, list[str]]:
    """``REV::ARGS`` -> (REV, ARGS split on blanks); a plain ``REV`` has no extra options."""
    revision, _sep, extra = spec.partition("::")
    if not revision.strip():
        raise argparse.ArgumentTypeError(f"{spec!r} names no revision: write REV or REV::OPTIONS")
    return revision.strip(), extra.split()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Server CPU per turn of the serving bot at several git revisions, beside the echo.",
        epilog="exit status: 0 when it ran, 1 when it could not, 2 bad usage.",
    )
    parser.add_argument("revisions", nargs="+", type=parse_revision, metavar="REV[::OPTIONS]")
    parser.add_argument("--clients", type=int, default=100, help="clients at once (default 100)")
    parser.add_argument("--turns", type=int, default=300, help="turns per client (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median counts (default 5)")
    return parser


@contextmanager
def checkout(revision: str, into: Path) -> Iterator[Path]:
    """The tree of *revision* in *into*, removed afterwards."""
    try:
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(into), revision],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise BenchError(f"cannot check out {revision!r}: {detail.strip()}") from None
    try:
        yield into
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(into)], check=False, capture_output=True)


def row(name: str, runs: Sequence[dict[str, float]], echo_us: float) -> str:
    """One Markdown row: median CPU per turn, its ratio to the echo's, median throughput, every run."""
    us = median([run["us"] for run in runs])
    tps = median([run["tps"] for run in runs])
    each = ", ".join(f"{run['us']:.2f}" for run in runs)
    return f"| {name} | {us:.2f} us | {ratio(us, echo_us):.2f}x | {tps:,.0f} turns/s | {each} |"


def main(argv: Sequence[str] | None = None) -> int:
    """Check out each revision, run the rounds, print the table; return the exit status."""
    args = _parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chat-bench-history-") as scratch:
        work = Path(scratch)
        text, script = dialogues.twenty_rules()
        dialogue = dialogues.write(work / "twenty-rules.yaml", text)
        bot_script = dialogues.write_script(work / "bot.json", script)
        echo_script = dialogues.write_script(work / "echo.json", dialogues.echo_script(script))
        servers: dict[str, tuple[Server, Path]] = {
            "echo": (
                Server(
                    "echo", python_module("bench.echo", "--host", HOST, "--port", "0"), work, module_env()
                ),
                echo_script,
            )
        }
        with ExitStack() as stack:
            for number, (revision, extra) in enumerate(args.revisions):
                tree = stack.enter_context(checkout(revision, work / f"tree-{number}"))
                argv_bot = [sys.executable, "-c", _BOT_MAIN, "--script", str(dialogue), "--host", HOST]
                argv_bot += ["--port", "0", "--no-delay", "--max-clients", MAX_CLIENTS, *extra]
                env = {**os.environ, "PYTHONPATH": str(tree)}
                name = " ".join([revision, *extra])
                servers[name] = (Server(f"bot-{number}", argv_bot, work, env), bot_script)
            results: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
            try:
                for server, load in servers.values():
                    server.start(START_TIMEOUT_S)
                    drive_turns(server.host, server.port, args.clients, WARMUP_TURNS, load, TIME_LIMIT_S)
                for _round in range(args.rounds):
                    for name, (server, load) in servers.items():  # interleaved, as scenario 1
                        out = drive_turns(
                            server.host,
                            server.port,
                            args.clients,
                            args.turns,
                            load,
                            TIME_LIMIT_S,
                            generators=2,
                            server_cpu=server.cpu_s,
                        )
                        turns = max(1, int(out["turns"]))
                        results[name].append(
                            {"us": 1e6 * out["server_cpu_s"] / turns, "tps": out["turns_per_s"]}
                        )
            finally:
                for server, _load in servers.values():
                    server.stop()
    echo_us = median([run["us"] for run in results["echo"]])
    print("| server | CPU per turn | vs echo | throughput | each round (us) |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, runs in results.items():
        print(row(name, runs, echo_us))
    print(f"\n{args.clients} clients x {args.turns} turns, 20 rules, median of {args.rounds} (`{PROG} ...`)")
    return 0


def run() -> None:
    """Entry point of ``python -m bench.history``."""
    sys.exit(program.run(PROG, main))


if __name__ == "__main__":
    run()
