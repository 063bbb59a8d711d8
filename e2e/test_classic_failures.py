"""Failures: one clear line on the terminal, a documented exit status, never a traceback.

Connection failures, a peer that vanishes, Ctrl-C, Ctrl-D and SIGTERM. When a
person ends the chat with a key or a signal, the peer learns of it the classic
way (it receives `exit`) and ends cleanly too.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator

import pytest

from chat.status import ExitStatus
from chat_testing import Programs, RawPeer, Terminal, child_env, wait_until
from chat_testing.env import EXPECT_TIMEOUT_S

#: How soon a peer's end must show at our prompt: at once for a person, with room for a slow CI.
PEER_END_SHOWN_S = 2.0 * EXPECT_TIMEOUT_S / 5.0

CONNECTED_BY = r"Connected by \('127\.0\.0\.1', (\d+)\)"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nobody else gets it), not listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def _one_line_failure(term: Terminal, status: int) -> str:
    assert term.wait_exit() == status
    assert "Traceback" not in term.output
    lines = [line for line in term.lines if line]
    assert len(lines) == 1, lines
    return lines[0]


def test_connection_refused_names_the_address_and_what_to_do(programs: Programs, closed_port: int) -> None:
    client = programs.spawn("chat-client", "--port", str(closed_port))

    assert _one_line_failure(client, ExitStatus.CONNECTION_ERROR) == (
        f"chat-client: connection refused by 127.0.0.1:{closed_port}: is chat-server running there? "
        "Start it first, or pass the right --host/--port"
    )


@pytest.mark.parametrize("name", ["chat-client", "chat-server"])
def test_an_unknown_host_is_one_line_naming_it(programs: Programs, name: str) -> None:
    term = programs.spawn(name, "--host", "no-such-host.invalid", "--port", "0")

    line = _one_line_failure(term, ExitStatus.CONNECTION_ERROR)
    assert line.startswith(f"{name}: cannot resolve host 'no-such-host.invalid': ")
    assert line.endswith("; check the name or give an IP address with --host")


def test_a_port_in_use_is_one_line_and_the_first_server_is_untouched(programs: Programs) -> None:
    first, port = programs.server()
    second = programs.spawn("chat-server", "--port", str(port))

    assert _one_line_failure(second, ExitStatus.CONNECTION_ERROR) == (
        f"chat-server: cannot listen on 127.0.0.1:{port}: port already in use; "
        "stop the program using it or choose another --port (0 picks a free one)"
    )
    assert first.child.isalive()


def test_an_address_not_on_this_machine_is_one_line(programs: Programs) -> None:
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a real machine.
    server = programs.spawn("chat-server", "--host", "192.0.2.1", "--port", "0")

    assert _one_line_failure(server, ExitStatus.CONNECTION_ERROR) == (
        "chat-server: cannot listen on 192.0.2.1:0: address not available on this machine; "
        "use one of its own addresses, such as 127.0.0.1"
    )


def test_an_invalid_chat_port_is_one_line_saying_what_to_fix(programs: Programs) -> None:
    server = programs.spawn("chat-server", env=child_env(CHAT_PORT="http"))

    assert _one_line_failure(server, ExitStatus.USAGE) == (
        "chat-server: environment variable CHAT_PORT='http' is invalid: "
        "'http' is not a port number (0-65535); fix or unset it"
    )


def test_a_port_out_of_range_is_a_usage_error(programs: Programs) -> None:
    client = programs.spawn("chat-client", "--port", "70000")

    assert client.wait_exit() == ExitStatus.USAGE
    assert client.lines[-1] == "chat-client: error: argument --port: 70000 is out of range (0-65535)"


def test_a_client_killed_mid_chat_gives_the_server_one_line_and_status_4(programs: Programs) -> None:
    server, client, client_port = programs.chat()
    client.expect("Client: ")
    client.send("about to vanish")
    server.expect("Server: ")
    server.send("see you")
    client.expect("Client: ")
    client.child.kill(signal.SIGKILL)

    assert server.wait_exit() == ExitStatus.PEER_LOST
    assert server.lines[-1] == (
        f"chat-server: connection lost: the client at 127.0.0.1:{client_port} "
        "closed the connection without saying 'exit'"
    )
    assert "Traceback" not in server.output


def test_a_server_killed_mid_chat_gives_the_client_one_line_and_status_4(programs: Programs) -> None:
    server, client, _ = programs.chat()
    port = int(server.lines[0].rsplit(":", 1)[1].rstrip("."))
    client.expect("Client: ")
    client.send("are you there?")
    server.expect("Server: ")
    server.child.kill(signal.SIGKILL)

    assert client.wait_exit() == ExitStatus.PEER_LOST
    assert client.lines[-1] == (
        f"chat-client: connection lost: the server at 127.0.0.1:{port} "
        "closed the connection without saying 'exit'"
    )
    assert "Traceback" not in client.output


def test_a_peer_that_resets_the_connection_gives_one_line(
    programs: Programs, chat_raw_peers: list[RawPeer]
) -> None:
    server, port = programs.server()
    peer = RawPeer.connect(port)
    chat_raw_peers.append(peer)
    client_port = int(server.expect_re(CONNECTED_BY).group(1))
    peer.reset()

    assert server.wait_exit() == ExitStatus.PEER_LOST
    assert server.lines[-1] == (
        f"chat-server: connection lost: the client at 127.0.0.1:{client_port} reset the connection"
    )


def test_ctrl_c_at_the_client_prompt_ends_the_chat_and_the_server_learns_of_it(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.child.sendintr()

    assert client.wait_exit() == ExitStatus.INTERRUPTED
    assert server.wait_exit() == ExitStatus.SUCCESS
    assert client.lines[-1] == "Client ended the chat."
    assert server.lines[-2:] == ["Client: exit", "Client ended the chat."]
    assert "Traceback" not in client.output


def test_ctrl_c_at_the_server_prompt_ends_the_chat_and_the_client_learns_of_it(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("hi")
    server.expect("Server: ")
    server.child.sendintr()

    assert server.wait_exit() == ExitStatus.INTERRUPTED
    assert client.wait_exit() == ExitStatus.SUCCESS
    assert server.lines[-1] == "Server ended the chat."
    assert client.lines[-2:] == ["Server: exit", "Server ended the chat."]


def test_ctrl_d_at_the_client_prompt_ends_the_chat_cleanly(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.child.sendeof()

    assert client.wait_exit() == ExitStatus.SUCCESS
    assert server.wait_exit() == ExitStatus.SUCCESS
    assert client.lines[-1] == "Client ended the chat."
    assert server.lines[-2:] == ["Client: exit", "Client ended the chat."]


def test_ctrl_d_at_the_server_prompt_ends_the_chat_cleanly(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("hi")
    server.expect("Server: ")
    server.child.sendeof()

    assert server.wait_exit() == ExitStatus.SUCCESS
    assert client.wait_exit() == ExitStatus.SUCCESS
    assert server.lines[-1] == "Server ended the chat."
    assert client.lines[-2:] == ["Server: exit", "Server ended the chat."]


def test_ctrl_c_while_waiting_for_the_peer_ends_the_chat_too(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    # The server waits for the client's first message, not at a prompt.
    server.child.sendintr()

    assert server.wait_exit() == ExitStatus.INTERRUPTED
    assert client.wait_exit(timeout=PEER_END_SHOWN_S) == ExitStatus.SUCCESS
    assert client.lines[-3:] == ["Client: ", "Server: exit", "Server ended the chat."]


def test_sigterm_at_the_prompt_exits_cleanly_and_the_peer_learns_of_it(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("hi")
    server.expect("Server: ")
    server.child.kill(signal.SIGTERM)

    assert server.wait_exit() == ExitStatus.TERMINATED
    assert client.wait_exit() == ExitStatus.SUCCESS
    assert server.lines[-1] == "Server ended the chat."
    assert client.lines[-2:] == ["Server: exit", "Server ended the chat."]
    assert "Traceback" not in server.output


def test_sigterm_while_waiting_for_a_client_exits_cleanly(programs: Programs) -> None:
    server, port = programs.server()
    server.child.kill(signal.SIGTERM)

    assert server.wait_exit() == ExitStatus.TERMINATED
    assert server.lines == [f"Server listening on 127.0.0.1:{port}..."]


def test_sigterm_to_a_client_waiting_for_the_server_exits_cleanly(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("hi")
    server.expect("Server: ")
    client.child.kill(signal.SIGTERM)

    assert client.wait_exit() == ExitStatus.TERMINATED
    assert client.lines[-1] == "Client ended the chat."
    assert server.wait_exit(timeout=PEER_END_SHOWN_S) == ExitStatus.SUCCESS
    assert server.lines[-3:] == ["Server: ", "Client: exit", "Client ended the chat."]


# -- the peer ends the chat while our person is at the prompt (issue 14, item 3) --------------


def test_a_server_stopped_with_sigterm_while_the_client_is_at_its_prompt_ends_the_client_at_once(
    programs: Programs,
) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("hello")
    server.expect("Server: ")
    server.send("hi")
    client.expect("Client: ")
    server.child.kill(signal.SIGTERM)

    assert server.wait_exit() == ExitStatus.TERMINATED
    assert client.wait_exit(timeout=PEER_END_SHOWN_S) == ExitStatus.SUCCESS
    assert client.lines[-3:] == ["Client: ", "Server: exit", "Server ended the chat."]
    assert "Traceback" not in client.output


def test_a_server_killed_while_the_client_is_at_its_prompt_gives_status_4_at_once(programs: Programs) -> None:
    server, client, _ = programs.chat()
    port = int(server.lines[0].rsplit(":", 1)[1].rstrip("."))
    client.expect("Client: ")
    server.child.kill(signal.SIGKILL)

    assert client.wait_exit(timeout=PEER_END_SHOWN_S) == ExitStatus.PEER_LOST
    assert client.lines[-2:] == [
        "Client: ",
        f"chat-client: connection lost: the server at 127.0.0.1:{port} "
        "closed the connection without saying 'exit'",
    ]


def test_a_client_stopped_with_sigterm_while_the_server_is_at_its_prompt_ends_the_server_at_once(
    programs: Programs,
) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("hello")
    server.expect("Server: ")
    client.child.kill(signal.SIGTERM)

    assert client.wait_exit() == ExitStatus.TERMINATED
    assert server.wait_exit(timeout=PEER_END_SHOWN_S) == ExitStatus.SUCCESS
    assert server.lines[-3:] == ["Server: ", "Client: exit", "Client ended the chat."]


def test_a_client_killed_while_the_server_is_at_its_prompt_gives_status_4_at_once(programs: Programs) -> None:
    server, client, client_port = programs.chat()
    client.expect("Client: ")
    client.send("hello")
    server.expect("Server: ")
    client.child.kill(signal.SIGKILL)

    assert server.wait_exit(timeout=PEER_END_SHOWN_S) == ExitStatus.PEER_LOST
    assert server.lines[-2:] == [
        "Server: ",
        f"chat-server: connection lost: the client at 127.0.0.1:{client_port} "
        "closed the connection without saying 'exit'",
    ]


def test_half_typed_text_stays_on_screen_when_the_peer_ends_the_chat(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.child.send("half a thou")
    client.expect("half a thou")  # the echo: readline has it
    server.child.kill(signal.SIGTERM)

    assert client.wait_exit(timeout=PEER_END_SHOWN_S) == ExitStatus.SUCCESS
    assert client.lines[-3:] == ["Client: half a thou", "Server: exit", "Server ended the chat."]


def test_the_watched_prompt_keeps_readline_history_and_editing(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("first words")
    server.expect("Server: ")
    server.send("go on")
    client.expect("Client: ")
    # Ctrl-P recalls the last line; Ctrl-A goes to its start, where "re: " is inserted.
    client.child.send("\x10\x01re: \r")
    server.expect("Client: re: first words\r\n")
    server.expect("Server: ")
    server.send("exit")

    assert client.wait_exit() == ExitStatus.SUCCESS
    assert server.wait_exit() == ExitStatus.SUCCESS


# -- SIGHUP: the terminal window closed (issue 19, item 9) -------------------------------------


def close_window(term: Terminal) -> int:
    """Close *term*'s terminal window: its pty's master side goes, so the kernel hangs up the
    program's terminal and sends it SIGHUP. Return the program's exit status."""
    term.child.ptyproc.fileobj.close()
    wait_until(lambda: not term.child.ptyproc.isalive(), EXPECT_TIMEOUT_S, f"{term.name} to exit")
    process = term.child.ptyproc
    if process.signalstatus is not None:
        return 128 + int(process.signalstatus)
    return int(process.exitstatus)


def test_sighup_at_the_client_prompt_ends_the_chat_with_129_and_the_server_learns_of_it(
    programs: Programs,
) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("hi")
    server.expect("Server: ")
    server.send("hello")
    client.expect("Client: ")
    client.child.kill(signal.SIGHUP)

    assert client.wait_exit() == ExitStatus.HANGUP
    assert client.lines[-2:] == ["Client: ", "Client ended the chat."]
    assert server.wait_exit(timeout=PEER_END_SHOWN_S) == ExitStatus.SUCCESS
    assert server.lines[-3:] == ["Server: hello", "Client: exit", "Client ended the chat."]
    assert "Traceback" not in client.output


def test_sighup_to_a_server_waiting_for_the_client_ends_the_chat_with_129(programs: Programs) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")  # the server waits for the client's first message
    server.child.kill(signal.SIGHUP)

    assert server.wait_exit() == ExitStatus.HANGUP
    assert server.lines[-1] == "Server ended the chat."
    assert client.wait_exit(timeout=PEER_END_SHOWN_S) == ExitStatus.SUCCESS
    assert client.lines[-3:] == ["Client: ", "Server: exit", "Server ended the chat."]


@pytest.mark.parametrize("closed", ["chat-client", "chat-server"])
def test_closing_a_terminal_window_ends_its_program_with_129_and_the_peer_gets_exit(
    programs: Programs, closed: str
) -> None:
    server, client, _ = programs.chat()
    client.expect("Client: ")
    client.send("hi")
    server.expect("Server: ")  # the server at its prompt, the client waiting for the answer
    if closed == "chat-client":
        window, other, who = client, server, "Client"
    else:
        window, other, who = server, client, "Server"

    assert close_window(window) == ExitStatus.HANGUP  # not 1 (a traceback), nor 120 (output failing)
    assert other.wait_exit(timeout=PEER_END_SHOWN_S) == ExitStatus.SUCCESS
    assert other.lines[-2:] == [f"{who}: exit", f"{who} ended the chat."]
