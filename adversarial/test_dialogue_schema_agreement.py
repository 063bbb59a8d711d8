"""bots/schema.json and ``chat-bot --check`` agree on generated dialogue documents.

Documents are built from the format itself, every section, rule and step of it, with
at most one part wrong: a text that is blank, null, a number, a boolean, two lines, a
bad brace or a bad regex; a bad variable name; a missing or extra key; or any JSON
value at all where a part belongs. With one wrong part, a disagreement cannot hide
behind another problem. Each document is dumped as YAML and judged twice: by the
schema (JSON Schema 2020-12, on the data YAML reads) and by the loader (what --check
runs). They must agree, except exactly where :data:`CHECK_ONLY` says: checks a JSON
Schema cannot express, where --check is the stricter.

Out of this test's reach, because JSON has no such data: mapping keys that are not
text, YAML-only values (dates, tags, aliases, duplicate keys), and spellings that YAML
1.1 and 1.2 read differently (``yes``, ``010``, ``1:30``; --check reads YAML 1.1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import bots
from adversarial import profiles
from bots.loader import DialogueError, parse_dialogue
from bots.loader.format import PATTERN_KINDS
from bots.loader.sections import SECTIONS
from bots.model import Ending, LineEnd, OnMismatch, Order

pytestmark = [pytest.mark.adversarial, pytest.mark.timeout(600)]

SIZES = profiles.active_sizes()
#: The issue asks for at least this many documents, whatever the hypothesis profile.
MIN_DOCUMENTS = profiles.MIN_SCHEMA_DOCUMENTS
#: A run where the schema accepts almost every document (or refuses almost every one) would test
#: little. The schema accepts about a third of them (29-41% in 1,000-document runs, 2026-12-06) and
#: refuses the rest: a floor of 20% each way fails only a generator that lost one side.
MIN_SHARE_EACH_WAY = 0.2
#: ... and so would one where --check refuses almost every document the schema accepts. About a fifth
#: are valid (19-29% in 1,000-document runs): 10% still fails a generator that lost its valid side.
MIN_VALID_SHARE = 0.1

SCHEMA = json.loads((Path(bots.__file__).parent / "schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

#: What only --check finds: a JSON Schema cannot compile or judge a regex, follow a
#: {name} to where it is set, route an example through the rules, compare a range's
#: two ends, or see an infinity or NaN (JSON has neither).
CHECK_ONLY = re.compile(
    r"regex does not compile: "
    r"|regex refused: "
    r"|\{\w+\} is never captured or set: "
    r"|\{\d+\} is not captured: "
    r"|example .* matches no rule, not even its own$"
    r"|example .* is answered by the rule at line \d+ "
    r"|delay range \[.*\] has its minimum above its maximum$"
    r"|must be a finite number of seconds$"
    r"|cannot read the included file "
    r"|\{\w+\} is not a word list: "
    r"|when: "
    r"|topic '.*' is not defined: "
    r"|topic '.*' is unreachable: "
    r"|topic name '[^']*[^\x00-\x7f][^']*' must be one word: "
    r"|redirect goes round in a loop "
    r"|redirect leads through more than "
    r"|script step \d+ can never run: step \d+ says exit"
)

SECTION_KEYS = list(SECTIONS)
CHARACTERS = st.characters(codec="utf-8")
#: Text that is right anywhere text goes.
PLAIN = st.one_of(
    st.sampled_from(["hello", "good morning", "exit", "{input}"]), st.integers(0, 99), st.booleans()
)
#: Scalars where text goes, many of them wrong somewhere.
TRICKY = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\t\n",
            "two\nlines",
            "ends with a break\n",
            "{who}",
            "{1}",
            "{{literal}}",
            "{",
            "}",
            "{not a name}",
            "(a+)+$",
            "(",
            "(?P<who>\\w+)",
            "* and *",
        ]
    ),
    st.text(CHARACTERS, max_size=8),
    st.integers(min_value=-3, max_value=2**65),
    st.floats(),
    st.booleans(),
    st.none(),
)
ANY = st.recursive(
    TRICKY,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.one_of(st.text(CHARACTERS, max_size=8), st.sampled_from(SECTION_KEYS)), inner, max_size=3
        ),
    ),
    max_leaves=6,
)
GOOD_NAMES = st.sampled_from(["who", "_x1", "mood"])
TOPIC_NAMES = st.sampled_from(["quiz", "quiz", "menu", "été", "none"])
#: Wrong names: some only --check sees (a non-ASCII character that is not a letter or digit).
BAD_TOPIC_NAMES = st.sampled_from(["", "two words", "1st", "none", "ünï x", "«quiz»", "٣x", "quiz\n"])
#: when: conditions, right and wrong (only --check parses them: a schema sees text).
CONDITIONS = st.sampled_from(
    ["input", "input == 'calm'", "input in ['a', 'b'] and not input", "input >= 3", "who != 1"]
)
BAD_CONDITIONS = st.one_of(st.sampled_from(["mood ==", "(who", "who = 1", "never_set", "[1, 2", ""]), TRICKY)
WEIGHTS = st.integers(1, 1000)
BAD_WEIGHTS = st.sampled_from([0, -1, 1001, 2.5, True, "3", None])
RANKS = st.one_of(st.integers(-1_000_000, 1_000_000), st.sampled_from([3.0, 0]))
BAD_RANKS = st.sampled_from([2.5, True, "3", None, 1_000_001, -1_000_001, float("inf")])
DELIMITERS = st.sampled_from([",", ".", "but", "?!", "aber", "_x1", 3])
BAD_DELIMITERS = st.sampled_from(["", " ", "a b", "a,", " ,", ", ", "\n", None])
BAD_NAMES = st.one_of(
    st.sampled_from(["input", "1x", "my name", "a\n", "", "ünï", "ok\r"]), st.text(CHARACTERS, max_size=4)
)
#: Keys stay text: JSON has no other keys (see the module's docstring).
BAD_WORDS = st.one_of(st.sampled_from(["", " ", "null", "\n"]), st.text(CHARACTERS, max_size=4))
#: Include paths that are wrong: absolute, home-relative, not text, or any tricky text.
INCLUDE_PATHS = st.one_of(st.sampled_from(["/etc/passwd", "~/d.yaml", "", None]), TRICKY)
SECONDS = st.one_of(st.integers(1, 30), st.floats(0.1, 30))
BAD_SECONDS = st.one_of(st.sampled_from([0, -1, -0.0, "5", True]), st.floats())
#: The wrong part is drawn among this many: past a document's last part, none of its parts is wrong.
MOST_PARTS = 90  # about a fifth of the documents valid, a third accepted by the schema


class Parts:
    """Draws the parts of one document, counting them: the one numbered *wrong_at* is drawn wrong."""

    def __init__(self, draw: st.DrawFn, wrong_at: int) -> None:
        self.draw = draw
        self.wrong_at = wrong_at
        self.count = 0

    def _is_wrong(self) -> bool:
        self.count += 1
        return self.count == self.wrong_at

    def leaf(self, right: st.SearchStrategy[Any], wrong: st.SearchStrategy[Any] = TRICKY) -> Any:
        return self.draw(wrong if self._is_wrong() else right)

    def shape(self, make: Callable[[], Any]) -> Any:
        """A part built by *make*, or any JSON value when this part is the wrong one."""
        return self.draw(ANY) if self._is_wrong() else make()

    def flag(self) -> bool:
        """True, or False when this part is the wrong one (a key left out, one too many...)."""
        return not self._is_wrong()

    def how_many(self, most: int) -> int:
        return int(self.draw(st.integers(0, most)))


def text(p: Parts) -> Any:
    return p.leaf(PLAIN)


def texts(p: Parts) -> Any:
    """A text, or a list of them (sometimes empty, when wrong)."""
    if p.draw(st.booleans()):
        return text(p)
    return p.shape(lambda: [text(p) for _ in range(1 + p.how_many(2))])


def weighted(p: Parts) -> Any:
    """Format 1.1: a text with a weight, or without one."""
    fields: dict[str, Any] = {"text": text(p)} if p.flag() else {}
    if p.draw(st.booleans()):
        fields["weight"] = p.leaf(WEIGHTS, BAD_WEIGHTS)
    return p.shape(lambda: fields)


def reply(p: Parts) -> Any:
    if p.draw(st.booleans()):
        return texts(p)
    if p.draw(st.integers(0, 3)) == 0:
        choices = [weighted(p) if p.draw(st.booleans()) else text(p) for _ in range(1 + p.how_many(2))]
        fields: dict[str, Any] = {"from": choices} if p.flag() else {}
    else:
        fields = {"from": texts(p)} if p.flag() else {}
    if p.draw(st.booleans()):
        fields["order"] = p.leaf(st.sampled_from(Order.words()))
    return p.shape(lambda: fields)


def kinds(p: Parts) -> dict[str, Any]:
    """One pattern kind (none or two when wrong), maybe with case_sensitive."""
    count = 1 if p.flag() else p.draw(st.sampled_from([0, 2]))
    chosen = p.draw(st.lists(st.sampled_from(PATTERN_KINDS), min_size=count, max_size=count, unique=True))
    fields = {kind: texts(p) for kind in chosen}
    if p.draw(st.booleans()):
        fields["case_sensitive"] = p.leaf(st.booleans())
    return fields


def pattern(p: Parts) -> Any:
    return text(p) if p.draw(st.booleans()) else p.shape(lambda: kinds(p))


def variables(p: Parts) -> Any:
    return p.shape(lambda: {p.leaf(GOOD_NAMES, BAD_NAMES): text(p) for _ in range(p.how_many(2))})


def rule(p: Parts) -> Any:
    fields = kinds(p)
    redirects = p.draw(st.integers(0, 4)) == 0
    if p.flag():
        fields["redirect" if redirects else "reply"] = text(p) if redirects else reply(p)
    if not p.flag():
        fields["reply" if redirects else "redirect"] = text(p)
    if p.draw(st.booleans()):
        fields["set"] = variables(p)
    if p.draw(st.booleans()):
        fields["examples"] = texts(p)
    if p.draw(st.integers(0, 3)) == 0:
        fields["when"] = p.leaf(CONDITIONS, BAD_CONDITIONS)
    if p.draw(st.integers(0, 3)) == 0:
        # {exact: ''}: the bot has said nothing yet (a blank exact text is a pattern there only)
        blank = st.sampled_from([{"exact": ""}, {"exact": " "}])
        fields["after"] = pattern(p) if p.draw(st.booleans()) else p.leaf(blank, st.sampled_from(["", None]))
    if p.draw(st.booleans()):
        fields["topic"] = p.leaf(TOPIC_NAMES, BAD_TOPIC_NAMES)
    if p.draw(st.integers(0, 3)) == 0:
        fields["rank"] = p.leaf(RANKS, BAD_RANKS)
    if p.draw(st.integers(0, 3)) == 0:
        fields["remember"] = reply(p)
    return p.shape(lambda: fields)


def clauses(p: Parts) -> Any:
    """Format 1.1: ``{split: [delimiters]}`` (an empty list or a missing split when wrong)."""
    fields: dict[str, Any] = (
        {"split": p.shape(lambda: [p.leaf(DELIMITERS, BAD_DELIMITERS) for _ in range(1 + p.how_many(2))])}
        if p.flag()
        else {}
    )
    if not p.flag():
        fields[p.draw(st.sampled_from(["delimiters", "by"]))] = text(p)
    return p.shape(lambda: fields)


def topic(p: Parts) -> Any:
    fields: dict[str, Any] = (
        {"rules": p.shape(lambda: [rule(p) for _ in range(p.how_many(2))])} if p.flag() else {}
    )
    if p.draw(st.booleans()):
        fields["fallback"] = reply(p)
    return p.shape(lambda: fields)


def topics(p: Parts) -> Any:
    names = p.draw(st.lists(st.sampled_from(["quiz", "menu", "été"]), min_size=1, max_size=2, unique=True))
    return p.shape(lambda: {p.leaf(st.just(name), BAD_TOPIC_NAMES): topic(p) for name in names})


#: What a step does, by its key: say a reply, expect a pattern, or (format 1.2) a block of lines.
STEP_PARTS: dict[str, Callable[[Parts], Any]] = {
    "say": lambda p: reply(p),
    "expect": lambda p: pattern(p),
    "expect_lines": lambda p: p.shape(lambda: [pattern(p) for _ in range(1 + p.how_many(2))]),
    "expect_until": lambda p: pattern(p),
}


def step(p: Parts) -> Any:
    kind = p.draw(st.sampled_from(list(STEP_PARTS)))
    say = kind == "say"
    fields: dict[str, Any] = {kind: STEP_PARTS[kind](p)}
    if not p.flag():  # a second kind in one step
        other = p.draw(st.sampled_from([k for k in STEP_PARTS if k != kind]))
        fields[other] = STEP_PARTS[other](p)
    if (not say or not p.flag()) and p.draw(st.booleans()):
        fields["timeout"] = p.leaf(SECONDS, BAD_SECONDS)
    if (not say or not p.flag()) and p.draw(st.booleans()):
        fields["on_mismatch"] = p.leaf(st.sampled_from(OnMismatch.words()))
    if (kind == "expect_lines" or not p.flag()) and p.draw(st.booleans()):
        fields["any_order"] = p.leaf(st.booleans())
    if p.draw(st.booleans()):
        fields["name"] = text(p)
    return p.shape(lambda: fields)


def delay(p: Parts) -> Any:
    if p.draw(st.booleans()):
        return p.leaf(SECONDS, BAD_SECONDS)
    low, high = sorted(p.draw(st.lists(SECONDS, min_size=2, max_size=2)))
    return p.shape(lambda: [low, high] if p.flag() else [high, low])


def target(p: Parts) -> Any:
    """``KIND:VALUE``, or a mapping of one kind with its option (``ready`` or ``peer``)."""
    if p.draw(st.booleans()):
        good = st.sampled_from(
            ["tcp:127.0.0.1:5000", "command:python s.py {port}", "image:chat", "terminal:x"]
        )
        return p.leaf(good, st.one_of(TRICKY, st.sampled_from(["tcp:h:0", "tcp:h", "http://h", "command: "])))
    kind = p.draw(st.sampled_from(["command", "terminal", "image", "tcp"]))
    fields: dict[str, Any] = {kind: p.leaf(st.just("h:5000") if kind == "tcp" else PLAIN)}
    option = {"command": "ready", "terminal": "peer"}.get(kind)
    if option is not None and p.draw(st.booleans()):
        fields[option] = text(p)
    if not p.flag():
        fields[p.draw(st.sampled_from(["ready", "peer", "image", "host"]))] = text(p)
    return p.shape(lambda: fields)


SECTION_PARTS: dict[str, Callable[[Parts], Any]] = {
    "version": lambda p: p.leaf(
        st.sampled_from([1, 1.1, 1.2]), st.sampled_from([2, 1.5, 1.3, True, "1", "1.1", "1.2", None])
    ),
    "name": text,
    "description": text,
    "case_sensitive": lambda p: p.leaf(st.booleans()),
    "punctuation": lambda p: p.leaf(st.sampled_from(["keep", "ignore"])),
    # No generated path names a file that exists: reading one is --check's part (CHECK_ONLY).
    "include": lambda p: (
        p.leaf(st.sampled_from(["common.yaml", "parts/lists.yaml"]), INCLUDE_PATHS)
        if p.draw(st.booleans())
        else p.shape(
            lambda: [p.leaf(st.just("common.yaml"), INCLUDE_PATHS) for _ in range(1 + p.how_many(1))]
        )
    ),
    "lists": lambda p: p.shape(
        lambda: {p.leaf(GOOD_NAMES, BAD_NAMES): texts(p) for _ in range(p.how_many(2))}
    ),
    "subs": lambda p: p.shape(
        lambda: {p.leaf(st.sampled_from(["what's", "i'm", ":)"]), BAD_WORDS): text(p) for _ in range(2)}
    ),
    "vars": variables,
    "reflect": lambda p: p.shape(
        lambda: {p.leaf(st.sampled_from(["i", "my", "am"]), BAD_WORDS): text(p) for _ in range(2)}
    ),
    "greeting": reply,
    "rules": lambda p: p.shape(lambda: [rule(p) for _ in range(p.how_many(3))]),
    "topics": topics,
    "clauses": clauses,
    "fallback": reply,
    "script": lambda p: p.shape(lambda: [step(p) for _ in range(p.how_many(3))]),
    "on_mismatch": lambda p: p.leaf(st.sampled_from(OnMismatch.words())),
    "end": lambda p: p.leaf(st.sampled_from(Ending.words())),
    "deadline": lambda p: p.leaf(SECONDS, BAD_SECONDS),
    "line_end": lambda p: p.leaf(st.sampled_from(LineEnd.words())),
    "abort": lambda p: pattern(p) if p.draw(st.booleans()) else p.shape(lambda: [pattern(p)]),
    "delay": delay,
    "max_turns": lambda p: p.leaf(
        st.integers(1, 9), st.one_of(st.sampled_from([0, -1, 2.5, "3"]), st.floats())
    ),
    "timeout": lambda p: p.leaf(SECONDS, BAD_SECONDS),
    "target": target,
}
assert list(SECTION_PARTS) == SECTION_KEYS, "every section of the format is generated"


@st.composite
def documents(draw: st.DrawFn) -> Any:
    """A dialogue document as data, with at most one wrong part."""
    p = Parts(draw, draw(st.integers(0, MOST_PARTS)))
    keys = draw(st.lists(st.sampled_from(SECTION_KEYS[1:]), max_size=5, unique=True))
    if draw(st.integers(0, 3)) == 0:  # topics are reachable only from rules: draw both often
        keys = list(dict.fromkeys(["rules", "topics", *keys]))
    document: dict[str, Any] = {"version": SECTION_PARTS["version"](p)} if p.flag() else {}
    document.update({key: SECTION_PARTS[key](p) for key in keys})
    if not p.flag():
        document[draw(st.sampled_from(["replies", "Version", "rule"]))] = draw(ANY)
    return p.shape(lambda: document)


#: LibYAML's dumper and loader where PyYAML has them: in pure Python, dumping and reading back each
#: document took a quarter of the test's time (cProfile, 1,000 documents: 2.6 s and 4.7 s of 28 s).
#: --check parses with LibYAML too where it can (bots/loader/compose.py).
DUMPER = yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper
LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


def verdicts(document: Any) -> tuple[list[str], list[str]]:
    """The schema's errors and --check's problems for *document*, dumped as YAML."""
    text = yaml.dump(document, Dumper=DUMPER, allow_unicode=True, sort_keys=False)
    schema_errors = [error.message for error in VALIDATOR.iter_errors(yaml.load(text, Loader=LOADER))]
    try:
        parse_dialogue(text, "d.yaml")
    except DialogueError as exc:
        return schema_errors, [problem.message for problem in exc.problems]
    return schema_errors, []


def test_the_schema_and_check_agree_on_generated_documents() -> None:
    # valid: both accept; check only: the schema accepts, --check finds what only it sees; refused: both.
    judged = {"valid": 0, "check only": 0, "refused": 0}

    @settings(max_examples=max(MIN_DOCUMENTS, SIZES.schema_documents))
    @given(document=documents())
    def agree(document: Any) -> None:
        schema_errors, problems = verdicts(document)
        if schema_errors:
            assert problems, f"the schema refuses what --check accepts: {schema_errors[0]}"
            judged["refused"] += 1
            return
        beyond = [problem for problem in problems if not CHECK_ONLY.search(problem)]
        assert not beyond, f"--check refuses what the schema accepts: {beyond[0]}"
        judged["check only" if problems else "valid"] += 1

    agree()
    total = sum(judged.values())
    print(f"schema and --check agreed on {total} documents: {judged}")
    assert total >= MIN_DOCUMENTS
    # Both directions of the agreement are tested: documents the schema accepts, and ones it refuses.
    accepted = judged["valid"] + judged["check only"]
    assert min(accepted, judged["refused"]) >= MIN_SHARE_EACH_WAY * total, judged
    assert judged["valid"] >= MIN_VALID_SHARE * total, judged
