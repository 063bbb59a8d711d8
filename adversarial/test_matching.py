"""Matching time is bounded by construction (issue 14, item 1): no pattern and no message freezes the bot.

Every pattern matches in time linear in the message: RE2 is, and so are the comparison and
``str.find`` that decide exact and contains patterns; what could still make one match costly
(huge counted repeats, many Unicode classes) is refused at load. Three promises, measured:
every accepted pattern against any message up to the pattern input cap costs under 10 ms a
match; while one client floods the real bot with hostile messages another client's p99
stays under 100 ms; SIGTERM ends the bot within 2 s while it is matching. Matching stays
right while it skips work: translated regexes mean what Python's mean; each fast kind answers
as its own RE2 program, on ASCII and on any Unicode (issue 24, item 2: uvicorn runs one
suite over both its protocols); and the rule index, which runs a regex only where the
message holds its literals, finds the rule that trying every rule's RE2 program in order finds.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import re
import signal
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, reject
from hypothesis import strategies as st

from adversarial import profiles
from bots import loops, patterns
from chat_testing import Daemon, LineClient
from chat_testing.text import REDOS_REGEXES

pytestmark = [pytest.mark.adversarial, pytest.mark.timeout(600)]

MATCH_LIMIT_S = 0.010  # the issue: every accepted pattern, any message up to the cap
P99_LIMIT_S = 0.100  # the issue: the other client's p99 under a hostile flood
STOP_LIMIT_S = 2.0  # the issue: SIGTERM ends the bot within 2 s in every state
TURNS = 300  # the other client's round trips: enough for a p99 (its 3rd slowest)
CAP = patterns.MAX_MATCH_CHARS

# Shapes that make a backtracking engine explode (and the two), shapes that make
# an automaton large (counted repeats, Unicode classes), and the other kinds' worst cases.
HOSTILE_PATTERNS: list[tuple[str, str]] = (
    [
        ("regex", source)
        for source in [
            *REDOS_REGEXES,
            r"(.*.*.*.*.*)*!",
            r"(.*)(.*)(.*)(.*)(.*)z",
            r"(.{1,10}){10}y",
            r"(.?){100}!",
            r"[^x]{100}x",
            r"((a{2}){5}){10}",
            r"(?:a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p){1,100}$",
            r"(\w+\s?){4}$",
            r"\w{1,4}$",
            r"(?:\w\W?){1,2}$",
            r"(\w+) (\w+) (\w+) (\w+)",
            r"(\b\w+\b\s*)+$",
            r"[\s\S]*[\s\S]*[\s\S]*!",
            r"(\pL|\pN|\s|.)*\x00",
            r"(?i)(?:straße\s*)+!",
            r"(?:東京|大阪|.)*駅$",
        ]
    ]
    + [
        (kind, text)
        for kind in ("exact", "contains", "glob")
        for text in [
            " ".join(f"word{i}," for i in range(60)),
            "a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a x",
            "東京 大阪 京都 ラーメン すし",
            "straße ÉCOLE ﬁn",
        ]
    ]
    + [("glob", "* " * 20 + "x"), ("glob", "*" * 20), ("glob", "*a" * 20 + "b"), ("glob", "?" * 200 + "!")]
)

HOSTILE_INPUTS: list[str] = [
    "a" * CAP,
    " " * CAP,
    "a" + " " * (CAP - 4) + "y x",  # the shape, at the cap
    "1" * (CAP - 2) + "!z",
    "é" * CAP,
    "字" * CAP,
    "ß" * CAP,  # folds to twice its length
    ("ab " * CAP)[:CAP],
    ("word1, " * CAP)[:CAP],
    ("a a " * CAP)[:CAP],
    ("aé字1 ,!" * CAP)[:CAP],
    "\u00a0" * CAP,
    "a" * (CAP - 1) + "!",
    "a" * (CAP * 4),  # beyond the cap: patterns see only its first CAP characters
]


def match_cost(kind: str, text: str, message: str, *, ignore_punctuation: bool = True) -> float | None:
    """Seconds of CPU one match costs on a pattern just built (its automaton cold), or None when the
    pattern is refused at load. CPU time of this thread, the best of 3: the cost of the match itself,
    without the time other processes take the shared cores (wall time doubles under load)."""
    best = float("inf")
    for _ in range(3):
        try:
            regex, _literal, _runs = patterns.compile_pattern(
                kind, text, case_sensitive=False, ignore_punctuation=ignore_punctuation
            )
        except patterns.RegexRefused:
            return None
        regex.search(*patterns.prepare("é"))  # builds its Unicode program (once per pattern, on first need)
        subject = patterns.prepare(message)
        started = time.thread_time()
        regex.search(*subject)
        best = min(best, time.thread_time() - started)
        if best < MATCH_LIMIT_S / 10:
            break  # far under: no need to repeat
    return best


@pytest.mark.timing
@pytest.mark.cpu_timed
def test_every_accepted_hostile_pattern_matches_any_hostile_message_in_under_10_ms(figures: Any) -> None:
    slowest = (0.0, "", "")
    refused = []
    for kind, text in HOSTILE_PATTERNS:
        for message in HOSTILE_INPUTS:
            for ignore in (False, True):
                cost = match_cost(kind, text, message, ignore_punctuation=ignore)
                if cost is None:
                    refused.append(text)
                    break
                assert cost < MATCH_LIMIT_S, (kind, text, message[:20], len(message), cost)
                if cost > slowest[0]:
                    slowest = (cost, f"{kind} {text[:40]!r}", f"{message[:8]!r}... ({len(message)} chars)")
            else:
                continue
            break
    assert refused == []  # every one of these is accepted: the bound holds by construction
    figures(
        "hostile patterns x messages",
        f"{len(HOSTILE_PATTERNS)} patterns x {len(HOSTILE_INPUTS)} messages up to {CAP} characters",
    )
    figures("longest single match", f"{slowest[0] * 1000:.2f} ms: {slowest[1]} on {slowest[2]}")


def test_what_would_cost_over_the_bound_is_refused_at_load() -> None:
    for source in [r"\w{1,100}$", r"(.{1,30}){30}y", r"[^x]{1000}x", r"(?i)(?:\w+\W+){1,50}end"]:
        assert match_cost("regex", source, "a" * CAP) is None, source
    assert match_cost("glob", "* " * 21, "a" * CAP) is None


# Regexes built from the pieces that make matching costly: classes, repeats, groups, alternatives.
ATOMS = st.sampled_from(
    ["a", "b", "x", "é", "字", " ", ".", r"\w", r"\W", r"\d", r"\s", r"\S", "[^x]", "[ab]", r"\b", "^", "$"]
)
QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "*?", "{2}", "{1,5}", "{0,20}"])


PART_COUNTS = st.integers(1, 5)
GROUP_ONE_IN_4 = st.integers(0, 3)  # a part is a group when this draws 0
DEEPEST = 3  # levels of groups


@functools.cache
def regexes(depth: int = 0, atoms: st.SearchStrategy[str] = ATOMS) -> st.SearchStrategy[str]:
    """A random regex of up to three levels of groups, in the syntax RE2 and Python share.

    Each level's strategy is built once (hence the cache): drawing from prebuilt
    strategies costs a fraction of building them per draw, for the same draws."""
    alternatives = st.lists(regexes(depth + 1, atoms), min_size=1, max_size=3) if depth < DEEPEST else None

    @st.composite
    def regex(draw: st.DrawFn) -> str:
        parts = []
        for _ in range(draw(PART_COUNTS)):
            if alternatives is not None and draw(GROUP_ONE_IN_4) == 0:
                part = "(" + "|".join(draw(alternatives)) + ")"
            else:
                part = draw(atoms)
            quantifier = draw(QUANTIFIERS)
            if part in (r"\b", "^", "$"):
                quantifier = ""
            parts.append(part + quantifier)
        return "".join(parts)

    return regex()


PROPERTY_INPUTS = ["a" * CAP, "a" + " " * (CAP - 4) + "y x", ("aé字1 ,!" * CAP)[:CAP], "x" * CAP]


# timing and cpu_timed: it measures CPU time per match, which the other core busy inflates (16.7 ms on a
# known 7.5-10.2 ms example under pytest-xdist beside the other properties, .ci/run of 2026-12-05; 11.5 ms
# on one of 4.4 beside the timing pass's other workers): no other test runs beside it.
@pytest.mark.timing
@pytest.mark.cpu_timed
@given(regexes())
# Found by this test: 10.6 ms at the former 4,096 cap, then 7.5-10.2 ms at 2,048 (the cap is 1,024 now).
@example(r"(((a))((a))((a)|(a))*){0,20}")
@example(r"(\S{0,20}b|a*?a{0,20}[^x]{0,20}){1,5}aaa\b")
def test_any_accepted_regex_matches_messages_at_the_cap_in_under_10_ms(source: str) -> None:
    try:
        regex, _literal, _runs = patterns.compile_pattern(
            "regex", source, case_sensitive=False, ignore_punctuation=False
        )
    except patterns.RegexRefused:
        return  # refused at load: the bound does not concern it
    regex.search(*patterns.prepare("é"))  # builds its Unicode program
    for message in PROPERTY_INPUTS:
        subject = patterns.prepare(message)
        started = time.thread_time()
        regex.search(*subject)
        if time.thread_time() - started >= MATCH_LIMIT_S:  # measure it again, cold, the best of 3
            cost = match_cost("regex", source, message)
            assert cost is None or cost < MATCH_LIMIT_S, (source, message[:12], cost)


# Python's re is the reference for what a regex means: same atoms, short messages (Python's
# backtracking stays fast on them), NFC text, case-sensitive (case-insensitive differs on purpose:
# casefold). \b is left out: beside a group it is RE2's ASCII boundary (documented).
MEANING_ATOMS = st.sampled_from(
    [
        "a",
        "b",
        "é",
        "字",
        " ",
        "!",
        "1",
        "٣",
        ".",
        r"\w",
        r"\W",
        r"\d",
        r"\D",
        r"\s",
        r"\S",
        "[^a]",
        "[a\\d]",
        "^",
        "$",
    ]
)
SHORT_MESSAGES = st.text(alphabet="abé字 !1٣\u00a0", max_size=12)


# Even on 12 characters, Python's backtracking explodes on some drawn regexes (a CI run met
# r"\W+(((b?!|\d*?)?(\D{0,20}字*?)*(é)*?(\d*?)?|(\D)?$))+1+$" on " ٣b٣1aaaé٣éb": minutes, then
# the test's timeout). Such a reference gives no answer: the example is dropped, not failed.
REFERENCE_CPU_S = 1.0  # Python's re on a short message takes microseconds unless it explodes


class ReferenceTooSlow(Exception):
    """Python's re did not answer within REFERENCE_CPU_S of CPU time."""


@contextlib.contextmanager
def cpu_deadline(seconds: float) -> Iterator[None]:
    """Raise ReferenceTooSlow in this (main) thread after *seconds* of the process's CPU time.

    ITIMER_VIRTUAL and SIGVTALRM, not the real-time timer and SIGALRM that pytest-timeout
    uses; re's matching loop checks for signals, so the exception ends even a runaway search."""

    def expire(_signum: int, _frame: object) -> None:
        raise ReferenceTooSlow

    # No collection inside the window: the signal's exception, raised in a collector callback
    # (hypothesis times the collector), is unraisable, and pytest failed the test with it
    # (tox -e adversarial-full, 2026-12-06).
    collecting = gc.isenabled()
    gc.disable()
    previous = signal.signal(signal.SIGVTALRM, expire)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)
        if collecting:
            gc.enable()


@given(regexes(atoms=MEANING_ATOMS), SHORT_MESSAGES)
def test_a_translated_regex_matches_what_pythons_re_matches(source: str, message: str) -> None:
    try:
        regex, _literal, _runs = patterns.compile_pattern(
            "regex", source, case_sensitive=True, ignore_punctuation=False
        )
    except patterns.RegexRefused:
        return
    try:
        with cpu_deadline(REFERENCE_CPU_S):
            expected = re.search(source, message) is not None
    except ReferenceTooSlow:
        reject()  # the reference's backtracking exploded: no answer to compare with
    assert (regex.search(*patterns.prepare(message)) is not None) is expected


@given(regexes(), st.text(alphabet="ab x!1_\t", max_size=40))
def test_the_ascii_twin_answers_as_the_unicode_program_on_ascii_messages(source: str, message: str) -> None:
    try:
        regex, _literal, _runs = patterns.compile_pattern(
            "regex", source, case_sensitive=False, ignore_punctuation=False
        )
    except patterns.RegexRefused:
        return
    unicode_program = patterns.Regex(regex.source, case_sensitive=False)  # one program, Unicode classes
    twin, plain = regex.search(message, message.lower()), unicode_program.search(message, message.lower())
    assert (twin is None) is (plain is None)
    if twin is not None and plain is not None:
        assert twin.groups() == plain.groups()


# Words rules and messages are made of: shared ones, so that rules written alike form groups
# in the plain scan, and ones that are prefixes of others, so that literals overlap.
RULE_WORDS = ["status", "report", "alpha", "alphabet", "for", "order", "7", "book", "a", "in"]


_WORDS = st.lists(st.sampled_from(RULE_WORDS), min_size=1, max_size=4).map(" ".join)
_PATTERNS = st.one_of(
    st.tuples(st.sampled_from(["exact", "contains"]), _WORDS),
    st.tuples(st.just("glob"), _WORDS.map(lambda text: text.replace("a ", "* ", 1))),
    st.tuples(st.just("regex"), _WORDS.map(lambda text: r"\b" + text.replace(" ", r"\s+") + r"(?: (\w+))?")),
    st.tuples(st.just("regex"), st.sampled_from([r"x?", r"^\d+$", r".*"])),  # no literal: always tried
    # Words in groups: required ones give the index literals (issue 19: doctor.yaml's keywords),
    # optional or split ones must not.
    st.tuples(
        st.just("regex"),
        st.tuples(
            st.lists(st.sampled_from(RULE_WORDS), min_size=1, max_size=3),
            st.sampled_from(["", "?", "*", "+", "{0,2}", "{2}", "??", "+?"]),
            st.booleans(),
        ).map(
            lambda drawn: (
                r"\s*".join(re.escape(word) for word in drawn[0][:-1])
                + (r"\s*(" + re.escape(drawn[0][-1]) + ("|zz" if drawn[2] else "") + ")" + drawn[1])
            )
        ),
    ),
)
#: Up to ten rules of any kind, each with one or two patterns made of RULE_WORDS (built once:
#: building strategies per example cost more than the example).
RULE_SETS = st.lists(st.lists(_PATTERNS, min_size=1, max_size=2), min_size=1, max_size=10)


@functools.cache
def compiled_pattern(kind: str, text: str) -> tuple[patterns.Matcher, str | None, tuple[str, ...]]:
    """compile_pattern, once per pattern: the rule sets draw from a few words, so patterns repeat."""
    return patterns.compile_pattern(kind, text, case_sensitive=False, ignore_punctuation=False)


def program(matcher: patterns.Matcher) -> patterns.Regex:
    """What a matcher means, as an RE2 program: its own, or the one a fast kind is held to."""
    return matcher.program if isinstance(matcher, patterns.Exact | patterns.Contains) else matcher


MESSAGES_OF_RULE_WORDS = st.lists(st.sampled_from([*RULE_WORDS, "STATUS", "Alpha", "!"]), max_size=6).map(
    " ".join
)


@given(RULE_SETS, MESSAGES_OF_RULE_WORDS)
def test_the_rule_index_finds_the_first_rule_that_trying_each_in_order_finds(
    rules: list[list[tuple[str, str]]], message: str
) -> None:
    compiled = [[compiled_pattern(kind, text) for kind, text in alts] for alts in rules]
    subject = patterns.prepare(message)
    first = next(
        (
            number
            for number, alts in enumerate(compiled)
            if any(program(rx).search(*subject) for rx, _lit, _runs in alts)
        ),
        None,
    )
    # The same rules, then enough that no message here matches to take the index past the plain
    # scan (to its table of exact patterns and its Set): both ways of skipping work must find the
    # rule that RE2, trying every rule's program in order, finds.
    padded = compiled + [[compiled_pattern("exact", f"zzz{n}")] for n in range(patterns.LINEAR_SCAN_MAX)]
    for rule_set in (compiled, padded):
        index = patterns.RuleIndex(
            [[(regex, literal) for regex, literal, _runs in alts] for alts in rule_set],
            [[runs for _regex, _literal, runs in alts] for alts in rule_set],
        )
        found = index.match(message)
        assert (None if found is None else found[0]) == first


# -- the fast kinds, held to their RE2 programs (issue 24, item 2) ----------------------

# Words that make near misses: prefixes of one another, a word character at an edge or not,
# folding that changes length (ß, ﬁ), scripts written without spaces, composed and decomposed
# letters, and blanks of every kind Python and RE2 know.
FAST_WORDS = [
    "hi",
    "this",
    "a",
    "ab",
    "x_1",
    "?",
    "why?",
    "don't",
    "ß",
    "SS",
    "Straße",
    "ﬁn",
    "É",
    "e\u0301",
    "東京",
    "ラーメン",
    "ー",
    "Ωμέγα",
    "٣",
    "i̇",
    "K",
]
BLANKS = [" ", "  ", "\t", "\u00a0", "\u3000", "\x85", "\x1c", "\u2028", "\u200b"]
FAST_PATTERNS = st.lists(st.sampled_from(FAST_WORDS), min_size=1, max_size=3).map(" ".join)
ASCII_MESSAGES = st.text(alphabet="abhisx_1? .!'\t", max_size=30)


@st.composite
def near_messages(draw: st.DrawFn, pattern: str) -> str:
    """A message built around *pattern*'s words: other blanks, case, neighbours that touch a word."""
    parts = [draw(st.sampled_from(["", *BLANKS, "a", "_", "!", "字", "é"]))]
    for word in pattern.split():
        parts.append(draw(st.sampled_from([word, word.upper(), word.lower(), word.casefold(), word + "s"])))
        parts.append(draw(st.sampled_from([" ", *BLANKS])))
    parts.append(draw(st.sampled_from(["", "x", "?", "字", " more"])))
    return "".join(parts)


@given(
    st.sampled_from(["exact", "contains"]),
    FAST_PATTERNS,
    st.booleans(),
    st.data(),
)
def test_each_fast_kind_answers_as_its_re2_program_on_ascii_and_unicode_messages(
    kind: str, pattern: str, case_sensitive: bool, data: st.DataObject
) -> None:
    matcher, _literal, _runs = patterns.compile_pattern(
        kind, pattern, case_sensitive=case_sensitive, ignore_punctuation=False
    )
    assert isinstance(matcher, patterns.Exact | patterns.Contains)
    message = data.draw(
        st.one_of(ASCII_MESSAGES, st.text(max_size=30), near_messages(pattern)), label="message"
    )
    subject = patterns.prepare(message)
    expected = matcher.program.search(*subject) is not None
    assert (matcher.hit(*subject) is not None) is expected
    assert (matcher.search(*subject) is not None) is expected


# -- the real program ----------------------------------------------------------------

FLOOD_DIALOGUE = """\
version: 1
rules:
  - regex: '^ping (?P<n>\\d+)$'
    reply: 'pong {n}'
  - regex: '\\s*\\s*\\s*x'
    reply: spaces
  - regex: '\\d+\\d+\\d+\\d+z'
    reply: digits
  - regex: '(\\w+\\s?)*$'
    reply: words
fallback: nothing
"""
FLOOD_LINES = [
    "a" + " " * (CAP - 4) + "y x",
    "1" * (CAP - 2) + "!z",
    ("aé字1 ,!" * CAP)[:CAP],
    "a" * (CAP * 8),  # longer than the cap
]
# Against the bundled dialogues (issue 19, item 4): messages of 1 MB (the default limit is 1 MiB) and
# of the size patterns see, made of what each dialogue works on: its delimiters, substitutions,
# keywords and list words, in every script. doctor.yaml spent 0.48 s on one 1 MB message (another
# client's p50 0.5-0.6 s on asyncio, round trips of 4-7 s on uvloop): its clauses and substitutions
# ran over the whole message.
MB = 1_000_000
WORDS = "i remember my mother, but you were sad. computer? dreams! my printer is broken, yes "
BUNDLED_FLOOD_LINES = [
    "x" * (MB - 1),
    "x," * (MB // 2 - 1),
    (WORDS * MB)[: MB - 1],
    ("aé字1 ,!ß" * MB)[: MB // 3],  # up to 3 bytes a character: under the limit
    "x," * (CAP // 2),
    "x" * CAP,
    (WORDS * CAP)[:CAP],
]
DIALOGUES = Path(patterns.__file__).parent.parent / "dialogues"
#: Every bundled dialogue that serves chats (the *_test.yaml ones test a bot; helpdesk_common.yaml is
#: included by helpdesk.yaml), by file name.
SERVED = ["default.yaml", "doctor.yaml", "eliza.yaml", "helpdesk.yaml", "quiz.yaml"]


# Both event loops: their reads differ (libuv reads a full socket up to 32 times per turn of the
# loop, asyncio once), and so did their fairness under a flood (bots/adapter.py, MESSAGES_PER_CALLBACK).
EVENT_LOOPS = [
    loops.ASYNCIO,
    pytest.param(loops.UVLOOP, marks=pytest.mark.skipif(not loops.uvloop_installed(), reason="no uvloop")),
]
#: What floods: the dialogue of hostile regexes, then every served bundled dialogue, the help desk first
#: (the most rules, and the slowest turns under a flood). The p99 test floods a profile's
#: ``flood_dialogues`` first ones, each on both loops (the ci profile two, the nightly one all six).
FLOODED = ["hostile regexes", "helpdesk.yaml", *(name for name in SERVED if name != "helpdesk.yaml")]


class Flood:
    """The attacker's side of a flood: its stop switch, and the reply bytes it has read so far."""

    def __init__(self, dialogue: str) -> None:
        self.dialogue = dialogue
        self.stop = threading.Event()
        self.replies = 0  # grows while the bot goes on serving the flood


@pytest.fixture(params=EVENT_LOOPS)
def loop_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def flooded_bot(
    request: pytest.FixtureRequest, loop_name: str, tmp_path: Path, chat_daemons: Any
) -> Iterator[tuple[Daemon, int, Flood]]:
    """A real chat-bot on each event loop serving a dialogue (the test's parameter ``flooded``), and one
    client sending it hostile lines non-stop; it comes back when the bot ends its chat."""
    flooded = getattr(request, "param", FLOODED[0])
    if flooded == FLOODED[0]:
        path, lines = tmp_path / "hostile.yaml", FLOOD_LINES
        path.write_text(FLOOD_DIALOGUE, encoding="utf-8")
    else:
        path, lines = DIALOGUES / flooded, BUNDLED_FLOOD_LINES
    bot: Daemon = chat_daemons(
        "chat-bot", "--script", str(path), "--port", "0", "--no-delay", "--quiet", "--loop", loop_name
    )
    _host, port = bot.listening()
    flood = Flood(flooded)
    stop = flood.stop
    sent = threading.Event()
    attackers: list[LineClient] = []

    def attack() -> None:
        payload = b"".join(line.encode() + b"\n" for line in lines)
        while not stop.is_set():
            try:
                attacker = LineClient(port, timeout=30)
            except OSError:
                return  # the bot has stopped (the SIGTERM test)
            attackers.append(attacker)
            reader = threading.Thread(target=drain, args=(attacker,), daemon=True)
            reader.start()
            try:
                while not stop.is_set():
                    attacker.sock.sendall(payload)
                    sent.set()
            except OSError:
                pass  # the bot ended the chat (a dialogue's exit, the SIGTERM test) or the test is over
            reader.join(5)

    def drain(attacker: LineClient) -> None:
        try:
            while not stop.is_set() and (chunk := attacker.sock.recv(1 << 16)):
                flood.replies += len(chunk)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            attacker.sock.shutdown(socket.SHUT_RDWR)  # ends the sender's sendall: it reconnects

    thread = threading.Thread(target=attack, daemon=True)
    thread.start()
    assert sent.wait(10)
    try:
        yield bot, port, flood
    finally:
        stop.set()
        for attacker in attackers:
            with contextlib.suppress(OSError):  # already closed by the bot (the SIGTERM test)
                attacker.sock.shutdown(socket.SHUT_RDWR)
            attacker.sock.close()
        thread.join(10)


def test_the_nightly_profile_floods_every_dialogue() -> None:
    assert profiles.PROFILES["nightly"].flood_dialogues == len(FLOODED) == 1 + len(SERVED)


@pytest.mark.timing
@pytest.mark.parametrize("flooded_bot", FLOODED[: profiles.active_sizes().flood_dialogues], indirect=True)
def test_another_clients_p99_stays_under_100_ms_while_one_client_floods_hostile_messages(
    flooded_bot: tuple[Daemon, int, Flood], figures: Any
) -> None:
    bot, port, flood = flooded_bot
    other = LineClient(port, timeout=10)
    replies_before = flood.replies
    times = []
    for n in range(TURNS):
        started = time.perf_counter()
        other.sock.sendall(f"ping {n}\n".encode())
        reply = other.line()
        times.append(time.perf_counter() - started)
        if flood.dialogue == FLOODED[0]:
            assert reply == f"pong {n}".encode()
        else:
            assert reply.strip(), reply  # the dialogue's answer, whatever it is
            assert reply != b"exit", n
    other.sock.close()
    flooded = flood.replies - replies_before
    assert flooded > 0, "the flood stopped: the attacker had no reply while the other client chatted"
    p50 = statistics.median(times)
    p99 = sorted(times)[int(len(times) * 0.99) - 1]
    assert p99 < P99_LIMIT_S, f"p99 {p99 * 1000:.1f} ms"
    bot.assert_no_crash()
    figures(
        f"other client under a hostile flood ({flood.dialogue})",
        f"{TURNS} turns: p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, max {max(times) * 1000:.2f} ms"
        f" (the attacker meanwhile read {flooded:,} bytes of replies)",
    )


@pytest.mark.timing
@pytest.mark.parametrize("flooded_bot", [FLOODED[0], "doctor.yaml"], indirect=True)
def test_sigterm_ends_the_bot_within_2_s_while_it_is_matching_a_hostile_flood(
    flooded_bot: tuple[Daemon, int, Flood], figures: Any
) -> None:
    bot, port, flood = flooded_bot
    other = LineClient(port, timeout=10)
    other.sock.sendall(b"ping 1\n")
    reply = other.line()  # the bot is serving, in the middle of the flood
    assert reply == b"pong 1" if flood.dialogue == FLOODED[0] else reply.strip()
    started = time.monotonic()
    code = bot.stop(signal.SIGTERM, timeout=STOP_LIMIT_S)
    elapsed = time.monotonic() - started
    assert code == 143
    assert elapsed < STOP_LIMIT_S
    other.sock.close()
    figures(f"SIGTERM during a hostile flood ({flood.dialogue})", f"bot exited {code} in {elapsed:.2f} s")
