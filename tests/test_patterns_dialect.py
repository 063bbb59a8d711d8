"""bots.patterns.dialect and refusals: user regexes keep Python's meaning on RE2; their literals; refusals."""

from __future__ import annotations

import re
import time

import pytest

from bots import patterns


def _search(
    kind: str, pattern: str, message: str, *, case_sensitive: bool = False, ignore: bool = False
) -> bool:
    regex, _literal, _runs = patterns.compile_pattern(
        kind, pattern, case_sensitive=case_sensitive, ignore_punctuation=ignore
    )
    return regex.search(*patterns.prepare(message)) is not None


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
