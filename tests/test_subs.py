"""bots.subs: whole words, any case, longest first, one pass; and the loader's `subs` section."""

from __future__ import annotations

import pytest

from bots.loader import DialogueError, parse_dialogue
from bots.subs import MAX_SUBSTITUTIONS, Substitutions


def test_a_substitution_replaces_whole_words_in_any_case() -> None:
    subs = Substitutions({"what's": "what is", "i'm": "i am"})
    assert subs.apply("What's up? I'M fine, hi'm whats") == "what is up? i am fine, hi'm whats"


def test_the_longest_substitution_wins_where_several_start() -> None:
    subs = Substitutions({"what's": "what is", "what's up": "how are you"})
    assert subs.apply("so what's up, what's new") == "so how are you, what is new"


def test_substituted_text_is_never_substituted_again() -> None:
    subs = Substitutions({"i am": "you are", "you are": "i am"})
    assert subs.apply("you are kind and i  am tired") == "i am kind and you are tired"


def test_a_key_with_punctuation_at_its_edges_needs_no_word_boundary_there() -> None:
    assert Substitutions({":)": "smile"}).apply("ok:)") == "oksmile"


def test_no_substitutions_leave_the_text_as_it_is() -> None:
    subs = Substitutions({})
    assert not subs
    assert subs.apply("What's up") == "What's up"


def test_the_rules_match_the_substituted_message_and_examples_are_routed_through_it() -> None:
    dialogue = parse_dialogue(
        'version: 1.1\nsubs: {"What\'s": what is}\nrules:\n'
        '  - exact: what is up\n    reply: x\n    examples: ["what\'s up"]\n',
        "d.yaml",
    )
    assert dialogue.substitute("WHAT'S up") == "what is up"
    assert dialogue.match(dialogue.substitute("WHAT'S up")) is not None
    assert dialogue.subs.pairs == {"what's": "what is"}


def test_subs_problems_have_their_file_line_col() -> None:
    with pytest.raises(DialogueError) as caught:
        parse_dialogue("version: 1.1\nsubs: [a]\n", "d.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "d.yaml:2:7: subs must be a mapping of words: replacement"
    ]
    with pytest.raises(DialogueError) as caught:
        parse_dialogue('version: 1\nsubs: {"": x}\n', "d.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "d.yaml:2:1: 'subs' needs format 1.1: write 'version: 1.1' at the top of the file",
    ]
    many = ", ".join(f"w{n}: x" for n in range(MAX_SUBSTITUTIONS + 1))
    with pytest.raises(DialogueError) as caught:
        parse_dialogue(f"version: 1.1\nsubs: {{{many}}}\n", "d.yaml")
    assert [str(p) for p in caught.value.problems] == [
        f"d.yaml:2:7: more than {MAX_SUBSTITUTIONS} substitutions: keep the ones matching needs"
    ]


def test_two_loads_of_a_file_with_subs_are_equal_dialogues() -> None:
    text = 'version: 1.1\nsubs: {"i\'m": i am}\nfallback: ok\n'
    assert parse_dialogue(text, "d.yaml") == parse_dialogue(text, "d.yaml")
    assert Substitutions({"a": "b"}) != Substitutions({"a": "c"})


def test_an_empty_substituted_word_is_a_problem() -> None:
    with pytest.raises(DialogueError) as caught:
        parse_dialogue('version: 1.1\nsubs: {"": x}\n', "d.yaml")
    assert [str(p) for p in caught.value.problems] == ["d.yaml:2:8: a substituted word is empty"]
