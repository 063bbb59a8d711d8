"""bots.accept: listening sockets, the descriptor budget, refusals, and accepting out of descriptors."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
from collections.abc import Iterator

import pytest

from bots import accept, loops
from bots.accept import Acceptor, Refusal, budget, open_listeners, turn_away

TIMEOUT_S = 5.0
EVENT_LOOPS = [
    loops.ASYNCIO,
    pytest.param(
        loops.UVLOOP,
        marks=pytest.mark.skipif(not loops.uvloop_installed(), reason="no uvloop here (Windows, PyPy)"),
    ),
]
BUSY = b"busy: try again later\nexit\n"


def read_to_the_end(sock: socket.socket) -> bytes:
    data = bytearray()
    while chunk := sock.recv(4096):
        data.extend(chunk)
    return bytes(data)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    [sock] = open_listeners("127.0.0.1", 0)
    yield sock
    sock.close()


def test_open_listeners_listens_non_blocking_on_the_address_given(listener: socket.socket) -> None:
    assert listener.getsockname()[0] == "127.0.0.1"
    assert listener.getblocking() is False
    with socket.create_connection(listener.getsockname()[:2], timeout=TIMEOUT_S):
        pass


def test_open_listeners_fails_on_a_port_in_use_and_leaves_nothing_open(listener: socket.socket) -> None:
    with pytest.raises(OSError, match="Address already in use"):
        open_listeners("127.0.0.1", listener.getsockname()[1])


needs_rlimit = pytest.mark.skipif(
    importlib.util.find_spec("resource") is None or not os.path.isdir("/proc/self/fd"),
    reason="Linux's descriptor limit (resource) and /proc",
)


@needs_rlimit
def test_the_budget_shares_the_open_file_limit_between_clients_refusals_and_spares(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda _which: (256, 256))

    room = budget()

    assert room is not None
    assert room.limit == 256
    assert room.in_use == len(os.listdir("/proc/self/fd")) - 1
    assert room.clients + room.refusals == 256 - room.in_use - accept.SPARE_DESCRIPTORS
    assert room.refusals == (256 - room.in_use - accept.SPARE_DESCRIPTORS) // accept.REFUSAL_SHARE


@needs_rlimit
def test_without_an_open_file_limit_there_is_no_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda _which: (resource.RLIM_INFINITY,) * 2)

    assert budget() is None


def test_turn_away_sends_the_notice_and_closes(listener: socket.socket) -> None:
    with socket.create_connection(listener.getsockname()[:2], timeout=TIMEOUT_S) as client:
        sock, _ = listener.accept()
        turn_away(sock, BUSY)

        assert read_to_the_end(client) == BUSY
    assert sock.fileno() == -1


@pytest.mark.parametrize("loop", EVENT_LOOPS)
def test_a_refusal_says_busy_and_exit_drops_what_the_client_typed_and_leaves_the_set(
    listener: socket.socket, loop: str
) -> None:
    refusing: set[Refusal] = set()

    async def main() -> bytes:
        client = socket.create_connection(listener.getsockname()[:2], timeout=TIMEOUT_S)
        sock, _ = listener.accept()
        refusal = Refusal(BUSY, refusing)
        refusing.add(refusal)
        await asyncio.get_running_loop().connect_accepted_socket(lambda: refusal, sock)
        client.sendall(b"hello before I read\n")  # dropped; the exit still arrives, not a reset
        got = await asyncio.to_thread(read_to_the_end, client)
        client.close()
        for _ in range(100):  # our close follows the client's: poll for it, up to 1 s
            if not refusing:
                break
            await asyncio.sleep(0.01)  # a poll interval, not a wait for it to happen
        return got

    assert loops.run(main(), loop) == BUSY
    assert refusing == set()


@needs_rlimit
@pytest.mark.parametrize("loop", EVENT_LOOPS)
def test_out_of_descriptors_accepting_pauses_and_every_waiting_client_gets_the_notice(
    listener: socket.socket, loop: str
) -> None:
    import resource

    waiting = [socket.create_connection(listener.getsockname()[:2], timeout=TIMEOUT_S) for _ in range(20)]
    accepted: list[socket.socket] = []
    reports: list[str] = []

    async def main() -> int:
        acceptor = Acceptor(
            [listener],
            lambda sock, _address: accepted.append(sock),
            refusal=lambda: BUSY,
            report=lambda _kind, line: reports.append(line),
        )
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        acceptor.start()  # with its reserve descriptor
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 3, hard))
        try:
            for _ in range(int(TIMEOUT_S / 0.01)):  # poll for the first report, up to TIMEOUT_S
                if reports:
                    break
                await asyncio.sleep(0.01)  # a poll interval, not a wait for it to happen
            first = len(reports)
            await asyncio.sleep(0.5)  # still out of descriptors: how often does it try again?
            return len(reports) - first
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            acceptor.close()

    try:
        again = loops.run(main(), loop)
        taken = {sock.getpeername() for sock in accepted}
        turned = [client for client in waiting if client.getsockname() not in taken]
        told = [read_to_the_end(client) for client in turned]
    finally:
        for sock in waiting + accepted:
            sock.close()

    line = reports[0]
    assert line.startswith("out of file descriptors (Too many open files): accepting paused for 0.1 s, ")
    assert line.endswith(
        f" {len(turned)} waiting clients turned away; "
        "raise the open-file limit (ulimit -n) or lower --max-clients"
    )
    assert accepted
    assert len(turned) >= len(waiting) // 2  # the limit left room for a few
    assert told == [BUSY] * len(turned)
    assert again <= 0.5 / accept.ACCEPT_PAUSE_S + 1  # paused between tries: no spinning
