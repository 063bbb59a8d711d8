"""bots.patterns.index: the first rule that matches, by a scan, or a table of exact patterns and a Set."""

from __future__ import annotations

import random
import re

from bots import patterns
from bots.normalize import fold


def _rules(sources: list[str]) -> list[list[tuple[patterns.Matcher, str | None]]]:
    out = []
    for source in sources:
        regex, literal, _runs = patterns.compile_pattern(
            "regex", source, case_sensitive=False, ignore_punctuation=False
        )
        out.append([(regex, literal)])
    return out


def _linear(rules: list[list[tuple[patterns.Matcher, str | None]]], message: str) -> int | None:
    subject = patterns.prepare(message)
    return next((n for n, alts in enumerate(rules) if any(rx.search(*subject) for rx, _ in alts)), None)


def test_rule_index_returns_the_first_matching_rule_in_rule_order() -> None:
    sources = [f"keyword{i}\\b" for i in range(200)] + [r"\bhello\b", r"hel+o", r".*"]
    index = patterns.RuleIndex(_rules(sources))
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
    index = patterns.RuleIndex(rules)
    for _ in range(500):
        message = " ".join(rng.choice(words) + rng.choice(["", str(rng.randrange(300))]) for _ in range(4))
        message = rng.choice([message, message.upper(), message.title()])
        linear = _linear(rules, message)
        found = index.match(message)
        assert (found[0] if found else None) == linear, message


def test_rule_index_tries_only_rules_whose_literal_the_message_contains() -> None:
    index = patterns.RuleIndex(_rules([f"keyword{i}\\s+(?P<x>\\w+)" for i in range(1000)] + [".*"]))
    assert index.candidates(fold("a message for the fallback")) == [1000]
    # keyword5 and keyword51 are inside keyword512: candidates, which their regex then rejects.
    assert index.candidates(fold("keyword512 x")) == [5, 51, 512, 1000]
    assert index.match("keyword512 x")[0] == 512  # type: ignore[index]


def test_the_plain_scan_with_every_literal_finds_the_same_rule_as_trying_each_regex() -> None:
    rng = random.Random(11)
    words = ["status", "report", "alpha", "beta", "Straße", "\u017fun", "KELVIN", "x", "for"]
    sources = []
    for _rule in range(patterns.LINEAR_SCAN_MAX):
        a, b = (re.escape(rng.choice(words)) for _ in range(2))
        sources.append(
            rng.choice([f"{a}\\s+{b}", f"\\A\\s*{a} (\\w+) {b}\\s*\\Z", f"{a}.*{b}|{b}", f"(?:{a})+"])
        )
    rules = _rules(sources)
    runs = [[patterns.translate_regex(source, case_sensitive=False)[1]] for source in sources]
    index = patterns.RuleIndex(rules, runs)
    for _ in range(500):
        message = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 5)))
        message = rng.choice([message, message.upper(), message.title()])
        linear = _linear(rules, message)
        found = index.match(message)
        assert (found[0] if found else None) == linear, message


def test_the_plain_scan_groups_rules_written_alike_under_the_literal_they_share() -> None:
    kinds = [("exact", f"status report {w}") for w in ("alpha", "bravo", "charlie")]
    kinds += [("regex", rf"^order (?P<n>\d+) for {w}$") for w in ("alpha", "bravo")]
    kinds += [("regex", r"x?"), ("regex", r".*")]  # no literal: one group, always entered
    compiled = [
        patterns.compile_pattern(kind, text, case_sensitive=False, ignore_punctuation=False)
        for kind, text in kinds
    ]
    index = patterns.RuleIndex(
        [[(rx, lit)] for rx, lit, _runs in compiled], [[runs] for _rx, _lit, runs in compiled]
    )
    groups = [
        (key, [(number, second) for number, second, _search in members]) for key, members in index._flat
    ]
    assert groups == [
        ("status", [(0, "alpha"), (1, "bravo"), (2, "charlie")]),
        ("order ", [(3, " for alpha"), (4, " for bravo")]),
        ("", [(5, ""), (6, "")]),
    ]
    assert index.match("ORDER 7 for bravo") is not None
    assert index.match("ORDER 7 for bravo")[0] == 4  # type: ignore[index]
    assert index.match("status report") is not None
    assert index.match("status report")[0] == 5  # type: ignore[index]


# -- past the plain scan: a table of exact patterns, and one Set pass ------------------------------


def _index(texts: list[tuple[str, str]], captures: list[bool] | None = None) -> patterns.RuleIndex:
    compiled = [
        patterns.compile_pattern(kind, text, case_sensitive=False, ignore_punctuation=False)
        for kind, text in texts
    ]
    return patterns.RuleIndex(
        [[(m, lit)] for m, lit, _runs in compiled], [[runs] for _m, _l, runs in compiled], captures
    )


MANY = patterns.LINEAR_SCAN_MAX * 2  # past the plain scan


def test_past_the_scan_exact_rules_are_looked_up_by_their_words_blanks_aside() -> None:
    index = _index([("exact", f"status report {n}") for n in range(MANY)], [False] * MANY)

    assert index.match("Status  Report 57") == (57, patterns.NO_CAPTURES)
    assert index.match("\tstatus report 57 ") is not None
    assert index.match("status report 57 now") is None


def test_past_the_scan_the_first_rule_in_order_wins_whatever_its_kind() -> None:
    rules = [("exact", f"filler {n}") for n in range(MANY)]
    index = _index([("contains", "alpha"), *rules, ("exact", "alpha"), ("regex", r"^alp")])
    found = index.match("alpha")
    assert found is not None
    assert found[0] == 0
    late = _index([*rules, ("exact", "alpha"), ("regex", r"^alp"), ("contains", "alpha")])
    found = late.match("alpha")
    assert found is not None
    assert found[0] == MANY  # the exact rule, before the regex and contains rules after it


def test_past_the_scan_only_rules_whose_literal_the_message_holds_are_tried() -> None:
    index = _index([("regex", rf"keyword{n}\b") for n in range(MANY)] + [("regex", r"^\d+$")])

    # keyword1 is in keyword17: a literal is a necessary text, not a word; and the rule without a literal
    assert index.candidates("say keyword17 and keyword3") == [1, 3, 17, MANY]
    assert index.candidates("nothing known") == [MANY]


def test_a_rule_that_reads_no_capture_gets_no_match_record() -> None:
    for count in (1, MANY):
        texts = [("regex", r"^order (?P<n>\d+)$")] * count
        reading = _index(texts, [True] * count).match("order 7")
        not_reading = _index(texts, [False] * count).match("order 7")
        assert reading is not None
        assert reading[1].captures() == {"1": "7", "n": "7"}
        assert not_reading == (0, patterns.NO_CAPTURES)
