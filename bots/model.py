"""The dialogue model: frozen records of a validated dialogue, ready to drive conversations.

Nothing here reads files or YAML: :mod:`bots.loader` builds these records from a
dialogue file, and :mod:`bots.engine` runs conversations on them. The records are
plain classes (:class:`chat.value.Value`), not dataclasses: ``chat-bot --check``
would spend about a third of its start-up importing dataclasses and building them.
"""

from __future__ import annotations

import re
from enum import Enum

from bots import matcher
from bots.template import Template
from chat.protocol import is_exit
from chat.value import Value

DEFAULT_TIMEOUT_S = 10.0  # how long an expect step waits: a program answers in far less,
# and a test run that hangs should fail within seconds, not minutes
DEFAULT_GREETING = "Hello!"  # what a connecting bot says first when its dialogue names nothing
INPUT_NAME = "input"  # {input} is always the whole message just received


class Kind(str, Enum):
    """A choice the format spells as a word: each member's value is that word.

    A ``str`` mixin (StrEnum is Python 3.11+) so that a member equals its word and
    shows as it in messages and reports on every supported Python.
    """

    def __str__(self) -> str:
        return str(self.value)

    def __hash__(self) -> int:  # Enum hashes the member's name: a member must hash as the word it equals
        return str.__hash__(self)

    @classmethod
    def words(cls) -> tuple[str, ...]:
        """The words of the format, in the order the docs and messages list them."""
        return tuple(member.value for member in cls)


class PatternKind(Kind):
    """How a pattern's text matches a message."""

    EXACT = "exact"
    CONTAINS = "contains"
    GLOB = "glob"
    REGEX = "regex"


class Order(Kind):
    """How a reply picks among several texts."""

    IN_ORDER = "in_order"
    RANDOM = "random"
    NO_REPEAT = "no_repeat"


class StepKind(Kind):
    """What a script step does: the bot says something, or expects the peer to."""

    SAY = "say"
    EXPECT = "expect"


class OnMismatch(Kind):
    """What an expect step does with a message it does not match."""

    FAIL = "fail"  # the step fails
    RULES = "rules"  # the rules answer, and the step waits for another message


class Where(Value):
    """A position in a dialogue file, 1-based like an editor's."""

    __slots__ = ("col", "file", "line")
    __match_args__ = ("file", "line", "col")

    def __init__(self, file: str, line: int, col: int) -> None:
        self.file = file
        self.line = line
        self.col = col

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @property
    def file_line(self) -> str:
        """``file:line``, as the test report shows it."""
        return f"{self.file}:{self.line}"


class Pattern(Value):
    """What a message must look like: one or more alternatives of one kind."""

    __slots__ = ("captures", "kind", "literals", "regexes", "runs", "sources", "where")
    __match_args__ = ("kind", "sources", "regexes", "literals", "captures", "where")

    def __init__(
        self,
        kind: PatternKind,
        sources: tuple[str, ...],
        regexes: tuple[matcher.Regex, ...],
        literals: tuple[str | None, ...],
        captures: frozenset[str],
        where: Where,
        runs: tuple[tuple[str, ...], ...] = (),
    ) -> None:
        self.kind = kind
        self.sources = sources
        #: Per alternative, its RE2 regex (which knows whether it runs on the folded message).
        self.regexes = regexes
        #: Per alternative, text every match contains (folded), for the rule index.
        self.literals = literals
        #: Names and numbers a reply may use as {x} after this pattern matched.
        self.captures = captures
        self.where = where
        #: Per alternative, every text a match contains (folded), for the rule index.
        self.runs = runs

    def search(self, text: str) -> matcher.Match | None:
        """The first alternative's match in *text*, or None."""
        subject, folded = matcher.prepare(text)
        for rx in self.regexes:
            found = rx.search(subject, folded)
            if found is not None:
                return found
        return None

    def describe(self) -> str:
        """How the report names this pattern: ``contains 'yes'``, ``regex one of '..', '..'``."""
        shown = ", ".join(repr(s) for s in self.sources)
        return f"{self.kind} {'one of ' if len(self.sources) > 1 else ''}{shown}"


class Reply(Value):
    """The text(s) the bot may send, and how it picks among several."""

    __slots__ = ("choices", "fixed", "key", "order", "where")
    __match_args__ = ("choices", "order", "key", "where")

    def __init__(self, choices: tuple[Template, ...], order: Order, key: int, where: Where) -> None:
        self.choices = choices
        self.order = order
        #: Unique per dialogue: a conversation keeps its place in each list under this key.
        self.key = key
        self.where = where
        #: The text when this reply is always the same and is not `exit` (one choice, no
        #: placeholder): a turn sends it with nothing to choose or fill; else None.
        self.fixed: str | None = None
        if len(choices) == 1 and len(choices[0].parts) == 1 and not is_exit(choices[0].parts[0]):
            self.fixed = choices[0].parts[0]


class Rule(Value):
    """Pattern -> reply, with variables to set and examples that must route here."""

    __slots__ = ("examples", "fixed", "number", "pattern", "reply", "sets", "uses_captures", "where")
    __match_args__ = ("number", "pattern", "reply", "sets", "examples", "where")

    def __init__(
        self,
        number: int,
        pattern: Pattern,
        reply: Reply,
        sets: tuple[tuple[str, Template], ...],
        examples: tuple[tuple[str, Where], ...],
        where: Where,
    ) -> None:
        self.number = number
        self.pattern = pattern
        self.reply = reply
        self.sets = sets
        self.examples = examples
        self.where = where
        #: Whether the reply or a `set` uses one of the pattern's captures: when none
        #: does, a turn need not collect them.
        templates = [*reply.choices, *(template for _name, template in sets)]
        self.uses_captures = any(name in pattern.captures for t in templates for name in t.names)
        #: The reply's fixed text when the rule sets nothing either; else None.
        self.fixed = None if sets else reply.fixed


class Step(Value):
    """One script step: the bot says something, or expects the peer to say something."""

    __slots__ = ("kind", "name", "number", "on_mismatch", "pattern", "reply", "timeout", "where")
    __match_args__ = ("number", "kind", "reply", "pattern", "timeout", "on_mismatch", "name", "where")

    def __init__(
        self,
        number: int,
        kind: StepKind,
        reply: Reply | None,
        pattern: Pattern | None,
        timeout: float,
        on_mismatch: OnMismatch,
        name: str | None,
        where: Where,
    ) -> None:
        self.number = number
        self.kind = kind
        self.reply = reply
        self.pattern = pattern
        self.timeout = timeout
        self.on_mismatch = on_mismatch
        self.name = name
        self.where = where

    def describe(self) -> str:
        """A short label for reports: ``say 'Hello'`` or ``expect contains 'ready'``."""
        if self.reply is not None:
            return f"say {self.reply.choices[0].source!r}"
        assert self.pattern is not None
        return f"expect {self.pattern.describe()}"


class Target(Value):
    """What a dialogue test talks to under the pytest plugin (``target:``); chat-bot itself ignores it.

    *kind* is one of :data:`TARGET_KINDS`; *value* is the rest of ``KIND:VALUE``. *ready* (command
    targets) is a regular expression the program's output matches once it serves; *peer* (terminal
    targets) names the dialogue the client's peer bot serves, relative to the dialogue file.
    """

    __slots__ = ("kind", "peer", "ready", "value", "where")
    __match_args__ = ("kind", "value", "ready", "peer", "where")

    def __init__(
        self,
        kind: str,
        value: str,
        ready: str | None = None,
        peer: str | None = None,
        where: Where | None = None,
    ) -> None:
        self.kind = kind
        self.value = value
        self.ready = ready
        self.peer = peer
        self.where = where


#: The kinds of target: a running server, a server command, a container image, a client at its terminal.
TARGET_KINDS = ("tcp", "command", "image", "terminal")


def split_target(text: str) -> tuple[str, str]:
    """``KIND:VALUE`` -> (kind, value); ValueError with the reason when *text* is not a target."""
    kind, colon, value = text.partition(":")
    if not colon or kind not in TARGET_KINDS:
        raise ValueError(f"a target is KIND:VALUE with KIND one of {', '.join(TARGET_KINDS)}, not {text!r}")
    if not value.strip():
        raise ValueError(f"the {kind} target names nothing after '{kind}:'")
    if kind == "tcp":
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"a tcp target is tcp:HOST:PORT with a port from 1 to 65535, not {text!r}")
    return kind, value


class Dialogue(Value):
    """A validated dialogue file, ready to drive any number of conversations."""

    __slots__ = (
        "abort",
        "case_sensitive",
        "delay",
        "description",
        "fallback",
        "greeting",
        "index",
        "max_turns",
        "name",
        "path",
        "reflect",
        "rules",
        "script",
        "target",
        "timeout",
        "variables",
    )
    # The index is derived from the rules: it takes no part in equality or the repr.
    __match_args__ = (
        "path",
        "name",
        "description",
        "case_sensitive",
        "variables",
        "reflect",
        "greeting",
        "rules",
        "fallback",
        "script",
        "abort",
        "delay",
        "max_turns",
        "timeout",
    )

    def __init__(
        self,
        path: str,
        name: str,
        description: str,
        case_sensitive: bool,
        variables: dict[str, str],
        reflect: dict[str, str],
        greeting: Reply | None,
        rules: tuple[Rule, ...],
        fallback: Reply | None,
        script: tuple[Step, ...],
        abort: tuple[Pattern, ...],
        delay: tuple[float, float],
        max_turns: int | None,
        timeout: float,
        index: matcher.RuleIndex,
        target: Target | None = None,
    ) -> None:
        self.path = path
        self.name = name
        self.description = description
        self.case_sensitive = case_sensitive
        self.variables = variables
        self.reflect = reflect
        self.greeting = greeting
        self.rules = rules
        self.fallback = fallback
        self.script = script
        self.abort = abort
        self.delay = delay
        self.max_turns = max_turns
        self.timeout = timeout
        self.index = index
        #: What the pytest plugin tests with this dialogue, when the file names it (``target:``).
        self.target = target

    def match(self, text: str) -> tuple[Rule, re.Match[str]] | None:
        """The first rule that matches *text* and its match, or None."""
        found = self.index.match(text)
        if found is None:
            return None
        return self.rules[found[0]], found[1]

    @property
    def is_test(self) -> bool:
        """True when the script expects something: the dialogue then tests its peer."""
        return any(step.kind is StepKind.EXPECT for step in self.script)
