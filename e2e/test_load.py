"""Distributed load through Locust: one master, two workers, a serving bot, all on loopback.

Marker ``load`` (``tox -e load``): it needs the ``load`` extra (Locust), which the other
envs do not install.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from chat_testing import Daemon
from chat_testing.load import run_distributed

pytestmark = pytest.mark.load

RUN_S = 4  # long enough for dozens of conversations per user, short for CI
USERS = 6
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


@pytest.fixture
def greeter(chat_daemons: Callable[..., Daemon]) -> int:
    """The bundled greeter, serving without delays; its port."""
    bot = chat_daemons("chat-bot", "--port", "0", "--no-delay")
    return bot.listening()[1]


def test_a_master_and_two_workers_play_a_dialogue_against_a_serving_bot_without_failures(
    tmp_path: Path, greeter: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    dialogue = Path("load.chat.yaml")
    dialogue.write_text(DIALOGUE, encoding="utf-8")

    result = run_distributed("127.0.0.1", greeter, dialogue, tmp_path, users=USERS, run_time_s=RUN_S)

    assert result.status == 0, result.output[-3000:]
    assert set(STEPS) <= result.rows.keys(), result.rows.keys()
    counts = [int(result.rows[name]["Request Count"]) for name in STEPS]
    assert min(counts) >= USERS, counts  # every user finished at least one whole conversation
    assert result.total["Failure Count"] == "0", result.output[-3000:]
    assert "reply" not in result.rows  # every message the bot sent was one an expect step waited for


def test_a_failing_step_is_a_failure_naming_its_file_and_line(
    tmp_path: Path, greeter: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    dialogue = Path("load.chat.yaml")
    dialogue.write_text(DIALOGUE.replace("Nice to meet you, Locust", "Welcome aboard"), encoding="utf-8")

    result = run_distributed("127.0.0.1", greeter, dialogue, tmp_path, workers=1, users=1, run_time_s=2)

    assert result.status == 1  # Locust's status when any request failed
    assert result.failures[0]["Name"] == "load.chat.yaml:6 step 2 expect"
    assert result.failures[0]["Error"] == (
        "AssertionError(\"FAIL load.chat.yaml:6 step 2 expect: expected {contains: 'Welcome aboard'}, "
        "received 'Nice to meet you, Locust! Ask me for help, or say bye to leave.'\")"
    )


def test_the_benchmark_drives_locust_against_the_bot_and_the_echo_and_reports_zero_failures(
    tmp_path: Path,
) -> None:
    import dataclasses
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bench is a tool of the tree
    from bench.scenarios import QUICK, Bench, locust

    plan = dataclasses.replace(QUICK, locust_users=USERS, locust_run_s=RUN_S)
    rows = {row.name.rsplit(": ", 1)[1]: row for row in locust(Bench(plan, tmp_path))}

    assert rows["throughput"].figure > 0
    assert rows["throughput"].baseline > 0
    assert (rows["failures"].figure, rows["failures"].met) == (0, True), rows["failures"].details
