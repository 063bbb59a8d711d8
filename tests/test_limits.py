"""bots.limits: the serving bot is bounded by default; --max-clients 0 lifts the bound (issue 14 item 6);
a chat's state is bounded (issue 19 item 2)."""

from __future__ import annotations

import argparse
import textwrap

import pytest

from bots.actions import Action, Send
from bots.engine import Conversation
from bots.limits import (
    DEFAULT_MAX_CLIENTS,
    MAX_REPLY_CHARS,
    MAX_VALUE_CHARS,
    MAX_VARIABLES,
    REPLY_REFUSED,
    bound,
    max_clients,
)
from bots.loader import parse_dialogue
from bots.model import MAX_MEMORIES
from chat.protocol import MAX_MESSAGE_BYTES


def test_without_max_clients_the_bound_is_the_default_of_10_000() -> None:
    assert DEFAULT_MAX_CLIENTS == 10_000
    assert bound(None) == 10_000


def test_max_clients_0_means_no_bound() -> None:
    assert bound(max_clients("0")) is None


def test_max_clients_n_bounds_at_n() -> None:
    assert bound(max_clients("3")) == 3


@pytest.mark.parametrize("text", ["-1", "many", "1.5", ""])
def test_max_clients_refuses_anything_but_a_whole_number_from_0(text: str) -> None:
    with pytest.raises(
        argparse.ArgumentTypeError, match=r"expected a whole number >= 0 \(0: no bound\), not"
    ):
        max_clients(text)


# -- issue 19 item 2: a chat's state is bounded --------------------------------------------------


def chat_of(text: str) -> Conversation:
    return Conversation(parse_dialogue(textwrap.dedent(text).lstrip("\n"), "d.yaml"), delays=False)


def said(actions: list[Action]) -> list[str]:
    return [action.text for action in actions if isinstance(action, Send)]


def test_a_value_that_doubles_each_message_stops_at_the_limit_and_the_chat_goes_on() -> None:
    chat = chat_of(
        """
        version: 1.1
        vars: {v: ab}
        rules:
          - contains: grow
            set: {v: "{v}{v}"}
            reply: "{v}"
        """
    )
    for _message in range(40):  # 2 ** 40 characters, were nothing cut
        replies = said(chat.receive("grow", 0.0))
    assert replies == ["ab" * (MAX_VALUE_CHARS // 2)]
    assert len(chat.variables["v"]) == MAX_VALUE_CHARS


def test_a_remembered_reply_is_cut_at_the_limit_of_a_value_and_the_queue_keeps_32() -> None:
    chat = chat_of(
        """
        version: 1.1
        rules:
          - contains: keep
            reply: kept
            remember: "you said {input}"
        fallback: nothing
        """
    )
    for _message in range(MAX_MEMORIES + 5):
        chat.receive("keep " + "x" * 100_000, 0.0)
    recalled = [said(chat.receive("?", 0.0))[0] for _ in range(MAX_MEMORIES + 1)]
    assert recalled[:-1] == [("you said keep " + "x" * 100_000)[:MAX_VALUE_CHARS]] * MAX_MEMORIES
    assert recalled[-1] == "nothing"


def test_a_reply_over_the_limit_is_refused_and_input_stays_whole_below_it() -> None:
    chat = chat_of('version: 1\nfallback: "{input}{input}"\n')
    assert said(chat.receive("y" * 600_000, 0.0)) == [REPLY_REFUSED]
    echo = chat_of('version: 1\nfallback: "{input}"\n')
    assert said(echo.receive("z" * MAX_MESSAGE_BYTES, 0.0)) == ["z" * MAX_MESSAGE_BYTES]


def test_the_reply_limit_is_the_default_message_limit() -> None:
    assert MAX_REPLY_CHARS == MAX_MESSAGE_BYTES
    assert MAX_VARIABLES * MAX_VALUE_CHARS == MAX_MESSAGE_BYTES


def test_a_condition_on_input_sees_what_patterns_see() -> None:
    chat = chat_of(
        """
        version: 1.1
        rules:
          - contains: x
            when: "'zzz' in input"
            reply: seen
        fallback: not seen
        """
    )
    assert said(chat.receive("x zzz", 0.0)) == ["seen"]
    assert said(chat.receive("x" + "a" * 2000 + "zzz", 0.0)) == ["not seen"]


def test_a_redirect_is_cut_where_the_rules_stop_reading() -> None:
    chat = chat_of(
        """
        version: 1.1
        rules:
          - glob: "say *"
            redirect: "{1} {1} zzz"
          - regex: "^a"
            when: "'zzz' in input"
            reply: seen
        fallback: not seen
        """
    )
    assert said(chat.receive("say " + "a" * 500, 0.0)) == ["seen"]
    assert said(chat.receive("say " + "a" * 600, 0.0)) == ["not seen"]  # the rules read "a...a a...a"
