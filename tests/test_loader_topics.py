"""bots.loader.topics: topic names (Python's rule, any script), topics of rules or a fallback, switches
(issue 20, case 3 and newcomer items)."""

from __future__ import annotations

import textwrap

import pytest

from bots.actions import Send
from bots.engine import Conversation
from bots.loader import DialogueError, parse_dialogue
from bots.model import Dialogue


def load(text: str) -> Dialogue:
    return parse_dialogue(textwrap.dedent(text).lstrip("\n"), "d.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(DialogueError) as caught:
        load(text)
    return [str(p) for p in caught.value.problems]


def replies(dialogue: Dialogue, *messages: str) -> list[str]:
    chat = Conversation(dialogue, delays=False)
    chat.start(0.0, dialling=False)
    return [a.text for m in messages for a in chat.receive(m, 0.0) if isinstance(a, Send)]


@pytest.mark.parametrize("name", ["été", "クイズ", "_x1", "Quiz2"])
def test_a_topic_name_may_be_letters_and_digits_of_any_script(name: str) -> None:
    dialogue = load(
        f"""
        version: 1.1
        rules:
          - contains: go
            reply: ok
            topic: {name}
        topics:
          {name}:
            rules: [{{contains: x, reply: in the topic}}]
        """
    )  # was: "topic name 'été' must be letters, digits and _", and "not defined" at the switch
    assert replies(dialogue, "go", "x") == ["ok", "in the topic"]


def test_a_topic_name_typed_with_a_combining_accent_is_the_same_name() -> None:
    dialogue = load(
        """
        version: 1.1
        rules:
          - contains: go
            reply: ok
            topic: "e\\u0301te\\u0301"
        topics:
          été:
            rules: [{contains: x, reply: in the topic}]
        """
    )
    assert list(dialogue.topics) == ["été"]
    assert replies(dialogue, "go", "x") == ["ok", "in the topic"]


@pytest.mark.parametrize(
    ("name", "shown"), [("two words", "two words"), ("1st", "1st"), ("'«quiz»'", "«quiz»"), ("٣x", "٣x")]
)
def test_a_name_that_is_not_one_word_is_refused_at_the_topic_and_at_the_switch_with_why(
    name: str, shown: str
) -> None:
    found = problems(
        f"""
        version: 1.1
        rules:
          - contains: go
            reply: ok
            topic: {name}
        topics:
          {name}:
            rules: [{{contains: x, reply: y}}]
        """
    )
    why = f"topic name '{shown}' must be one word: letters, digits and _ (of any script), "
    why += "not starting with a digit"
    assert found == [f"d.yaml:5:12: {why}", f"d.yaml:7:3: {why}"]  # was "not defined" at the switch


def test_none_cannot_name_a_topic_and_says_why() -> None:
    assert problems("version: 1.1\ntopics:\n  none: {fallback: x}\n") == [
        "d.yaml:3:3: 'none' cannot name a topic: 'topic: none' leaves any topic; choose another name"
    ]


def test_a_topic_with_only_a_fallback_answers_with_the_top_level_rules_then_its_fallback() -> None:
    dialogue = load(
        """
        version: 1.1
        rules:
          - contains: quiz
            reply: What is 2 + 2?
            topic: waiting
          - contains: help
            reply: Say a number.
        topics:
          waiting:
            fallback: Still waiting for a number.
        fallback: I do not follow.
        """
    )  # was: "topic waiting needs 'rules': the rules tried first while in it"
    assert replies(dialogue, "hello", "quiz", "help", "hmm") == [
        "I do not follow.",
        "What is 2 + 2?",
        "Say a number.",
        "Still waiting for a number.",
    ]


def test_a_topic_with_neither_rules_nor_a_fallback_says_what_it_needs() -> None:
    assert problems("version: 1.1\nrules: [{contains: a, reply: b, topic: t}]\ntopics:\n  t: {}\n") == [
        "d.yaml:4:6: topic t needs 'rules' (tried first while in it), a 'fallback' (said when no rule "
        "matches there), or both"
    ]
