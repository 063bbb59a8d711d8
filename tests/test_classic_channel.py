"""The classic programs' blocking adapter: OSError translated once into messages a person can act on.

These tests use real loopback sockets (bound to port 0) and socket pairs.
"""

from __future__ import annotations

import contextlib
import errno
import re
import select
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from chat import net
from chat.classic import channel
from chat.classic import channel as channel_module
from chat.classic.channel import Channel, bound_port, connect, listen
from chat.errors import ConnectError, PeerLost
from chat.net import endpoint
from chat.protocol import ChatConnection, ConnectionClosed, MessageTooLong, PeerStyle


@pytest.fixture
def pair() -> Iterator[tuple[Channel, socket.socket]]:
    """A Channel and the raw socket at the other end."""
    ours, theirs = socket.socketpair()
    theirs.settimeout(5)
    channel = Channel(ours, ChatConnection(), "the test peer")
    yield channel, theirs
    channel.close()
    theirs.close()


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port bound (nobody else gets it) but not listening: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


# -- endpoint -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "port", "shown"),
    [
        ("127.0.0.1", 65432, "127.0.0.1:65432"),
        ("::1", 5000, "[::1]:5000"),
        ("example.org", 1, "example.org:1"),
    ],
)
def test_endpoint_brackets_ipv6_addresses(host: str, port: int, shown: str) -> None:
    assert endpoint(host, port) == shown


# -- listen ---------------------------------------------------------------------------------


def test_listen_on_port_0_gets_a_real_port_with_so_reuseaddr() -> None:
    with listen("127.0.0.1", 0) as sock:
        port = bound_port(sock)

        assert 0 < port <= 65535
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            conn, _ = sock.accept()
            conn.close()


def test_listen_on_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this Python")
    try:
        sock = listen("::1", 0)
    except ConnectError:
        pytest.skip("this machine cannot listen on ::1")
    with sock:
        assert sock.family == socket.AF_INET6


def test_listen_on_a_port_in_use_says_so_and_what_to_do() -> None:
    with listen("127.0.0.1", 0) as first:
        port = bound_port(first)
        with pytest.raises(ConnectError) as caught:
            listen("127.0.0.1", port)

    assert str(caught.value) == (
        f"cannot listen on 127.0.0.1:{port}: port already in use; "
        "stop the program using it or choose another --port (0 picks a free one)"
    )


def test_listen_on_an_address_of_another_machine_says_so() -> None:
    with pytest.raises(ConnectError, match=r"^cannot listen on 192\.0\.2\.1:0: address not available"):
        listen("192.0.2.1", 0)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            errno.EACCES,
            "cannot listen on 127.0.0.1:80: permission denied; "
            "ports below 1024 need privileges, choose --port 1024 or above",
        ),
        (
            errno.EADDRINUSE,
            "cannot listen on 127.0.0.1:80: port already in use; "
            "stop the program using it or choose another --port (0 picks a free one)",
        ),
        (
            errno.EADDRNOTAVAIL,
            "cannot listen on 127.0.0.1:80: address not available on this machine; "
            "use one of its own addresses, such as 127.0.0.1",
        ),
        (errno.EINVAL, "cannot listen on 127.0.0.1:80: Invalid argument"),
    ],
)
def test_bind_errors_are_translated_into_one_actionable_line(code: int, message: str) -> None:
    # Permission denied cannot be provoked for real here (the tests may run as root).
    exc = OSError(code, "Invalid argument" if code == errno.EINVAL else "whatever")

    error = net.listen_error(exc, "127.0.0.1:80")

    assert isinstance(error, ConnectError)
    assert str(error) == message


# -- connect --------------------------------------------------------------------------------


def test_connect_returns_a_blocking_connected_socket() -> None:
    with listen("127.0.0.1", 0) as server:
        sock = connect("127.0.0.1", bound_port(server))
        with sock:
            assert sock.gettimeout() is None
            assert sock.getpeername()[1] == bound_port(server)


def test_connection_refused_names_the_address_and_what_to_do(refusing_port: int) -> None:
    with pytest.raises(ConnectError) as caught:
        connect("127.0.0.1", refusing_port)

    assert str(caught.value) == (
        f"connection refused by 127.0.0.1:{refusing_port}: is chat-server running there? "
        "Start it first, or pass the right --host/--port"
    )
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_an_unknown_host_names_the_host() -> None:
    with pytest.raises(
        ConnectError,
        match=r"^cannot resolve host 'no-such-host\.invalid': .+; "
        r"check the name or give an IP address with --host$",
    ):
        connect("no-such-host.invalid", 1)


def test_a_host_name_that_cannot_exist_is_not_a_crash() -> None:
    with pytest.raises(
        ConnectError,
        match=r"^cannot resolve host '(x{64})\.org': not a valid host name; check the name",
    ):
        connect("x" * 64 + ".org", 1)


def test_a_host_that_never_answers_times_out_with_a_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(net, "CONNECT_TIMEOUT_S", 0.2)
    monkeypatch.setattr(channel, "CONNECT_TIMEOUT_S", 0.2)
    # A listener with a full backlog drops further SYNs: the connection attempt gets no answer.
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = int(full.getsockname()[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5), pytest.raises(ConnectError) as caught:
            connect("127.0.0.1", port)

    assert str(caught.value) == (
        f"cannot connect to 127.0.0.1:{port}: no answer within 0 s; check the host, the port and any firewall"
    )


# -- Channel ---------------------------------------------------------------------------------


def test_a_channel_sends_line_framed_messages(pair: tuple[Channel, socket.socket]) -> None:
    channel, theirs = pair

    channel.send("ça va 🎉")

    assert theirs.recv(100) == "ça va 🎉\n".encode()


def test_a_channel_receives_messages_one_event_at_a_time(pair: tuple[Channel, socket.socket]) -> None:
    channel, theirs = pair
    theirs.sendall(b"one\ntwo\n")
    theirs.close()

    assert channel.receive() == "one"
    assert channel.receive() == "two"
    assert channel.receive() == ConnectionClosed()


def test_a_channel_ends_a_classic_message_at_silence(pair: tuple[Channel, socket.socket]) -> None:
    channel, theirs = pair
    theirs.sendall(b"bare")

    assert channel.receive() == "bare"
    assert channel.conn.peer_style is PeerStyle.CLASSIC
    channel.send("reply")
    assert theirs.recv(100) == b"reply"


def test_a_channel_reports_an_oversize_message(pair: tuple[Channel, socket.socket]) -> None:
    channel, theirs = pair
    channel.conn = ChatConnection(max_message_bytes=10)
    theirs.sendall(b"x" * 100 + b"\nok\n")

    assert channel.receive() == MessageTooLong(10)
    assert channel.receive() == "ok"


def test_a_reset_becomes_peer_lost_with_one_line() -> None:
    with listen("127.0.0.1", 0) as server:
        peer = socket.create_connection(("127.0.0.1", bound_port(server)))
        sock, _ = server.accept()
    channel = Channel(sock, ChatConnection(), "the client at 127.0.0.1:1")
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()  # with linger 0: a TCP reset

    with pytest.raises(
        PeerLost, match=r"^connection lost: the client at 127\.0\.0\.1:1 reset the connection$"
    ):
        channel.receive()
    channel.close()


def test_sending_to_a_vanished_peer_becomes_peer_lost(pair: tuple[Channel, socket.socket]) -> None:
    channel, theirs = pair
    theirs.close()

    with pytest.raises(PeerLost, match=r"^connection lost: the test peer reset the connection$"):
        channel.send("hello?")


def test_other_socket_errors_become_peer_lost_naming_the_peer() -> None:
    with pytest.raises(PeerLost, match=re.escape("connection lost with the peer: No route to host")):  # noqa: SIM117
        with channel._peer_errors("the peer"):
            raise OSError(errno.EHOSTUNREACH, "No route to host")


def test_a_channel_closes_twice_without_error(pair: tuple[Channel, socket.socket]) -> None:
    channel, _ = pair
    channel.close()
    channel.close()

    assert channel.sock.fileno() == -1


# -- check: watching the peer while our person types ------------------------------------------


def test_check_takes_what_arrived_without_blocking_and_receive_still_gets_it(
    pair: tuple[Channel, socket.socket],
) -> None:
    channel, theirs = pair
    assert channel.check() is False  # nothing yet, and it returned at once
    theirs.sendall(b"out of turn\n")

    assert wait_for_check(channel, lambda: not channel.watching or channel.check() is False)
    assert channel.receive() == "out of turn"


def test_check_is_true_once_the_peer_s_exit_or_close_is_here(pair: tuple[Channel, socket.socket]) -> None:
    channel, theirs = pair
    theirs.sendall(b"hi\nexit\n")
    theirs.close()

    assert wait_for_check(channel, channel.check)
    assert [channel.receive(), channel.receive()] == ["hi", "exit"]


def test_check_keeps_a_reset_for_receive_to_raise() -> None:
    with listen("127.0.0.1", 0) as listener:
        ours = connect("127.0.0.1", bound_port(listener))
        theirs, _ = listener.accept()
    channel = Channel(ours, ChatConnection(), "the test peer")
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    theirs.close()  # linger 0: a reset

    assert wait_for_check(channel, channel.check)
    with pytest.raises(PeerLost, match="the test peer reset the connection"):
        channel.receive()
    channel.close()


def test_check_reads_ahead_at_most_read_ahead_events(pair: tuple[Channel, socket.socket]) -> None:
    channel, theirs = pair
    lines = channel_module.RECV_BYTES  # twice one read's worth of two-byte lines
    theirs.sendall(b"x\n" * lines + b"exit\n")

    wait_for_check(channel, lambda: not channel.watching)
    assert channel.check() is False  # the exit is behind the backlog: left in the kernel's buffer
    received = [channel.receive() for _ in range(lines + 1)]
    assert received[-1] == "exit"


def test_a_classic_exit_without_newline_ends_the_chat_once_the_peer_is_silent(
    pair: tuple[Channel, socket.socket],
) -> None:
    channel, theirs = pair
    theirs.sendall(b"exit")

    assert wait_for_check(channel, lambda: channel.wait_time() is not None)
    assert channel.check() is False  # a partial message: the classic peer may not be done
    delay = channel.wait_time()
    assert delay is not None
    time.sleep(delay)  # exactly the silence the timer waits for
    assert channel.check() is True
    assert channel.receive() == "exit"
    assert channel.conn.peer_style is PeerStyle.CLASSIC


def wait_for_check(channel: Channel, done: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Wait (select on the socket, never a fixed sleep) until *done*; return its last answer."""
    deadline = time.monotonic() + timeout
    while not (result := done()) and time.monotonic() < deadline:
        channel.check()
        select.select([channel.fileno()], [], [], 0.05)
    return result


# -- send: whole messages, or a reset ---------------------------------------------------------

BIG = "x" * (1 << 20)  # far more than a socket's buffers hold: the send must wait for the peer


@pytest.fixture
def tcp_pair() -> Iterator[tuple[Channel, socket.socket]]:
    """A Channel over loopback TCP (a reset is a TCP thing) and the raw socket at the other end,
    whose small receive buffer keeps a big message from fitting in the kernels' buffers."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        # Before the SYN: a small window and small segments keep both kernels' buffers small.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        if hasattr(socket, "TCP_MAXSEG"):  # not on Windows
            listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
        ours = connect("127.0.0.1", bound_port(listener))
        theirs, _ = listener.accept()
    theirs.settimeout(5)
    channel = Channel(ours, ChatConnection(), "the test peer")
    yield channel, theirs
    channel.close()
    theirs.close()


def read_all(sock: socket.socket, into: bytearray, lines: int) -> threading.Thread:
    """Read *sock* in a thread until *lines* newlines came (or the end, or a reset)."""

    def run() -> None:
        with contextlib.suppress(OSError):
            while into.count(b"\n") < lines and (chunk := sock.recv(4096)):
                into.extend(chunk)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class Interrupted(Exception):
    """What the test's signal raises out of a send, as SIGTERM's handler does in the programs."""


@contextlib.contextmanager
def sigterm_after(seconds: float) -> Iterator[None]:
    """SIGTERM to this thread after *seconds*, its handler raising :class:`Interrupted`.

    Sent to the thread (not the process), so that the channel's holding of the signal is what
    the test sees; SIGALRM is pytest-timeout's.
    """

    def handler(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGTERM, handler)
    main = threading.get_ident()
    timer = threading.Timer(seconds, signal.pthread_kill, (main, signal.SIGTERM))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGTERM, previous)


def test_a_send_after_check_waits_for_the_peer_instead_of_cutting_the_message(
    tcp_pair: tuple[Channel, socket.socket],
) -> None:
    channel, theirs = tcp_pair
    channel.check()  # the prompt's watching: it leaves the socket non-blocking
    got = bytearray()
    reader = read_all(theirs, got, lines=1)

    channel.send(BIG)

    reader.join(5)
    assert bytes(got) == BIG.encode() + b"\n"


needs_thread_signals = pytest.mark.skipif(
    not hasattr(signal, "pthread_kill"), reason="no signals to a thread here (Windows)"
)


@needs_thread_signals
def test_a_send_a_signal_stops_is_finished_by_end_before_exit_with_no_byte_twice(
    tcp_pair: tuple[Channel, socket.socket],
) -> None:
    channel, theirs = tcp_pair
    with pytest.raises(Interrupted), sigterm_after(0.1):
        channel.send(BIG)  # the peer does not read yet: the signal comes while the send waits
    got = bytearray()
    reader = read_all(theirs, got, lines=2)

    channel.end("exit")

    reader.join(5)
    assert bytes(got) == BIG.encode() + b"\nexit\n"


@needs_thread_signals
def test_a_message_cut_because_the_peer_never_read_ends_in_a_reset_within_the_grace(
    tcp_pair: tuple[Channel, socket.socket],
) -> None:
    channel, theirs = tcp_pair
    with pytest.raises(Interrupted), sigterm_after(0.1):
        channel.send(BIG)
    began = time.monotonic()

    with pytest.raises(
        PeerLost, match=r"^connection lost: the test peer did not take our last message within 1 s$"
    ):
        channel.end("exit")
    channel.close()

    assert time.monotonic() - began == pytest.approx(channel_module.END_GRACE_S, abs=0.5)
    with pytest.raises(ConnectionResetError):
        read_to_the_end(theirs)


def read_to_the_end(sock: socket.socket) -> bytes:
    data = bytearray()
    while chunk := sock.recv(65536):
        data.extend(chunk)
    return bytes(data)
