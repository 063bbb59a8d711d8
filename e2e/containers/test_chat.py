"""chat-server and chat-client in real containers on an internal network, typed at via `docker run -it`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chat_testing.classic import CLIENT

if TYPE_CHECKING:
    from chat_testing.docker import Container, Containers

pytestmark = pytest.mark.docker

CLASSIC = CLIENT.parent
SERVER_READY = "Server listening on 0.0.0.0:65432..."  # CHAT_HOST=0.0.0.0 and the port of EXPOSE
CLIENT_READY = "Connected to server. Type 'exit' to quit."
# docker stop sends SIGTERM; the program ends the chat politely at once. The bound leaves room for
# the engine's own work on a busy machine, and is far below the 10 s after which docker kills.
STOP_BOUND_S = 3.0


def start_chat(containers: Containers) -> tuple[Container, Container]:
    """A person at a chat-server container and a person at a chat-client container, connected."""
    server = containers.run("server", "chat-server", ready=SERVER_READY)
    client = containers.run("client", "chat-client", "--host", server.name, ready=CLIENT_READY)
    client.expect("Client: ")
    server.expect("Connected by (")
    return server, client


def test_two_people_chat_across_containers_by_container_name(containers: Containers) -> None:
    server, client = start_chat(containers)

    client.send("hello from the client container")
    server.expect("Client: hello from the client container")
    server.expect("Server: ")
    server.send("héllo back, from the server container ✓")
    client.expect("Server: héllo back, from the server container ✓")
    client.expect("Client: ")
    client.send("exit")
    client.expect("Client ended the chat.")
    server.expect("Client: exit")
    server.expect("Client ended the chat.")

    assert client.wait_exit() == 0
    assert server.wait_exit() == 0


def test_the_classic_client_chats_with_the_containerised_server(containers: Containers) -> None:
    server = containers.run("server", "chat-server", ready=SERVER_READY)
    classic = containers.run(
        "classic",
        "python3",
        "/classic/client.py",
        server.name,
        "65432",
        mounts={CLASSIC: "/classic"},
        ready=CLIENT_READY,
    )
    classic.expect("Client: ")

    classic.send("hello from the classic client")
    server.expect("Client: hello from the classic client")
    server.expect("Server: ")
    server.send("welcome, classic")
    classic.expect("Server: welcome, classic")
    classic.expect("Client: ")
    classic.send("exit")
    classic.expect("Client ended the chat.")
    server.expect("Client ended the chat.")

    assert classic.wait_exit() == 0
    assert server.wait_exit() == 0


def test_docker_stop_ends_a_chat_politely_within_the_bound(containers: Containers) -> None:
    server, client = start_chat(containers)
    client.send("are you there?")
    server.expect("Server: ")  # the server is at its prompt, waiting for the person to type

    took = containers.stop(server)

    server.expect("Server ended the chat.")
    assert server.wait_exit() == 143  # 128 + SIGTERM, from the program itself, not a kill
    assert containers.exit_code(server) == 143
    assert took < STOP_BOUND_S, f"docker stop took {took:.2f}s"
    client.expect("Server: exit")
    client.expect("Server ended the chat.")
    assert client.wait_exit() == 0


def test_docker_stop_ends_a_server_still_waiting_for_its_client(containers: Containers) -> None:
    server = containers.run("server", "chat-server", ready=SERVER_READY)

    took = containers.stop(server)

    assert server.wait_exit() == 143
    assert took < STOP_BOUND_S, f"docker stop took {took:.2f}s"


def test_ctrl_c_in_a_container_ends_the_chat_politely(containers: Containers) -> None:
    server, client = start_chat(containers)

    client.terminal.child.sendintr()  # Ctrl-C at the person's terminal, through docker's tty

    client.expect("Client ended the chat.")
    assert client.wait_exit() == 130  # 128 + SIGINT: the program's own status, so Ctrl-C reached it
    server.expect("Client: exit")
    server.expect("Client ended the chat.")
    assert server.wait_exit() == 0
