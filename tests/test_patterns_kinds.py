"""bots.patterns.kinds: each kind (blanks, case, Unicode, punctuation); exact and contains fast."""

from __future__ import annotations

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


def test_fold_offsets_map_folded_positions_back_to_the_text() -> None:
    text = "aßb"
    assert fold(text) == "assb"
    assert fold_offsets(text) == [0, 1, 1, 2, 3]
    assert all(fold(c) == c.casefold() for c in "\u03a3\u03c3\u03c2\u0130I\u00df\u1e9e\ufb01\u212a")


# -- exact and contains, decided without a regex engine -------------------------------------------


def _compiled(
    kind: str, text: str, *, case_sensitive: bool = False, ignore: bool = False
) -> patterns.Matcher:
    matcher, _literal, _runs = patterns.compile_pattern(
        kind, text, case_sensitive=case_sensitive, ignore_punctuation=ignore
    )
    return matcher


def test_an_exact_pattern_keeping_punctuation_is_decided_without_building_its_program() -> None:
    exact = _compiled("exact", "Status  Report ALPHA")
    assert isinstance(exact, patterns.Exact)

    assert exact.key == "status report alpha"
    for message, matches in [
        ("status report alpha", True),
        ("  STATUS\treport \u3000 Alpha  ", True),
        ("status report alpha!", False),
        ("status report", False),
        ("status reportalpha", False),
    ]:
        assert (exact.hit(*patterns.prepare(message)) is not None) is matches, message
    assert exact._program is None  # never needed: its RE2 program is built only when asked for
    assert exact.program.search(*patterns.prepare(" status report alpha ")) is not None


@pytest.mark.parametrize("blank", ["\t", "\x85", "\u2028", "\u3000"])
def test_an_exact_pattern_matches_itself_written_with_one_other_blank_between_words(blank: str) -> None:
    # The same length as the key ("0 0"), yet its words are the key's (found by the recording property).
    written = f"0{blank}0"
    exact = _compiled("exact", written, case_sensitive=True)

    assert exact.hit(*patterns.prepare(written)) is not None
    assert exact.hit(*patterns.prepare("0 0")) is not None
    assert exact.hit(*patterns.prepare("0x0")) is None


def test_a_contains_pattern_is_decided_by_find_on_ascii_and_by_its_program_on_other_scripts() -> None:
    contains = _compiled("contains", "weather in alpha")
    assert isinstance(contains, patterns.Contains)

    assert contains.hit(*patterns.prepare("What is the weather in Alpha today?")) is not None
    assert contains.hit(*patterns.prepare("the weather  in\talpha")) is not None  # other blanks between
    assert contains.hit(*patterns.prepare("the weather in alphabet")) is None  # not a whole word
    assert contains.hit(*patterns.prepare("weather in alpha_1")) is None
    assert contains._program is None
    assert contains.hit(*patterns.prepare("la météo: weather in alpha")) is not None
    assert contains._program is not None  # a message not in ASCII: its RE2 program decided


def test_contains_looks_past_a_false_start_for_a_whole_word() -> None:
    contains = _compiled("contains", "hi")

    assert contains.hit(*patterns.prepare("this hi")) is not None
    assert contains.hit(*patterns.prepare("this chip")) is None
    assert contains.search(*patterns.prepare("this hi")) is not None


def test_kinds_the_fast_tests_cannot_decide_run_on_re2() -> None:
    assert isinstance(_compiled("exact", "hello there", ignore=True), patterns.Regex)  # punctuation ignored
    assert isinstance(_compiled("contains", "hello", ignore=True), patterns.Regex)
    assert isinstance(_compiled("glob", "book * for *"), patterns.Regex)
    assert isinstance(_compiled("regex", "hello"), patterns.Regex)


def test_a_fast_kind_has_no_groups_and_its_match_names_none() -> None:
    for kind in ("exact", "contains"):
        matcher = _compiled(kind, "hello")
        found = matcher.search(*patterns.prepare("hello"))
        assert matcher.groups == 0
        assert matcher.groupindex == {}
        assert found is not None
        assert found.captures() == {}
        assert found.groupdict() == {}
    assert patterns.NO_CAPTURES.captures() == {}


def test_pythons_blanks_are_the_blanks_of_the_patterns_programs_on_every_code_point() -> None:
    # What lets an exact pattern compare words instead of running its program: str.split() breaks
    # text at exactly the characters the program's blank class matches, in every script.
    import re2  # type: ignore[import-untyped]

    every = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)
    program_blanks = re2.compile(r"[\t-\r\x{1c}-\x{1f}\x{85}\p{Z}]").findall(every)

    assert program_blanks == [char for char in every if char.isspace()]


def test_a_regex_whose_groups_make_matching_slow_is_refused_with_their_cost() -> None:
    # Issue 19's bound: 12.5 ms of CPU on "a" * 1,024 with its group, 0.02 ms without it.
    with pytest.raises(patterns.RegexRefused) as refused:
        patterns.compile_pattern(
            "regex",
            r"(\S{0,20}b|a*?a{0,20}[^x]{0,20}){1,5}aaa\b",
            case_sensitive=False,
            ignore_punctuation=False,
        )
    assert refused.value.message == (
        "regex refused: its groups make matching slow (~2264 RE2 steps x (1 + 1 group) = 4528, over 2500); "
        "use (?:...) for groups whose text no reply reads, or fewer and smaller counted repeats"
    )


def test_many_groups_in_a_repeat_are_refused_counted_each() -> None:
    with pytest.raises(patterns.RegexRefused) as refused:
        patterns.compile_pattern(
            "regex", r"(((a))((a))((a)|(a))*){0,20}", case_sensitive=False, ignore_punctuation=False
        )
    assert refused.value.message == (
        "regex refused: its groups make matching slow (~424 RE2 steps x (1 + 8 groups) = 3816, over 2500); "
        "use (?:...) for groups whose text no reply reads, or fewer and smaller counted repeats"
    )


def test_the_same_regexes_without_groups_are_accepted_as_they_never_track_groups() -> None:
    for source in [
        r"(?:\S{0,20}b|a*?a{0,20}[^x]{0,20}){1,5}aaa\b",
        r"(?:(?:(?:a))(?:(?:a))(?:(?:a)|(?:a))*){0,20}",
    ]:
        regex, _literal, _runs = patterns.compile_pattern(
            "regex", source, case_sensitive=False, ignore_punctuation=False
        )
        assert regex.groups == 0
        assert regex.search(*patterns.prepare("a" * patterns.MAX_MATCH_CHARS)) is not None
