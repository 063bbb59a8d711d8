"""bots.loader.routes: --check routes each example as a chat would (issue 20, cases 4 and 5), and fixed
redirects are followed once."""

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


CONDITIONAL_FIRST = """
    version: 1.1
    vars: {mood: ""}
    rules:
      - contains: hello
        when: mood == 'sad'
        reply: cheer up
      - contains: hello
        after: {contains: tea}
        reply: tea?
      - contains: hello
        reply: hi
        examples: ["hello there"]
    """


def test_an_earlier_rule_with_when_or_after_does_not_shadow_an_example_as_a_chat_answers_it() -> None:
    dialogue = load(CONDITIONAL_FIRST)  # was: "is answered by the rule at line 4 ... shadows this one"
    assert replies(dialogue, "hello there") == ["hi"]


def test_an_unconditional_rule_after_conditional_ones_still_shadows_an_example() -> None:
    found = problems(
        """
        version: 1.1
        vars: {mood: ""}
        rules:
          - contains: hello
            when: mood == 'sad'
            reply: cheer up
          - contains: hello
            reply: hi
          - contains: hello there
            reply: hello to you
            examples: ["hello there"]
        """
    )
    assert found == [
        "d.yaml:11:16: example 'hello there' is answered by the rule at line 7 ({contains: 'hello'}), "
        "not by this rule: it comes first and shadows this one: move this rule above it or narrow that one"
    ]


def test_an_example_is_routed_through_the_clauses_as_a_chat_routes_it() -> None:
    dialogue = load(
        """
        version: 1.1
        clauses: {split: [",", "."]}
        rules:
          - regex: '^my (?P<rest>.+)$'
            reply: "your {rest}?"
            examples: ["well, my dog bites."]
        """
    )  # was: "example 'well, my dog bites.' matches no rule, not even its own"
    assert replies(dialogue, "well, my dog bites.") == ["your dog bites?"]


def test_an_example_whose_first_clause_another_rule_answers_says_so() -> None:
    found = problems(
        """
        version: 1.1
        clauses: {split: [","]}
        rules:
          - contains: well
            reply: well what?
          - contains: dog
            reply: a dog!
            examples: ["well, my dog"]
        """
    )
    assert found == [
        "d.yaml:8:16: example 'well, my dog' is answered by the rule at line 4 ({contains: 'well'}) in its "
        "clause 'well', not by this rule: the chat answers the first clause a rule matches, and this rule "
        "matches a later one"
    ]


def test_an_example_that_a_redirect_brings_to_its_rule_is_answered_by_it() -> None:
    dialogue = load(
        """
        version: 1.1
        rules:
          - glob: "hi *"
            redirect: "hello {1}"
          - regex: '^hello (?P<who>\\w+)'
            reply: "Hello, {who}!"
            examples: ["hi Ann"]
        """
    )
    assert replies(dialogue, "hi Ann") == ["Hello, Ann!"]


def test_an_example_redirected_to_another_rule_names_both() -> None:
    found = problems(
        """
        version: 1.1
        rules:
          - exact: hi
            redirect: hello
          - exact: hello
            reply: Hello!
          - contains: hi
            reply: Hi!
            examples: [hi]
        """
    )
    assert found == [
        "d.yaml:9:16: example 'hi' is answered by the rule at line 3 ({exact: 'hi'}) and redirected to the "
        "rule at line 5 ({exact: 'hello'}), not by this rule: it comes first and shadows this one: move this "
        "rule above it or narrow that one"
    ]


def test_an_example_of_a_topics_rule_is_routed_in_its_topic_then_the_top_level_rules() -> None:
    found = problems(
        """
        version: 1.1
        rules:
          - contains: quiz
            reply: go
            topic: quiz
          - contains: answer
            reply: top level
        topics:
          quiz:
            rules:
              - exact: "4"
                reply: right
                examples: ["4", "the answer"]
        """
    )
    assert found == [
        "d.yaml:13:25: example 'the answer' is answered by the rule at line 6 ({contains: 'answer'}), not by "
        "this rule: this rule's own pattern does not match it"
    ]


def test_a_redirect_loop_through_three_rules_is_one_problem_at_its_first_rule() -> None:
    found = problems(
        """
        version: 1.1
        rules:
          - {exact: start, redirect: a}
          - {exact: c, redirect: a}
          - {exact: a, redirect: b}
          - {exact: b, redirect: c}
        """
    )
    assert found == ["d.yaml:4:5: redirect goes round in a loop ('a' -> 'b' -> 'c' -> back to line 4)"]
