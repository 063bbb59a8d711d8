"""chat.tls: contexts from the command line's files, real handshakes over loopback, one line per failure.

Certificates come from trustme; every handshake is a real one between two threads.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from chat import net, program, tls
from chat.classic import session
from chat.classic.channel import Channel
from chat.errors import ConnectError, PeerLost, UsageError
from chat.protocol import ChatConnection

CA = trustme.CA()
SERVER_CERT = CA.issue_cert("localhost", "127.0.0.1")


@pytest.fixture
def server_pem(tmp_path: Path) -> str:
    path = tmp_path / "server.pem"
    SERVER_CERT.private_key_and_cert_chain_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def ca_pem(tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    CA.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected loopback TCP pair: (client side, server side)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    yield client, server
    client.close()
    server.close()


def in_thread(work: Callable[[], object]) -> Callable[[], object]:
    """Run *work* in a thread; the returned call joins it and returns its result or raises its error."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the joining thread
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> object:
        thread.join(10)
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    return join


# -- contexts ---------------------------------------------------------------------------------------


def test_looks_like_tls_knows_a_handshake_and_an_alert_from_chat_text() -> None:
    assert net.looks_like_tls(b"\x16\x03\x01\x02\x00")
    assert net.looks_like_tls(tls.UNEXPECTED_MESSAGE_ALERT)
    assert not net.looks_like_tls(b"hello\n")
    assert not net.looks_like_tls(b"\x16")


def test_a_missing_certificate_is_a_usage_error_naming_both_files(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.pem")

    with pytest.raises(UsageError) as caught:
        tls.server_context(missing, missing)

    assert str(caught.value) == (
        f"cannot use the TLS certificate {missing!r} with the key {missing!r}: No such file or directory; "
        "give --tls-cert a PEM certificate and --tls-key its PEM private key"
    )


def test_a_key_that_does_not_match_the_certificate_is_a_usage_error(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    SERVER_CERT.cert_chain_pems[0].write_to_path(str(cert))
    CA.issue_cert("other.example").private_key_pem.write_to_path(str(key))

    with pytest.raises(UsageError, match=r": key values mismatch; give --tls-cert"):
        tls.server_context(str(cert), str(key))


def test_an_encrypted_key_is_refused_instead_of_prompting_for_its_passphrase(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    SERVER_CERT.cert_chain_pems[0].write_to_path(str(cert))
    private = serialization.load_pem_private_key(SERVER_CERT.private_key_pem.bytes(), password=None)
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )

    with pytest.raises(UsageError) as caught:
        tls.server_context(str(cert), str(key))

    assert str(caught.value) == (
        "the TLS key is encrypted with a passphrase: give --tls-key an unencrypted key file"
    )


def test_a_missing_ca_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "ca.pem")

    with pytest.raises(UsageError) as caught:
        tls.client_context(missing)

    assert str(caught.value) == (
        f"cannot use the TLS CA file {missing!r}: No such file or directory; "
        "give --tls-ca a PEM certificate file"
    )


def test_the_client_context_checks_certificates_and_names() -> None:
    context = tls.client_context()

    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


# -- the command line's options ---------------------------------------------------------------------


def parse(add: Callable[[argparse.ArgumentParser], None], *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add(parser)
    return parser.parse_args(argv)


def test_without_tls_options_both_roles_stay_plain() -> None:
    assert program.server_tls(parse(program.add_tls_server_options)) is None
    assert program.client_tls(parse(program.add_tls_client_options)) is None


def test_tls_options_give_contexts(server_pem: str, ca_pem: str) -> None:
    served = program.server_tls(
        parse(program.add_tls_server_options, "--tls-cert", server_pem, "--tls-key", server_pem)
    )
    connecting = program.client_tls(parse(program.add_tls_client_options, "--tls", "--tls-ca", ca_pem))

    assert isinstance(served, ssl.SSLContext)
    assert isinstance(connecting, ssl.SSLContext)


def test_a_certificate_without_its_key_is_a_usage_error(server_pem: str) -> None:
    with pytest.raises(UsageError) as caught:
        program.server_tls(parse(program.add_tls_server_options, "--tls-cert", server_pem))

    assert str(caught.value) == "--tls-cert and --tls-key go together: give both to serve over TLS"


def test_tls_ca_without_tls_is_a_usage_error(ca_pem: str) -> None:
    with pytest.raises(UsageError) as caught:
        program.client_tls(parse(program.add_tls_client_options, "--tls-ca", ca_pem))

    assert str(caught.value) == "--tls-ca goes with --tls: add --tls to connect over TLS"


# -- real handshakes -------------------------------------------------------------------------------


def test_a_trusted_handshake_carries_the_chat(
    pair: tuple[socket.socket, socket.socket], server_pem: str, ca_pem: str
) -> None:
    client, server = pair
    accepting = in_thread(
        lambda: tls.wrap_server(server, tls.server_context(server_pem, server_pem), "the peer")
    )
    secure = tls.wrap_client(client, tls.client_context(ca_pem), "127.0.0.1", "the server")
    served = accepting()
    assert isinstance(served, ssl.SSLSocket)
    ours = Channel(secure, ChatConnection(), "the server")
    served.sendall(b"hello\nexit\n")

    assert ours.receive() == "hello"
    assert ours.receive() == "exit"
    tls.close(served)
    ours.close()


@pytest.mark.parametrize(
    ("host", "ca", "expected"),
    [
        (
            "127.0.0.1",
            None,
            "cannot start TLS with the server: its certificate is not trusted "
            "(unable to get local issuer certificate); pass the certificate of the CA that signed it "
            "with --tls-ca FILE",
        ),
        (
            "chat.example",
            "ca",
            "cannot start TLS with the server: its certificate is not for this name (Hostname mismatch, "
            "certificate is not valid for 'chat.example'.); connect with --host set to a name the "
            "certificate holds",
        ),
    ],
)
def test_a_refused_certificate_is_one_line_saying_what_to_do(
    pair: tuple[socket.socket, socket.socket],
    server_pem: str,
    ca_pem: str,
    host: str,
    ca: str | None,
    expected: str,
) -> None:
    client, server = pair

    def serve() -> object:
        served = tls.wrap_server(server, tls.server_context(server_pem, server_pem), "the peer")
        # TLS 1.3: the client's alert comes after the server's side of the handshake ended.
        return Channel(served, ChatConnection(), "the peer").receive()

    serving = in_thread(serve)

    with pytest.raises(ConnectError) as caught:
        tls.wrap_client(client, tls.client_context(ca_pem if ca else None), host, "the server")

    assert str(caught.value) == expected
    with pytest.raises(ConnectError, match=r"^TLS failed with the peer: it refused the handshake \("):
        serving()


def test_a_plain_client_gets_an_alert_it_recognises(
    pair: tuple[socket.socket, socket.socket], server_pem: str
) -> None:
    client, server = pair
    accepting = in_thread(
        lambda: tls.wrap_server(server, tls.server_context(server_pem, server_pem), "the peer")
    )
    plain = Channel(client, ChatConnection(), "the server", tls_mismatch=net.tls_server_error("127.0.0.1:1"))
    plain.send("hello")

    with pytest.raises(ConnectError) as caught:
        plain.receive()

    assert str(caught.value) == "the server at 127.0.0.1:1 speaks TLS; connect with --tls"
    plain.close()
    with pytest.raises(ConnectError) as refused:
        accepting()
    assert str(refused.value) == (
        "the peer sent plain text, not TLS; it must connect with TLS (chat-client --tls)"
    )


def test_a_plain_server_answering_text_is_told_apart(
    pair: tuple[socket.socket, socket.socket], ca_pem: str
) -> None:
    client, server = pair

    def answer_plainly() -> None:
        server.recv(4096)
        server.sendall(b"sorry, what?\n")

    answering = in_thread(answer_plainly)

    with pytest.raises(ConnectError) as caught:
        tls.wrap_client(client, tls.client_context(ca_pem), "127.0.0.1", "the server")

    answering()
    assert str(caught.value) == (
        "cannot start TLS with the server: it answered in plain text, not TLS; connect without --tls"
    )


def test_a_plain_server_hanging_up_is_told_apart(
    pair: tuple[socket.socket, socket.socket], ca_pem: str
) -> None:
    client, server = pair

    def hang_up() -> None:
        server.recv(4096)
        server.close()

    hanging_up = in_thread(hang_up)

    with pytest.raises(ConnectError) as caught:
        tls.wrap_client(client, tls.client_context(ca_pem), "127.0.0.1", "the server")

    hanging_up()
    assert str(caught.value) == (
        "cannot start TLS with the server: it closed the connection during the handshake; "
        "is it serving TLS? Connect without --tls to a plain server"
    )


def test_a_tls_peer_closing_without_close_notify_is_a_plain_close(
    pair: tuple[socket.socket, socket.socket], server_pem: str, ca_pem: str
) -> None:
    client, server = pair
    accepting = in_thread(
        lambda: tls.wrap_server(server, tls.server_context(server_pem, server_pem), "the peer")
    )
    ours = Channel(
        tls.wrap_client(client, tls.client_context(ca_pem), "127.0.0.1", "the server"), ChatConnection(), "p"
    )
    served = accepting()
    assert isinstance(served, ssl.SSLSocket)
    served.sendall(b"last words\n")
    os.close(served.detach())  # TCP ends without TLS's close_notify, as when a peer is killed

    assert ours.receive() == "last words"
    select.select([ours.fileno()], [], [], 5)
    assert ours.check() is True  # its close shows at the prompt
    with pytest.raises(PeerLost, match="closed the connection without saying 'exit'"):
        session._show(ours.receive(), ours, "Server")
    ours.close()


# -- chat-bot's TLS options go with their role ----------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--connect", "--tls-cert", "c.pem", "--tls-key", "c.pem"],
            "--tls-cert cannot be used with --connect: it is for serving",
        ),
        (["--tls"], "--tls cannot be used with serving: it is for --connect"),
        (["--tls-ca", "ca.pem"], "--tls-ca cannot be used with serving: it is for --connect"),
        (["--try", "--tls-key", "c.pem"], "--tls-key cannot be used with --try: it is for serving"),
    ],
)
def test_chat_bot_refuses_tls_options_of_another_role(argv: list[str], message: str) -> None:
    from bots import cli

    with pytest.raises(UsageError) as caught:
        cli.main(argv)

    assert str(caught.value) == message


# -- the serving bot's TLS gate --------------------------------------------------------------------


def test_a_tls_bot_answers_a_client_that_speaks_right_after_its_handshake(
    server_pem: str, ca_pem: str, tmp_path: Path
) -> None:
    from bots.loader import load_dialogue
    from bots.server import BotServer, ServeOptions

    (tmp_path / "ping.yaml").write_text(
        "version: 1\nrules:\n  - contains: ping\n    reply: pong\nfallback: what?\n"
    )
    dialogue = load_dialogue(str(tmp_path / "ping.yaml"))

    async def chat() -> list[bytes]:
        server = BotServer(
            dialogue, ServeOptions(delays=False, tls=tls.server_context(server_pem, server_pem))
        )
        port = await server.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=tls.client_context(ca_pem), server_hostname="127.0.0.1"
        )
        writer.write(b"ping\nexit\n")  # at once: before the bot's chat has taken over from the handshake
        lines = [await asyncio.wait_for(reader.readline(), 5) for _ in range(2)]
        writer.close()
        server.stop()
        await server.wait_stopped()
        return lines

    assert asyncio.run(chat()) == [b"pong\n", b""]
