"""The four scenarios of the benchmark; each returns its rows of the table.

1. Many clients at once against a 20-rule dialogue: throughput, capacity (turns per server
   CPU-second), p99 latency, errors.
2. Rule-count scaling: per-turn latency when only the fallback matches.
3. Idle connections held by one server: RSS per connection.
4. Start-up: wall time of ``chat-bot --check`` and ``chat-client --help``.

Every bot figure has a baseline measured in the same run: the echo server (1-3) or
a bare interpreter start (4).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import dialogues
from bench.load import Holders, drive_turns
from bench.procs import RssSampler, Server, console_script, module_env, python_module, running
from bench.report import Row
from bench.stats import KIB, median, per_connection_kib, ratio

HOST = "127.0.0.1"  # servers under test listen on loopback only
START_TIMEOUT_S = 30.0  # a server not listening by then is broken, not slow
BIG_START_TIMEOUT_S = 180.0  # loading 10,000 rules may be slow; that is reported, not fatal
SETTLE_S = 0.5  # lets a server finish the work of the last burst before its memory is read
COMMAND_TIMEOUT_S = 30.0  # one start-up command; far above any plausible start-up time

THROUGHPUT_TARGET = 0.8  # scenario 1: bot turns/s at least this times the echo baseline's
P99_TARGET = 1.5  # scenario 1: bot p99 latency at most this times the baseline's
SCALING_TARGET = 2.0  # scenario 2: the largest dialogue's turn at most this times the 10-rule one's
RSS_TARGET_KIB = 10.0  # scenario 3: RSS per idle connection
STARTUP_TARGET_MS = 150.0  # scenario 4: each command's wall time


@dataclass(frozen=True)
class Plan:
    """The sizes of one run: quick (CI, under a minute) or full (the README's figures)."""

    clients: int
    turns: int
    rounds: int  # scenario 1 alternates echo and bot this many times and keeps the best of each
    rule_counts: tuple[int, int, int]
    latency_turns: int
    warmup_turns: int
    latency_rounds: int
    idle: int
    startup_runs: int
    time_limit_s: float  # one load run; a server slower than this gets an error, not a hang
    overall_limit_s: int  # the whole benchmark stops by itself after this


QUICK = Plan(
    clients=100,
    turns=20,
    rounds=1,
    rule_counts=(10, 100, 1000),
    latency_turns=100,
    warmup_turns=10,
    latency_rounds=1,
    idle=500,
    startup_runs=3,
    time_limit_s=30,
    overall_limit_s=180,
)
FULL = Plan(
    clients=1000,
    turns=50,
    rounds=3,
    rule_counts=(10, 1000, 10000),
    latency_turns=300,
    warmup_turns=20,
    latency_rounds=2,
    idle=10000,
    startup_runs=7,
    time_limit_s=120,
    overall_limit_s=600,
)


def progress(text: str) -> None:
    """One progress line on stderr (stdout carries only the table)."""
    print(f"bench: {text}", file=sys.stderr, flush=True)


class Bench:
    """What the scenarios share: the plan, a scratch directory, and how to start each server."""

    def __init__(self, plan: Plan, workdir: Path) -> None:
        self.plan = plan
        self.workdir = workdir
        self.chat_bot = console_script("chat-bot")

    def echo(self, name: str = "echo") -> Server:
        """The baseline server."""
        argv = python_module("bench.echo", "--host", HOST, "--port", "0")
        return Server(name, argv, self.workdir, env=module_env())

    def bot(self, name: str, dialogue: Path) -> Server:
        """A serving bot on *dialogue*: no reply delay, no bound on clients (scenario 3 holds 10,000)."""
        argv = [
            *(self.chat_bot, "--script", str(dialogue), "--host", HOST, "--port", "0"),
            *("--no-delay", "--max-clients", "0"),
        ]
        return Server(name, argv, self.workdir)

    def file(self, name: str, text: str) -> Path:
        """Write a scratch file and return its path."""
        return dialogues.write(self.workdir / name, text)

    def script(self, name: str, script: dialogues.Script) -> Path:
        """Write a load-generator script and return its path."""
        return dialogues.write_script(self.workdir / name, script)


def _errors(results: Sequence[dict[str, Any]]) -> int:
    return sum(sum(result["errors"].values()) for result in results)


def _error_text(results: Sequence[dict[str, Any]]) -> str:
    kinds: dict[str, int] = {}
    for result in results:
        for kind, count in result["errors"].items():
            kinds[kind] = kinds.get(kind, 0) + count
    text = ", ".join(f"{kind}: {count}" for kind, count in sorted(kinds.items()))
    wrong = next((result["first_wrong"] for result in results if result["first_wrong"]), "")
    return text + (f" (first: {wrong})" if wrong else "")


def _died(server: Server) -> str:
    return "" if server.alive() else f"; {server.name} died: {server.last_error_line()}"


def _ms(seconds: float) -> float:
    return seconds * 1000


# -- 1. many clients ----------------------------------------------------------------------------


def many_clients(bench: Bench) -> list[Row]:
    """Scenario 1: N clients x T turns against a 20-rule dialogue, echo and bot alternating."""
    plan = bench.plan
    text, script = dialogues.twenty_rules()
    dialogue = bench.file("twenty-rules.yaml", text)
    scripts = {
        "echo": bench.script("twenty-rules.echo.json", dialogues.echo_script(script)),
        "bot": bench.script("twenty-rules.bot.json", script),
    }
    results: dict[str, list[dict[str, Any]]] = {"echo": [], "bot": []}
    with (
        running(bench.echo(), START_TIMEOUT_S) as echo,
        running(bench.bot("bot-20-rules", dialogue), START_TIMEOUT_S) as bot,
    ):
        servers = {"echo": echo, "bot": bot}
        for round_ in range(1, plan.rounds + 1):
            for name, server in servers.items():
                progress(
                    f"1: {plan.clients} clients x {plan.turns} turns, {name}, round {round_}/{plan.rounds}"
                )
                cpu_before = server.cpu_s()
                result = drive_turns(
                    server.host, server.port, plan.clients, plan.turns, scripts[name], plan.time_limit_s
                )
                # CPU per turn barely moves when a neighbour takes the cores; throughput does.
                result["server_cpu_s"] = server.cpu_s() - cpu_before
                results[name].append(result)
        peak = {name: server.memory_kib().get("VmHWM", 0) / KIB for name, server in servers.items()}
        died = _died(bot)
    best_tps = {name: max(r["turns_per_s"] for r in runs) for name, runs in results.items()}
    best_p99 = {name: _ms(min(r["p99_s"] for r in runs)) for name, runs in results.items()}
    best_p50 = {name: _ms(min(r["p50_s"] for r in runs)) for name, runs in results.items()}
    worst_max = {name: _ms(max(r["max_s"] for r in runs)) for name, runs in results.items()}
    errors = {name: _errors(runs) for name, runs in results.items()}
    # Turns per second of the server's own CPU time: what the server could serve with a core to
    # itself. A busy neighbour changes the wall clock a lot and this very little.
    capacity = {
        name: max(r["turns"] / r["server_cpu_s"] if r["server_cpu_s"] > 0 else float("nan") for r in runs)
        for name, runs in results.items()
    }
    # The busiest a process was over the best round: CPU seconds per wall second (1.0 = a full core).
    busy = {
        name: {
            who: max(r[key] / r["wall_s"] for r in runs if r["wall_s"] > 0)
            for who, key in (("server", "server_cpu_s"), ("generator", "generator_cpu_s"))
        }
        for name, runs in results.items()
    }
    label = f"1. {plan.clients:,} clients x {plan.turns} turns, 20 rules"
    tps_ratio = ratio(best_tps["bot"], best_tps["echo"])
    p99_ratio = ratio(best_p99["bot"], best_p99["echo"])
    cap_ratio = ratio(capacity["bot"], capacity["echo"])
    best_of = f"best of {plan.rounds}; " if plan.rounds > 1 else ""
    return [
        Row(
            f"{label}: throughput",
            best_tps["bot"],
            "turns/s",
            best_tps["echo"],
            tps_ratio,
            f">= {THROUGHPUT_TARGET:.2f}x",
            tps_ratio >= THROUGHPUT_TARGET,
            f"{best_of}cores busy (server, generator): bot run {busy['bot']['server']:.2f}, "
            f"{busy['bot']['generator']:.2f}; echo run {busy['echo']['server']:.2f}, "
            f"{busy['echo']['generator']:.2f}; "
            f"server peak RSS: bot {peak['bot']:.1f} MiB, echo {peak['echo']:.1f} MiB{died}",
        ),
        Row(
            f"{label}: capacity",
            capacity["bot"],
            "turns/CPU-s",
            capacity["echo"],
            cap_ratio,
            f">= {THROUGHPUT_TARGET:.2f}x",
            cap_ratio >= THROUGHPUT_TARGET,
            f"turns per second of the server's own CPU time: server CPU per turn "
            f"{1e6 / capacity['bot']:.0f} us, echo {1e6 / capacity['echo']:.0f} us",
        ),
        Row(
            f"{label}: p99 latency",
            best_p99["bot"],
            "ms",
            best_p99["echo"],
            p99_ratio,
            f"<= {P99_TARGET:.2f}x",
            p99_ratio <= P99_TARGET,
            f"p50 {best_p50['bot']:.1f} ms (echo {best_p50['echo']:.1f}), "
            f"max {worst_max['bot']:.1f} ms (echo {worst_max['echo']:.1f})",
        ),
        Row(
            f"{label}: errors",
            errors["bot"],
            "",
            errors["echo"],
            float("nan"),
            "0",
            errors["bot"] == 0,
            _error_text(results["bot"]) or "every reply as the dialogue says",
        ),
    ]


# -- 2. rule-count scaling ----------------------------------------------------------------------


def rule_scaling(bench: Bench) -> list[Row]:
    """Scenario 2: one client's per-turn latency (p50) when only the fallback matches, by rule count."""
    plan = bench.plan
    message = dialogues.UNMATCHED_MESSAGE
    bot_script = bench.script("fallback.bot.json", [(message, dialogues.FALLBACK_REPLY)])
    echo_script = bench.script("fallback.echo.json", [(message, message)])
    servers: list[tuple[Server, Path]] = [(bench.echo("echo-single"), echo_script)]
    for count in plan.rule_counts:
        dialogue = bench.file(f"regex-{count}.yaml", dialogues.regex_rules(count))
        servers.append((bench.bot(f"bot-{count}-regex", dialogue), bot_script))
    best: dict[str, float] = {}
    p99: dict[str, float] = {}
    runs: dict[str, list[dict[str, Any]]] = {}
    try:
        for server, _script in servers:
            progress(f"2: starting {server.name}")
            server.start(BIG_START_TIMEOUT_S)
        for round_ in range(1, plan.latency_rounds + 1):
            for server, script in servers:
                progress(f"2: {plan.latency_turns} single-client turns, {server.name}, round {round_}")
                if round_ == 1:  # a lazy matcher compiles on first use: that is not a turn's cost
                    drive_turns(server.host, server.port, 1, plan.warmup_turns, script, plan.time_limit_s)
                result = drive_turns(
                    server.host, server.port, 1, plan.latency_turns, script, plan.time_limit_s
                )
                runs.setdefault(server.name, []).append(result)
                best[server.name] = min(best.get(server.name, float("inf")), _ms(result["p50_s"]))
                p99[server.name] = min(p99.get(server.name, float("inf")), _ms(result["p99_s"]))
        ready = {server.name: server.ready_s for server, _script in servers}
        died = {server.name: _died(server) for server, _script in servers}
    finally:
        for server, _script in servers:
            server.stop()
    echo_name = servers[0][0].name
    names = [server.name for server, _script in servers[1:]]
    smallest = names[0]
    rows = []
    for count, name in zip(plan.rule_counts, names, strict=True):
        errors = _error_text(runs[name])
        last = name == names[-1]
        baseline = best[echo_name] if name == smallest else best[smallest]
        row_ratio = ratio(best[name], baseline)
        rows.append(
            Row(
                f"2. {count:,} regex rules, fallback turn: p50 latency"
                + ("" if name == smallest else f" vs {plan.rule_counts[0]} rules"),
                best[name],
                "ms",
                baseline,
                row_ratio,
                f"<= {SCALING_TARGET:.2f}x" if last else "-",
                (row_ratio <= SCALING_TARGET and not errors) if last else None,
                f"p99 {p99[name]:.2f} ms; listening {ready[name]:.2f} s after start"
                + ("; baseline: echo" if name == smallest else "")
                + (f"; errors: {errors}" if errors else "")
                + died[name],
            )
        )
    return rows


# -- 3. idle connections ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Held:
    """What one server did in scenario 3."""

    kib_per_connection: float
    complete: bool  # every connection held, no error, server alive
    detail: str


def _hold(bench: Bench, server: Server, warm_script: Path) -> _Held:
    """Hold plan.idle connections on *server* and measure its RSS before and while holding them."""
    plan = bench.plan
    with running(server, START_TIMEOUT_S):
        # One chat first, so memory that the first chat allocates once is part of "idle".
        drive_turns(server.host, server.port, 1, 1, warm_script, plan.time_limit_s)
        time.sleep(SETTLE_S)
        idle = server.memory_kib().get("VmRSS", 0)
        progress(f"3: {server.name} holding {plan.idle:,} idle connections (idle RSS {idle / KIB:.1f} MiB)")
        with (
            RssSampler(server.pid) as sampler,
            Holders(server.host, server.port, plan.idle, plan.time_limit_s) as holders,
        ):
            held, errors = holders.wait_held()
            time.sleep(SETTLE_S)
            sampler.sample()
        died = _died(server)
    error_text = ", ".join(f"{kind}: {count}" for kind, count in sorted(errors.items()))
    detail = (
        f"{server.name}: held {held:,}/{plan.idle:,}, "
        f"RSS {idle / KIB:.1f} -> {sampler.peak_kib / KIB:.1f} MiB"
        + (f", errors: {error_text}" if error_text else "")
        + died
    )
    complete = held == plan.idle and not errors and not died
    return _Held(per_connection_kib(sampler.peak_kib, idle, held), complete, detail)


def idle_connections(bench: Bench) -> list[Row]:
    """Scenario 3: peak RSS per idle connection, each having chatted one turn, bot vs echo."""
    plan = bench.plan
    text, _script = dialogues.twenty_rules()
    dialogue = bench.file("idle.yaml", text)
    warm = bench.script("idle.json", [("hello", None)])
    echo = _hold(bench, bench.echo("echo-idle"), warm)
    bot = _hold(bench, bench.bot("bot-idle", dialogue), warm)
    return [
        Row(
            f"3. {plan.idle:,} idle connections: RSS per connection",
            bot.kib_per_connection,
            "KiB",
            echo.kib_per_connection,
            ratio(bot.kib_per_connection, echo.kib_per_connection),
            f"<= {RSS_TARGET_KIB:.0f} KiB",
            bot.complete and bot.kib_per_connection <= RSS_TARGET_KIB,
            f"{bot.detail}; {echo.detail}",
        )
    ]


# -- 4. start-up --------------------------------------------------------------------------------


def default_dialogue() -> Path:
    """The bundled default dialogue, as ``chat-bot`` without ``--script`` uses it."""
    from bots.cli import bundled_dialogue_path  # the bot knows where its default lives

    return Path(bundled_dialogue_path())


def _wall_ms(argv: Sequence[str]) -> tuple[float, int]:
    # Popen and a plain wait(), not subprocess.run(timeout=...): with a timeout, wait() polls
    # in sleeps doubling up to 50 ms, which rounded every reading up to ~31.5/63.5/113.5 ms.
    # A timer kills a hung command instead; the clock runs from spawn to the exit seen.
    # Bytecode may be written: the warm-up run then leaves current .pyc files, as an installed
    # wheel has, and no measured run pays for compiling a module from source.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    began = time.perf_counter()
    process = subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    killer = threading.Timer(COMMAND_TIMEOUT_S, process.kill)
    killer.start()
    try:
        status = process.wait()  # a command the timer killed reports -9 (SIGKILL)
    finally:
        killer.cancel()
    return _ms(time.perf_counter() - began), status


def startup(bench: Bench, dialogue_path: Callable[[], Path] = default_dialogue) -> list[Row]:
    """Scenario 4: median wall time of each command, against ``python -c pass`` run alongside."""
    plan = bench.plan
    default = dialogue_path()
    commands = {
        "baseline": [sys.executable, "-c", "pass"],
        "check": [bench.chat_bot, "--check", str(default)],
        "help": [console_script("chat-client"), "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    statuses: dict[str, set[int]] = {name: set() for name in commands}
    progress(f"4: start-up, {plan.startup_runs} runs of each command")
    for run in range(plan.startup_runs + 1):
        for name, argv in commands.items():  # interleaved, so a busy moment hits all alike
            elapsed, status = _wall_ms(argv)
            statuses[name].add(status)
            if run > 0:  # the first run warms the page cache and writes .pyc files
                times[name].append(elapsed)
    base = median(times["baseline"])
    rows = []
    for name, label in (("check", f"chat-bot --check {default.name}"), ("help", "chat-client --help")):
        figure = median(times[name])
        ok = statuses[name] == {0}
        rows.append(
            Row(
                f"4. start-up: {label}",
                figure,
                "ms",
                base,
                ratio(figure, base),
                f"< {STARTUP_TARGET_MS:.0f} ms",
                ok and figure < STARTUP_TARGET_MS,
                f"median of {plan.startup_runs}; {figure - base:.0f} ms above the baseline, "
                "python -c pass (the interpreter alone)"
                + ("" if ok else f"; exit statuses {sorted(statuses[name])}"),
            )
        )
    return rows


SCENARIOS: dict[str, Callable[[Bench], list[Row]]] = {
    "1": many_clients,
    "2": rule_scaling,
    "3": idle_connections,
    "4": startup,
}
