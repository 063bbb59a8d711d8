"""The serving bot under load and fault: slow peers, a flood, 1,000 abrupt disconnects.

Each test runs a serving echo bot (``fallback: "{input}"``, ``--no-delay``) as a
real process on loopback and a *normal client* beside the attackers, whose
round-trip latency must stay low while the bot's memory (RSS from /proc) stays
bounded and no descriptor leaks. Counts and durations are fixed and small
enough for two shared cores.
"""

from __future__ import annotations

import contextlib
import random
import socket
import statistics
import struct
import threading
import time
from typing import Any

import pytest

from adversarial import profiles
from chat_testing import LineClient, wait_until
from chat_testing.processes import count_fds, raise_fd_limit, rss_kib

pytestmark = [pytest.mark.adversarial, pytest.mark.timing, pytest.mark.timeout(180)]

SLOW_PEERS = profiles.SLOW_PEERS
FLOOD_MESSAGES = profiles.FLOOD_MESSAGES
DISCONNECTS = profiles.DISCONNECTS
P99_LIMIT_S = 0.100  # the bound on the normal client's 99th percentile round trip
RSS_GROWTH_LIMIT_KIB = 64 * 1024  # a flood must not grow the bot by more than this: bounded buffers
MEASURE_S = 6.0  # how long the normal client measures while the attack runs
PING_INTERVAL_S = 0.01  # a lively person types far slower; enough samples for a p99


def measure_latency(port: int, seconds: float, stop: threading.Event | None = None) -> list[float]:
    """The normal client: ping the bot every PING_INTERVAL_S for *seconds*; return each round trip."""
    client = LineClient(port)
    samples: list[float] = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            samples.append(client.round_trip(f"ping {len(samples)} ✓"))
            time.sleep(PING_INTERVAL_S)
    finally:
        client.sock.close()
    return samples


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def describe(samples: list[float]) -> str:
    return (
        f"{len(samples)} round trips: p50 {statistics.median(samples) * 1000:.1f} ms, "
        f"p99 {p99(samples) * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms"
    )


def open_many(port: int, count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(sock)
    return socks


def test_a_thousand_peers_trickling_a_byte_a_second_leave_a_normal_client_p99_under_100_ms(
    echo_bot: Any, figures: Any
) -> None:
    raise_fd_limit(4 * SLOW_PEERS)
    bot, port = echo_bot("--quiet")
    slow = open_many(port, SLOW_PEERS)
    stop = threading.Event()
    all_started = threading.Event()
    trickled = [0]

    def trickle() -> None:
        # One byte a second from every peer, spread over the second; they never read.
        text = b"I type one byte a second\n"
        position = 0
        while not stop.is_set():
            started = time.monotonic()
            for sock in slow:
                sock.send(text[position : position + 1])
                trickled[0] += 1
                if trickled[0] == SLOW_PEERS:
                    all_started.set()
                if stop.wait(0.9 / SLOW_PEERS):
                    return
            position = (position + 1) % len(text)
            stop.wait(max(0.0, 1.0 - (time.monotonic() - started)))

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        # Measure only once every slow peer is mid-message.
        assert all_started.wait(10), f"only {trickled[0]} of {SLOW_PEERS} slow peers started in 10 s"
        samples = measure_latency(port, MEASURE_S)
    finally:
        stop.set()
        trickler.join(timeout=5)
    try:
        assert bot.proc.poll() is None
        # No slow peer was dropped: each still open (a closed one would read as end of file).
        for sock in slow:
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):  # nothing to read: open and quiet
                assert sock.recv(1 << 16) != b"", "the bot closed a slow peer"
        assert count_fds(bot.pid) >= SLOW_PEERS
    finally:
        for sock in slow:
            sock.close()
    bot.assert_no_crash()
    figures("slow peers held", f"{SLOW_PEERS:,} connections, {trickled[0]:,} bytes trickled one by one")
    figures("normal client", describe(samples))
    assert p99(samples) < P99_LIMIT_S, describe(samples)


def test_a_flood_of_100000_messages_keeps_memory_bounded_and_the_others_served(
    echo_bot: Any, figures: Any
) -> None:
    bot, port = echo_bot("--quiet")
    warm = LineClient(port)
    warm.round_trip("warm up")
    baseline = rss_kib(bot.pid)
    flooder = LineClient(port, timeout=60)
    sent = [f"flood {i} " + "x" * (i % 97) for i in range(FLOOD_MESSAGES)]
    payload = "".join(f"{text}\n" for text in sent).encode()
    peak = [baseline]
    stop = threading.Event()

    def sample_rss() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], rss_kib(bot.pid))

    def flood() -> None:
        flooder.sock.sendall(
            payload
        )  # all at once, never waiting for a turn: blocks when the bot pushes back

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sender = threading.Thread(target=flood, daemon=True)
    sampler.start()
    sender.start()
    try:
        samples = measure_latency(port, MEASURE_S)  # while the flooder reads nothing
        blocked = sender.is_alive()  # the bot stopped reading a peer that does not read
        received = [flooder.line() for _ in range(FLOOD_MESSAGES)]
        sender.join(timeout=30)
    finally:
        stop.set()
        sampler.join(timeout=5)
        flooder.sock.close()
        warm.sock.close()
    growth = peak[0] - baseline
    figures(
        "flood",
        f"{FLOOD_MESSAGES:,} messages ({len(payload):,} bytes) sent without waiting; "
        f"all {len(received):,} echoes back in order",
    )
    figures(
        "bot RSS",
        f"baseline {baseline / 1024:.1f} MiB, peak {peak[0] / 1024:.1f} MiB (+{growth / 1024:.1f} MiB)",
    )
    figures("normal client during the flood", describe(samples))
    figures("flooder pushed back (sendall still blocked after the measure)", str(blocked))
    assert received == [text.encode() for text in sent]
    assert growth < RSS_GROWTH_LIMIT_KIB
    assert p99(samples) < P99_LIMIT_S, describe(samples)
    bot.assert_no_crash()


DISCONNECT_POINTS = [
    "reset at once",
    "close at once",
    "reset mid-message",
    "close mid-message",
    "reset before the reply",
    "reset after the reply",
    "reset mid-way through a 256 KiB message",
    "half-close then reset",
]


def disconnect(port: int, point: str, rng: random.Random) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        reset = point.startswith("reset") or point.endswith("reset")
        if "mid-message" in point:
            sock.sendall(b"a message cut at byte " + b"z" * rng.randint(0, 200))
        elif point == "reset before the reply":
            sock.sendall(b"hello\n")
        elif point == "reset after the reply":
            sock.sendall(b"hello\n")
            assert sock.recv(100) == b"hello\n"
        elif "256 KiB" in point:
            sock.sendall(b"y" * rng.randint(1, 256 * 1024))
        elif point.startswith("half-close"):
            sock.sendall(b"bye for now\n")
            sock.shutdown(socket.SHUT_WR)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()


def test_a_thousand_abrupt_disconnects_leak_no_descriptor_and_print_no_traceback(
    echo_bot: Any, figures: Any
) -> None:
    bot, port = echo_bot("--quiet", "--verbose")
    probe = LineClient(port)
    probe.round_trip("before")
    fds_before = count_fds(bot.pid)
    rss_before = rss_kib(bot.pid)
    rng = random.Random(1_000)
    done: dict[str, int] = dict.fromkeys(DISCONNECT_POINTS, 0)
    lock = threading.Lock()
    points = [rng.choice(DISCONNECT_POINTS) for _ in range(DISCONNECTS)]

    def worker(share: list[str], seed: int) -> None:
        local = random.Random(seed)
        for point in share:
            disconnect(port, point, local)
            with lock:
                done[point] += 1

    workers = [threading.Thread(target=worker, args=(points[i::8], i)) for i in range(8)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    assert sum(done.values()) == DISCONNECTS
    probe.round_trip("after")  # and it still serves
    probe.sock.close()
    # Every lost connection closed, and the probe's: polled, because a connection lost while it waited in
    # the listen queue is accepted (one descriptor more) and closed after the others (17 against 16 once,
    # counted at once when the count had first come down).
    wait_until(lambda: count_fds(bot.pid) < fds_before, 10, "the bot to close every lost connection")
    fds_after = count_fds(bot.pid)
    rss_after = rss_kib(bot.pid)
    bot.assert_no_crash()
    assert bot.proc.poll() is None
    figures("abrupt disconnects", ", ".join(f"{n} {p}" for p, n in done.items()))
    figures("bot descriptors before / after", f"{fds_before} / {fds_after}")
    figures("bot RSS before / after", f"{rss_before / 1024:.1f} / {rss_after / 1024:.1f} MiB")
    assert fds_after < fds_before  # the probe's descriptor went too
    assert rss_after - rss_before < 32 * 1024
