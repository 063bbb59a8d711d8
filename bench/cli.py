"""``python -m bench [--quick] [--json FILE] [--only 1,2,3,4] [--locust]``: run, print the table.

Exit status 0 whenever the benchmark ran, targets met or not (the table's Met column
says which); non-zero, with one line on stderr, only when it could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from bench import report
from bench.procs import BenchError
from bench.scenarios import FULL, QUICK, SCENARIOS, Bench, locust, progress
from chat import program
from chat.errors import UsageError

PROG = "python -m bench"


def _scenario_list(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in SCENARIOS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of scenarios: use numbers from {', '.join(SCENARIOS)}, e.g. 1,3"
        )
    return chosen


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Benchmark the serving chat bot against a bare asyncio echo server run alongside; "
        "print a Markdown table of figures, baselines, ratios and targets.",
        epilog="exit status: 0 when the benchmark ran (missed targets show in the Met column), "
        "1 when it could not run, 2 bad usage.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small numbers, under a minute: the CI run that keeps it working"
    )
    parser.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the rows as JSON objects to FILE"
    )
    parser.add_argument(
        "--only",
        type=_scenario_list,
        metavar="N,...",
        help="run only these scenarios (default: all of 1,2,3,4; with --locust: none)",
    )
    parser.add_argument(
        "--locust",
        action="store_true",
        help="drive a distributed Locust run (a master and 2 workers, the load extra) against the bot and "
        "the echo, and print its rows",
    )
    return parser


@contextlib.contextmanager
def _over_time(limit_s: int) -> Iterator[None]:
    """Stop the run with BenchError past *limit_s*; the alarm and its handler go with the run, however it
    ends (left behind, they fired minutes later in whatever ran next in the process: a test's pytest)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise BenchError(
            f"the benchmark ran past its {limit_s} s limit and stopped; servers were stopped too"
        )

    before = signal.signal(signal.SIGALRM, handler)
    signal.alarm(limit_s)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen scenarios and print the table; return the exit status."""
    args = _parser().parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.json is not None and not args.json.parent.is_dir():
        raise UsageError(f"--json {args.json}: directory {args.json.parent} does not exist; create it first")
    began = time.monotonic()
    load_before = _load()
    rows: list[report.Row] = []
    with _over_time(plan.overall_limit_s), tempfile.TemporaryDirectory(prefix="chat-bench-") as workdir:
        bench = Bench(plan, Path(workdir))
        for number in args.only or ([] if args.locust else list(SCENARIOS)):
            rows.extend(SCENARIOS[number](bench))
        if args.locust:
            rows.extend(locust(bench))
    took = time.monotonic() - began
    command = " ".join([PROG, *(sys.argv[1:] if argv is None else argv)])
    print(report.markdown(rows))
    print()
    print(
        f"{'Quick' if args.quick else 'Full'} run (`{command}`) "
        f"on {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} "
        f"{platform.release()}; load average (1, 5, 15 min) {load_before} before, {_load()} after; "
        f"took {took:.0f} s."
    )
    if args.json is not None:
        report.write_json(rows, args.json)
        progress(f"rows written to {args.json}")
    return 0


def run() -> None:
    """Entry point of ``python -m bench``."""
    sys.exit(program.run(PROG, main))
