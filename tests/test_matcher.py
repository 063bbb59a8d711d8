"""bots.matcher: pattern kinds on RE2, normalisation, refusals, literals, and the rule index."""

from __future__ import annotations

import random
import re
import time
import unicodedata

import pytest

from bots import patterns
from bots.normalize import fold, fold_offsets


def _search(
    kind: str, pattern: str, message: str, *, case_sensitive: bool = False, ignore: bool = False
) -> bool:
    regex, _literal, _runs = patterns.compile_pattern(
        kind, pattern, case_sensitive=case_sensitive, ignore_punctuation=ignore
    )
    return regex.search(*patterns.prepare(message)) is not None


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
    assert _search("exact", pattern, message) is matches


@pytest.mark.parametrize(
    ("pattern", "message", "matches"),
    [
        ("hi", "Hi, you", True),
        ("hi", "this", False),
        ("good morning", "a good   morning to you", True),
        ("why?", "but why?", True),
        ("2 + 2", "what is 2 + 2?", True),
        ("café", "un café, merci", True),
        ("café", "cafés", False),
    ],
)
def test_contains_pattern_finds_whole_words_in_order(pattern: str, message: str, matches: bool) -> None:
    assert _search("contains", pattern, message) is matches


@pytest.mark.parametrize(
    ("pattern", "message", "matches"),
    [
        ("東京", "私は東京に住んでいます", True),  # Han inside Japanese text, no spaces
        ("ラーメン", "ラーメンが好き", True),  # Katakana, and the long-vowel mark
        ("すし", "おすしをたべる", True),  # Hiragana
        ("tokyo", "東京tokyo駅", True),  # a Latin word next to Han needs no boundary either
        ("tokyo", "tokyoite", False),  # but next to a Latin letter it does
        ("서울", "서울에", False),  # Hangul is written with spaces: whole words only
    ],
)
def test_contains_words_need_no_boundary_next_to_han_hiragana_or_katakana(
    pattern: str, message: str, matches: bool
) -> None:
    assert _search("contains", pattern, message) is matches


def test_glob_pattern_captures_each_star_from_the_original_text() -> None:
    regex, _literal, _runs = patterns.compile_pattern(
        "glob", "* i remember *", case_sensitive=False, ignore_punctuation=False
    )
    found = regex.search(*patterns.prepare("Today I remember my SCHOOL"))
    assert found is not None
    assert found.groups() == ("Today", "my SCHOOL")
    assert not _search("glob", "* i remember *", "I forgot")
    assert _search("glob", "h?llo", "hallo")


def test_case_sensitive_patterns_respect_case() -> None:
    assert not _search("contains", "Paris", "paris", case_sensitive=True)
    assert _search("contains", "Paris", "in Paris", case_sensitive=True)


@pytest.mark.parametrize("kind", ["exact", "contains", "glob", "regex"])
def test_case_insensitive_matching_uses_casefold_so_strasse_matches_strasse_with_sharp_s(kind: str) -> None:
    assert _search(kind, "straße", "STRASSE")
    assert _search(kind, "STRASSE", "Straße")


@pytest.mark.parametrize("kind", ["exact", "contains", "glob", "regex"])
def test_nfd_text_matches_an_nfc_pattern_and_the_reverse(kind: str) -> None:
    nfc_word, nfd_word = "école", unicodedata.normalize("NFD", "école")
    assert nfc_word != nfd_word
    assert _search(kind, nfc_word, nfd_word)
    assert _search(kind, nfd_word, nfc_word)
    assert _search(kind, nfc_word, nfd_word, case_sensitive=True)


def test_captures_keep_the_original_text_not_its_folded_form() -> None:
    regex, _literal, _runs = patterns.compile_pattern(
        "regex", r"ich wohne in der (?P<street>\w+) (\d+)", case_sensitive=False, ignore_punctuation=False
    )
    found = regex.search(*patterns.prepare("ICH WOHNE IN DER Großstraße 12"))
    assert found is not None
    assert found.groupdict() == {"street": "Großstraße"}
    assert found.groups() == ("Großstraße", "12")


@pytest.mark.parametrize(
    ("kind", "pattern", "message"),
    [
        ("exact", "hello there", "Hello there!"),
        ("exact", "hello there", "¡hello, there!"),
        ("contains", "good morning", "well... good, morning!!"),
        ("glob", "how are you *", "How are you, my friend?"),
        ("exact", "why?", "why"),
    ],
)
def test_punctuation_around_words_is_ignored_when_the_dialogue_says_so(
    kind: str, pattern: str, message: str
) -> None:
    assert _search(kind, pattern, message, ignore=True)
    assert not _search(kind, pattern, message, ignore=False)


def test_ignoring_punctuation_keeps_it_inside_words_and_a_punctuation_only_pattern() -> None:
    assert _search("exact", "don't", "Don't!", ignore=True)
    assert not _search("exact", "don't", "dont", ignore=True)
    assert _search("contains", "?", "why?", ignore=True)


@pytest.mark.parametrize(
    ("source", "message", "captured"),
    [
        (r"name is (?P<n>\w+)", "my name is José", "José"),
        (r"name is (?P<n>\w+)", "my name is 李小龙", "李小龙"),
        (r"(?P<n>\d+) items", "٣٤ items", "٣٤"),  # Arabic-Indic digits are \d, as in Python
        (r"a\s(?P<n>\S+)", "a\u00a0b", "b"),  # a no-break space is \s, as in Python
        (r"(?P<n>[\w-]+)!", "Zoë-Ann!", "Zoë-Ann"),
    ],
)
def test_user_regexes_keep_pythons_unicode_meaning_of_w_d_and_s(
    source: str, message: str, captured: str
) -> None:
    regex, _literal, _runs = patterns.compile_pattern(
        "regex", source, case_sensitive=False, ignore_punctuation=False
    )
    found = regex.search(*patterns.prepare(message))
    assert found is not None
    assert found.groupdict() == {"n": captured}
    assert re.search(source, message) is not None  # the same as Python's own reading


BOUNDARY_PATTERNS = [
    r"\\bcafé\\b",
    r"\\bi need (?P<w>\\w+)",
    r"é\\b",
    r"\\w+\\b!",
    r"x\\By",
    r"a\\b|\\bb",
    r"^\\s*(?:7|seven)\\b",
    r"\\bzoë$",
]
BOUNDARY_MESSAGES = [
    "un café",
    "cafés",
    "un café!",
    "écafé",
    "I need José",
    "hi need x",
    "é",
    "aé!",
    "é!",
    "xy",
    "a",
    "bb",
    "xb",
    "7!",
    "77",
    "zoë",
    "Zoë",
    "azoë",
]


@pytest.mark.parametrize("source", BOUNDARY_PATTERNS)
def test_word_boundaries_keep_pythons_unicode_meaning_where_the_pattern_shows_both_sides(source: str) -> None:
    for message in BOUNDARY_MESSAGES:
        expected = re.search(source, message, re.IGNORECASE) is not None
        assert _search("regex", source, message) is expected, message


def test_a_word_boundary_with_an_unknown_side_is_re2s_ascii_one() -> None:
    # Documented: after a group, RE2's \b is a boundary between ASCII word characters and the rest.
    assert _search("regex", r"(?:cat|dog)\b", "a cat!")
    assert not _search("regex", r"(?:café)\b", "un café")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (r"(a)\1", "a backreference \\1 is not supported"),
        (r"x(?=a)", "lookahead (?= is not supported"),
        (r"x(?!a)", "negative lookahead (?! is not supported"),
        (r"(?<=a)x", "lookbehind (?<= is not supported"),
        (r"(?<!a)x", "negative lookbehind (?<! is not supported"),
        (r"(?>a)", "an atomic group (?> is not supported"),
        (r"a++", "a possessive repeat ++ is not supported"),
        (r"(?P<n>a)(?P=n)", "a backreference (?P= is not supported"),
    ],
)
def test_what_re2_cannot_run_is_refused_with_a_hint(source: str, message: str) -> None:
    with pytest.raises(patterns.RegexRefused, match=re.escape(f"regex refused: {message}")):
        patterns.compile_pattern("regex", source, case_sensitive=False, ignore_punctuation=False)


def test_large_repeat_counts_are_refused_nested_counts_multiplied() -> None:
    with pytest.raises(patterns.RegexRefused) as refused:
        patterns.compile_pattern("regex", "(.{1,30}){30}y", case_sensitive=False, ignore_punctuation=False)
    assert refused.value.message == (
        "regex refused: the repeat {30} counts to 900 (nested counts multiplied), over 100: "
        "large counts make matching slow; use + or *, or smaller counts"
    )
    assert refused.value.position == 9
    patterns.compile_pattern(
        "regex", r"(\d{1,3}\.){3}\d{1,3}", case_sensitive=False, ignore_punctuation=False
    )


def test_matching_time_is_linear_where_python_backtracking_explodes() -> None:
    # The freeze: Python's engine takes seconds on this; RE2 a fraction of a millisecond.
    regex, _literal, _runs = patterns.compile_pattern(
        "regex", r"\s*\s*\s*x", case_sensitive=False, ignore_punctuation=False
    )
    # CPU time of this thread: the match's own cost, whatever else the shared cores run.
    started = time.thread_time()
    spaces = " " * (patterns.MAX_MATCH_CHARS - 4)  # the message fills the cap: " x" is its last
    assert regex.search(*patterns.prepare("a" + spaces + "y x")) is not None
    assert regex.search(*patterns.prepare("a" + spaces + "y")) is None
    assert time.thread_time() - started < 0.05


@pytest.mark.parametrize(
    ("source", "runs"),
    [
        (r"\bHello (?P<name>\w+)", ("hello ",)),
        (r"my name is\s+(\w+)", ("my name is",)),
        (r"(?:abc|xyz)", ()),
        (r"abc|xyz", ()),
        (r".*", ()),
        (r"x+yz", ("yz",)),
        (r"ab?c", ("a", "c")),
        (r"a{2}bc", ("bc",)),
        (r"Straße au lait", ("strasse au lait",)),
        (r"(?i)Order (?P<n>\d+) for ALPHA$", ("order ", " for alpha")),
        (r"\x41bc\x{44}e", ("bc", "e")),  # an escaped character is not its digits
    ],
)
def test_required_runs_are_literal_text_every_match_contains_folded(
    source: str, runs: tuple[str, ...]
) -> None:
    assert patterns.translate_regex(source, case_sensitive=False)[1] == runs


def test_fold_offsets_map_folded_positions_back_to_the_text() -> None:
    text = "aßb"
    assert fold(text) == "assb"
    assert fold_offsets(text) == [0, 1, 1, 2, 3]
    assert all(fold(c) == c.casefold() for c in "\u03a3\u03c3\u03c2\u0130I\u00df\u1e9e\ufb01\u212a")


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


def test_a_negated_class_inside_brackets_becomes_an_alternation() -> None:
    assert _search("regex", r"^[\s\S]{3}$", "a é")
    assert _search("regex", r"^[a\W]+$", "a, a!")
    assert not _search("regex", r"^[a\W]+$", "ab")


def test_a_negated_class_inside_a_negated_class_is_refused_with_a_hint() -> None:
    with pytest.raises(patterns.RegexRefused) as refused:
        patterns.compile_pattern("regex", r"x[^\W]", case_sensitive=False, ignore_punctuation=False)
    assert refused.value.message == (
        "regex refused: \\W inside [^...] is not supported: use the class without ^ and \\w, "
        "or list the characters you mean"
    )
    assert refused.value.position == 3


def test_a_regex_too_large_to_match_fast_is_refused_with_its_size() -> None:
    with pytest.raises(patterns.RegexRefused) as refused:
        patterns.compile_pattern(
            "regex", r"(\w+) (\w+) (\w+) (\w+) (\w+)", case_sensitive=False, ignore_punctuation=False
        )
    assert refused.value.message == (
        "regex refused: it is too large to match fast (~6768 RE2 steps, over 6000): each \\w or \\W is "
        "~1,350 steps as it covers every script, and counted repeats multiply them; use fewer, + instead "
        "of {n,m}, or classes like [^ ]"
    )
    patterns.compile_pattern(
        "regex", r"(\w+) (\w+) (\w+) (\w+)", case_sensitive=False, ignore_punctuation=False
    )


def test_escaped_characters_match_the_character_they_name() -> None:
    assert _search("regex", r"\x41bc", "xabc")
    assert _search("regex", r"\x{44}x", "dx")
    assert _search("regex", r"caf\u00e9", "café")


def test_a_match_gives_every_group_stripped_by_number_and_by_name_and_empty_for_a_group_not_taken() -> None:
    regex = patterns.Regex(r"(?P<first>\w+)( and +(?P<second>\w+) )?(x)?", case_sensitive=True)
    found = regex.search("tea and  cake ", "tea and  cake ")
    assert found is not None
    assert found.captures() == {
        "1": "tea",
        "2": "and  cake",
        "3": "cake",
        "4": "",
        "first": "tea",
        "second": "cake",
    }
    assert found.groups() == ("tea", " and  cake ", "cake", None)
    assert found.groupdict() == {"first": "tea", "second": "cake"}
