"""The bot's promises to a hostile network and hostile files.

Dialogue files: a pathological regex is accepted and can never freeze the bot
(matching runs on RE2, in linear time: adversarial/test_matching.py); alias bombs,
object-building tags and oversize files are refused with one clear line. Serving:
--max-clients and --idle-timeout close the extra or silent peer with one line;
SIGTERM/SIGINT end every chat politely within 2 s with the transcript flushed;
listening stays on loopback unless a host is given.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from bots.loops import uvloop_installed
from chat.status import ExitStatus
from chat_testing import ECHO_DIALOGUE, Daemon, LineClient, child_env, program, wait_until
from chat_testing.text import REDOS_REGEXES

pytestmark = [pytest.mark.adversarial, pytest.mark.timing, pytest.mark.timeout(120)]

FREEZE_LIMIT_S = 2.0  # a reply slower than this to one hostile line is a frozen bot
CHECK_LIMIT_S = 5.0  # --check of any one hostile file: parsing is bounded, so far below this
STOP_LIMIT_S = 2.0  # the issue: SIGTERM/SIGINT end every chat and exit within 2 s


def check(path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``chat-bot --check`` on *path*, bounded in time."""
    started = time.monotonic()
    done = subprocess.run(
        [program("chat-bot"), "--check", str(path)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=CHECK_LIMIT_S,
        check=False,
    )
    done.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
    assert "Traceback" not in done.stdout + done.stderr
    return done


HOSTILE = [
    "a" + " " * 400 + "y x",
    "1" * 3000 + "!z",
    "a" * 30 + "!",
    "a" * 4096 + "!",
    "x" * 30 + "y" * 30,
    "a" * 1_000_000,
]


@pytest.mark.parametrize("pattern", REDOS_REGEXES)
def test_a_pathological_regex_is_accepted_and_never_freezes_the_bot(
    tmp_path: Path, chat_daemons: Any, pattern: str, figures: Any
) -> None:
    path = tmp_path / "redos.yaml"
    path.write_text(
        f"version: 1\nrules:\n  - regex: '{pattern}'\n    reply: matched\nfallback: no match\n",
        encoding="utf-8",
    )
    done = check(path)
    assert done.returncode == 0, done.stdout + done.stderr
    bot = chat_daemons("chat-bot", "--script", str(path), "--port", "0", "--no-delay", "--quiet")
    _host, port = bot.listening()
    client = LineClient(port, timeout=FREEZE_LIMIT_S)
    slowest = 0.0
    try:
        for line in HOSTILE:
            started = time.perf_counter()
            client.sock.sendall(line.encode() + b"\n")
            try:
                client.line()
            except TimeoutError:
                pytest.fail(
                    f"regex {pattern!r} froze the bot for over {FREEZE_LIMIT_S} s "
                    f"on {line[:12]!r}... ({len(line)} characters)"
                )
            slowest = max(slowest, time.perf_counter() - started)
    finally:
        client.sock.close()
    figures(f"regex {pattern}", f"accepted; slowest hostile line answered in {slowest:.3f} s")


ALIAS_BOMB = "version: 1\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def test_an_alias_bomb_is_refused_at_once_with_a_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB, encoding="utf-8")  # 9**9 = 387,420,489 x's if expanded
    done = check(path)
    assert done.returncode == ExitStatus.INVALID_DIALOGUE
    assert (
        f"{path}:3:8: YAML alias *a is not allowed in a dialogue file: write the value out where it is needed"
        in done.stdout
    )
    assert done.elapsed < CHECK_LIMIT_S  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system",
        "!!python/object/new:os.system",
        "!!python/name:os.system",
        "!!binary",
    ],
)
def test_an_object_building_tag_is_refused_and_builds_nothing(tmp_path: Path, tag: str) -> None:
    witness = tmp_path / "pwned"
    path = tmp_path / "tag.yaml"
    path.write_text(f"version: 1\nfallback: {tag} [touch {witness}]\n", encoding="utf-8")
    for args in (["--check", str(path)], ["--script", str(path), "--port", "0"]):
        done = subprocess.run(
            [program("chat-bot"), *args],
            capture_output=True,
            text=True,
            env=child_env(),
            timeout=10,
            check=False,
        )
        assert done.returncode == ExitStatus.INVALID_DIALOGUE
        assert f"{path}:2:11: YAML tag '{tag}' is not allowed" in done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        assert "listening" not in done.stdout
    assert not witness.exists()


def test_a_dialogue_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    from bots.loader import MAX_DIALOGUE_BYTES

    path = tmp_path / "huge.yaml"
    path.write_text("version: 1\nfallback: hi\n" + "#" * MAX_DIALOGUE_BYTES, encoding="utf-8")
    done = check(path)
    assert done.returncode == ExitStatus.INVALID_DIALOGUE
    assert (
        f"{path}:1:1: file is over the {MAX_DIALOGUE_BYTES // 1024} KiB limit for dialogue files; "
        "split it or trim it" in done.stdout
    )


def listening_addresses(port: int) -> set[str]:
    """Local addresses of LISTEN sockets on *port*, from /proc/net/tcp and tcp6 (hex, as the kernel gives)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: TCP_LISTEN
                found.add(address)
    return found


@pytest.mark.parametrize("name", ["chat-bot", "chat-server"])
def test_listening_stays_on_loopback_unless_a_host_is_given(chat_daemons: Any, name: str) -> None:
    server: Daemon = chat_daemons(name, "--port", "0")
    host, port = server.listening()
    assert host == "127.0.0.1"
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex; no 0.0.0.0


def test_max_clients_turns_the_extra_client_away_with_one_line_and_exit(echo_bot: Any) -> None:
    bot, port = echo_bot("--max-clients", "3")
    served = [LineClient(port) for _ in range(3)]
    for i, client in enumerate(served):
        client.round_trip(f"hello {i}")
    extra = LineClient(port)
    assert extra.line() == b"busy: this bot serves at most 3 clients at once; try again later"
    assert extra.line() == b"exit"  # so a classic client ends cleanly
    assert extra.sock.recv(100) == b""
    extra.sock.close()
    for client in served:
        client.round_trip("still served")
    served[0].sock.close()

    def a_place_is_free() -> bool:
        late = LineClient(port)
        try:
            late.round_trip("my turn now")
            return True
        except (EOFError, AssertionError):
            return False
        finally:
            late.sock.close()

    wait_until(a_place_is_free, 5, "a freed place to be given to a new client")
    for client in served[1:]:
        client.sock.close()
    bot.assert_no_crash()


def test_idle_timeout_closes_only_the_silent_client_with_one_line(echo_bot: Any) -> None:
    bot, port = echo_bot("--idle-timeout", "1")
    silent = LineClient(port, timeout=5)
    silent.round_trip("then I say nothing")
    lively = LineClient(port)
    started = time.monotonic()
    while True:
        lively.round_trip("I keep talking")
        silent.sock.setblocking(False)
        try:
            data = silent.sock.recv(1 << 16)
        except BlockingIOError:
            data = None
        silent.sock.setblocking(True)
        if data is not None:
            silent.buffer += data
            break
        assert time.monotonic() - started < 4, "the silent client was not closed within 4 s of a 1 s timeout"
        time.sleep(0.3)  # the lively client's pace: a few messages a second, as a person types
    silent.sock.settimeout(2)
    assert silent.line() == b"idle: no message for 1 s, so this bot closed the chat"
    assert silent.line() == b"exit"  # so a classic client ends cleanly
    assert silent.sock.recv(100) == b""
    lively.round_trip("and I am still served")
    bot.assert_no_crash()


LOOPS = [
    "asyncio",
    pytest.param(
        "uvloop", marks=pytest.mark.skipif(not uvloop_installed(), reason="no uvloop here (Windows, PyPy)")
    ),
]


ENDING_SIGNALS = [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)]


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize(("sig", "status"), ENDING_SIGNALS)
def test_a_signal_ends_every_chat_politely_within_2_s_with_the_transcript_flushed(
    tmp_path: Path, chat_daemons: Any, sig: int, status: int, loop: str, figures: Any
) -> None:
    dialogue = tmp_path / "echo.yaml"
    dialogue.write_text(ECHO_DIALOGUE, encoding="utf-8")
    transcript = tmp_path / "transcript.jsonl"
    bot = chat_daemons(
        "chat-bot",
        "--script",
        str(dialogue),
        "--port",
        "0",
        "--no-delay",
        "--quiet",
        "--transcript",
        str(transcript),
        "--loop",
        loop,
    )
    _host, port = bot.listening()
    clients = [LineClient(port, timeout=STOP_LIMIT_S + 1) for _ in range(50)]
    for i, client in enumerate(clients):
        client.round_trip(f"client {i} was here")
    started = time.monotonic()
    bot.proc.send_signal(sig)
    goodbyes = []
    for client in clients:
        goodbyes.append(client.line())  # the classic polite end: the bot's last message is exit
        assert client.sock.recv(100) == b""
        client.sock.close()
    code = bot.stop(sig, timeout=STOP_LIMIT_S)
    elapsed = time.monotonic() - started
    assert goodbyes == [b"exit"] * len(clients)
    assert code == status
    assert elapsed < STOP_LIMIT_S
    records = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    texts = [record["text"] for record in records]
    for i in range(len(clients)):
        assert texts.count(f"client {i} was here") == 2  # received and echoed, both written
    assert texts.count("exit") >= len(clients)
    bot.assert_no_crash()
    figures(
        f"signal {signal.Signals(sig).name} on {loop}",
        f"50 chats ended with 'exit', bot exited {code} in {elapsed:.2f} s",
    )
