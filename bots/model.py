"""The dialogue model: frozen records of a validated dialogue, ready to drive conversations.

Nothing here reads files or YAML: :mod:`bots.loader` builds these records from a
dialogue file, and :mod:`bots.engine` runs conversations on them. The records are
plain classes (:class:`chat.value.Value`), not dataclasses: ``chat-bot --check``
would spend about a third of its start-up importing dataclasses and building them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum

from bots import matcher
from bots.clauses import Clauses
from bots.conditions import Condition
from bots.subs import Substitutions
from bots.template import Template
from chat.protocol import is_exit
from chat.value import Value

DEFAULT_TIMEOUT_S = 10.0  # how long an expect step waits: a program answers in far less,
# and a test run that hangs should fail within seconds, not minutes
DEFAULT_GREETING = "Hello!"  # what a connecting bot says first when its dialogue names nothing
INPUT_NAME = "input"  # {input} is always the whole message just received
NO_TOPIC = "none"  # `topic: none` leaves the current topic: only the top-level rules answer
MAX_REDIRECTS = 8  # redirects one message may go through: a chain of synonyms is 2 or 3 deep,
# and the bound stops a loop (a -> b -> a) the loader could not see, at run time


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

    __slots__ = ("choices", "fixed", "key", "order", "totals", "weights", "where")
    __match_args__ = ("choices", "order", "key", "where", "weights")

    def __init__(
        self,
        choices: tuple[Template, ...],
        order: Order,
        key: int,
        where: Where,
        weights: tuple[int, ...] | None = None,
    ) -> None:
        self.choices = choices
        self.order = order
        #: Unique per dialogue: a conversation keeps its place in each list under this key.
        self.key = key
        self.where = where
        #: Per choice, its weight for `order: random` (`{text: ..., weight: 3}`); None: all alike.
        self.weights = weights
        #: The running totals of the weights, as random.choices takes them (None: all alike).
        self.totals: tuple[int, ...] | None = None
        if weights is not None:
            running, totals = 0, []
            for weight in weights:
                running += weight
                totals.append(running)
            self.totals = tuple(totals)
        #: The text when this reply is always the same and is not `exit` (one choice, no
        #: placeholder): a turn sends it with nothing to choose or fill; else None.
        self.fixed: str | None = None
        if len(choices) == 1 and len(choices[0].parts) == 1 and not is_exit(choices[0].parts[0]):
            self.fixed = choices[0].parts[0]


class Rule(Value):
    """Pattern -> reply (or a redirect), with its conditions, variables to set, a topic to switch to."""

    __slots__ = (
        "after",
        "conditional",
        "examples",
        "fixed",
        "number",
        "pattern",
        "rank",
        "redirect",
        "remember",
        "reply",
        "sets",
        "topic",
        "uses_captures",
        "when",
        "where",
    )
    __match_args__ = (
        "number",
        "pattern",
        "reply",
        "sets",
        "examples",
        "where",
        "when",
        "after",
        "topic",
        "redirect",
        "rank",
        "remember",
    )

    def __init__(
        self,
        number: int,
        pattern: Pattern,
        reply: Reply | None,
        sets: tuple[tuple[str, Template], ...],
        examples: tuple[tuple[str, Where], ...],
        where: Where,
        *,
        when: Condition | None = None,
        after: Pattern | None = None,
        topic: str | None = None,
        redirect: Template | None = None,
        rank: int = 0,
        remember: Reply | None = None,
    ) -> None:
        self.number = number
        self.pattern = pattern
        #: What the bot says; None when the rule redirects instead.
        self.reply = reply
        self.sets = sets
        self.examples = examples
        self.where = where
        #: The rule answers only while this holds on the chat's variables (format 1.1).
        self.when = when
        #: The rule answers only when the bot's previous message matches this (format 1.1).
        self.after = after
        #: The topic the chat is in after this rule answers; NO_TOPIC leaves any topic (format 1.1).
        self.topic = topic
        #: The message handed back to the rules instead of a reply (format 1.1).
        self.redirect = redirect
        #: Higher ranks are tried first; equal ranks keep the file's order (format 1.1, ELIZA's ranks).
        self.rank = rank
        #: A reply stored, filled from this turn's captures, for a later turn no rule answers (format 1.1).
        self.remember = remember
        #: Whether the reply, a `set`, `remember` or the redirect uses one of the pattern's captures:
        #: when none does, a turn need not collect them.
        templates = [*(reply.choices if reply is not None else ()), *(template for _name, template in sets)]
        if redirect is not None:
            templates.append(redirect)
        if remember is not None:
            templates.extend(remember.choices)
        self.uses_captures = any(name in pattern.captures for t in templates for name in t.names)
        #: The reply's fixed text when the rule does nothing else either; else None.
        plain = not sets and topic is None and redirect is None and remember is None
        self.fixed = reply.fixed if plain and reply is not None else None
        #: Whether the rule may decline a message its pattern matches (`when` or `after`).
        self.conditional = when is not None or after is not None


MAX_MEMORIES = 32  # replies a chat keeps for later (`remember`): ELIZA recalls one per turn
# no rule answers, so a few are plenty; the bound keeps a long chat's state small. A full queue
# drops its oldest reply to take the new one.


def by_rank(rules: Sequence[Rule]) -> tuple[Rule, ...]:
    """*rules* in the order they are tried: higher rank first, equal ranks in file order."""
    return tuple(sorted(rules, key=lambda rule: -rule.rank))


SEGMENTS_PER_BLOCK = 32  # after a declined rule, the search takes at most this many look-ups
# segment by segment before it can take whole blocks at once: 1,000 conditional rules cost
# about 60 small look-ups per declined rule, not 1,000


class RuleList:
    """Rules tried in order through one index: the top-level rules, or one topic's.

    A rule with a condition may decline a message its pattern matched. The rules are
    then also cut into segments, each ending at a conditional rule, and the segments
    into blocks, with an index each (built at load, O(rules) in all, so that no chat
    pays for them mid-turn). After a declined rule the search goes on from the next
    segment, through whole blocks where it can, never scanning every later rule.
    """

    __slots__ = ("_blocks", "_segments", "_starts", "index", "rules")

    def __init__(self, rules: tuple[Rule, ...], index: matcher.RuleIndex | None = None) -> None:
        self.rules = rules
        self.index = rule_index(rules) if index is None else index
        self._segments: list[tuple[int, matcher.RuleIndex]] = []
        self._blocks: list[tuple[int, matcher.RuleIndex]] = []
        #: For each conditional rule (and the last), the number of the segment it ends.
        self._starts: dict[int, int] = {}
        if any(rule.conditional for rule in rules):
            self._cut()

    def match(self, text: str) -> tuple[Rule, matcher.Match] | None:
        """The first rule whose pattern matches *text* (conditions not asked), or None."""
        found = self.index.match(text)
        return None if found is None else (self.rules[found[0]], found[1])

    def first(self, text: str, accepts: Callable[[Rule], bool]) -> tuple[Rule, matcher.Match] | None:
        """The first rule matching *text* that *accepts* (asked only of conditional rules) allows."""
        found = self.index.match(text)
        if found is None:
            return None
        rule = self.rules[found[0]]
        if not rule.conditional or accepts(rule):
            return rule, found[1]
        segment = self._starts[found[0]] + 1
        while segment < len(self._segments):
            whole = segment % SEGMENTS_PER_BLOCK == 0
            offset, index = self._blocks[segment // SEGMENTS_PER_BLOCK] if whole else self._segments[segment]
            later = index.match(text)
            if later is None:
                segment += SEGMENTS_PER_BLOCK if whole else 1
                continue
            position = offset + later[0]
            rule = self.rules[position]
            if not rule.conditional or accepts(rule):
                return rule, later[1]
            segment = self._starts[position] + 1
        return None

    def _cut(self) -> None:
        """Build the segments (each ending at a conditional rule) and blocks of them."""
        start = 0
        for position, rule in enumerate(self.rules):
            if rule.conditional or position == len(self.rules) - 1:
                self._starts[position] = len(self._segments)
                self._segments.append((start, rule_index(self.rules[start : position + 1])))
                start = position + 1
        for first in range(0, len(self._segments), SEGMENTS_PER_BLOCK):
            begin = self._segments[first][0]
            last = min(first + SEGMENTS_PER_BLOCK, len(self._segments)) - 1
            end = self._segments[last + 1][0] if last + 1 < len(self._segments) else len(self.rules)
            self._blocks.append((begin, rule_index(self.rules[begin:end])))


def rule_index(rules: tuple[Rule, ...]) -> matcher.RuleIndex:
    """The index that finds the first of *rules* whose pattern matches a message."""
    return matcher.RuleIndex(
        [list(zip(r.pattern.regexes, r.pattern.literals, strict=True)) for r in rules],
        [r.pattern.runs for r in rules],
    )


class Topic(Value):
    """A named group of rules the chat can be in (format 1.1), tried before the top-level rules."""

    __slots__ = ("fallback", "name", "rules", "ruleset", "where")
    # The rule set is derived from the rules: it takes no part in equality or the repr.
    __match_args__ = ("name", "rules", "fallback", "where")

    def __init__(self, name: str, rules: tuple[Rule, ...], fallback: Reply | None, where: Where) -> None:
        self.name = name
        self.rules = rules
        #: What the bot says in this topic when no rule matches; None: the dialogue's fallback.
        self.fallback = fallback
        self.where = where
        self.ruleset = RuleList(rules)


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
        "clauses",
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
        "ruleset",
        "script",
        "subs",
        "target",
        "timeout",
        "topics",
        "variables",
        "version",
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
        "topics",
        "version",
        "subs",
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
        topics: dict[str, Topic] | None = None,
        version: str = "1",
        target: Target | None = None,
        clauses: Clauses | None = None,
        subs: Substitutions | None = None,
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
        #: The top-level rules, tried after the current topic's (all rules in format 1).
        self.ruleset = RuleList(rules, index)
        #: Named groups of rules (format 1.1), by name.
        self.topics = topics or {}
        #: The format version the file declares: "1" or "1.1".
        self.version = version
        #: What the pytest plugin tests with this dialogue, when the file names it (``target:``).
        self.target = target
        #: Where messages are cut into clauses for the rules (format 1.1); None: never.
        self.clauses = clauses
        #: Rewrites a message before the rules see it (format 1.1 `subs`); {input} stays the message.
        self.subs = subs or Substitutions({})

    def substitute(self, text: str) -> str:
        """*text* as the rules see it: its first MAX_MATCH_CHARS characters, the substitutions made.

        Bounded whatever the message (issue 19): a `when:` reading {input} sees this too.
        """
        return self.subs.apply(text)

    def match(self, text: str) -> tuple[Rule, matcher.Match] | None:
        """The first top-level rule whose pattern matches *text* and its match, or None."""
        return self.ruleset.match(text)

    @property
    def is_test(self) -> bool:
        """True when the script expects something: the dialogue then tests its peer."""
        return any(step.kind is StepKind.EXPECT for step in self.script)
