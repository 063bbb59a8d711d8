"""chat_testing.memory: a dialogue against a dialogue or a function, in memory, on a fake clock."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import bots
from bots.actions import Outcome
from bots.loader import load_dialogue, parse_dialogue
from bots.model import Dialogue
from chat_testing.memory import LATENCY_S, converse

DIALOGUES = Path(bots.__file__).parent / "dialogues"


def dialogue(text: str, name: str = "t.yaml") -> Dialogue:
    return parse_dialogue(textwrap.dedent(text).lstrip("\n"), name)


def test_the_bundled_tests_pass_against_their_dialogues_in_memory() -> None:
    for test, served in [("quiz_test", "quiz"), ("doctor_test", "doctor"), ("helpdesk_test", "helpdesk")]:
        run = converse(load_dialogue(DIALOGUES / f"{test}.yaml"), load_dialogue(DIALOGUES / f"{served}.yaml"))
        assert run.passed, run.report()


def test_a_function_can_play_the_peer() -> None:
    test = dialogue(
        """
        version: 1.2
        script:
          - say: hello
          - expect: {exact: HELLO, case_sensitive: true}
        """
    )
    run = converse(test, str.upper)
    assert run.passed, run.report()
    # The function also answers the dialogue's last line, as a real echo would.
    assert run.transcript == ["dialogue: hello", "peer: HELLO", "dialogue: exit", "peer: EXIT"]


def test_an_echo_and_a_fallback_no_longer_answer_each_other_for_ever() -> None:
    # Format 1.1 went on answering after its script: against an upper-casing echo, the
    # fallback and the echo answered each other at full speed, for ever (the 9 s of CPU).
    test = dialogue(
        """
        version: 1.2
        script:
          - say: hello
          - expect: {exact: HELLO}
        fallback: ok
        """
    )
    started = time.monotonic()
    run = converse(test, str.upper)
    assert run.passed, run.report()
    assert (run.outcome, run.reason) == (Outcome.ENDED_BY_BOT, "the script ran to its end")
    assert time.monotonic() - started < 1.0


def test_a_timeout_costs_no_real_time() -> None:
    test = dialogue(
        """
        version: 1.2
        script:
          - expect: {contains: welcome}
            timeout: 30
        """
    )
    started = time.monotonic()
    run = converse(test, lambda _line: None)
    assert not run.passed
    assert run.outcome is Outcome.TIMEOUT
    assert run.report().splitlines()[:3] == [
        "t.yaml:3: step 1 expect failed (timeout)",
        "  expected: {contains: 'welcome'}",
        "  received: nothing within 30 s",
    ]
    assert time.monotonic() - started < 1.0


def test_two_bots_answering_each_other_without_end_meet_the_tests_deadline() -> None:
    chatty = dialogue("version: 1.2\ndeadline: 2\nfallback: and you?\n")
    run = converse(chatty, dialogue("version: 1.2\nfallback: me too\n"))
    assert (run.outcome, run.reason) == (Outcome.TIMEOUT, "the chat's deadline of 2 s passed")
    assert len(run.transcript) >= 2 / LATENCY_S / 2  # the lines crossed, each taking LATENCY_S


def test_the_peer_dialogues_failed_steps_fail_the_run() -> None:
    client = dialogue("version: 1.2\nend: close\nscript: [{say: login bob}]\n")
    server = dialogue(
        """
        version: 1.2
        script:
          - expect: {exact: login ann}
          - say: welcome
        """,
        "server.yaml",
    )
    run = converse(client, server)
    assert run.outcome is Outcome.ENDED_BY_BOT
    assert not run.passed
    failed = run.peer_failure()
    assert failed is not None
    assert (failed.where.file_line, failed.received) == ("server.yaml:3", "'login bob'")
    head = run.report().splitlines()[0]
    assert head == "server.yaml:3: the peer dialogue's step 1 expect failed (mismatch)"


def test_a_server_that_speaks_first_is_waited_for() -> None:
    client = dialogue(
        """
        version: 1.2
        script:
          - expect: {regex: '^220 '}
          - say: QUIT
          - expect: {regex: '^221 '}
        end: wait
        """
    )
    server = dialogue(
        """
        version: 1.2
        end: close
        script:
          - say: 220 ready
          - expect: {exact: QUIT}
          - say: 221 bye
        """
    )
    run = converse(client, server)
    assert run.passed, run.report()
    assert run.outcome is Outcome.ENDED_BY_PEER
    assert run.transcript == ["peer: 220 ready", "dialogue: QUIT", "peer: 221 bye"]


def test_a_worked_examples_tests_pass_against_its_servers_own_answer_function() -> None:
    # docs/harness.md, "Dialogues in memory": a test script checked against the server's logic alone.
    import importlib.util

    folder = Path(__file__).resolve().parent.parent / "examples" / "shout"
    spec = importlib.util.spec_from_file_location("shout_server", folder / "server.py")
    assert spec is not None
    assert spec.loader is not None
    server = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(server)
    for name in ("test_shout.chat.yaml", "test_unicode.chat.yaml"):
        run = converse(load_dialogue(folder / name), server.answer)
        assert run.passed, run.report()
