"""The engine's one turn path against an independent model (issue 10 item 1).

Random dialogues (rules that contain a word, with a fixed reply, a reply built from the
message, or `exit`; a fallback or none; a max_turns or none) meet random chats. The
model below restates the turn rules of docs/dialogues.md in a few lines; the engine must send the
same replies and end the same way, turn by turn.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.actions import Action, Close, Outcome, Send
from bots.engine import Conversation
from bots.loader import parse_dialogue

pytestmark = [pytest.mark.adversarial, pytest.mark.timeout(600)]

WORDS = ["alpha", "beta", "gamma", "delta"]
REPLY_KINDS = ["fixed", "echo", "exit"]

RULES = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(REPLY_KINDS)), max_size=5)
FALLBACK = st.sampled_from([None, "fixed", "echo", "exit"])
MESSAGES = st.lists(
    st.one_of(
        st.just("exit"), st.lists(st.sampled_from([*WORDS, "other"]), min_size=1, max_size=3).map(" ".join)
    ),
    max_size=12,
)


def _reply_yaml(kind: str, name: str) -> str:
    return {"fixed": f"'{name}'", "echo": "'{input}!'", "exit": "exit"}[kind]


def _reply(kind: str, name: str, message: str) -> str:
    return {"fixed": name, "echo": f"{message}!", "exit": "exit"}[kind]


@given(RULES, FALLBACK, st.one_of(st.none(), st.integers(1, 5)), MESSAGES)
def test_the_turn_path_replies_and_ends_as_the_model_says(
    rules: list[tuple[str, str]], fallback: str | None, max_turns: int | None, messages: list[str]
) -> None:
    text = "version: 1\n"
    if max_turns is not None:
        text += f"max_turns: {max_turns}\n"
    if rules:
        text += "rules:\n" + "".join(
            f"  - contains: {word}\n    reply: {_reply_yaml(kind, f'r{number}')}\n"
            for number, (word, kind) in enumerate(rules)
        )
    if fallback is not None:
        text += f"fallback: {_reply_yaml(fallback, 'fb')}\n"
    chat = Conversation(parse_dialogue(text, "model.yaml"), delays=False)

    sent, done = 0, False
    for now, message in enumerate(messages):
        actions = chat.receive(message, float(now))
        if done:
            assert actions == []
            continue
        if message == "exit":
            expected: list[Action] = [Close(Outcome.ENDED_BY_PEER, "the peer said exit")]
        elif max_turns is not None and sent >= max_turns:
            expected = [Send("exit"), Close(Outcome.ENDED_BY_BOT, f"max_turns ({max_turns}) reached")]
        else:
            rule = next(((n, kind) for n, (word, kind) in enumerate(rules) if word in message.split()), None)
            if rule is not None:
                reply: str | None = _reply(rule[1], f"r{rule[0]}", message)
            elif fallback is not None:
                reply = _reply(fallback, "fb", message)
            else:
                reply = None
            if reply is None:
                expected = [Send("exit"), Close(Outcome.ENDED_BY_BOT, "nothing left to say")]
            elif reply == "exit":
                expected = [Send("exit"), Close(Outcome.ENDED_BY_BOT, "the bot said exit")]
            else:
                expected = [Send(reply)]
                sent += 1
        assert actions == expected, (message, text)
        done = any(isinstance(action, Close) for action in expected)
        assert chat.done is done
