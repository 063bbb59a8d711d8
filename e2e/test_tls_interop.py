"""Opt-in TLS: our programs with each other and with the usual TLS line tools, both ways, and every failure.

Certificates come from trustme: a test CA, a certificate for ``localhost`` and
``127.0.0.1`` signed by it, one for another name, and a second CA nobody trusts here.
The tools: ``openssl s_client``/``s_server``, ``socat ... OPENSSL:``/``OPENSSL-LISTEN:``
and ``ncat --ssl`` (Debian packages openssl, socat, ncat). docs/tls.md keeps the matrix.
"""

from __future__ import annotations

import signal
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from bots.loops import uvloop_installed
from chat.status import ExitStatus
from chat_testing import Programs, RawListener, Terminal
from chat_testing.plugin import require_tool

CONNECTED_BY = r"Connected by \('127\.0\.0\.1', (\d+)\)"
PING_DIALOGUE = "version: 1\nrules:\n  - contains: ping\n    reply: pong over TLS\nfallback: say ping\n"
PING_TEST = "version: 1\ntimeout: 5\nscript:\n  - say: ping\n  - expect: pong over TLS\n  - say: exit\n"
LOOPS = [
    "asyncio",
    pytest.param(
        "uvloop", marks=pytest.mark.skipif(not uvloop_installed(), reason="no uvloop here (Windows, PyPy)")
    ),
]


@dataclass(frozen=True)
class Certs:
    """PEM files for one test: the CA to trust, the server's certificate with its key, and the wrong ones."""

    ca: str
    #: Certificate chain and key in one file, for localhost and 127.0.0.1.
    server: str
    #: Signed by the trusted CA, for another name only.
    wrong_name: str
    #: Signed by a CA nobody here trusts.
    untrusted: str


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    folder = tmp_path_factory.mktemp("tls")
    ca, stranger = trustme.CA(), trustme.CA()

    def write(name: str, blob: trustme.Blob) -> str:
        path = folder / name
        blob.write_to_path(str(path))
        return str(path)

    return Certs(
        ca=write("ca.pem", ca.cert_pem),
        server=write("server.pem", ca.issue_cert("localhost", "127.0.0.1").private_key_and_cert_chain_pem),
        wrong_name=write("wrong.pem", ca.issue_cert("chat.example").private_key_and_cert_chain_pem),
        untrusted=write(
            "stranger.pem", stranger.issue_cert("localhost", "127.0.0.1").private_key_and_cert_chain_pem
        ),
    )


def tls_server(programs: Programs, cert: str) -> tuple[Terminal, int]:
    return programs.server("--tls-cert", cert, "--tls-key", cert)


def tls_client(programs: Programs, port: int, *args: str) -> Terminal:
    return programs.spawn("chat-client", "--port", str(port), "--tls", *args)


def free_port() -> int:
    """A loopback port free right now, for a tool that cannot listen on port 0 and say which it got."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _one_line(term: Terminal) -> str:
    assert "Traceback" not in term.output
    return term.lines[-1]


# -- our programs with each other ---------------------------------------------------------------


def test_a_tls_chat_shows_exactly_the_plain_chat_s_screens(programs: Programs, certs: Certs) -> None:
    server, port = tls_server(programs, certs.server)
    client = tls_client(programs, port, "--tls-ca", certs.ca)
    client_port = int(server.expect_re(CONNECTED_BY).group(1))
    client.expect("Client: ")
    client.send("hello über TLS")
    server.expect("Server: ")
    server.send("exit")

    assert client.wait_exit() == ExitStatus.SUCCESS
    assert server.wait_exit() == ExitStatus.SUCCESS
    assert server.lines == [
        f"Server listening on 127.0.0.1:{port}...",
        f"Connected by ('127.0.0.1', {client_port})",
        "Client: hello über TLS",
        "Server: exit",
        "Server ended the chat.",
    ]
    assert client.lines == [
        "Connected to server. Type 'exit' to quit.",
        "Client: hello über TLS",
        "Server: exit",
        "Server ended the chat.",
    ]


def test_a_tls_server_stopped_while_the_client_is_at_its_prompt_ends_the_client_at_once(
    programs: Programs, certs: Certs
) -> None:
    server, port = tls_server(programs, certs.server)
    client = tls_client(programs, port, "--tls-ca", certs.ca)
    client.expect("Client: ")
    server.expect_re(CONNECTED_BY + r"\r\n")
    server.child.kill(signal.SIGTERM)

    assert client.wait_exit() == ExitStatus.SUCCESS
    assert client.lines[-2:] == ["Server: exit", "Server ended the chat."]


def test_chat_bot_serves_and_tests_over_tls(programs: Programs, certs: Certs, tmp_path: Path) -> None:
    (tmp_path / "ping.yaml").write_text(PING_DIALOGUE)
    (tmp_path / "ping_test.yaml").write_text(PING_TEST)
    bot, port = programs.bot(
        "--script",
        str(tmp_path / "ping.yaml"),
        "--no-delay",
        "--tls-cert",
        certs.server,
        "--tls-key",
        certs.server,
    )
    tester = programs.spawn(
        "chat-bot", "--connect", "--port", str(port), "--script", str(tmp_path / "ping_test.yaml"),
        "--tls", "--tls-ca", certs.ca,
    )  # fmt: skip

    assert tester.wait_exit() == ExitStatus.SUCCESS
    assert "Server: pong over TLS" in tester.lines
    assert bot.child.isalive()


def test_a_test_suite_runs_over_tls(programs: Programs, certs: Certs, tmp_path: Path) -> None:
    (tmp_path / "ping.yaml").write_text(PING_DIALOGUE)
    for name in ("first_test.yaml", "second_test.yaml"):
        (tmp_path / name).write_text(PING_TEST)
    _, port = programs.bot(
        "--script", str(tmp_path / "ping.yaml"), "--no-delay",
        "--tls-cert", certs.server, "--tls-key", certs.server,
    )  # fmt: skip
    suite = programs.spawn(
        "chat-bot", "--connect", "--port", str(port), "--tls", "--tls-ca", certs.ca,
        "--script", str(tmp_path / "first_test.yaml"), str(tmp_path / "second_test.yaml"),
    )  # fmt: skip

    assert suite.wait_exit() == ExitStatus.SUCCESS
    assert suite.output.count("Server: pong over TLS") == 2


def test_chat_client_chats_with_a_tls_chat_bot(programs: Programs, certs: Certs, tmp_path: Path) -> None:
    (tmp_path / "ping.yaml").write_text(PING_DIALOGUE)
    _, port = programs.bot(
        "--script",
        str(tmp_path / "ping.yaml"),
        "--no-delay",
        "--tls-cert",
        certs.server,
        "--tls-key",
        certs.server,
    )
    client = tls_client(programs, port, "--tls-ca", certs.ca)
    client.expect("Client: ")
    client.send("ping")
    client.expect("Server: pong over TLS\r\n")
    client.expect("Client: ")
    client.send("exit")

    assert client.wait_exit() == ExitStatus.SUCCESS


# -- the line tools as clients of our servers -----------------------------------------------------

#: Each tool's command line as a TLS client of 127.0.0.1:PORT trusting CA, checking the name.
TOOL_CLIENTS: dict[str, Callable[[int, str], list[str]]] = {
    "openssl": lambda port, ca: [
        "s_client", "-quiet", "-connect", f"127.0.0.1:{port}", "-CAfile", ca,
        "-verify_return_error", "-verify_ip", "127.0.0.1",
    ],
    "socat": lambda port, ca: ["-", f"OPENSSL:127.0.0.1:{port},cafile={ca}"],
    # ncat checks DNS names only: it connects to localhost (127.0.0.1 in the certificate too).
    "ncat": lambda port, ca: ["--ssl", "--ssl-verify", "--ssl-trustfile", ca, "localhost", str(port)],
}  # fmt: skip


@pytest.mark.parametrize("tool", sorted(TOOL_CLIENTS))
def test_a_tls_line_tool_chats_with_chat_server(programs: Programs, certs: Certs, tool: str) -> None:
    path = require_tool(tool)
    server, port = tls_server(programs, certs.server)
    client = programs.spawn_command(tool, path, *TOOL_CLIENTS[tool](port, certs.ca))
    server.expect_re(CONNECTED_BY)
    client.send("hello from a tool")
    server.expect("Client: hello from a tool\r\n")
    server.expect("Server: ")
    server.send("hi, tool")
    client.expect("hi, tool")
    client.send("exit")

    assert server.wait_exit() == ExitStatus.SUCCESS
    assert server.lines[-2:] == ["Client: exit", "Client ended the chat."]


@pytest.mark.parametrize("tool", sorted(TOOL_CLIENTS))
def test_a_tls_line_tool_chats_with_a_tls_chat_bot(
    programs: Programs, certs: Certs, tool: str, tmp_path: Path
) -> None:
    path = require_tool(tool)
    (tmp_path / "ping.yaml").write_text(PING_DIALOGUE)
    bot, port = programs.bot(
        "--script", str(tmp_path / "ping.yaml"), "--no-delay", "--verbose",
        "--tls-cert", certs.server, "--tls-key", certs.server,
    )  # fmt: skip
    client = programs.spawn_command(tool, path, *TOOL_CLIENTS[tool](port, certs.ca))
    if tool == "openssl":  # s_client drops a line typed before its handshake ended
        client.expect_re(r"depth=0 .*\r\nverify return:1\r\n")
    client.send("ping")
    client.expect("pong over TLS")
    client.send("exit")

    bot.expect("ended: ")
    assert "Traceback" not in bot.output


# -- our clients with the line tools as servers ---------------------------------------------------

#: Each tool's command line as a TLS server on 127.0.0.1:PORT with CERT, and what it shows when ready.
TOOL_SERVERS: dict[str, tuple[Callable[[int, str], list[str]], str]] = {
    "openssl": (
        lambda port, cert: ["s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert, "-naccept", "1"],
        "ACCEPT",
    ),
    "socat": (
        lambda port, cert: [
            "-d", "-d", f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,cert={cert},verify=0", "-",
        ],
        "listening on",
    ),
    "ncat": (
        lambda port, cert: [
            "-v", "--ssl", "--ssl-cert", cert, "--ssl-key", cert, "-l", "127.0.0.1", str(port),
        ],
        "Listening on",
    ),
}  # fmt: skip


def tool_server(programs: Programs, tool: str, cert: str) -> tuple[Terminal, int]:
    path = require_tool(tool)
    port = free_port()
    command, ready = TOOL_SERVERS[tool]
    server = programs.spawn_command(tool, path, *command(port, cert))
    server.expect(ready)
    return server, port


@pytest.mark.parametrize("tool", sorted(TOOL_SERVERS))
def test_chat_client_chats_with_a_tls_line_tool_server(programs: Programs, certs: Certs, tool: str) -> None:
    server, port = tool_server(programs, tool, certs.server)
    client = tls_client(programs, port, "--tls-ca", certs.ca)
    client.expect("Client: ")
    client.send("hello, tool")
    server.expect("hello, tool")
    server.send("hi, client")
    client.expect("Server: hi, client\r\n")
    client.expect("Client: ")
    client.send("exit")

    assert client.wait_exit() == ExitStatus.SUCCESS
    server.expect("exit")


@pytest.mark.parametrize("tool", sorted(TOOL_SERVERS))
def test_chat_bot_connect_tests_a_tls_line_tool_server(
    programs: Programs, certs: Certs, tool: str, tmp_path: Path
) -> None:
    (tmp_path / "ping_test.yaml").write_text(PING_TEST)
    server, port = tool_server(programs, tool, certs.server)
    tester = programs.spawn(
        "chat-bot", "--connect", "--port", str(port), "--script", str(tmp_path / "ping_test.yaml"),
        "--tls", "--tls-ca", certs.ca,
    )  # fmt: skip
    server.expect("ping")
    server.send("pong over TLS")

    assert tester.wait_exit() == ExitStatus.SUCCESS
    server.expect("exit")


# -- failures: one line each, status 3 on the connecting side, no server left hanging -------------


def test_an_untrusted_certificate_stops_the_client_and_ends_chat_server(
    programs: Programs, certs: Certs
) -> None:
    server, port = tls_server(programs, certs.untrusted)
    client = tls_client(programs, port, "--tls-ca", certs.ca)

    assert client.wait_exit() == ExitStatus.CONNECTION_ERROR
    assert _one_line(client) == (
        f"chat-client: cannot start TLS with the server at 127.0.0.1:{port}: its certificate is not trusted "
        "(unable to get local issuer certificate); "
        "pass the certificate of the CA that signed it with --tls-ca FILE"
    )
    assert server.wait_exit() == ExitStatus.CONNECTION_ERROR
    assert _one_line(server).startswith("chat-server: TLS failed with the client at 127.0.0.1:")
    assert _one_line(server).endswith(
        ": it refused the handshake (unknown ca); "
        "does it trust the CA that signed --tls-cert (chat-client --tls-ca)?"
    )


def test_without_tls_ca_the_system_store_does_not_trust_a_test_ca(programs: Programs, certs: Certs) -> None:
    _, port = tls_server(programs, certs.server)
    client = tls_client(programs, port)

    assert client.wait_exit() == ExitStatus.CONNECTION_ERROR
    assert "its certificate is not trusted" in _one_line(client)


def test_a_certificate_for_another_name_stops_the_client(programs: Programs, certs: Certs) -> None:
    server, port = tls_server(programs, certs.wrong_name)
    client = tls_client(programs, port, "--tls-ca", certs.ca)

    assert client.wait_exit() == ExitStatus.CONNECTION_ERROR
    assert _one_line(client) == (
        f"chat-client: cannot start TLS with the server at 127.0.0.1:{port}: "
        "its certificate is not for this name "
        "(IP address mismatch, certificate is not valid for '127.0.0.1'.); "
        "connect with --host set to a name the certificate holds"
    )
    assert server.wait_exit() == ExitStatus.CONNECTION_ERROR
    assert "Traceback" not in server.output


def test_a_plain_client_against_a_tls_server_is_told_to_use_tls(programs: Programs, certs: Certs) -> None:
    server, port = tls_server(programs, certs.server)
    client = programs.client(port)
    client.expect("Client: ")
    client.send("hello?")

    assert client.wait_exit() == ExitStatus.CONNECTION_ERROR
    assert _one_line(client) == f"chat-client: the server at 127.0.0.1:{port} speaks TLS; connect with --tls"
    assert server.wait_exit() == ExitStatus.CONNECTION_ERROR
    assert _one_line(server).endswith(
        "sent plain text, not TLS; it must connect with TLS (chat-client --tls)"
    )


def test_a_tls_client_against_a_plain_server_is_told_to_leave_out_tls(
    programs: Programs, certs: Certs
) -> None:
    server, port = programs.server()
    client = tls_client(programs, port, "--tls-ca", certs.ca)

    assert client.wait_exit() == ExitStatus.CONNECTION_ERROR
    assert _one_line(client) == (
        f"chat-client: cannot start TLS with the server at 127.0.0.1:{port}: it closed the connection during "
        "the handshake; is it serving TLS? Connect without --tls to a plain server"
    )
    assert server.wait_exit() == ExitStatus.CONNECTION_ERROR
    assert _one_line(server).endswith(
        "started TLS, and this server is plain; serve with --tls-cert and --tls-key, or connect without --tls"
    )


def test_a_tls_client_against_a_plain_chat_bot_gets_one_line(
    programs: Programs, certs: Certs, tmp_path: Path
) -> None:
    (tmp_path / "ping.yaml").write_text(PING_DIALOGUE)
    bot, port = programs.bot("--script", str(tmp_path / "ping.yaml"), "--no-delay")
    client = tls_client(programs, port, "--tls-ca", certs.ca)

    assert client.wait_exit() == ExitStatus.CONNECTION_ERROR
    assert _one_line(client) == (
        f"chat-client: cannot start TLS with the server at 127.0.0.1:{port}: "
        "it answered in plain text, not TLS; connect without --tls"
    )
    assert bot.child.isalive()


@pytest.mark.parametrize("loop", LOOPS)
def test_a_tls_chat_bot_logs_a_failed_handshake_in_one_line_and_goes_on(
    programs: Programs, certs: Certs, tmp_path: Path, loop: str
) -> None:
    (tmp_path / "ping.yaml").write_text(PING_DIALOGUE)
    bot, port = programs.bot(
        "--script", str(tmp_path / "ping.yaml"), "--no-delay", "--verbose", "--loop", loop,
        "--tls-cert", certs.untrusted, "--tls-key", certs.untrusted,
    )  # fmt: skip
    refused = tls_client(programs, port, "--tls-ca", certs.ca)
    assert refused.wait_exit() == ExitStatus.CONNECTION_ERROR
    bot.expect_re(r"TLS failed with the client at 127\.0\.0\.1:\d+: it refused the handshake \(unknown ca\)")

    plain = programs.client(port)  # the bot still serves: the next client gets its answer
    plain.expect("Client: ")
    plain.send("ping")
    bot.expect_re(r"the client at 127\.0\.0\.1:\d+ sent plain text, not TLS")
    assert plain.wait_exit() in {ExitStatus.CONNECTION_ERROR, ExitStatus.PEER_LOST}
    assert "Traceback" not in bot.output
    assert bot.child.isalive()


def test_chat_bot_connect_with_an_untrusted_certificate_is_one_line_and_status_3(
    programs: Programs, certs: Certs, tmp_path: Path
) -> None:
    (tmp_path / "ping_test.yaml").write_text(PING_TEST)
    _, port = tls_server(programs, certs.untrusted)
    tester = programs.spawn(
        "chat-bot", "--connect", "--port", str(port), "--script", str(tmp_path / "ping_test.yaml"),
        "--tls", "--tls-ca", certs.ca,
    )  # fmt: skip

    assert tester.wait_exit() == ExitStatus.CONNECTION_ERROR
    assert _one_line(tester) == (
        f"chat-bot: cannot start TLS with the server at 127.0.0.1:{port}: its certificate is not trusted "
        "(unable to get local issuer certificate); "
        "pass the certificate of the CA that signed it with --tls-ca FILE"
    )


@pytest.mark.parametrize("name", ["chat-server", "chat-bot"])
def test_a_missing_certificate_file_is_a_usage_error_naming_it(
    programs: Programs, name: str, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nope.pem")
    term = programs.spawn(name, "--port", "0", "--tls-cert", missing, "--tls-key", missing)

    assert term.wait_exit() == ExitStatus.USAGE
    assert _one_line(term) == (
        f"{name}: cannot use the TLS certificate {missing!r} with the key {missing!r}: "
        "No such file or directory; give --tls-cert a PEM certificate and --tls-key its PEM private key"
    )


def test_a_certificate_without_its_key_is_a_usage_error(programs: Programs, certs: Certs) -> None:
    server = programs.spawn("chat-server", "--port", "0", "--tls-cert", certs.server)

    assert server.wait_exit() == ExitStatus.USAGE
    assert (
        _one_line(server) == "chat-server: --tls-cert and --tls-key go together: give both to serve over TLS"
    )


# -- signals while a handshake waits: every program ends within 2 s, whatever it is doing --------

STOP_LIMIT_S = 2.0  # a supervisor (docker stop, systemd) is promised an end within 2 s
SIGNALS = [
    pytest.param(signal.SIGTERM, 143, id="SIGTERM"),
    pytest.param(signal.SIGINT, 130, id="SIGINT"),
    pytest.param(signal.SIGHUP, 129, id="SIGHUP"),
]


@pytest.mark.parametrize(("sig", "status"), SIGNALS)
@pytest.mark.parametrize("loop", LOOPS)
def test_a_signal_ends_a_tls_chat_bot_within_2_s_while_a_client_stalls_its_handshake(
    programs: Programs, certs: Certs, loop: str, sig: signal.Signals, status: int
) -> None:
    bot, port = programs.bot("--loop", loop, "--tls-cert", certs.server, "--tls-key", certs.server)
    with socket.create_connection(("127.0.0.1", port)) as staller:
        staller.sendall(b"\x16\x03\x01\x00\xc8")  # the start of a ClientHello, and then nothing
        # A client connected after it is served, so the bot has taken the staller too (in order).
        served = tls_client(programs, port, "--tls-ca", certs.ca)
        served.expect("Client: ")
        started = time.monotonic()
        bot.child.kill(sig)

        assert bot.wait_exit() == status
    assert time.monotonic() - started < STOP_LIMIT_S


@pytest.mark.parametrize(("sig", "status"), SIGNALS)
@pytest.mark.parametrize("loop", LOOPS)
def test_a_signal_ends_chat_bot_connect_within_2_s_while_the_server_stalls_the_handshake(
    programs: Programs,
    certs: Certs,
    chat_raw_listener: RawListener,
    loop: str,
    sig: signal.Signals,
    status: int,
) -> None:
    bot = programs.spawn(
        "chat-bot", "--connect", "--port", str(chat_raw_listener.port), "--loop", loop,
        "--tls", "--tls-ca", certs.ca,
    )  # fmt: skip
    server = chat_raw_listener.accept()
    assert server.recv_some().startswith(b"\x16\x03")  # its ClientHello: the bot waits for our answer
    started = time.monotonic()
    bot.child.kill(sig)

    assert bot.wait_exit() == status
    assert time.monotonic() - started < STOP_LIMIT_S
    assert "Traceback" not in bot.output


@pytest.mark.parametrize("sigterm", [False, True], ids=["left", "sigterm"])
@pytest.mark.parametrize("loop", LOOPS)
def test_a_once_tls_chat_bot_ends_within_2_s_of_the_chat_though_its_client_keeps_the_socket_open(
    programs: Programs, certs: Certs, loop: str, sigterm: bool
) -> None:
    # A TLS close waits for the client's close_notify: 30 s on Python 3.11+, with no bound in 3.10's
    # asyncio; and a signal found the bot already stopping, so it waited all the same.
    bot, port = programs.bot("--once", "--loop", loop, "--tls-cert", certs.server, "--tls-key", certs.server)
    context = ssl.create_default_context(cafile=certs.ca)
    with context.wrap_socket(
        socket.create_connection(("127.0.0.1", port)), server_hostname="localhost"
    ) as client:
        client.sendall(b"exit\n")  # then neither reads (the bot's close_notify) nor closes
        bot.expect("Client: exit\r\n")
        started = time.monotonic()
        if sigterm:
            bot.child.kill(signal.SIGTERM)

        assert bot.wait_exit() == ExitStatus.SUCCESS  # the chat's own verdict: it ended before the signal
    assert time.monotonic() - started < STOP_LIMIT_S


@pytest.mark.parametrize("loop", LOOPS)
def test_a_once_tls_chat_bot_keeps_its_one_chat_for_a_client_whose_handshake_succeeds(
    programs: Programs, certs: Certs, tmp_path: Path, loop: str
) -> None:
    (tmp_path / "ping.yaml").write_text(PING_DIALOGUE)
    bot, port = programs.bot(
        "--once", "--script", str(tmp_path / "ping.yaml"), "--no-delay", "--loop", loop,
        "--tls-cert", certs.server, "--tls-key", certs.server,
    )  # fmt: skip
    plain = programs.client(port)  # its handshake fails: it takes no chat
    plain.expect("Client: ")
    plain.send("ping")
    assert plain.wait_exit() in {ExitStatus.CONNECTION_ERROR, ExitStatus.PEER_LOST}

    client = tls_client(programs, port, "--tls-ca", certs.ca)
    client.expect("Client: ")
    client.send("ping")
    client.expect("Server: pong over TLS\r\n")
    client.expect("Client: ")
    client.send("exit")

    assert client.wait_exit() == ExitStatus.SUCCESS
    assert bot.wait_exit() == ExitStatus.SUCCESS
