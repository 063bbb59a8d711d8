"""Interoperability, both directions: the seed's classic programs, line tools and IPv6.

The classic stand-ins in ``chat_testing/classic/`` are the seed's server.py and client.py
(only HOST and PORT from argv). A chat between the two of them gives the
reference screens; with one side replaced by chat-server or
``chat-client --classic``, a person on either side must see exactly the same.

The line tools differ between systems, and these tests rely on nothing that differs: GNU netcat,
the traditional netcat, the OpenBSD nc (Debian's netcat-openbsd) and macOS's own nc (derived from
it) all connect with ``nc HOST PORT``; only their listen syntax differs (see ``_nc_listen``). None
of them is asked for a banner (macOS's nc prints nothing when it listens) or for port 0 (macOS's
refuses it): the test picks the port, and the client itself waits for the tool to listen.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time

import pytest

from chat_testing import CONNECTED_TO_SERVER, Programs, Terminal
from chat_testing.env import EXPECT_TIMEOUT_S, ipv6_loopback_available
from chat_testing.plugin import require_tool

# Each turn: (what the client's person types, what the server's person types).
# No empty message: the seed's programs send no bytes for one and then both wait forever.
TURNS = [("hello", "  hi there  "), ("ça va? 你好 🎉", "très bien")]

CONNECTED_BY = r"Connected by \('127\.0\.0\.1', (\d+)\)"


def _classic_screens(port: int, client_port: int, ender: str) -> tuple[list[str], list[str]]:
    """The classic screens for TURNS, then `exit` from *ender*; server lines and client lines."""
    server = [f"Server listening on 127.0.0.1:{port}...", f"Connected by ('127.0.0.1', {client_port})"]
    client = [CONNECTED_TO_SERVER]
    for mine, theirs in TURNS:
        for lines in (server, client):
            lines += [f"Client: {mine}", f"Server: {theirs}"]
    if ender == "client":
        server += ["Client: exit", "Client ended the chat."]
        client += ["Client: exit", "Client ended the chat."]
    else:
        client += ["Client: last words"]
        server += ["Client: last words"]
        server += ["Server: exit", "Server ended the chat."]
        client += ["Server: exit", "Server ended the chat."]
    return server, client


def _talk(server: Terminal, client: Terminal, ender: str) -> None:
    for mine, theirs in TURNS:
        client.expect("Client: ")
        client.send(mine)
        server.expect(f"Client: {mine}\r\n")
        server.expect("Server: ")
        server.send(theirs)
        client.expect("Server: ")
    client.expect("Client: ")
    if ender == "client":
        client.send("exit")
        return
    client.send("last words")
    server.expect("Client: last words\r\n")
    server.expect("Server: ")
    server.send("exit")


def _pin_screens(server: Terminal, client: Terminal, port: int, client_port: int, ender: str) -> None:
    assert client.wait_exit() == 0
    assert server.wait_exit() == 0
    expected_server, expected_client = _classic_screens(port, client_port, ender)
    assert server.lines == expected_server
    assert client.lines == expected_client


@pytest.mark.parametrize("ender", ["client", "server"])
def test_the_expected_screens_are_the_seed_programs_own(programs: Programs, ender: str) -> None:
    server, port = programs.classic_server()
    client = programs.classic_client(port)
    client_port = int(server.expect_re(CONNECTED_BY).group(1))
    _talk(server, client, ender)

    _pin_screens(server, client, port, client_port, ender)


@pytest.mark.parametrize("ender", ["client", "server"])
def test_the_classic_client_chats_with_chat_server_on_classic_screens(programs: Programs, ender: str) -> None:
    server, port = programs.server()
    client = programs.classic_client(port)
    client_port = int(server.expect_re(CONNECTED_BY).group(1))
    _talk(server, client, ender)

    _pin_screens(server, client, port, client_port, ender)


@pytest.mark.parametrize("ender", ["client", "server"])
def test_chat_client_classic_chats_with_the_classic_server_on_classic_screens(
    programs: Programs, ender: str
) -> None:
    server, port = programs.classic_server()
    client = programs.client(port, "--classic")
    client_port = int(server.expect_re(CONNECTED_BY).group(1))
    _talk(server, client, ender)

    _pin_screens(server, client, port, client_port, ender)


def test_an_empty_reply_reaches_the_classic_client_as_one_blank_instead_of_hanging(
    programs: Programs,
) -> None:
    server, port = programs.server()
    client = programs.classic_client(port)
    client.expect("Client: ")
    client.send("say nothing")
    server.expect("Server: ")
    server.send("")
    client.expect("Server:  \r\n")
    client.expect("Client: ")
    client.send("exit")

    assert client.wait_exit() == 0
    assert server.wait_exit() == 0
    assert server.lines[-4:] == ["Client: say nothing", "Server: ", "Client: exit", "Client ended the chat."]


def _nc_to_server(programs: Programs, tool: str) -> tuple[Terminal, Terminal]:
    require_tool(tool)
    server, port = programs.server()
    if tool == "nc":
        # No -v: its "succeeded!" line is the OpenBSD nc's alone. The server's line below says connected.
        peer = programs.spawn_command("nc", "nc", "127.0.0.1", str(port))
    elif tool == "socat":
        peer = programs.spawn_command("socat", "socat", "-", f"TCP:127.0.0.1:{port}")
    else:
        peer = programs.spawn_command("telnet", "telnet", "127.0.0.1", str(port))
        peer.expect("Escape character is '^]'.")
    server.expect_re(CONNECTED_BY)
    return server, peer


@pytest.mark.parametrize(("tool", "ender"), [("nc", "tool"), ("socat", "tool"), ("telnet", "server")])
def test_a_line_tool_chats_with_chat_server(programs: Programs, tool: str, ender: str) -> None:
    server, peer = _nc_to_server(programs, tool)
    peer.send("hello from a line tool, ça va 🎉")
    server.expect("Client: hello from a line tool, ça va 🎉\r\n")
    server.expect("Server: ")
    server.send("hi, line tool")
    peer.expect("hi, line tool\r\n")
    if ender == "tool":
        peer.send("EXIT")
        last = ["Client: EXIT", "Client ended the chat."]
    else:
        peer.send("bye")
        server.expect("Server: ")
        server.send("exit")
        peer.expect("exit\r\n")
        peer.expect("Connection closed by foreign host.")
        last = ["Client: bye", "Server: exit", "Server ended the chat."]

    assert server.wait_exit() == 0
    assert server.lines[2:] == ["Client: hello from a line tool, ça va 🎉", "Server: hi, line tool", *last]


def _free_port() -> int:
    """A loopback port that nothing listens on now (the tool gets it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _nc_listen(nc: str, port: int) -> list[str]:
    """nc's arguments to listen on 127.0.0.1:*port*, for the variant installed.

    GNU netcat and the traditional netcat take the port with -p and the address with -s (their
    operands name the peer to accept). The OpenBSD nc and macOS's take address and port as operands.
    """
    usage = subprocess.run([nc, "-h"], capture_output=True, text=True, timeout=10, check=False)
    if re.search(r"GNU netcat|\[v1\.10", usage.stdout + usage.stderr):
        return ["-n", "-l", "-p", str(port), "-s", "127.0.0.1"]
    return ["-n", "-l", "127.0.0.1", str(port)]


def _client_once_listening(programs: Programs, port: int) -> Terminal:
    """chat-client connected to a tool that is starting to listen on *port*.

    The tool says nothing portable when it listens, and a probe connection would become its one
    peer: so chat-client itself tries, and each refused try ends at once with its one line.
    """
    deadline = time.monotonic() + EXPECT_TIMEOUT_S
    while True:
        client = programs.spawn("chat-client", "--host", "127.0.0.1", "--port", str(port))
        answer = client.expect_re(f"{re.escape(CONNECTED_TO_SERVER)}|connection refused by").group(0)
        if answer == CONNECTED_TO_SERVER:
            return client
        client.wait_exit()
        if time.monotonic() > deadline:
            pytest.fail(f"nothing listened on 127.0.0.1:{port} within {EXPECT_TIMEOUT_S:.0f} s")


@pytest.mark.parametrize("tool", ["nc", "socat"])
def test_a_line_tool_hosts_a_chat_for_chat_client(programs: Programs, tool: str) -> None:
    path = require_tool(tool)
    port = _free_port()
    if tool == "nc":
        host = programs.spawn_command("nc -l", path, *_nc_listen(path, port))
    else:
        host = programs.spawn_command("socat -l", path, f"TCP-LISTEN:{port},bind=127.0.0.1", "STDIO")
    client = _client_once_listening(programs, port)
    client.expect("Client: ")
    client.send("hello, ça va 🎉")
    host.expect("hello, ça va 🎉\r\n")
    host.send("fine, 你好")
    client.expect("Server: fine, 你好\r\n")
    client.expect("Client: ")
    client.send("and now?")
    host.expect("and now?\r\n")
    host.send("  Exit")

    assert client.wait_exit() == 0
    assert client.lines == [
        CONNECTED_TO_SERVER,
        "Client: hello, ça va 🎉",
        "Server: fine, 你好",
        "Client: and now?",
        "Server:   Exit",
        "Server ended the chat.",
    ]


def test_ipv6_loopback_chat(programs: Programs) -> None:
    if not ipv6_loopback_available():
        pytest.skip("this machine cannot listen on ::1")
    server, port = programs.server("--host", "::1")
    assert server.lines[0] == f"Server listening on ::1:{port}..."
    client = programs.client(port, host="::1")
    server.expect_re(r"Connected by \('::1', \d+, 0, 0\)")
    client.expect("Client: ")
    client.send("over IPv6")
    server.expect("Client: over IPv6\r\n")
    server.expect("Server: ")
    server.send("exit")

    assert server.wait_exit() == 0
    assert client.wait_exit() == 0
    assert client.lines[-2:] == ["Server: exit", "Server ended the chat."]
    assert re.fullmatch(r"Connected by \('::1', \d+, 0, 0\)", server.lines[1])
