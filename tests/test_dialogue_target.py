"""The dialogue format's ``target:`` key (read by the pytest plugin; chat-bot ignores it)."""

from __future__ import annotations

import pytest

from bots.loader import DialogueError, parse_dialogue
from bots.target import Target, split_target


def target_of(yaml_target: str) -> Target | None:
    return parse_dialogue(f"version: 1\ntarget: {yaml_target}\n", "d.yaml").target


def test_a_dialogue_without_a_target_has_none() -> None:
    assert parse_dialogue("version: 1\n", "d.yaml").target is None


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("'tcp:127.0.0.1:5000'", "tcp", "127.0.0.1:5000"),
        ("'tcp:[::1]:5000'", "tcp", "[::1]:5000"),
        ("'command:python server.py {port}'", "command", "python server.py {port}"),
        ("image:chat", "image", "chat"),
        ("'terminal:chat-client --port {port}'", "terminal", "chat-client --port {port}"),
    ],
)
def test_a_target_text_is_kind_colon_value(text: str, kind: str, value: str) -> None:
    target = target_of(text)
    assert target is not None
    assert (target.kind, target.value, target.ready, target.peer) == (kind, value, None, None)


def test_a_target_mapping_carries_the_ready_pattern_of_a_command() -> None:
    target = target_of("{command: 'python s.py {port}', ready: 'listening on'}")
    assert target is not None
    assert (target.kind, target.value, target.ready) == ("command", "python s.py {port}", "listening on")


def test_a_target_mapping_carries_the_peer_dialogue_of_a_terminal() -> None:
    target = target_of("{terminal: 'chat-client --port {port}', peer: quiz.yaml}")
    assert target is not None
    assert (target.kind, target.peer) == ("terminal", "quiz.yaml")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "'http://x'",
            "d.yaml:2:9: a target is KIND:VALUE with KIND one of tcp, command, image, terminal, not 'http://x'",
        ),
        (
            "'tcp:localhost'",
            "d.yaml:2:9: a tcp target is tcp:HOST:PORT with a port from 1 to 65535, not 'tcp:localhost'",
        ),
        ("'command: '", "d.yaml:2:9: the command target names nothing after 'command:'"),
        ("{image: chat, peer: q.yaml}", "d.yaml:2:23: 'peer' goes with a terminal target, not image"),
        (
            "{command: x, ready: '('}",
            "d.yaml:2:29: target ready: regex does not compile: "
            "missing ), unterminated subpattern at position 0",
        ),
        ("{ready: x}", "d.yaml:2:9: target names one of tcp, command, image, terminal, not 0"),
    ],
)
def test_a_bad_target_is_one_problem_at_its_place(text: str, problem: str) -> None:
    with pytest.raises(DialogueError) as caught:
        target_of(text)
    assert [str(p) for p in caught.value.problems] == [problem]


def test_split_target_is_what_the_command_line_option_uses() -> None:
    assert split_target("tcp:host:1") == ("tcp", "host:1")
    with pytest.raises(ValueError, match="KIND one of"):
        split_target("nothing")
