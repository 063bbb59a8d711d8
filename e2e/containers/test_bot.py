"""chat-bot in containers: a person talking to a serving bot, and bot against bot in test mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from chat_testing.docker import Container, Containers

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
DIALOGUES = Path(__file__).resolve().parent / "dialogues"  # mounted, not bundled: a user's own files
BUNDLED = "/opt/chat/dialogues"  # the image's stable path to the dialogues shipped in the package
BOT_READY = "Bot listening on 0.0.0.0:65432..."  # CHAT_HOST=0.0.0.0 and the port of EXPOSE
CLIENT_READY = "Connected to server. Type 'exit' to quit."
STOP_BOUND_S = 3.0  # as for chat-server: far below docker's 10 s kill, with room for the engine's work
MISMATCH = 6  # chat.status.ExitStatus.MISMATCH, the documented test-mode status


def serve(containers: Containers, *args: str) -> Container:
    """A serving bot container with the test dialogues mounted at /dialogues (its working directory)."""
    return containers.run("bot", "chat-bot", *args, mounts={DIALOGUES: "/dialogues"}, ready=BOT_READY)


def test_a_person_chats_with_the_bundled_greeter_that_the_image_runs_by_default(
    containers: Containers,
) -> None:
    bot = containers.run("bot", ready=BOT_READY)  # no command: the image's CMD, chat-bot
    client = containers.run("client", "chat-client", "--host", bot.name, ready=CLIENT_READY)
    client.expect("Client: ")

    client.send("my name is Ann")
    client.expect("Server: Nice to meet you, Ann!")
    client.expect("Client: ")
    client.send("exit")
    client.expect("Client ended the chat.")

    assert client.wait_exit() == 0
    assert bot.terminal.child.isalive(), "the bot serves on after one person has left"


def test_the_bundled_dialogues_are_in_the_image_and_all_valid(
    docker_cli: Callable[..., str], chat_image: str
) -> None:
    shipped = sorted(path.name for path in (REPO / "bots" / "dialogues").glob("*.yaml"))

    out = docker_cli("run", "--rm", chat_image, "sh", "-c", f"chat-bot --check {BUNDLED}/*.yaml")

    assert shipped, "the package ships no dialogues"
    assert out.splitlines() == [f"{BUNDLED}/{name}: ok" for name in shipped]


def test_a_person_chats_with_a_bot_serving_a_mounted_dialogue(containers: Containers) -> None:
    bot = serve(containers, "--script", "shop.yaml", "--no-delay")
    client = containers.run("client", "chat-client", "--host", bot.name, ready=CLIENT_READY)
    client.expect("Client: ")

    client.send("I would like tea")
    client.expect("Server: One tea, coming up.")
    client.expect("Client: ")
    client.send("exit")
    client.expect("Client ended the chat.")

    assert client.wait_exit() == 0


def test_docker_stop_ends_a_serving_bot_and_its_chat_politely(containers: Containers) -> None:
    bot = serve(containers, "--script", "slow.yaml")  # 30 s before each reply: the person is waiting
    client = containers.run("client", "chat-client", "--host", bot.name, ready=CLIENT_READY)
    client.expect("Client: ")
    # Once the line is typed the client waits for the reply, whether the stop reaches the bot before
    # or after the line does: either way the bot's polite `exit` is what the client receives next.
    client.send("what is the meaning of life?")

    took = containers.stop(bot)

    assert bot.wait_exit() == 143
    assert took < STOP_BOUND_S, f"docker stop took {took:.2f}s"
    client.expect("Server: exit")
    client.expect("Server ended the chat.")
    assert client.wait_exit() == 0


def test_the_bundled_quiz_test_passes_against_the_bundled_quiz_bot_to_bot(containers: Containers) -> None:
    bot = containers.run(
        "quiz", "chat-bot", "--script", f"{BUNDLED}/quiz.yaml", "--no-delay", ready=BOT_READY
    )
    tester = containers.run(
        "tester",
        *("chat-bot", "--script", f"{BUNDLED}/quiz_test.yaml", "--connect", "--host", bot.name, "--no-delay"),
    )

    tester.expect("test passed (quiz-test)", timeout=30)
    assert "FAIL" not in tester.terminal.output
    assert tester.wait_exit() == 0
    assert bot.terminal.child.isalive()


def test_a_bot_in_test_mode_fails_with_the_mismatch_status_and_says_where(containers: Containers) -> None:
    bot = serve(containers, "--script", "shop.yaml", "--no-delay")
    tester = containers.run(
        "tester",
        *("chat-bot", "--script", "shop_wrong.yaml", "--connect", "--host", bot.name, "--no-delay"),
        mounts={DIALOGUES: "/dialogues"},
    )

    tester.expect(
        "FAIL shop_wrong.yaml:7 step 2 expect: expected {exact: 'no pong today'}, "
        "received 'pong from the container'",
        timeout=30,
    )
    tester.expect("test failed: mismatch")
    assert tester.wait_exit() == MISMATCH
