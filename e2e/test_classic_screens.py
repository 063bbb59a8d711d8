"""The classic screens, line for line: chat-server and chat-client as a person sees them.

Every line the seed's programs print is pinned here, in order, with the text
the person typed (the pty echoes it after the prompt, as on a real terminal).
"""

from __future__ import annotations

import fcntl
import re
import socket
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from chat import __version__
from chat_testing import CONNECTED_TO_SERVER, Programs, child_env


def test_a_whole_chat_shows_the_classic_screens_line_for_line(programs: Programs) -> None:
    server, port = programs.server()
    client = programs.client(port)
    client_port = int(server.expect_re(r"Connected by \('127\.0\.0\.1', (\d+)\)").group(1))

    for mine, theirs in [("hello", "hi there"), ("how are you?", "fine, thanks")]:
        client.expect("Client: ")
        client.send(mine)
        server.expect(f"Client: {mine}")
        server.expect("Server: ")
        server.send(theirs)
        client.expect(f"Server: {theirs}")
    client.expect("Client: ")
    client.send("exit")

    assert client.wait_exit() == 0
    assert server.wait_exit() == 0
    assert server.lines == [
        f"Server listening on 127.0.0.1:{port}...",
        f"Connected by ('127.0.0.1', {client_port})",
        "Client: hello",
        "Server: hi there",
        "Client: how are you?",
        "Server: fine, thanks",
        "Client: exit",
        "Client ended the chat.",
    ]
    assert client.lines == [
        CONNECTED_TO_SERVER,
        "Client: hello",
        "Server: hi there",
        "Client: how are you?",
        "Server: fine, thanks",
        "Client: exit",
        "Client ended the chat.",
    ]


def test_exit_in_upper_case_with_blanks_ends_the_chat_from_the_client(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("  EXIT  ")

    assert client.wait_exit() == 0
    assert server.wait_exit() == 0
    assert server.lines[-2:] == ["Client:   EXIT  ", "Client ended the chat."]
    assert client.lines[-2:] == ["Client:   EXIT  ", "Client ended the chat."]


def test_exit_in_upper_case_with_blanks_ends_the_chat_from_the_server(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("bye?")
    server.expect("Server: ")
    server.send(" Exit ")

    assert server.wait_exit() == 0
    assert client.wait_exit() == 0
    assert server.lines[-3:] == ["Client: bye?", "Server:  Exit ", "Server ended the chat."]
    assert client.lines[-3:] == ["Client: bye?", "Server:  Exit ", "Server ended the chat."]


def test_turns_are_strict_so_text_typed_out_of_turn_waits_for_the_next_turn(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("first")
    # Typed ahead while it is the server's turn: the client must not read or send it yet.
    client.send("second")
    server.expect("Client: first")
    server.expect("Server: ")
    server.send("reply")
    server.expect("Client: second")
    server.expect("Server: ")
    server.send("exit")

    assert server.wait_exit() == 0
    assert client.wait_exit() == 0
    assert server.lines[2:] == [
        "Client: first",
        "Server: reply",
        "Client: second",
        "Server: exit",
        "Server ended the chat.",
    ]


def test_port_0_makes_the_listening_line_show_the_port_really_bound(programs: Programs) -> None:
    server, port = programs.server()

    assert 0 < port <= 65535
    assert server.lines[0] == f"Server listening on 127.0.0.1:{port}..."
    # The line tells the truth: that port really accepts a connection.
    with closing(socket.create_connection(("127.0.0.1", port), timeout=5)):
        server.expect_re(r"Connected by \('127\.0\.0\.1', \d+\)")


def test_the_environment_sets_the_default_host_and_port_of_both_programs(programs: Programs) -> None:
    server = programs.spawn("chat-server", env=child_env(CHAT_HOST="127.0.0.1", CHAT_PORT="0"))
    match = server.expect_re(r"Server listening on 127\.0\.0\.1:(\d+)\.\.\.")
    port = match.group(1)
    client = programs.spawn("chat-client", env=child_env(CHAT_HOST="127.0.0.1", CHAT_PORT=port))
    client.expect(CONNECTED_TO_SERVER)
    client.expect("Client: ")
    client.send("exit")

    assert client.wait_exit() == 0
    assert server.wait_exit() == 0


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def classic_port_turn() -> Iterator[None]:
    """This machine's runs of the suite take turns at the fixed port 65432.

    tox runs two Python versions at once (.ci/run), and both run the test below: without a turn,
    one found the other's server on the port and skipped, so its version proved nothing.
    """
    lock = Path(tempfile.gettempdir()) / "chat-e2e-port-65432.lock"
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # the other run holds it under a second; pytest-timeout bounds it
        yield


@pytest.mark.usefixtures("classic_port_turn")
def test_without_options_both_programs_use_the_classic_127_0_0_1_65432(programs: Programs) -> None:
    # The classic defaults, for real. The port is fixed, so another program may
    # hold it on a shared machine: only then is there nothing this test can show.
    if not _port_is_free(65432):
        pytest.skip("port 65432 is in use on this machine; the defaults are also pinned by --help")
    server = programs.spawn("chat-server")
    index = server.child.expect_exact(["Server listening on 127.0.0.1:65432...", "port already in use"])
    if index == 1:
        pytest.skip("port 65432 was taken between the check and the start")
    client = programs.spawn("chat-client")
    client.expect(CONNECTED_TO_SERVER)
    client.expect("Client: ")
    client.send("exit")

    assert client.wait_exit() == 0
    assert server.wait_exit() == 0
    assert server.lines[0] == "Server listening on 127.0.0.1:65432..."


@pytest.mark.parametrize("name", ["chat-server", "chat-client"])
def test_version_prints_the_program_name_and_version(programs: Programs, name: str) -> None:
    term = programs.spawn(name, "--version")

    assert term.wait_exit() == 0
    assert term.lines == [f"{name} {__version__}"]


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("chat-server", ["--host", "--port", "--max-message-bytes", "--version", "--help"]),
        ("chat-client", ["--host", "--port", "--classic", "--max-message-bytes", "--version", "--help"]),
    ],
)
def test_help_explains_every_option_the_defaults_and_the_environment(
    programs: Programs, name: str, options: list[str]
) -> None:
    term = programs.spawn(name, "--help")

    assert term.wait_exit() == 0
    text = term.output
    assert text.startswith(f"usage: {name} ")
    for option in options:
        assert re.search(rf"^  (-h, )?{option}\b", text, re.MULTILINE), f"{option} is not explained"
    assert "(default: 127.0.0.1)" in text
    assert "65432" in text
    assert "1048576" in text
    assert "CHAT_HOST" in text
    assert "CHAT_PORT" in text
    assert "exit status" in text
