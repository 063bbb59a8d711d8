"""chat.net: the listening socket's options, on this platform and on the other one."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

import pytest

from chat.net import endpoint, listen_error, prepare_listener

LOOPBACK = "127.0.0.1"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A chat listener on a free loopback port, prepared as the programs prepare theirs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    prepare_listener(sock)
    sock.bind((LOOPBACK, 0))
    sock.listen()
    yield sock
    sock.close()


def _refusal(port: int) -> OSError:
    """The error a second prepared listener on *port* meets (bind or listen, as the platform decides)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as second:
        prepare_listener(second)
        try:
            second.bind((LOOPBACK, port))
            second.listen()
        except OSError as exc:
            return exc
    pytest.fail(f"a second listener got port {port}, on which another listens")


def test_a_second_listener_on_a_port_in_use_is_refused_with_the_port_in_use_message(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    where = endpoint(LOOPBACK, port)
    assert str(listen_error(_refusal(port), where)) == (
        f"cannot listen on {where}: port already in use; "
        "stop the program using it or choose another --port (0 picks a free one)"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="the TIME_WAIT restart is the POSIX branch's reason")
def test_a_restarted_listener_binds_its_port_while_the_last_chat_sits_in_time_wait(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    with socket.create_connection((LOOPBACK, port), timeout=5) as peer:
        accepted, _ = listener.accept()
        accepted.close()  # the server closes first: its side of the connection enters TIME_WAIT
        assert peer.recv(1) == b""
    listener.close()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as restarted:
        prepare_listener(restarted)
        restarted.bind((LOOPBACK, port))
        restarted.listen()
        assert restarted.getsockname()[1] == port


class RecordingSocket:
    """Stands in for a socket in the two tests below: records the options set on it."""

    def __init__(self) -> None:
        self.options: list[tuple[int, int, int]] = []

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self.options.append((level, option, value))


SO_EXCLUSIVEADDRUSE_ON_WINDOWS = -5  # the value of ~SO_REUSEADDR in winsock2.h, as Windows' Python has it


def test_where_the_platform_has_exclusive_binding_the_listener_takes_its_port_exclusively(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "SO_EXCLUSIVEADDRUSE", SO_EXCLUSIVEADDRUSE_ON_WINDOWS, raising=False)
    sock = RecordingSocket()
    prepare_listener(sock)  # type: ignore[arg-type]
    assert sock.options == [(socket.SOL_SOCKET, SO_EXCLUSIVEADDRUSE_ON_WINDOWS, 1)]


def test_elsewhere_the_listener_reuses_an_address_in_time_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(socket, "SO_EXCLUSIVEADDRUSE", raising=False)
    sock = RecordingSocket()
    prepare_listener(sock)  # type: ignore[arg-type]
    assert sock.options == [(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)]
