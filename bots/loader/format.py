"""The dialogue format as one table: every key of every mapping, its value, default, version and limits.

This table is the one source of the format (issue 20, item 3). From it:

- the loader takes the keys each mapping allows (in this order, as "expected one of"
  lists them), which keys and words a version reads (a version 1 file that uses a 1.1
  key is told so), the limits of numbers and the defaults;
- :mod:`bots.loader.schema` generates ``bots/schema.json`` (``chat-bot --print-schema``);
- :mod:`bots.loader.reference` generates the reference tables of docs/dialogues.md.

``python -m bots.loader.generate`` writes both files, and a test fails when the
checked-in ones differ from what the table makes. Plain classes, not pydantic or
msgspec models: ``chat-bot --check`` imports this on its start-up path (docs/benchmark.md,
scenario 4: under 150 ms), every problem needs the YAML node's file:line:col and the
format's own wording, and neither library reads YAML nodes.

A key's *type* names a kind of value; what each kind is, is written once for the
schema (:data:`bots.loader.schema.TYPES`) and once for people (:data:`TYPE_NAMES`), and
read by the loader's part of the same name (:mod:`bots.loader.build`).
"""

from __future__ import annotations

from bots.conditions import MAX_CONDITION_CHARS
from bots.limits import MAX_VALUE_CHARS, MAX_VARIABLES
from bots.model import (
    DEFAULT_GREETING,
    DEFAULT_TIMEOUT_S,
    NO_TOPIC,
    Block,
    Ending,
    LineEnd,
    OnMismatch,
    Order,
    PatternKind,
    StepKind,
)
from bots.subs import MAX_KEY_CHARS, MAX_SUBSTITUTIONS
from bots.target import TARGET_KINDS

#: The format versions this chat-bot reads, oldest first: each reads every file of the
#: versions before it the same way. 1.1 adds topics, conditions, redirects, weights,
#: includes, word lists, substitutions and clauses; 1.2 runs scripts as sequences.
VERSIONS = ("1", "1.1", "1.2")
MAX_RANK = 1_000_000  # ranks only order rules: a bound keeps them plain numbers (ELIZA's go to 50)
MAX_WEIGHT = 1000  # one text a thousand times likelier than another is already "never" in a chat;
# the bound keeps the running totals small

#: How each kind of value reads in the docs' tables.
TYPE_NAMES = {
    "version": "a number: " + ", ".join(VERSIONS),
    "text": "text",
    "optional text": "text, may be empty",
    "texts": "text, or a list of texts",
    "message": "text: one line, with `{name}` placeholders",
    "reply": "a [reply](#replies-and-templates): text, a list, or `{from: [...], order: ...}`",
    "reply texts": "text, or a list of texts and (1.1) `{text: ..., weight: N}`",
    "pattern": "a pattern: text (`contains`), or a mapping with one kind (below)",
    "previous pattern": "a pattern, as `expect` takes one; `{exact: ''}`: the bot has said nothing yet",
    "patterns": "a pattern, or a list of patterns",
    "pattern list": "a list of patterns, one per line",
    "seconds": "a number of seconds, above 0",
    "delay": "seconds (at least 0), or a range `[min, max]`",
    "boolean": "`true` or `false`",
    "whole number": "a whole number",
    "choice": "one of",
    "variables": "a mapping of variable name: text",
    "assignments": "a mapping of variable name: text with `{placeholders}`",
    "rules": "a list of [rules](#rule-keys)",
    "topics": "a mapping of topic name: [topic](#topic-keys)",
    "steps": "a list of [steps](#script-step-keys)",
    "clauses": "a mapping: [clauses](#clauses-keys)",
    "lists": "a mapping of list name: a word or phrase, or a list of them",
    "subs": "a mapping of word or phrase: replacement",
    "reflect": "a mapping of word: replacement",
    "include": "a path, or a list of paths, relative to this file's folder",
    "target": "`KIND:VALUE`, or a [mapping](#target-keys)",
    "condition": "a [condition](#conditions) (text)",
    "topic name": "a topic's name, or `none`",
    "delimiters": "a list of delimiters: each a word or punctuation",
    "pattern text": "text, or a list of texts",
    "target text": "text",
    "host and port": "`HOST:PORT`, a port from 1 to 65535",
}


class Key:
    """One key of a mapping of the format."""

    __slots__ = (
        "called",
        "default",
        "goes_with",
        "included",
        "maximum",
        "meaning",
        "minimum",
        "name",
        "shown",
        "since",
        "type",
        "words",
    )

    def __init__(
        self,
        name: str,
        type: str,
        meaning: str,
        *,
        since: str = "1",
        default: object = None,
        shown: str = "",
        minimum: int | None = None,
        maximum: int | None = None,
        words: tuple[tuple[str, str], ...] = (),
        goes_with: tuple[str, ...] = (),
        included: str = "",
        called: str = "",
    ) -> None:
        self.name = name
        #: What kind of value the key takes: a key of TYPE_NAMES.
        self.type = type
        #: One line for people: the docs' table and the schema's description.
        self.meaning = meaning
        #: The first format version that reads the key.
        self.since = since
        #: The value when the key is left out (None: none; a JSON value, for the schema too).
        self.default = default
        #: How the docs show the default when it is not a plain value ("the file's name").
        self.shown = shown
        #: Bounds of a whole number, inclusive.
        self.minimum = minimum
        self.maximum = maximum
        #: A choice's words, each with the version that reads it first.
        self.words = words
        #: The keys this key belongs with in its mapping (a step's timeout: with an expect kind).
        self.goes_with = goes_with
        #: What an included file does with the key (top level only): "adds" its contents,
        #: "reads" it for itself, or "" (not allowed in an included file).
        self.included = included
        #: How a problem names the key, when not as 'name'.
        self.called = called or f"'{name}'"

    def words_in(self, version: str) -> tuple[str, ...]:
        """The choice's words a file of *version* may use."""
        return tuple(word for word, since in self.words if not newer(since, version))


class Shape:
    """A mapping of the format: its keys, in the order the docs and "expected one of" list them."""

    __slots__ = ("anchor", "at_least_one", "keys", "name", "needs", "one_of", "required", "since", "title")

    def __init__(
        self,
        name: str,
        title: str,
        keys: tuple[Key, ...],
        *,
        required: tuple[str, ...] = (),
        one_of: tuple[tuple[str, ...], ...] = (),
        at_least_one: tuple[str, ...] = (),
        needs: tuple[tuple[str, str], ...] = (),
        since: str = "1",
    ) -> None:
        self.name = name
        #: The heading of its table in the docs (and its anchor there).
        self.title = title
        self.anchor = title.lower().replace(" ", "-")
        self.keys = keys
        self.required = required
        #: Groups of keys of which exactly one is given (a rule's pattern kind).
        self.one_of = one_of
        #: Keys of which at least one is given (a topic's rules or fallback).
        self.at_least_one = at_least_one
        #: (key, the key it needs beside it): a target's `ready` needs `command`.
        self.needs = needs
        #: The first version that reads this mapping at all (a weighted text: 1.1).
        self.since = since

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(key.name for key in self.keys)

    def __getitem__(self, name: str) -> Key:
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError(name)


def newer(since: str, version: str) -> bool:
    """Whether a part that format *since* adds is newer than *version* (so a file of it cannot use it)."""
    return VERSIONS.index(since) > VERSIONS.index(version)


def _words(words: tuple[str, ...], since: dict[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    """A choice's words, each read from format 1 on unless *since* says otherwise."""
    return tuple((word, (since or {}).get(word, "1")) for word in words)


PATTERN_KINDS = PatternKind.words()
_PATTERN_MEANINGS = {
    PatternKind.EXACT: "the whole message is this (blanks around and between words ignored)",
    PatternKind.CONTAINS: "these words appear in the message as whole words, together and in this order",
    PatternKind.GLOB: "the whole message matches: `*` any text (captured as `{1}`, `{2}`...), `?` one "
    "character",
    PatternKind.REGEX: "a regular expression (Python's syntax, run by RE2) found anywhere in the message; "
    "`(?P<name>...)` captures `{name}`",
}
_CASE = Key(
    "case_sensitive",
    "boolean",
    "match case in this pattern",
    shown="the dialogue's `case_sensitive`",
)
#: The kinds of pattern, as keys of a rule or of a pattern mapping (exactly one of them).
_KIND_KEYS = tuple(Key(str(kind), "pattern text", _PATTERN_MEANINGS[kind]) for kind in PatternKind)

PATTERN = Shape(
    "pattern",
    "Pattern keys",
    (*_KIND_KEYS, _CASE),
    one_of=(PATTERN_KINDS,),
)

RULE = Shape(
    "rule",
    "Rule keys",
    (
        *_KIND_KEYS,
        _CASE,
        Key("reply", "reply", "what the bot says"),
        Key("set", "assignments", "variables set when the rule answers, before its reply is filled"),
        Key("examples", "texts", "messages this rule must answer: `--check` routes each as a chat would"),
        Key(
            "when",
            "condition",
            f"the rule answers only while this holds (at most {MAX_CONDITION_CHARS} characters)",
            since="1.1",
        ),
        Key(
            "after",
            "previous pattern",
            "the rule answers only when the bot's previous message matches this",
            since="1.1",
        ),
        Key(
            "topic",
            "topic name",
            f"the topic the chat is in after this rule answers (`{NO_TOPIC}`: leave it)",
            since="1.1",
        ),
        Key(
            "redirect",
            "message",
            "hand this message (captures filled in) back to the rules instead of replying",
            since="1.1",
        ),
        Key(
            "rank",
            "whole number",
            "rules of a higher rank are tried first; equal ranks keep the file's order",
            since="1.1",
            default=0,
            minimum=-MAX_RANK,
            maximum=MAX_RANK,
        ),
        Key(
            "remember",
            "reply",
            "a reply (captures filled in now) kept for a later message no rule answers",
            since="1.1",
        ),
    ),
    one_of=(PATTERN_KINDS, ("reply", "redirect")),
)

_EXPECT_KINDS = (StepKind.EXPECT.value, *Block.words())
STEP = Shape(
    "step",
    "Script step keys",
    (
        Key("say", "reply", "what the bot says"),
        Key("expect", "pattern", "one line that matches"),
        Key(
            "expect_lines",
            "pattern list",
            "one line per pattern, in order (`any_order`: as they come)",
            since="1.2",
        ),
        Key("expect_until", "pattern", "every line up to and including the first that matches", since="1.2"),
        Key(
            "any_order",
            "boolean",
            "`expect_lines` takes its lines in any order",
            since="1.2",
            default=False,
            goes_with=(Block.LINES.value,),
        ),
        Key(
            "timeout",
            "seconds",
            "how long the step waits for its lines",
            shown="the dialogue's `timeout`",
            goes_with=_EXPECT_KINDS,
        ),
        Key(
            "on_mismatch",
            "choice",
            "what a line the step does not match does: fail the test, let the rules answer, or be skipped",
            shown="the dialogue's `on_mismatch`",
            words=_words(OnMismatch.words(), {OnMismatch.SKIP.value: "1.2"}),
            goes_with=_EXPECT_KINDS,
        ),
        Key("name", "text", "a name for the report"),
    ),
    one_of=((StepKind.SAY.value, *_EXPECT_KINDS),),
)

REPLY = Shape(
    "reply",
    "Reply keys",
    (
        Key("from", "reply texts", "the texts to choose from"),
        Key(
            "order",
            "choice",
            "how a text is chosen: in turn, at random, or each once in random order",
            default=Order.IN_ORDER.value,
            words=_words(Order.words()),
        ),
    ),
    required=("from",),
)

WEIGHTED = Shape(
    "weighted",
    "Weighted text keys",
    (
        Key("text", "message", "what the bot says"),
        Key(
            "weight",
            "whole number",
            "how likely the text is, against the others (`order: random` only)",
            default=1,
            minimum=1,
            maximum=MAX_WEIGHT,
        ),
    ),
    required=("text",),
    since="1.1",
)

TOPIC = Shape(
    "topic",
    "Topic keys",
    (
        Key("rules", "rules", "tried first while the chat is in the topic"),
        Key(
            "fallback",
            "reply",
            "what the bot says in the topic when no rule matches",
            shown="the dialogue's `fallback`",
        ),
    ),
    at_least_one=("rules", "fallback"),
    since="1.1",
)

CLAUSES = Shape(
    "clauses",
    "Clauses keys",
    (
        Key(
            "split",
            "delimiters",
            "where each message is cut: a word (cut where it stands alone) or punctuation",
        ),
    ),
    required=("split",),
    since="1.1",
)

TARGET = Shape(
    "target",
    "Target keys",
    (
        Key("tcp", "host and port", "`HOST:PORT` of a server that is already running"),
        Key("command", "target text", "a command line that starts the server; `{port}` is a free port"),
        Key("image", "target text", "a container image whose server listens on the chat port"),
        Key(
            "terminal",
            "target text",
            "a command line that starts a client at a terminal; `{port}` its server",
        ),
        Key("ready", "target text", "a regular expression the command's output matches once it serves"),
        Key("peer", "target text", "the dialogue file the terminal client's peer bot serves"),
    ),
    one_of=(TARGET_KINDS,),
    needs=(("ready", "command"), ("peer", "terminal")),
)

DIALOGUE = Shape(
    "dialogue",
    "Top-level keys",
    (
        Key("version", "version", "the format version of the file", included="reads"),
        Key("name", "text", "a name for reports", shown="the file's name", included="reads"),
        Key(
            "description",
            "optional text",
            "what the dialogue is (`chat-bot --list` shows it)",
            default="",
            included="reads",
        ),
        Key(
            "case_sensitive",
            "boolean",
            "the default of every pattern: match case",
            default=False,
            included="reads",
        ),
        Key(
            "punctuation",
            "choice",
            "whether `exact`, `contains` and `glob` ignore the punctuation around words",
            shown="`keep` in format 1, `ignore` from 1.1",
            words=(("keep", "1"), ("ignore", "1")),
            included="reads",
        ),
        Key(
            "include",
            "include",
            "other dialogue files whose rules, lists, subs, vars and reflect this one adds",
            since="1.1",
            included="adds",
        ),
        Key(
            "lists",
            "lists",
            "word lists: `{name}` in an exact, contains or glob pattern is any item",
            since="1.1",
            included="adds",
        ),
        Key(
            "subs",
            "subs",
            f"words and phrases of each message replaced before matching (at most {MAX_SUBSTITUTIONS:,} keys "
            f"of at most {MAX_KEY_CHARS} characters)",
            since="1.1",
            maximum=MAX_SUBSTITUTIONS,
            included="adds",
        ),
        Key(
            "vars",
            "variables",
            f"variables and their starting values (values of at most {MAX_VALUE_CHARS:,} characters, "
            f"at most {MAX_VARIABLES} names)",
            included="adds",
        ),
        Key("reflect", "reflect", "word swaps made on captured text (`my` -> `your`)", included="adds"),
        Key("greeting", "reply", "what a connecting bot says first", shown=f"`{DEFAULT_GREETING}`"),
        Key("rules", "rules", "pattern -> reply; the first that matches answers", included="adds"),
        Key("topics", "topics", "named groups of rules the chat can be in", since="1.1"),
        Key(
            "clauses",
            "clauses",
            "cut each message into clauses; the rules answer the first one they match",
            since="1.1",
        ),
        Key(
            "fallback", "reply", "what the bot says when no rule matches", shown="none: the bot ends the chat"
        ),
        Key("script", "steps", "a planned conversation of say and expect steps"),
        Key(
            "on_mismatch",
            "choice",
            "what every expect step does with a line it does not match, unless the step says",
            since="1.2",
            default=OnMismatch.FAIL.value,
            words=_words(OnMismatch.words()),
            called="a top-level 'on_mismatch'",
        ),
        Key(
            "end",
            "choice",
            "how the bot ends a chat: send exit, just close, or wait for the peer to close",
            since="1.2",
            default=Ending.EXIT.value,
            words=_words(Ending.words()),
        ),
        Key("deadline", "seconds", "seconds the whole chat may last", since="1.2", shown="none"),
        Key(
            "line_end",
            "choice",
            "what ends each line the bot sends",
            since="1.2",
            default=LineEnd.LF.value,
            words=_words(LineEnd.words()),
        ),
        Key("abort", "patterns", "any received message matching one stops a test (status 8)"),
        Key("delay", "delay", "seconds before each reply (`--no-delay` turns it off)", default=0),
        Key(
            "max_turns",
            "whole number",
            "the bot sends at most this many messages; then `exit`",
            minimum=1,
            shown="none",
        ),
        Key("timeout", "seconds", "seconds an expect step waits", default=DEFAULT_TIMEOUT_S),
        Key("target", "target", "what the pytest plugin tests with this file (chat-bot ignores it)"),
    ),
    required=("version",),
)

#: Every mapping of the format, in the order of the docs' reference.
SHAPES = (DIALOGUE, RULE, PATTERN, STEP, REPLY, WEIGHTED, TOPIC, CLAUSES, TARGET)
#: The keys whose contents an included file adds to the including one.
CONTRIBUTED = tuple(key.name for key in DIALOGUE.keys if key.included == "adds")
#: The keys an included file may hold: what it adds, and what describes or reads it.
INCLUDED_KEYS = tuple(key.name for key in DIALOGUE.keys if key.included)
