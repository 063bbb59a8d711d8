"""Integrity under random TCP segmentation: every message arrives exactly once, in order, intact.

chat-client and chat-server chat through :class:`ChunkingProxy`, which re-cuts
every byte stream into random pieces of 1 to 2048 bytes. Both programs read their
lines from a file (input() reads a pipe or file like a person typing), so the
strict turns run at full speed; each screen must then equal, character for
character, the lines the other side sent.
"""

from __future__ import annotations

import random
import re
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from adversarial import profiles
from chat.display import visible
from chat_testing import EXPECT_TIMEOUT_S, ChunkingProxy, LineClient, child_env, program, wait_until
from chat_testing.text import random_text

pytestmark = [pytest.mark.adversarial, pytest.mark.timeout(300)]

SIZES = profiles.active_sizes()
MESSAGES = SIZES.integrity_messages  # in all; for the classic pair, both directions: half the turns each
SEED = 20_240_607  # fixed, so a failure reproduces; the proxy's cuts derive from it too
RUN_DEADLINE_S = 240  # generous: about 30 s on two idle cores


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8", newline="")


def test_every_message_crosses_a_rechunking_proxy_exactly_once_in_order_and_intact(
    tmp_path: Path, chat_proxies: list[ChunkingProxy], figures: Any
) -> None:
    rng = random.Random(SEED)
    turns = MESSAGES // 2
    client_says = [random_text(rng) for _ in range(turns)]
    server_says = [random_text(rng) for _ in range(turns)]
    for text in client_says + server_says:
        assert visible(text) == text  # precondition: the screen shows such text unchanged
    write_lines(tmp_path / "client.in", [*client_says, "exit"])
    write_lines(tmp_path / "server.in", server_says)

    env = child_env()
    server_out = tmp_path / "server.out"
    with (tmp_path / "server.in").open("rb") as server_in, server_out.open("wb") as server_screen_file:
        # The screen goes to a file, never an unread pipe: a full pipe would block the program.
        server = subprocess.Popen(
            [program("chat-server"), "--port", "0"],
            stdin=server_in,
            stdout=server_screen_file,
            stderr=subprocess.PIPE,
            env=env,
        )
    try:
        wait_until(lambda: b"...\n" in server_out.read_bytes(), EXPECT_TIMEOUT_S, "the listening line")
        listening, _, _ = server_out.read_bytes().decode().partition("\n")
        match = re.fullmatch(r"Server listening on 127\.0\.0\.1:(\d+)\.\.\.", listening)
        assert match, listening
        proxy = ChunkingProxy(int(match.group(1)), seed=SEED)
        chat_proxies.append(proxy)
        with (
            (tmp_path / "client.in").open("rb") as client_in,
            (tmp_path / "client.out").open("wb") as client_out,
        ):
            client = subprocess.run(
                [program("chat-client"), "--port", str(proxy.port)],
                stdin=client_in,
                stdout=client_out,
                stderr=subprocess.PIPE,
                env=env,
                timeout=RUN_DEADLINE_S,
                check=False,
            )
        _, server_err = server.communicate(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    assert (client.returncode, client.stderr) == (0, b"")
    assert (server.returncode, server_err) == (0, b"")
    _listening, _, server_screen = server_out.read_bytes().decode("utf-8").partition("\n")
    client_screen = (tmp_path / "client.out").read_bytes().decode("utf-8")

    # The screens, rebuilt from what was typed: prompts, then each message as the peer sent it.
    head, _, server_chat = server_screen.partition("\n")
    assert re.fullmatch(r"Connected by \('127\.0\.0\.1', \d+\)", head), head
    expected_server = "".join(f"Client: {text}\nServer: " for text in client_says)
    expected_server += "Client: exit\nClient ended the chat.\n"
    expected_client = "Connected to server. Type 'exit' to quit.\n"
    expected_client += "".join(f"Client: Server: {text}\n" for text in server_says)
    expected_client += "Client: Client ended the chat.\n"
    assert server_chat == expected_server, first_difference(server_chat, expected_server)
    assert client_screen == expected_client, first_difference(client_screen, expected_client)

    assert proxy.stats.errors == []
    sent_bytes = sum(len(t.encode()) + 1 for t in client_says + server_says)
    assert proxy.stats.bytes >= sent_bytes
    figures("messages exchanged, each checked once in order", f"{MESSAGES:,} (lost: 0)")
    figures(
        "payload bytes", f"{sent_bytes:,} ({sum(len(t) for t in client_says + server_says):,} characters)"
    )
    figures(
        "proxy: reads / pieces sent / held-back pieces",
        f"{proxy.stats.reads:,} / {proxy.stats.pieces:,} / {proxy.stats.pauses:,}",
    )


def first_difference(got: str, want: str) -> str:
    """Where two screens part, for a readable failure."""
    pairs = enumerate(zip(got, want, strict=False))
    at = next((i for i, (a, b) in pairs if a != b), min(len(got), len(want)))
    return (
        f"screens differ at character {at}: got {got[at - 80 : at + 80]!r}, want {want[at - 80 : at + 80]!r}"
    )


def any_line(rng: random.Random) -> str:
    """Any one-line text at all: random_text plus controls, escapes, NUL, blanks, braces."""
    text = random_text(rng)
    extras = ["\x00", "\x1b[31m", "\t", "{input}", "{", "}", "\u202e", "\x7f", "\u0085", "  "]
    for _ in range(rng.randint(0, 3)):
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(extras) + text[at:]
    return text + "!" if text.strip().lower() == "exit" else text


def test_every_message_through_a_bot_under_random_segmentation_comes_back_exactly_once_in_order(
    echo_bot: Any, chat_proxies: list[ChunkingProxy], figures: Any
) -> None:
    # The echo dialogue (fallback "{input}") turns the bot into a mirror; our peer sends
    # without waiting for turns and compares every reply with what it sent, byte for byte.
    bot, port = echo_bot("--quiet")
    proxy = ChunkingProxy(port, seed=SEED)
    chat_proxies.append(proxy)
    rng = random.Random(SEED + 1)
    sent = [any_line(rng) for _ in range(MESSAGES)]
    payload = b"".join(text.encode() + b"\n" for text in sent)
    peer = LineClient(proxy.port, timeout=60)
    sender = threading.Thread(target=peer.sock.sendall, args=(payload,), daemon=True)
    sender.start()
    received = [peer.line() for _ in range(MESSAGES)]
    sender.join(timeout=10)
    lost = [i for i, (got, want) in enumerate(zip(received, sent, strict=True)) if got != want.encode()]
    assert not lost, (
        f"{len(lost)} differ, first at {lost[0]}: got {received[lost[0]]!r}, sent {sent[lost[0]]!r}"
    )
    bot.assert_no_crash()
    figures("messages echoed by the serving bot, each checked", f"{MESSAGES:,} (lost: 0)")
    figures("payload bytes each way", f"{len(payload):,}")
    figures(
        "proxy: reads / pieces / held-back",
        f"{proxy.stats.reads:,} / {proxy.stats.pieces:,} / {proxy.stats.pauses:,}",
    )
