"""Distributed load through Locust: one master, two workers, a serving bot, all on loopback.

Marker ``load`` (``tox -e load``): it needs the ``load`` extra (Locust), which the other
envs do not install.
"""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from chat_testing import Daemon, program

pytestmark = pytest.mark.load

RUN_S = 4  # long enough for dozens of conversations per user, short for CI
USERS = 6
LOCUST_WAIT_S = 40  # the master ends by itself after RUN_S; this bounds a wedged run
PLAYER = """\
from chat_testing.locust import ChatUser


class Player(ChatUser):
    pass
"""
DIALOGUE = """\
version: 1
name: greeter-under-load
timeout: 5
script:
  - say: my name is Locust
  - expect: "Nice to meet you, Locust"
  - say: hello
  - expect: {regex: 'Locust'}
  - say: bye
  - expect: {exact: exit}
"""
STEPS = (
    "load.chat.yaml:6 step 2 expect",
    "load.chat.yaml:8 step 4 expect",
    "load.chat.yaml:10 step 6 expect",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_master_and_two_workers_play_a_dialogue_against_a_serving_bot_without_failures(
    tmp_path: Path, chat_daemons: Callable[..., Daemon]
) -> None:
    bot = chat_daemons("chat-bot", "--port", "0", "--no-delay")  # the bundled greeter
    _host, port = bot.listening()
    (tmp_path / "locustfile.py").write_text(PLAYER, encoding="utf-8")
    (tmp_path / "load.chat.yaml").write_text(DIALOGUE, encoding="utf-8")
    locust = [sys.executable, "-m", "locust", "-f", "locustfile.py"]
    master_port = free_port()
    master = subprocess.Popen(
        [
            *locust,
            "--master",
            "--master-bind-host=127.0.0.1",
            f"--master-bind-port={master_port}",
            "--expect-workers=2",
            "--headless",
            f"--users={USERS}",
            f"--spawn-rate={USERS}",
            f"--run-time={RUN_S}s",
            f"--host=127.0.0.1:{port}",
            "--chat-dialogue=load.chat.yaml",
            "--csv=stats",
            "--only-summary",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    workers = [
        subprocess.Popen(
            [*locust, "--worker", "--master-host=127.0.0.1", f"--master-port={master_port}"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        output, _ = master.communicate(timeout=LOCUST_WAIT_S)
        for worker in workers:
            worker.wait(timeout=LOCUST_WAIT_S)
    finally:
        for proc in (master, *workers):
            proc.kill()
            proc.wait()

    with (tmp_path / "stats_stats.csv").open(encoding="utf-8") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    assert master.returncode == 0, output[-3000:]
    assert set(STEPS) <= rows.keys(), rows.keys()
    counts = [int(rows[name]["Request Count"]) for name in STEPS]
    assert min(counts) >= USERS, counts  # every user finished at least one whole conversation
    assert int(rows["Aggregated"]["Failure Count"]) == 0, output[-3000:]
    assert "reply" not in rows  # every message the bot sent was one an expect step waited for
    bot.assert_no_crash()


def test_a_failing_step_is_a_failure_naming_its_file_and_line(tmp_path: Path) -> None:
    # The same user class against a server that never answers as the dialogue expects.
    bot = Daemon([program("chat-bot"), "--port", "0", "--no-delay"], tmp_path, "greeter")
    try:
        _host, port = bot.listening()
        (tmp_path / "locustfile.py").write_text(PLAYER, encoding="utf-8")
        wrong = DIALOGUE.replace("Nice to meet you, Locust", "Welcome aboard")
        (tmp_path / "load.chat.yaml").write_text(wrong, encoding="utf-8")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                "locustfile.py",
                "--headless",
                "--users=1",
                "--spawn-rate=1",
                "--run-time=2s",
                f"--host=127.0.0.1:{port}",
                "--chat-dialogue=load.chat.yaml",
                "--csv=stats",
                "--only-summary",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=LOCUST_WAIT_S,
            check=False,
        )
    finally:
        bot.kill()

    assert done.returncode == 1  # Locust's status when any request failed
    with (tmp_path / "stats_failures.csv").open(encoding="utf-8") as handle:
        failures = list(csv.DictReader(handle))
    assert failures[0]["Name"] == "load.chat.yaml:6 step 2 expect"
    assert failures[0]["Error"] == (
        "AssertionError(\"FAIL load.chat.yaml:6 step 2 expect: expected contains 'Welcome aboard', "
        "received 'Nice to meet you, Locust! Ask me for help, or say bye to leave.'\")"
    )
