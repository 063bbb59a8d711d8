"""bots.model: the format's words are enum members that equal, hash and show as those words; rule lists."""

from __future__ import annotations

import random

import pytest

from bots.clauses import MAX_CLAUSES, Clauses
from bots.loader import parse_dialogue
from bots.model import (
    Block,
    Ending,
    Kind,
    LineEnd,
    OnMismatch,
    Order,
    PatternKind,
    Rule,
    StepKind,
    Where,
)
from bots.patterns import MAX_MATCH_CHARS, prepare
from bots.ruleset import SEGMENTS_PER_BLOCK


@pytest.mark.parametrize("kinds", [PatternKind, Order, StepKind, OnMismatch, Block, Ending, LineEnd])
def test_every_kind_equals_hashes_and_shows_as_its_word(kinds: type[Kind]) -> None:
    for kind in kinds:
        assert kind == kind.value
        assert {kind.value: True}[kind]
        assert str(kind) == f"{kind}" == kind.value


def test_the_words_are_listed_in_the_order_of_the_format() -> None:
    assert PatternKind.words() == ("exact", "contains", "glob", "regex")
    assert Order.words() == ("in_order", "random", "no_repeat")
    assert StepKind.words() == ("say", "expect")
    assert OnMismatch.words() == ("fail", "rules", "skip")
    assert Block.words() == ("expect_lines", "expect_until")
    assert Ending.words() == ("exit", "close", "wait")
    assert LineEnd.words() == ("lf", "crlf")


def test_a_rule_list_goes_on_past_declined_rules_in_order() -> None:
    rules = "".join(
        f"  - contains: word\n    when: pick == '{n}'\n    reply: r{n}\n"
        if n % 2
        else f"  - contains: other\n    reply: r{n}\n"
        for n in range(8)
    )
    d = parse_dialogue(
        f"version: 1.1\nvars: {{pick: '5'}}\nrules:\n{rules}  - contains: word\n    reply: last\n"
    )
    asked: list[int] = []

    def accepts(rule: Rule) -> bool:
        asked.append(rule.number)
        return rule.when is not None and rule.when.holds({"pick": "5"})

    found = d.ruleset.first(*prepare("a word"), accepts)
    assert found is not None
    assert found[0].number == 5
    assert asked == [1, 3, 5]  # each conditional rule that matched, in order, until one holds
    declined = d.ruleset.first(*prepare("a word"), lambda rule: False)
    assert declined is not None
    assert declined[0].number == 8
    assert d.ruleset.first(*prepare("nothing"), accepts) is None


def test_a_rule_list_finds_what_a_plain_scan_finds_across_segments_and_blocks() -> None:
    chooser = random.Random(11)
    words = ["red", "green", "blue"]
    rules = []
    for n in range(3 * SEGMENTS_PER_BLOCK * 3):
        rule = f"  - contains: {chooser.choice(words)}\n    reply: r{n}\n"
        if chooser.random() < 0.6:
            rule += f"    when: pick == '{n}'\n"
        rules.append(rule)
    d = parse_dialogue(f"version: 1.1\nvars: {{pick: ''}}\nrules:\n{''.join(rules)}")
    for _ in range(300):
        allowed = {n for n in range(len(d.rules)) if chooser.random() < 0.05}
        text = " ".join(chooser.sample(words, chooser.randint(1, 2)))

        def accepts(rule: Rule, allowed: set[int] = allowed) -> bool:
            return rule.number in allowed

        expected = next(
            (
                rule.number
                for rule in d.rules
                if rule.pattern.search(text) is not None and (not rule.conditional or accepts(rule))
            ),
            None,
        )
        found = d.ruleset.first(*prepare(text), accepts)
        assert (None if found is None else found[0].number) == expected, (text, sorted(allowed))


def test_clauses_cut_at_punctuation_anywhere_and_at_words_standing_alone() -> None:
    clauses = Clauses((",", ".", "but", "?!"), Where("d.yaml", 1, 1))
    assert clauses.split("Well, I like butter?! BUT not now.") == ("Well", "I like butter", "not now")
    assert clauses.split(" , . ") == ()
    assert clauses.split("no delimiter") == ("no delimiter",)


def test_clauses_are_cut_from_what_patterns_see_and_the_rules_see_at_most_16() -> None:
    clauses = Clauses((",",), Where("d.yaml", 1, 1))
    assert clauses.split("x," * 500_000) == ("x",) * MAX_CLAUSES
    assert clauses.split("a" * 5000 + ",b") == ("a" * MAX_MATCH_CHARS,)
    assert clauses.split(",".join(str(n) for n in range(20))) == tuple(str(n) for n in range(MAX_CLAUSES))


def test_a_longer_delimiter_wins_where_several_start_and_a_word_delimiter_is_a_whole_word() -> None:
    clauses = Clauses((".", "...", "but"), Where("d.yaml", 1, 1))
    assert clauses.split("wait.... but_no, but2 BUT yes") == ("wait", "but_no, but2", "yes")


def test_delimiters_compare_text_as_patterns_do() -> None:
    clauses = Clauses(("aber", "daß"), Where("d.yaml", 1, 1))
    assert clauses.split("ja ABER nein DASS vielleicht") == ("ja", "nein", "vielleicht")
    assert clauses.split("cafe\u0301 aber the\u0301") == ("café", "thé")
