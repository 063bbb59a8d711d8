"""bots.matcher: pattern kinds, required literals, regex safety, and the rule index."""

from __future__ import annotations

import random
import re
import sys
import time

import pytest

from bots import matcher


def _compile(source: str, case_sensitive: bool = False) -> re.Pattern[str]:
    return re.compile(source, 0 if case_sensitive else re.IGNORECASE)


@pytest.mark.parametrize(
    ("pattern", "message", "matches"),
    [
        ("hello there", "  Hello   THERE ", True),
        ("hello there", "hello there!", False),
        ("hello", "well, hello", False),
    ],
)
def test_exact_pattern_ignores_blanks_and_case_but_wants_the_whole_message(
    pattern: str, message: str, matches: bool
) -> None:
    assert bool(_compile(matcher.exact_regex(pattern)).search(message)) is matches


@pytest.mark.parametrize(
    ("pattern", "message", "matches"),
    [
        ("hi", "Hi, you", True),
        ("hi", "this", False),
        ("good morning", "a good   morning to you", True),
        ("why?", "but why?", True),
        ("2 + 2", "what is 2 + 2?", True),
    ],
)
def test_contains_pattern_finds_whole_words_in_order(pattern: str, message: str, matches: bool) -> None:
    assert bool(_compile(matcher.contains_regex(pattern)).search(message)) is matches


def test_glob_pattern_captures_each_star_and_matches_the_whole_message() -> None:
    rx = _compile(matcher.glob_regex("* i remember *"))
    found = rx.search("Today I remember my school")
    assert found is not None
    assert found.groups() == ("Today", "my school")
    assert rx.search("I forgot") is None
    assert _compile(matcher.glob_regex("h?llo")).search("hallo") is not None


def test_case_sensitive_patterns_respect_case() -> None:
    assert _compile(matcher.contains_regex("Paris"), case_sensitive=True).search("paris") is None


@pytest.mark.parametrize(
    ("source", "literal"),
    [
        (r"\bHello (?P<name>\w+)", "hello "),
        (r"my name is\s+(\w+)", "my name is"),
        (r"(?:abc|xyz)", None),
        (r"(?:abc|abd)", "ab"),  # the regex parser factors the common prefix out
        (r".*", None),
        (r"x+yz", "yz"),
        (r"(?:keyword)+ \d", "keyword"),
        (r"café au lait", " au lait"),
    ],
)
def test_required_literal_is_the_longest_text_every_match_contains(source: str, literal: str | None) -> None:
    assert matcher.required_literal(matcher.parse_regex(source, re.IGNORECASE)) == literal


@pytest.mark.parametrize("source", [r"(a+)+$", r"(\w+\s?)*x", r"(?:a{1,100})+", r"((ab)*c)+"])
def test_nested_repeats_are_refused_as_exponential(source: str) -> None:
    with pytest.raises(matcher.UnsafeRegex, match=r"^a repeat inside a repeat \(like \(a\+\)\+\)"):
        matcher.check_regex_safety(matcher.parse_regex(source, 0))


@pytest.mark.parametrize(
    "source", [r"(a|a)*$", r"^(a|a?)+$", r"(a|aa)+$", r"(?:foo|fo)+", r"(?i)(?:Cat|cAt)+"]
)
def test_alternatives_that_start_alike_inside_a_repeat_are_refused(source: str) -> None:
    with pytest.raises(matcher.UnsafeRegex, match=r"^alternatives that can start with the same character"):
        matcher.check_regex_safety(matcher.parse_regex(source, 0))


@pytest.mark.parametrize("source", [r"(a?){30}a{30}", r"(?:\b)+x", r"(?:a|b?)+"])
def test_a_repeated_part_that_can_match_nothing_is_refused(source: str) -> None:
    with pytest.raises(matcher.UnsafeRegex, match=r"^(a repeated part that can match nothing|alternatives)"):
        matcher.check_regex_safety(matcher.parse_regex(source, 0))


def test_every_refused_shape_is_really_slow_and_every_allowed_one_is_fast() -> None:
    # The check is a proxy for time: pin it to the real engine on the classic attack input.
    attack = "a" * 18 + "!"
    for source in [r"(a|a)*$", r"(a+)+$", r"^(a|a?)+$"]:
        started = time.perf_counter()
        re.search(source, attack)
        assert time.perf_counter() - started > 0.01, source
    for source in [r"(?:cat|dog|cow)+$", r"(a|b)*c", r"(\d{1,3}\.){3}\d{1,3}"]:
        matcher.check_regex_safety(matcher.parse_regex(source, 0))
        started = time.perf_counter()
        re.search(source, attack)
        assert time.perf_counter() - started < 0.01, source


# Atomic groups are Python 3.11+; on 3.10 such a pattern does not even compile.
ATOMIC = [r"(?>a+)+b"] if sys.version_info >= (3, 11) else []


@pytest.mark.parametrize("source", [r"(\d{1,3}\.){3}\d{1,3}", *ATOMIC, r"\w+\s+\w+", r"(ab)+", r"(a|b)*c"])
def test_safe_regexes_pass_the_safety_check(source: str) -> None:
    matcher.check_regex_safety(matcher.parse_regex(source, 0))


def test_fold_maps_what_ignorecase_equates_with_ascii_letters() -> None:
    # Python's IGNORECASE matches long s with "s", dotless i with "i" and the Kelvin sign with "k".
    assert matcher.fold("Pa\u017fs \u0131t \u212a") == "pass it k"


def _rules(sources: list[str]) -> list[list[tuple[re.Pattern[str], str | None]]]:
    out = []
    for source in sources:
        rx = re.compile(source, re.IGNORECASE)
        out.append([(rx, matcher.required_literal(matcher.parse_regex(source, re.IGNORECASE)))])
    return out


def test_rule_index_returns_the_first_matching_rule_in_rule_order() -> None:
    sources = [f"keyword{i}\\b" for i in range(200)] + [r"\bhello\b", r"hel+o", r".*"]
    index = matcher.RuleIndex(_rules(sources))
    found = index.match("say HELLO now")
    assert found is not None
    assert found[0] == 200
    assert index.match("KEYWORD17 and keyword3")[0] == 3  # type: ignore[index]
    assert index.match("nothing known")[0] == 202  # type: ignore[index]


def test_rule_index_finds_the_same_rule_as_a_linear_scan() -> None:
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "Straße", "\u017fun", "KELVIN", "x", "yz", "hello world"]
    sources = []
    for i in range(300):
        word = re.escape(rng.choice(words))
        sources.append(rng.choice([f"{word}{i}", f"\\b{word}\\b", f"{word}.*{i % 7}", f"(?:{word})+"]))
    rules = _rules(sources)
    index = matcher.RuleIndex(rules)
    for _ in range(500):
        message = " ".join(rng.choice(words) + rng.choice(["", str(rng.randrange(300))]) for _ in range(4))
        message = rng.choice([message, message.upper(), message.title()])
        linear = next(
            (n for n, alts in enumerate(rules) if any(rx.search(message) for rx, _ in alts)),
            None,
        )
        found = index.match(message)
        assert (found[0] if found else None) == linear, message


def test_rule_index_tries_only_rules_whose_literal_the_message_contains() -> None:
    index = matcher.RuleIndex(_rules([f"keyword{i}\\s+(?P<x>\\w+)" for i in range(1000)] + [".*"]))
    assert index.candidates(matcher.fold("a message for the fallback")) == [1000]
    # keyword5 and keyword51 are inside keyword512: candidates, which their regex then rejects.
    assert index.candidates(matcher.fold("keyword512 x")) == [5, 51, 512, 1000]
    assert index.match("keyword512 x")[0] == 512  # type: ignore[index]


def test_required_literals_lists_every_run_a_match_needs_folded_once() -> None:
    tree = matcher.parse_regex(r"^Order (?P<n>\d+) (?P<item>\w+) for ALPHA$", re.IGNORECASE)
    assert matcher.required_literals(tree) == ("order ", " ", " for alpha")
    assert matcher.required_literals(matcher.parse_regex(r"(?:abc|xyz)", 0)) == ()


def test_the_plain_scan_with_every_literal_finds_the_same_rule_as_trying_each_regex() -> None:
    rng = random.Random(11)
    words = ["status", "report", "alpha", "beta", "Straße", "\u017fun", "KELVIN", "x", "for"]
    sources = []
    for _rule in range(matcher.LINEAR_SCAN_MAX):
        a, b = (re.escape(rng.choice(words)) for _ in range(2))
        sources.append(
            rng.choice([f"{a}\\s+{b}", f"\\A\\s*{a} (\\w+) {b}\\s*\\Z", f"{a}.*{b}|{b}", f"(?:{a})+"])
        )
    rules = _rules(sources)
    runs = [[matcher.required_literals(matcher.parse_regex(source, re.IGNORECASE))] for source in sources]
    index = matcher.RuleIndex(rules, runs)
    for _ in range(500):
        message = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 5)))
        message = rng.choice([message, message.upper(), message.title()])
        linear = next((n for n, alts in enumerate(rules) if any(rx.search(message) for rx, _ in alts)), None)
        found = index.match(message)
        assert (found[0] if found else None) == linear, message
