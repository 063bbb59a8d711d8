"""bots.engine and bots.observer: a conversation tells its observer which rule, redirect, memory,
fallback and script step each turn used, and nothing else."""

from __future__ import annotations

import textwrap

from bots.engine import Conversation
from bots.loader import parse_dialogue
from bots.model import Dialogue, Reply, Rule, Step
from bots.observer import Observer


def dialogue(text: str) -> Dialogue:
    return parse_dialogue(textwrap.dedent(text).lstrip("\n"), "t.yaml")


class Calls:
    """An observer that notes every call, with the lines of what it was told about."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def rule(self, rule: Rule, message: str) -> None:
        self.calls.append(("rule", str(rule.where.line), message))

    def redirect(self, rule: Rule, found: bool) -> None:
        self.calls.append(("redirect", str(rule.where.line), str(found)))

    def recalled(self) -> None:
        self.calls.append(("recalled",))

    def fallback(self, reply: Reply) -> None:
        self.calls.append(("fallback", str(reply.where.line)))

    def step(self, step: Step) -> None:
        self.calls.append(("step", str(step.where.line)))


def watched(d: Dialogue) -> tuple[Conversation, Calls]:
    calls = Calls()
    observer: Observer = calls  # the protocol is all the engine knows
    chat = Conversation(d, delays=False, observer=observer)
    return chat, calls


RULES = dialogue(
    """
    version: 1.1
    rules:
      - contains: [coffee, tea]
        reply: "one {input}"
      - exact: a cuppa
        redirect: tea
      - exact: nowhere
        redirect: zzz
      - regex: 'i am (?P<mood>\\w+)'
        reply: ok
        remember: "you were {mood}"
      - contains: help
        reply: helping
        topic: desk
    topics:
      desk:
        rules:
          - exact: thanks
            reply: welcome
            topic: none
        fallback: the desk does not know
    fallback: what?
    """
)


def test_a_rule_that_answers_is_told_with_the_text_the_rules_saw() -> None:
    chat, calls = watched(RULES)
    chat.start(0.0, dialling=False)
    chat.receive("Coffee please", 1.0)
    assert calls.calls == [("rule", "3", "Coffee please")]


def test_a_redirect_is_told_with_whether_its_text_found_a_rule_and_the_rule_it_found_after_it() -> None:
    chat, calls = watched(RULES)
    chat.start(0.0, dialling=False)
    chat.receive("a cuppa", 1.0)
    assert calls.calls == [("rule", "5", "a cuppa"), ("redirect", "5", "True"), ("rule", "3", "tea")]
    calls.calls.clear()
    chat.receive("nowhere", 2.0)
    assert calls.calls == [("rule", "7", "nowhere"), ("redirect", "7", "False"), ("fallback", "22")]


def test_a_recall_and_the_fallbacks_of_a_topic_and_of_the_dialogue_are_told() -> None:
    chat, calls = watched(RULES)
    chat.start(0.0, dialling=False)
    chat.receive("i am tired", 1.0)
    chat.receive("blah", 2.0)  # no rule: the memory first
    chat.receive("blah", 3.0)  # then the fallback
    chat.receive("help", 4.0)
    chat.receive("blah", 5.0)  # in the topic: its own fallback
    assert calls.calls == [
        ("rule", "9", "i am tired"),
        ("recalled",),
        ("fallback", "22"),
        ("rule", "12", "help"),
        ("fallback", "21"),
    ]


def test_say_and_expect_steps_are_told_when_they_run_and_a_mismatch_is_not() -> None:
    script = dialogue(
        """
        version: 1.2
        end: close
        script:
          - say: hello
          - expect: {exact: hi}
          - expect_lines: [one, two]
        """
    )
    chat, calls = watched(script)
    chat.start(0.0)
    chat.receive("hi", 1.0)
    chat.receive("one", 2.0)
    assert calls.calls == [("step", "4"), ("step", "5")]  # the block has taken one line of two
    chat.receive("two", 3.0)
    assert calls.calls[-1] == ("step", "6")
    chat, calls = watched(script)
    chat.start(0.0)
    chat.receive("bye", 1.0)
    assert calls.calls == [("step", "4")]


def test_a_chat_without_an_observer_answers_as_one_with() -> None:
    plain = Conversation(RULES, delays=False)
    chat, _calls = watched(RULES)
    for conversation in (plain, chat):
        conversation.start(0.0, dialling=False)
    for n, text in enumerate(["a cuppa", "i am tired", "blah", "help", "thanks", "blah"]):
        assert plain.receive(text, float(n)) == chat.receive(text, float(n))
