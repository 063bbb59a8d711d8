"""bots.subs: whole words, any case (NFC, casefold), longest first, one pass over what patterns see;
and the loader's `subs` section."""

from __future__ import annotations

import pytest

from bots.actions import Send
from bots.engine import Conversation
from bots.loader import DialogueError, parse_dialogue
from bots.model import Dialogue
from bots.patterns import MAX_MATCH_CHARS
from bots.subs import MAX_KEY_CHARS, MAX_SUBSTITUTIONS, Substitutions


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


# -- issue 20 items 1 and 2: substitutions compare text as patterns do (NFC, casefold) ----------

DECOMPOSED = "cafe\u0301"  # e + U+0301 COMBINING ACUTE ACCENT: the same text as "café" in NFC


def coffee_bot(key: str) -> Dialogue:
    return parse_dialogue(
        f'version: 1.1\nsubs: {{"{key}": coffee, strasse: street}}\n'
        "rules:\n  - contains: coffee\n    reply: coffee it is\n"
        "  - contains: street\n    reply: which street?\nfallback: pardon?\n",
        "d.yaml",
    )


@pytest.mark.parametrize(("key", "message"), [("café", f"un {DECOMPOSED}"), (DECOMPOSED, "un café")])
def test_a_substitution_matches_composed_and_decomposed_text_alike(key: str, message: str) -> None:
    chat = Conversation(coffee_bot(key), delays=False)
    assert [a.text for a in chat.receive(message, 0.0) if isinstance(a, Send)] == ["coffee it is"]


@pytest.mark.parametrize("message", ["Straße", "STRASSE", "die strasse"])
def test_a_substitution_folds_case_as_patterns_do(message: str) -> None:
    chat = Conversation(coffee_bot("café"), delays=False)
    assert [a.text for a in chat.receive(message, 0.0) if isinstance(a, Send)] == ["which street?"]


def test_a_key_written_with_sharp_s_matches_its_folded_spelling_and_keeps_the_rest_as_typed() -> None:
    subs = Substitutions({"straße": "street"})
    assert subs.apply("GROSS STRASSE, Große Straße") == "GROSS street, Große street"


def test_a_substitution_over_text_that_folding_lengthens_keeps_the_text_around_it() -> None:
    assert Substitutions({"am": "are"}).apply("Maß am Fuß") == "Maß are Fuß"


def test_the_loader_keeps_keys_in_nfc_and_case_folded() -> None:
    dialogue = parse_dialogue('version: 1.1\nsubs: {"CAFE\u0301  NOIR": x, "Straße": y}\nfallback: ok\n')
    assert dialogue.subs.pairs == {"café noir": "x", "strasse": "y"}


# -- issue 19 item 3: substitutions see what patterns see, in linear time -----------------------


def test_substitutions_see_the_first_1024_characters_as_patterns_do() -> None:
    subs = Substitutions({"me": "you"})
    text = "me " * 1000
    out = subs.apply(text)
    assert len(out) == MAX_MATCH_CHARS
    assert out == ("you " * 1000)[:MAX_MATCH_CHARS]
    assert Substitutions({}).apply("x" * 5000) == "x" * MAX_MATCH_CHARS


def test_long_replacements_never_make_more_than_the_rules_read() -> None:
    subs = Substitutions({"a": "b" * 900})
    assert subs.apply("a " * 600) == ("b" * 900 + " " + "b" * 900)[:MAX_MATCH_CHARS]


def test_a_word_boundary_is_a_token_boundary_for_letters_of_any_script() -> None:
    subs = Substitutions({"ich": "I", "日本": "Japan", "?": "!"})
    assert subs.apply("ich, dich, ichs; 日本 日本語 why?") == "I, dich, ichs; Japan 日本語 why!"


def test_a_key_over_32_characters_is_a_problem_at_its_place() -> None:
    key = "a " * 16 + "b"  # 33 characters
    with pytest.raises(DialogueError) as caught:
        parse_dialogue(f'version: 1.1\nsubs: {{"{key}": x}}\n', "d.yaml")
    assert [str(p) for p in caught.value.problems] == [
        f"d.yaml:2:8: a substituted word or phrase is over {MAX_KEY_CHARS} characters (33): "
        "substitute a shorter phrase, or match the long one with a pattern"
    ]
