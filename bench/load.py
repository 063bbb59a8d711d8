"""The load generator: asyncio clients speaking the chat protocol, each in a process of its own.

A client speaks first and the server answers each message with one line, so a
client sends a line, waits for one reply line, and repeats (a closed loop).

The generator runs as a subprocess (``python -m bench.load turns|hold ...``) for
two reasons: its client sockets count against its own open-file limit, which it
raises, not against the limit of the bench process that spawns the servers (so a
server gets exactly the limit a user's would); and its CPU is its own, away from
the bench's memory sampler. It runs on uvloop when that is installed (the ``fast``
extra): the generator's cost per turn is then well below any server's, so the
server under test, not the generator, sets the pace (each result carries the
generator's own CPU time to show it).

``turns``: N clients connect and print ``{"connected": N, ...}``; on a line on stdin
they chat T turns each and print throughput, latency percentiles and errors; they
close when stdin closes. So the bench reads the server's CPU time around the turns
alone, connecting and closing left out, and starts several generators at once.
``hold``: N clients each chat one turn, then stay connected and idle; prints how
many are held, then waits until its stdin closes (or its time limit passes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import select
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from bench.procs import BenchError, module_env, python_module
from bench.stats import Latency
from bots import loops

CONNECT_CONCURRENCY = 64  # connects in flight at once: inside any listen backlog, so no SYN waits 1 s
CONNECT_TIMEOUT_S = 10.0  # a connect slower than this on loopback is a failure, not a figure
FD_RESERVE = 64  # descriptors a generator keeps beyond its sockets: stdio, epoll, the loop's self-pipe
RELEASE_TIMEOUT_S = 10.0  # a holder closes 10,000 sockets in well under a second; then it is killed
HOLD_MESSAGE = b"hello\n"  # the one turn each held connection chats before going idle
GO = b"go\n"  # what the bench writes to a connected ``turns`` generator to start the turns


def generator_loop() -> str:
    """The generator's event loop: uvloop when installed, the lightest generator this machine has."""
    return loops.UVLOOP if loops.uvloop_installed() else loops.ASYNCIO


def raise_nofile_limit() -> int:
    """Raise this process's soft open-file limit to its hard limit; return the soft limit now."""
    import resource  # POSIX only: imported here so that the module imports on Windows too

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def sockets_per_generator() -> int:
    """How many client sockets one generator process can hold inside its hard open-file limit."""
    import resource  # POSIX only, as above

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20  # "unlimited" still stops at the kernel's fs.nr_open
    return max(1, hard - FD_RESERVE)


def split(total: int, per_part: int) -> list[int]:
    """Split *total* into the fewest near-equal parts of at most *per_part* each."""
    if total <= 0:
        return []
    parts = math.ceil(total / per_part)
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


@dataclass
class _Tally:
    """What all clients of one generator measured: latencies, errors by kind, the first wrong reply."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    first_wrong: str = ""

    def wrong(self, sent: bytes, expected: bytes, got: bytes) -> None:
        self.errors["wrong reply"] += 1
        if not self.first_wrong:
            self.first_wrong = f"sent {sent!r}, expected {expected!r}, got {got!r}"


class _Client(asyncio.Protocol):
    """One client connection, chatting its turns from callbacks alone.

    Each reply line is timed, checked and answered with the next message right
    inside :meth:`data_received`: no task and no future per turn, so the generator
    spends as little as it can and the server, not the generator, sets the pace.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, tally: _Tally) -> None:
        self.tally = tally
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.script: Sequence[tuple[bytes, bytes | None]] = ()
        self.offset = 0
        self.turns = 0
        self.turn = 0
        self.began = 0.0
        #: Done when every turn is answered or the server closed the connection.
        self.done: asyncio.Future[None] = loop.create_future()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have asyncio.Transport's methods without subclassing it: no isinstance.
        transport = cast("asyncio.Transport", transport)
        self.transport = transport

    def chat(self, script: Sequence[tuple[bytes, bytes | None]], offset: int, turns: int) -> None:
        """Start *turns* turns, message ``t`` being ``script[(offset + t) % len(script)]``."""
        self.script, self.offset, self.turns, self.turn = script, offset, turns, 0
        if turns <= 0:
            self._finish()
        elif self.closed:
            self._lost()
        else:
            self._send()

    def _send(self) -> None:
        assert self.transport is not None
        line = self.script[(self.offset + self.turn) % len(self.script)][0]
        self.began = time.perf_counter()
        self.transport.write(line)

    def data_received(self, data: bytes) -> None:
        if not self.buffer and data.find(b"\n") == len(data) - 1:
            # The usual case, one whole reply line in one read: no buffering needed.
            self._answered(data[:-1].removesuffix(b"\r"))
            return
        self.buffer += data
        while (newline := self.buffer.find(b"\n")) >= 0:
            reply = bytes(self.buffer[:newline]).removesuffix(b"\r")
            del self.buffer[: newline + 1]
            self._answered(reply)

    def _answered(self, reply: bytes) -> None:
        if self.turn >= self.turns:
            self.tally.errors["replies nobody asked for"] += 1
            return
        self.tally.latencies.append(time.perf_counter() - self.began)
        line, expected = self.script[(self.offset + self.turn) % len(self.script)]
        if expected is not None and reply != expected:
            self.tally.wrong(line, expected, reply)
        self.turn += 1
        if self.turn < self.turns:
            self._send()
        else:
            self._finish()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.turns and not self.done.done():
            self._lost()

    def _lost(self) -> None:
        self.tally.errors["closed by the server"] += 1
        self._finish()

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def close(self) -> None:
        """Close our side (a FIN, as a polite client does)."""
        if self.transport is not None:
            self.transport.close()


async def _connect_all(host: str, port: int, count: int, tally: _Tally) -> list[_Client]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect_one() -> _Client | None:
        async with gate:
            try:
                _transport, client = await asyncio.wait_for(
                    loop.create_connection(lambda: _Client(loop, tally), host, port), CONNECT_TIMEOUT_S
                )
            except asyncio.TimeoutError:
                tally.errors["connect timed out"] += 1
                return None
            except OSError as exc:
                tally.errors[f"connect failed: {exc.strerror or exc}"] += 1
                return None
            return client

    clients = await asyncio.gather(*(connect_one() for _ in range(count)))
    return [client for client in clients if client is not None]


async def _chat_all(
    clients: Sequence[_Client],
    script: Sequence[tuple[bytes, bytes | None]],
    turns: int,
    time_limit_s: float,
    tally: _Tally,
) -> float:
    """All clients chat their turns at once; return the wall time until the last reply."""
    started = time.perf_counter()
    for index, client in enumerate(clients):
        client.chat(script, index, turns)
    try:
        await asyncio.wait_for(asyncio.gather(*(client.done for client in clients)), time_limit_s)
    except asyncio.TimeoutError:
        unfinished = sum(1 for client in clients if not client.done.done())
        tally.errors[f"clients unfinished after the {time_limit_s:.0f} s limit"] += unfinished
    return time.perf_counter() - started


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    return stdin


async def run_turns(
    host: str,
    port: int,
    clients: int,
    turns: int,
    script: Sequence[tuple[bytes, bytes | None]],
    time_limit_s: float,
) -> None:
    """*clients* connect and report; on GO they all chat *turns* turns each and report the figures.

    Client ``i`` sends ``script[(i + t) % len(script)]`` at turn ``t``: a line, and the
    reply expected (``None``: any reply will do). Connecting is not timed. Each report is
    one JSON line on stdout; the clients close when stdin closes (or at once if it did).
    """
    tally = _Tally()
    stdin = await _stdin_reader()
    connected = await _connect_all(host, port, clients, tally)
    print(json.dumps({"connected": len(connected), "errors": dict(tally.errors)}), flush=True)
    try:
        go = await asyncio.wait_for(stdin.readline(), time_limit_s)
    except asyncio.TimeoutError:
        go = b""
    if go == GO:
        print(json.dumps(await _turn_figures(connected, script, turns, time_limit_s, tally)), flush=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stdin.read(), time_limit_s)
    for client in connected:
        client.close()


async def _turn_figures(
    connected: Sequence[_Client],
    script: Sequence[tuple[bytes, bytes | None]],
    turns: int,
    time_limit_s: float,
    tally: _Tally,
) -> dict[str, Any]:
    cpu_before = time.process_time()
    wall = await _chat_all(connected, script, turns, time_limit_s, tally)
    cpu = time.process_time() - cpu_before
    summary = Latency.of(tally.latencies)
    return {
        "clients": len(connected),
        "turns": len(tally.latencies),
        "wall_s": wall,
        "turns_per_s": len(tally.latencies) / wall if wall > 0 else float("nan"),
        "p50_s": summary.p50,
        "p99_s": summary.p99,
        "max_s": summary.max,
        "latencies": tally.latencies,
        "errors": dict(tally.errors),
        "first_wrong": tally.first_wrong,
        # The generator's own CPU while chatting: when it nears the wall time, the generator,
        # not the server, set the pace.
        "generator_cpu_s": cpu,
    }


async def hold(host: str, port: int, count: int, time_limit_s: float) -> None:
    """Connect *count* clients, chat one turn each, report on stdout, then idle until stdin closes."""
    tally = _Tally()
    deadline = time.monotonic() + time_limit_s
    connected = await _connect_all(host, port, count, tally)
    await _chat_all(connected, [(HOLD_MESSAGE, None)], 1, max(1.0, deadline - time.monotonic()), tally)
    held = sum(1 for client in connected if client.turn == 1 and not client.closed)
    print(json.dumps({"held": held, "errors": dict(tally.errors)}), flush=True)
    stdin = await _stdin_reader()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stdin.read(), max(1.0, deadline - time.monotonic()))
    for client in connected:
        client.close()


# -- the spawning side (runs in the bench process) ----------------------------------------------


def drive_turns(
    host: str,
    port: int,
    clients: int,
    turns: int,
    script_file: Path,
    time_limit_s: float,
    *,
    generators: int = 1,
    server_cpu: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Run the ``turns`` load in *generators* processes (more if the open-file limit needs); merge.

    All connect first; then the turns start in every generator at once. With *server_cpu*
    (the server's CPU seconds so far), the result's ``server_cpu_s`` is the CPU time the
    server used from the first turn to the last reply: connecting and closing left out.
    """
    parts = split(clients, min(sockets_per_generator(), max(1, math.ceil(clients / generators))))
    procs = [
        subprocess.Popen(
            python_module(
                "bench.load",
                "turns",
                host,
                str(port),
                str(part),
                str(turns),
                str(script_file),
                str(time_limit_s),
            ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=module_env(),
        )
        for part in parts
    ]
    deadline = time.monotonic() + time_limit_s + CONNECT_TIMEOUT_S * 2 + 30
    try:
        connected = [_report(proc, deadline) for proc in procs]
        cpu_before = server_cpu() if server_cpu is not None else float("nan")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(GO)
            proc.stdin.flush()
        results = [_report(proc, deadline) for proc in procs]
        cpu_after = server_cpu() if server_cpu is not None else float("nan")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in procs:
            proc.wait(max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise BenchError("the load generator did not finish within its time limit") from None
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
    for result, connect in zip(results, connected, strict=True):
        result["errors"] = dict(Counter(result["errors"]) + Counter(connect["errors"]))
    merged = merge(results)
    merged["server_cpu_s"] = cpu_after - cpu_before
    return merged


def _report(proc: subprocess.Popen[bytes], deadline: float) -> dict[str, Any]:
    """The next JSON line a generator prints; BenchError with its last stderr line if it fails."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
    if not ready:
        raise BenchError("the load generator did not finish within its time limit")
    line = proc.stdout.readline()
    if not line.startswith(b"{"):
        proc.wait(RELEASE_TIMEOUT_S)
        assert proc.stderr is not None
        last = proc.stderr.read().decode(errors="replace").strip().splitlines()[-1:] or [
            "(nothing on stderr)"
        ]
        raise BenchError(f"the load generator failed (status {proc.returncode}): {last[0]}")
    result: dict[str, Any] = json.loads(line)
    return result


def merge(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge the results of several generator processes that ran side by side."""
    if len(results) == 1:
        return {**results[0], "generator_busy": _busy(results[0])}
    latencies = [sample for result in results for sample in result["latencies"]]
    errors: Counter[str] = Counter()
    for result in results:
        errors.update(result["errors"])
    wall = max(result["wall_s"] for result in results)
    summary = Latency.of(latencies)
    return {
        "clients": sum(result["clients"] for result in results),
        "turns": len(latencies),
        "wall_s": wall,
        "turns_per_s": len(latencies) / wall if wall > 0 else float("nan"),
        "p50_s": summary.p50,
        "p99_s": summary.p99,
        "max_s": summary.max,
        "latencies": latencies,
        "errors": dict(errors),
        "first_wrong": next((r["first_wrong"] for r in results if r["first_wrong"]), ""),
        "generator_cpu_s": sum(result.get("generator_cpu_s", 0.0) for result in results),
        # The busiest generator process (CPU s per wall s): near 1.0, it and not the server set the pace.
        "generator_busy": max(_busy(result) for result in results),
    }


def _busy(result: dict[str, Any]) -> float:
    wall = float(result["wall_s"])
    return float(result.get("generator_cpu_s", float("nan"))) / wall if wall > 0 else float("nan")


class Holders:
    """Generator processes holding idle connections to one server, until :meth:`release`."""

    def __init__(self, host: str, port: int, count: int, time_limit_s: float) -> None:
        self.time_limit_s = time_limit_s
        self.procs = [
            subprocess.Popen(
                python_module("bench.load", "hold", host, str(port), str(part), str(time_limit_s)),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=module_env(),
            )
            for part in split(count, sockets_per_generator())
        ]

    def wait_held(self) -> tuple[int, Counter[str]]:
        """Wait until every holder reports; return connections held and errors by kind."""
        held = 0
        errors: Counter[str] = Counter()
        deadline = time.monotonic() + self.time_limit_s
        for proc in self.procs:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            line = proc.stdout.readline() if ready else b""
            if not line:
                errors["holder reported nothing"] += 1
                continue
            report = json.loads(line)
            held += int(report["held"])
            errors.update(report["errors"])
        return held, errors

    def release(self, *, at_once: bool = False) -> None:
        """Let every holder close its connections and exit; kill any that lingers (all, *at_once*)."""
        for proc in self.procs:
            if at_once and proc.poll() is None:
                proc.kill()
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=RELEASE_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def __enter__(self) -> Holders:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        # On an error or Ctrl-C nothing is measured any more: no reason to wait for a polite exit.
        self.release(at_once=exc_type is not None)


# -- the generator process ----------------------------------------------------------------------


def _load_script(path: Path) -> list[tuple[bytes, bytes | None]]:
    pairs = json.loads(path.read_text(encoding="utf-8"))
    return [
        ((line + "\n").encode(), None if expected is None else expected.encode()) for line, expected in pairs
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """The generator process: ``turns HOST PORT CLIENTS TURNS SCRIPT LIMIT`` or ``hold HOST PORT N LIMIT``."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    sub = parser.add_subparsers(dest="mode", required=True)
    turns = sub.add_parser("turns")
    hold_ = sub.add_parser("hold")
    for each in (turns, hold_):
        each.add_argument("host")
        each.add_argument("port", type=int)
        each.add_argument("clients", type=int)
    turns.add_argument("turns", type=int)
    turns.add_argument("script", type=Path)
    for each in (turns, hold_):
        each.add_argument("time_limit", type=float)
    args = parser.parse_args(argv)
    raise_nofile_limit()
    loop = generator_loop()
    if args.mode == "turns":
        script = _load_script(args.script)
        loops.run(run_turns(args.host, args.port, args.clients, args.turns, script, args.time_limit), loop)
    else:
        loops.run(hold(args.host, args.port, args.clients, args.time_limit), loop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
