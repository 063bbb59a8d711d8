"""What docs/dialogues.md tells a newcomer, pinned in a chat (issue 20's newcomer items and item 1).

Each test is a sentence of the docs where a new user guessed wrong: what `input` is in
`when:`, what a redirect chain past its limit answers, what `contains` needs of its
words, what `after: {exact: ''}` means, and that text compares in Unicode NFC and
case-folded wherever a dialogue compares text.
"""

from __future__ import annotations

import textwrap

from bots.actions import Send
from bots.engine import Conversation
from bots.loader import parse_dialogue
from bots.model import MAX_REDIRECTS, Dialogue

DECOMPOSED_CAFE = "cafe\u0301"  # e + U+0301: the same text as "café" in NFC


def load(text: str) -> Dialogue:
    return parse_dialogue(textwrap.dedent(text).lstrip("\n"), "d.yaml")


def replies(dialogue: Dialogue, *messages: str) -> list[str]:
    chat = Conversation(dialogue, delays=False)
    chat.start(0.0, dialling=False)
    return [a.text for m in messages for a in chat.receive(m, 0.0) if isinstance(a, Send)]


def test_input_in_when_is_the_clause_the_rules_answer_and_input_in_a_reply_is_the_whole_message() -> None:
    dialogue = load(
        """
        version: 1.1
        clauses: {split: [","]}
        rules:
          - contains: tea
            when: input == 'tea please'
            reply: "you said: {input}"
        fallback: no
        """
    )
    assert replies(dialogue, "well, tea please") == ["you said: well, tea please"]


def test_input_in_when_is_the_redirected_text_after_a_redirect() -> None:
    dialogue = load(
        """
        version: 1.1
        rules:
          - glob: "hi *"
            redirect: "hello {1}"
          - contains: hello
            when: input == 'hello ann'
            reply: "{input} -> redirected"
        fallback: no
        """
    )
    assert replies(dialogue, "hi ann") == ["hi ann -> redirected"]


def test_a_redirect_chain_past_its_limit_gets_what_an_unmatched_message_gets_its_effects_kept() -> None:
    # A chain that depends on what the peer says ({1}), so the loader cannot see it: 'go x' and
    # MAX_REDIRECTS + 1 redirects, one past the limit.
    hops = "".join(
        f"  - glob: 's{n} *'\n    redirect: 's{n + 1} {{1}}'\n    set: {{last: s{n}}}\n"
        for n in range(MAX_REDIRECTS)
    )
    dialogue = parse_dialogue(
        "version: 1.1\nvars: {last: none}\nrules:\n"
        "  - contains: remember\n    reply: ok\n    remember: a remembered reply\n"
        "  - glob: 'go *'\n    redirect: 's0 {1}'\n    topic: far\n"
        f"{hops}"
        f"  - glob: 's{MAX_REDIRECTS} *'\n    reply: the end\n"
        "  - contains: last\n    reply: '{last}'\n"
        "topics:\n  far:\n    fallback: the topic's fallback\n"
        "fallback: the fallback\n",
        "d.yaml",
    )
    # Past MAX_REDIRECTS the chain stops: a remembered reply comes first, then the fallback of the
    # topic the chain switched to; the sets and the topic switch on the way stay done.
    assert replies(dialogue, "remember", "go x", "go x", "last") == [
        "ok",
        "a remembered reply",
        "the topic's fallback",
        f"s{MAX_REDIRECTS - 1}",
    ]


def test_contains_needs_its_words_together_and_in_order() -> None:
    dialogue = load("version: 1.1\nrules: [{contains: good morning, reply: hi}]\nfallback: no\n")
    assert replies(dialogue, "well, GOOD   morning!", "good and sunny morning", "morning good") == [
        "hi",
        "no",
        "no",
    ]


def test_after_exact_empty_is_the_start_of_a_chat_before_the_bot_said_anything() -> None:
    dialogue = load(
        """
        version: 1.1
        rules:
          - contains: hi
            after: {exact: ''}
            reply: first words
          - contains: hi
            reply: hi again
        """
    )
    assert replies(dialogue, "hi", "hi") == ["first words", "hi again"]


def test_text_compares_in_nfc_and_case_folded_in_conditions_after_delimiters_and_memory() -> None:
    dialogue = load(
        f"""
        version: 1.1
        vars: {{drink: "{DECOMPOSED_CAFE}"}}
        clauses: {{split: ["ASI\\u0301"]}}
        rules:
          - contains: order
            when: drink == 'CAFÉ'
            reply: "un {DECOMPOSED_CAFE}, vale"
          - contains: vale
            after: {{contains: "café"}}
            reply: gracias
          - regex: 'my (?P<thing>\\w+)'
            reply: noted
            remember: "{{thing}}?"
        fallback: "?"
        """
    )
    # The bot says its reply as written (decomposed); `after:` compares it in NFC.
    assert replies(dialogue, "order", "vale", f"x así my {DECOMPOSED_CAFE}", "hmm") == [
        f"un {DECOMPOSED_CAFE}, vale",
        "gracias",
        "noted",
        "café?",
    ]
