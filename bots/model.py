"""The dialogue model: frozen records of a validated dialogue, ready to drive conversations.

Nothing here reads files or YAML: :mod:`bots.loader` builds these records from a
dialogue file, and :mod:`bots.engine` runs conversations on them. The records are
plain classes (:class:`chat.value.Value`), not dataclasses: ``chat-bot --check``
would spend about a third of its start-up importing dataclasses and building them.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING

from bots import patterns
from bots.actions import Send
from bots.clauses import Clauses
from bots.conditions import Condition
from bots.ruleset import RuleList
from bots.subs import Substitutions
from bots.template import Template
from chat.display import quoted
from chat.protocol import is_exit
from chat.value import Value

if TYPE_CHECKING:
    from bots.target import Target

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


class Block(Kind):
    """How an expect step takes several lines (format 1.2); its word is the step's key."""

    LINES = "expect_lines"  # one line per pattern, in order (or in any order: `any_order: true`)
    UNTIL = "expect_until"  # every line up to and including the first that matches


class OnMismatch(Kind):
    """What an expect step does with a message it does not match."""

    FAIL = "fail"  # the step fails
    RULES = "rules"  # the rules answer, and the step waits for another message
    SKIP = "skip"  # the message is passed over (a banner, chatter), and the step waits (format 1.2)


class LineEnd(Kind):
    """What ends each line the bot sends (format 1.2: `line_end`); lines it receives may end either way."""

    LF = "lf"  # a line feed: the chat programs, nc, socat, most line tools
    CRLF = "crlf"  # a carriage return and a line feed: SMTP, IRC and other Internet protocols

    @property
    def bytes(self) -> bytes:
        return b"\r\n" if self is LineEnd.CRLF else b"\n"


class Ending(Kind):
    """How the bot ends a chat: its last step done, a failure, nothing left to say (format 1.2)."""

    EXIT = "exit"  # send `exit`, then close: the classic programs' way (and formats 1 and 1.1's)
    CLOSE = "close"  # just close the connection
    WAIT = "wait"  # wait for the peer to close (its own goodbye); a close then is a pass


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

    __slots__ = ("_finds", "captures", "kind", "literals", "regexes", "runs", "sources", "where")
    __match_args__ = ("kind", "sources", "regexes", "literals", "captures", "where")

    def __init__(
        self,
        kind: PatternKind,
        sources: tuple[str, ...],
        regexes: tuple[patterns.Matcher, ...],
        literals: tuple[str | None, ...],
        captures: frozenset[str],
        where: Where,
        runs: tuple[tuple[str, ...], ...] = (),
    ) -> None:
        self.kind = kind
        self.sources = sources
        #: Per alternative, its compiled matcher (which knows whether it runs on the folded message).
        self.regexes = regexes
        #: Per alternative, text every match contains (folded), for the rule index.
        self.literals = literals
        #: Names and numbers a reply may use as {x} after this pattern matched.
        self.captures = captures
        self.where = where
        #: Per alternative, every text a match contains (folded), for the rule index.
        self.runs = runs
        # The match record is built only when the pattern has groups to read.
        self._finds = tuple(rx.search if captures else rx.hit for rx in regexes)

    def search(self, text: str) -> patterns.Match | None:
        """The first alternative's match in *text*, or None."""
        return self.find(*patterns.prepare(text))

    def find(self, text: str, folded: str) -> patterns.Match | None:
        """As :meth:`search`, in a prepared message (:func:`bots.patterns.prepare`); without groups to
        read, the match is :data:`~bots.patterns.NO_CAPTURES`."""
        for find in self._finds:
            found = find(text, folded)
            if found is not None:
                return found
        return None

    def describe(self) -> str:
        """This pattern as YAML writes it, to paste back: ``{contains: 'yes'}``, ``{regex: ['a', 'b']}``."""
        shown = ", ".join(quoted(s) for s in self.sources)
        return f"{{{self.kind}: {f'[{shown}]' if len(self.sources) > 1 else shown}}}"


class Reply(Value):
    """The text(s) the bot may send, and how it picks among several."""

    __slots__ = ("choices", "fixed", "key", "order", "send", "totals", "weights", "where")
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
        #: The Send of the fixed text without a delay, made once: a turn hands it on as it is.
        self.send: Send | None = None
        if len(choices) == 1 and len(choices[0].parts) == 1 and not is_exit(choices[0].parts[0]):
            self.fixed = choices[0].parts[0]
            self.send = Send(self.fixed, fixed=True)


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
        "send",
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
        #: Its Send when the reply is fixed and the rule does nothing else (see Reply.send).
        self.send = reply.send if plain and reply is not None else None
        #: Whether the rule may decline a message its pattern matches (`when` or `after`).
        self.conditional = when is not None or after is not None


MAX_MEMORIES = 32  # replies a chat keeps for later (`remember`): ELIZA recalls one per turn
# no rule answers, so a few are plenty; the bound keeps a long chat's state small. A full queue
# drops its oldest reply to take the new one.


def by_rank(rules: Sequence[Rule]) -> tuple[Rule, ...]:
    """*rules* in the order they are tried: higher rank first, equal ranks in file order."""
    return tuple(sorted(rules, key=lambda rule: -rule.rank))


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
    """One script step: the bot says something, or expects the peer to say one line or a block of lines.

    An expect step holds its *patterns*: one (``expect``), one per line (``expect_lines``, in
    order unless *any_order*), or the pattern of the line that ends the block (``expect_until``).
    """

    __slots__ = (
        "any_order",
        "block",
        "kind",
        "name",
        "number",
        "on_mismatch",
        "patterns",
        "reply",
        "timeout",
        "where",
    )
    __match_args__ = ("number", "kind", "reply", "patterns", "timeout", "on_mismatch", "name", "where")

    def __init__(
        self,
        number: int,
        kind: StepKind,
        reply: Reply | None,
        patterns: tuple[Pattern, ...],
        timeout: float,
        on_mismatch: OnMismatch,
        name: str | None,
        where: Where,
        *,
        block: Block | None = None,
        any_order: bool = False,
    ) -> None:
        self.number = number
        self.kind = kind
        self.reply = reply
        self.patterns = patterns
        self.timeout = timeout
        self.on_mismatch = on_mismatch
        self.name = name
        self.where = where
        #: None for a say step and a one-line expect; else how the block takes its lines.
        self.block = block
        self.any_order = any_order

    @property
    def label(self) -> str:
        """How reports name the step: ``step 3 expect``, ``step 4 expect_lines``."""
        return f"step {self.number} {self.block or self.kind}"

    def describe(self) -> str:
        """What the step expects, as YAML would write it: ``{contains: ready}``, a list for a block."""
        if len(self.patterns) == 1:
            return self.patterns[0].describe()
        return "[" + ", ".join(p.describe() for p in self.patterns) + "]"


class Dialogue(Value):
    """A validated dialogue file, ready to drive any number of conversations."""

    __slots__ = (
        "abort",
        "case_sensitive",
        "clauses",
        "deadline",
        "delay",
        "description",
        "ending",
        "fallback",
        "greeting",
        "index",
        "line_end",
        "max_turns",
        "name",
        "path",
        "reflect",
        "rules",
        "ruleset",
        "script",
        "sequence",
        "starts_at_connection",
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
        "ending",
        "deadline",
        "line_end",
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
        index: patterns.RuleIndex,
        topics: dict[str, Topic] | None = None,
        version: str = "1",
        target: Target | None = None,
        clauses: Clauses | None = None,
        subs: Substitutions | None = None,
        ending: Ending = Ending.EXIT,
        deadline: float | None = None,
        line_end: LineEnd = LineEnd.LF,
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
        #: The format version the file declares: "1", "1.1" or "1.2".
        self.version = version
        #: What the pytest plugin tests with this dialogue, when the file names it (``target:``).
        self.target = target
        #: Where messages are cut into clauses for the rules (format 1.1); None: never.
        self.clauses = clauses
        #: Rewrites a message before the rules see it (format 1.1 `subs`); {input} stays the message.
        self.subs = subs or Substitutions({})
        #: How the bot ends a chat (format 1.2; `exit` before it).
        self.ending = ending
        #: Seconds the whole chat may last (format 1.2); None: no bound but each step's.
        self.deadline = deadline
        #: What ends each line the bot sends (format 1.2).
        self.line_end = line_end
        #: Whether the script is a sequence (format 1.2: says go out at once, one line per expect)
        #: rather than turns (formats 1 and 1.1: one say per peer message).
        self.sequence = version not in ("1", "1.1")
        #: Whether a serving bot starts the chat when a client connects rather than at its first
        #: message: so that a first expect step, a leading say or the chat's deadline start on time.
        self.starts_at_connection = deadline is not None or bool(
            script and (self.sequence or script[0].kind is StepKind.EXPECT)
        )

    def substitute(self, text: str) -> str:
        """*text* as the rules see it: its first MAX_MATCH_CHARS characters, the substitutions made.

        Bounded whatever the message (issue 19): a `when:` reading {input} sees this too.
        """
        return self.subs.apply(text)

    def match(self, text: str) -> tuple[Rule, patterns.Match] | None:
        """The first top-level rule whose pattern matches *text* and its match, or None."""
        return self.ruleset.match(text)

    @property
    def is_test(self) -> bool:
        """True when the script expects something: the dialogue then tests its peer."""
        return any(step.kind is StepKind.EXPECT for step in self.script)
