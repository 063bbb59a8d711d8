"""chat_testing.listening: whether a port listens, seen without connecting, cheaply among many sockets.

The cost tests hold 20,000 loopback sockets open in a helper process, as a busy host would (issue 23
saw 22,000), and bound the CPU a readiness check and a whole readiness wait cost there.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import chat_testing.targets
from chat_testing import listening
from chat_testing.env import ipv6_loopback_available
from chat_testing.targets import CommandServer, TargetError

LINUX_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/net/tcp is Linux's")
PYTHON = Path(sys.executable).as_posix()

#: Each way of looking, by name; sock_diag and /proc exist on Linux only, the connecting probe anywhere.
PROBES: dict[str, Callable[[int], bool]] = {
    "sock_diag": listening.listening_by_sock_diag,
    "proc": listening.listening_by_proc,
    "the default": listening.port_listening,
}
LINUX_PROBES = [pytest.param(name, marks=LINUX_ONLY if name != "the default" else ()) for name in PROBES]
#: Sockets the helper holds: the issue's busy host had 22,000.
MANY_SOCKETS = 20_000
#: Holds N loopback TCP sockets (N/2 connections, both ends) until its stdin closes. The connecting ends
#: live in a forked child, so that each process needs only half the descriptors. SO_LINGER 0: the
#: connections end with a reset, leaving no TIME_WAIT entries for the next test to read.
HOLDER = """\
import os, resource, socket, struct, sys

pairs = int(sys.argv[1]) // 2
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < pairs + 64:
    sys.exit(f"holding {2 * pairs} sockets needs {pairs + 64} open files per process; ulimit -Hn is {hard}")
resource.setrlimit(resource.RLIMIT_NOFILE, (pairs + 64, hard))
linger = struct.pack("ii", 1, 0)
listener = socket.create_server(("127.0.0.1", 0), backlog=4096)
port = listener.getsockname()[1]
ready_r, ready_w = os.pipe()
if os.fork() == 0:
    listener.close()
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(pairs)]
    for sock in held:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    os.write(ready_w, b"x")
    sys.stdin.read()
    os._exit(0)
held = [listener.accept()[0] for _ in range(pairs)]
for sock in held:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
os.read(ready_r, 1)
print(f"holding {2 * pairs}", flush=True)
sys.stdin.read()
"""
#: A check may cost at most this share of reading /proc/net/tcp{,6} once (about 50 ms of CPU at
#: 20,000 sockets, which the harness used to do every 20 ms).
CHECK_SHARE_OF_PROC_READ = 1 / 50
#: While the harness waits for a server, it may use at most this share of one core.
WAIT_CPU_SHARE = 0.1


@pytest.fixture(scope="module")
def many_sockets() -> Iterator[int]:
    """MANY_SOCKETS loopback sockets held open by a helper process while the module's tests run."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(MANY_SOCKETS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    assert holder.stderr is not None
    try:
        line = holder.stdout.readline().strip()
        assert line == f"holding {MANY_SOCKETS}", f"the holder said {line!r}: {holder.stderr.read()}"
        yield MANY_SOCKETS
    finally:
        holder.stdin.close()
        holder.wait(30)
        holder.stdout.close()
        holder.stderr.close()


def read_proc_tables() -> int:
    """The baseline: read /proc/net/tcp and tcp6 once (what a check used to do); the rows read."""
    return sum(len(Path(t).read_text().splitlines()) for t in ("/proc/net/tcp", "/proc/net/tcp6"))


def cpu_per_call(call: Callable[[], object], calls: int) -> float:
    """CPU seconds (user and system, this process) one call costs, averaged over *calls*."""
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) / calls


def closed_port() -> int:
    """A port nobody listens on (the worst case for a check: nothing found, everything looked at)."""
    return chat_testing.targets.free_port()


def loopback_listener(family: socket.AddressFamily) -> socket.socket:
    if family == socket.AF_INET6 and not ipv6_loopback_available():
        pytest.skip("this machine cannot listen on ::1 (no IPv6 loopback: a container without IPv6)")
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
    listener.listen()
    return listener


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6], ids=["IPv4", "IPv6"])
@pytest.mark.parametrize("probe", LINUX_PROBES)
def test_a_listening_port_is_seen_and_a_closed_one_is_not(probe: str, family: socket.AddressFamily) -> None:
    listener = loopback_listener(family)
    port = listener.getsockname()[1]
    assert PROBES[probe](port)
    listener.close()
    assert not PROBES[probe](port)


@LINUX_ONLY
@pytest.mark.parametrize("probe", LINUX_PROBES)
def test_a_listening_port_is_seen_without_connecting_to_it(probe: str) -> None:
    """A two-person server must not take the readiness probe for its one client."""
    with loopback_listener(socket.AF_INET) as listener:
        assert PROBES[probe](listener.getsockname()[1])
        listener.settimeout(0)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected


@pytest.mark.parametrize("probe", LINUX_PROBES)
def test_the_port_of_a_connected_socket_is_not_taken_for_a_listening_one(probe: str) -> None:
    with (
        loopback_listener(socket.AF_INET) as listener,
        socket.create_connection(listener.getsockname()) as client,
    ):
        accepted, _ = listener.accept()
        with accepted:
            assert not PROBES[probe](client.getsockname()[1])


@LINUX_ONLY
def test_where_sock_diag_is_refused_proc_net_tcp_answers_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listening, "NETLINK_SOCK_DIAG", 31)  # a netlink family no kernel has: refused
    monkeypatch.setattr(listening, "use_sock_diag", True)
    with loopback_listener(socket.AF_INET) as listener:
        assert listening.port_listening(listener.getsockname()[1])
    assert listening.use_sock_diag is False


@LINUX_ONLY
def test_a_readiness_check_among_20000_sockets_costs_a_small_share_of_reading_proc_net_tcp(
    many_sockets: int,
) -> None:
    assert read_proc_tables() > many_sockets
    port = closed_port()
    baseline = cpu_per_call(read_proc_tables, 5)
    check = cpu_per_call(lambda: chat_testing.targets.port_listening(port), 500)
    print(f"reading /proc/net/tcp{{,6}}: {baseline * 1e3:.3f} ms; one check: {check * 1e3:.3f} ms of CPU")
    assert check < baseline * CHECK_SHARE_OF_PROC_READ


@LINUX_ONLY
@pytest.mark.parametrize("sock_diag", [True, False], ids=["sock_diag", "proc"])
def test_waiting_among_20000_sockets_for_a_command_that_never_listens_costs_little_cpu(
    sock_diag: bool, many_sockets: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where sock_diag is refused, each look reads /proc/net/tcp: the wait backs off in proportion.
    monkeypatch.setattr(listening, "use_sock_diag", sock_diag)
    monkeypatch.setattr(chat_testing.targets, "START_TIMEOUT_S", 2.0)
    server = CommandServer(f"{PYTHON} -c 'import time; time.sleep(60)' {{port}}", tmp_path, tmp_path)
    cpu, wall = time.process_time(), time.monotonic()
    try:
        with pytest.raises(TargetError, match="does not listen on port"):
            server.start()
    finally:
        server.stop()
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    print(f"a {wall:.2f} s wait cost {cpu:.3f} s of CPU")
    assert cpu < wall * WAIT_CPU_SHARE
