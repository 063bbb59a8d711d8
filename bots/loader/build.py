"""Building the model's parts from nodes: replies, patterns, rules, and the names used across them.

The sections of a file (:mod:`bots.loader.sections`) are made of these parts. Every
read records its problems and goes on, so one pass reports everything; the check that
needs the whole file here (names used but never set) runs once every section is read.
The keys each part allows, the version each key needs and the bounds of numbers come
from the format's table (:mod:`bots.loader.format`); the script's steps are read by
:mod:`bots.loader.script`, topics by :mod:`bots.loader.topics`, and examples and
redirects are followed by :mod:`bots.loader.routes`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bots import patterns
from bots.clauses import Clauses
from bots.conditions import Condition, ConditionError, parse_condition
from bots.limits import MAX_REPLY_CHARS, MAX_VALUE_CHARS, MAX_VARIABLES, REPLY_REFUSED
from bots.loader.bounds import Assignment, Budget
from bots.loader.format import PATTERN, REPLY, RULE, WEIGHTED, Key, Shape, newer
from bots.loader.lists import ListError, expand
from bots.loader.nodes import CORE, Fields, NodeReader
from bots.loader.problems import Problem
from bots.model import (
    DEFAULT_TIMEOUT_S,
    INPUT_NAME,
    Dialogue,
    Ending,
    LineEnd,
    OnMismatch,
    Order,
    Pattern,
    PatternKind,
    Reply,
    Rule,
    Step,
    Topic,
    Where,
)
from bots.normalize import nfc
from bots.ruleset import rule_index
from bots.subs import Substitutions
from bots.target import Target
from bots.template import Template, TemplateError, parse_template

VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A broken pattern captures names nobody can know: its rule's templates are not checked.
ANY_NAME = frozenset("*")


class Draft:
    """The dialogue's settings and parts as the sections are read; defaults until one is."""

    def __init__(self, path: str) -> None:
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.description = ""
        self.case_sensitive = False
        # Whether exact, contains and glob patterns ignore punctuation around words (the
        # top-level key `punctuation`); format 1 keeps it, as its patterns always did.
        self.ignore_punctuation = False
        self.variables: dict[str, str] = {}
        self.reflect: dict[str, str] = {}
        #: Word lists for patterns (format 1.1): expanded at load, so the model never holds them.
        self.lists: dict[str, tuple[str, ...]] = {}
        #: Substitutions made on each message before matching (format 1.1).
        self.subs: dict[str, str] = {}
        self.greeting: Reply | None = None
        self.rules: tuple[Rule, ...] = ()
        self.fallback: Reply | None = None
        self.script: tuple[Step, ...] = ()
        #: What expect steps do with a line they do not match, unless a step says (format 1.2).
        self.on_mismatch = OnMismatch.FAIL
        #: How the bot ends chats (format 1.2: `end`).
        self.ending = Ending.EXIT
        #: Seconds a whole chat may last (format 1.2: `deadline`).
        self.deadline: float | None = None
        #: What ends each line the bot sends (format 1.2: `line_end`).
        self.line_end = LineEnd.LF
        self.abort: tuple[Pattern, ...] = ()
        self.delay = (0.0, 0.0)
        self.max_turns: int | None = None
        self.timeout = DEFAULT_TIMEOUT_S
        #: "1", "1.1" or "1.2"; None while unknown (missing or unreadable: no key is refused for it).
        self.version: str | None = None
        self.topics: dict[str, Topic] = {}
        self.target: Target | None = None
        self.clauses: Clauses | None = None

    def dialogue(self, path: str) -> Dialogue:
        """The finished record, with the rule index built from the rules."""
        index = rule_index(self.rules)
        return Dialogue(
            path=path,
            name=self.name,
            description=self.description,
            case_sensitive=self.case_sensitive,
            variables=self.variables,
            reflect=self.reflect,
            greeting=self.greeting,
            rules=self.rules,
            fallback=self.fallback,
            script=self.script,
            abort=self.abort,
            delay=self.delay,
            max_turns=self.max_turns,
            timeout=self.timeout,
            index=index,
            topics=self.topics,
            version=self.version or "1",
            target=self.target,
            clauses=self.clauses,
            subs=Substitutions(self.subs),
            ending=self.ending,
            deadline=self.deadline,
            line_end=self.line_end,
        )


class Builder(NodeReader):
    """Reads the parts of the format, collecting problems; the draft collects what they build."""

    def __init__(self, path: str, source: str = "") -> None:
        super().__init__(path, source)
        self.draft = Draft(path)
        self._reply_keys = 0
        # Templates to check once every variable name in the file is known:
        # (template, names the context adds, where).
        self._templates: list[tuple[Template, frozenset[str], Where]] = []
        self._variables: set[str] = set()
        # Every `set:` (with the included files'), for the check of values that grow without bound.
        self._sets: list[Assignment] = []
        # The alternatives compiled so far: a DialogueBuilder shares one with its included files.
        self.budget = Budget()
        #: Problems that do not make the dialogue invalid: `--check` prints them, a chat runs.
        self.warnings: list[Problem] = []
        # Whether the rules section was read without a problem: examples can then be routed.
        self.rules_sound = True
        # Conditions to check once every variable name is known: (condition, where).
        self._conditions: list[tuple[Condition, Where]] = []
        # Topic switches to check once every topic is known: (topic named, the topic the
        # rule is in or None at the top level, the value node).
        self.switches: list[tuple[str, str | None, Node]] = []
        #: Topics whose definition was refused: a switch to one is not "not defined" too.
        self.refused_topics: set[str] = set()

    def needs(self, since: str, node: Node, what: str) -> bool:
        """False, with a problem, when the file declares a version older than *since* and uses *what*."""
        version = self.draft.version
        if version is not None and newer(since, version):
            self.problem(
                node, f"{what} needs format {since}: write 'version: {since}' at the top of the file"
            )
            return False
        return True

    def refused(self, fields: Fields, shape: Shape) -> set[str]:
        """The keys of *fields* that the file's version does not read, each a problem (format table)."""
        return {
            key.name
            for key in shape.keys
            if key.name in fields and not self.needs(key.since, fields[key.name][0], key.called)
        }

    def bounded(self, node: Node, key: Key) -> int | None:
        """A whole number within the key's bounds (format table)."""
        value = self.integer(node, key.name)
        if value is None:
            return None
        low, high = key.minimum, key.maximum
        if low is not None and high is not None and not low <= value <= high:  # a range
            self.problem(node, f"{key.name} must be a whole number from {low} to {high}, not {value}")
            return None
        if low is not None and value < low:
            self.problem(node, f"{key.name} must be at least {low}")
            return None
        return value

    @property
    def case_sensitive(self) -> bool:
        """The dialogue's default for its patterns (a pattern may say otherwise)."""
        return self.draft.case_sensitive

    # -- parts of the format

    def template(
        self,
        text: str,
        node: Node,
        local: frozenset[str],
        limit: int = MAX_REPLY_CHARS,
        refusal: str | None = REPLY_REFUSED,
    ) -> Template | None:
        """A reply's text (by default), or with *refusal* None a value's, cut at *limit* (bots.template)."""
        text = text.rstrip("\r\n")  # a block scalar (| or >) ends with a line break
        if "\n" in text or "\r" in text:
            self.problem(node, "a chat message is one line: this text has a line break inside")
            return None
        try:
            parsed = parse_template(text, limit, refusal)
        except TemplateError as exc:
            self.problem(node, str(exc), exc.offset)
            return None
        if refusal is None and parsed.literal_size > limit:
            self.problem(node, f"this text is over the {limit:,} characters a value holds: shorten it")
            return None
        self._templates.append((parsed, local, self.where(node)))
        return parsed

    def value(self, text: str, node: Node, local: frozenset[str]) -> Template | None:
        """A variable's value or a remembered reply: state a chat keeps, cut at MAX_VALUE_CHARS."""
        return self.template(text, node, local, MAX_VALUE_CHARS, None)

    def define(self, names: Iterable[str], node: Node) -> None:
        """Variable names used from here on; past MAX_VARIABLES in the dialogue, a problem at *node*."""
        before = len(self._variables)
        self._variables.update(names)
        if before <= MAX_VARIABLES < len(self._variables):
            self.problem(
                node,
                f"the dialogue's variables pass the limit of {MAX_VARIABLES} names (included files "
                "counted): every chat keeps each one, so reuse names or split the dialogue",
            )

    def reply(self, node: Node, what: str, local: frozenset[str], *, kept: bool = False) -> Reply | None:
        """Text, a list of texts, or ``{from: [...], order: ...}``; *kept*: a remembered reply (a value)."""
        source, order = node, Order.IN_ORDER
        weighted: list[tuple[str, Node, int | None]] | None = None
        if isinstance(node, MappingNode):
            found = self.reply_mapping(node, what)
            if found is None:
                return None
            source, order = found
            weighted = self.weighted_texts(source, what, order)
        items = weighted if weighted is not None else [(t, n, None) for t, n in self.strings(source, what)]
        choices, weights = [], []
        for text, item, weight in items:
            parsed = self.value(text, item, local) if kept else self.template(text, item, local)
            if parsed is not None:
                choices.append(parsed)
                weights.append(1 if weight is None else weight)
        if not choices:
            return None
        self._reply_keys += 1
        has_weights = any(weight is not None for _t, _n, weight in items)
        return Reply(
            tuple(choices), order, self._reply_keys, self.where(node), tuple(weights) if has_weights else None
        )

    def weighted_texts(
        self, node: Node, what: str, order: Order
    ) -> list[tuple[str, Node, int | None]] | None:
        """The `from` list when an item is ``{text: ..., weight: N}`` (format 1.1); else None."""
        if not isinstance(node, SequenceNode) or not any(isinstance(i, MappingNode) for i in node.value):
            return None
        out: list[tuple[str, Node, int | None]] = []
        for item in node.value:
            if not isinstance(item, MappingNode):
                text = self.string(item, f"each item of {what}")
                if text is not None:
                    out.append((text, item, None))
                continue
            fields = self.mapping(item, f"a weighted text of {what}", WEIGHTED.names)
            if fields is None or not self.needs(
                WEIGHTED.since, item, "a weighted text ({text: ..., weight: N})"
            ):
                continue
            if "text" not in fields:
                self.problem(item, "a weighted text needs 'text': what the bot says")
                continue
            text = self.string(fields["text"][1], f"each item of {what}")
            weight = None
            if "weight" in fields:
                key, value = fields["weight"]
                weight = self.bounded(value, WEIGHTED["weight"])
                if weight is None:
                    continue
                if order is not Order.RANDOM:
                    self.problem(key, f"weight needs 'order: random' ({order} uses every text in turn)")
                    continue
            if text is not None:
                out.append((text, fields["text"][1], weight))
        return out

    def reply_mapping(self, node: Node, what: str) -> tuple[Node, Order] | None:
        """The texts and the order of ``{from: [...], order: ...}`` (an unknown order reads as in_order)."""
        fields = self.mapping(node, what, REPLY.names)
        if fields is None:
            return None
        if "from" not in fields:
            self.problem(node, f"{what} needs 'from': the list of texts to choose from")
            return None
        order = Order.IN_ORDER
        if "order" in fields:
            order = self.choice(fields["order"][1], "order", Order) or order
        return fields["from"][1], order

    def pattern(
        self, kind: str, node: Node, case_sensitive: bool, *, blank_ok: bool = False
    ) -> Pattern | None:
        regexes: list[patterns.Matcher] = []
        literals: list[str | None] = []
        runs: list[tuple[str, ...]] = []
        captures: set[str] = set()
        sources: list[str] = []
        texts = [(str(node.value), node)] if blank_ok else self.pattern_texts(node, kind)
        for text, item in texts:
            try:
                compiled, literal, required = self.budget.compile(
                    kind, text, case_sensitive, self.draft.ignore_punctuation
                )
            except patterns.RegexRefused as exc:
                self.problem(item, exc.message, exc.position if kind == "regex" else None)
                continue
            regexes.append(compiled)
            literals.append(literal)
            runs.append(required)
            captures.update(compiled.groupindex)
            captures.update(str(n) for n in range(1, compiled.groups + 1))
            sources.append(text)
        if not regexes:
            return None
        return Pattern(
            PatternKind(kind),
            tuple(sources),
            tuple(regexes),
            tuple(literals),
            frozenset(captures),
            self.where(node),
            tuple(runs),
        )

    def pattern_texts(self, node: Node, kind: str) -> list[tuple[str, Node]]:
        """A pattern's texts, each ``{list}`` expanded into one text per item (format 1.1; not regex).

        Every text is counted in the load's budget; none past it (its problem names the text).
        """
        written = self.strings(node, kind)
        expands = self.draft.version != "1" and kind != PatternKind.REGEX
        out: list[tuple[str, Node]] = []
        for text, item in written:
            try:
                texts = expand(text, self.draft.lists) if expands else [text]
            except ListError as exc:
                self.problem(item, exc.message, exc.offset)
                continue
            refused = self.budget.take(texts)
            if refused is not None:
                if refused:
                    self.problem(item, refused)
                return []
            out.extend((each, item) for each in texts)
        return out

    def pattern_spec(self, node: Node, what: str, *, previous: bool = False) -> Pattern | None:
        """`text` (contains) or a mapping with one pattern kind and case_sensitive.

        *previous*: the pattern of `after:`, where ``{exact: ''}`` is the bot's previous message
        at the start of a chat (nothing said yet): there a blank exact text is a pattern.
        """
        if isinstance(node, ScalarNode):
            return self.pattern("contains", node, self.case_sensitive)
        fields = self.mapping(node, what, PATTERN.names)
        if fields is None:
            return None
        return self.pattern_in(fields, node, what, previous=previous)

    def pattern_in(self, fields: Fields, node: Node, what: str, *, previous: bool = False) -> Pattern | None:
        kinds = [k for k in PatternKind.words() if k in fields]
        if len(kinds) != 1:
            if kinds:
                self.problem(fields[kinds[1]][0], f"{what} has more than one pattern: {', '.join(kinds)}")
            elif id(node) not in self._unknown_in:
                self.problem(node, f"{what} needs a pattern: one of {', '.join(PatternKind.words())}")
            return None
        case_sensitive = self.case_sensitive
        if "case_sensitive" in fields:
            flag = self.boolean(fields["case_sensitive"][1], "case_sensitive")
            case_sensitive = case_sensitive if flag is None else flag
        value = fields[kinds[0]][1]
        blank = previous and kinds[0] == PatternKind.EXACT and _blank_text(value)
        return self.pattern(kinds[0], value, case_sensitive, blank_ok=blank)

    def rule(self, number: int, node: Node, topic: str | None = None) -> Rule | None:
        what = f"rule {number + 1}" if topic is None else f"rule {number + 1} of topic {topic}"
        fields = self.mapping(node, what, RULE.names)
        if fields is None:
            return None
        refused = self.refused(fields, RULE)  # keys of a newer format than the file's
        read = {name: value for name, (_key, value) in fields.items() if name not in refused}
        pattern = self.pattern_in(fields, node, what)
        local = ANY_NAME if pattern is None else pattern.captures
        reply, redirect = self.rule_answer(fields, "redirect" in read, local, node, what)
        sets = self.assignments(read["set"], local) if "set" in read else []
        examples = []
        if "examples" in read:
            examples = [(text, self.where(item)) for text, item in self.strings(read["examples"], "examples")]
        when = self.condition(read["when"]) if "when" in read else None
        after = self.pattern_spec(read["after"], "after", previous=True) if "after" in read else None
        switch = self.topic_switch(read["topic"], topic) if "topic" in read else None
        rank = self.bounded(read["rank"], RULE["rank"]) if "rank" in read else 0
        remember = self.reply(read["remember"], "remember", local, kept=True) if "remember" in read else None
        parts = {"when": when, "after": after, "topic": switch, "rank": rank, "remember": remember}
        if pattern is None or refused or (reply is None and redirect is None):
            return None
        if any(value is None and name in read for name, value in parts.items()):
            return None
        return Rule(
            number,
            pattern,
            reply,
            tuple(sets),
            tuple(examples),
            self.where(node),
            when=when,
            after=after,
            topic=switch,
            redirect=redirect,
            rank=rank or 0,
            remember=remember,
        )

    def rule_answer(
        self, fields: Fields, redirects: bool, local: frozenset[str], node: Node, what: str
    ) -> tuple[Reply | None, Template | None]:
        """A rule's reply or (format 1.1, *redirects*) its redirect: exactly one of them."""
        if "reply" in fields and redirects:
            self.problem(fields["redirect"][0], f"{what} has both 'reply' and 'redirect': keep one")
            return None, None
        if "reply" in fields:
            return self.reply(fields["reply"][1], "reply", local), None
        if redirects:
            return None, self.redirect(fields["redirect"][1], local)
        if "redirect" not in fields:  # a redirect in a version 1 file is reported as needing 1.1
            either = "" if self.draft.version == "1" else " or a 'redirect'"
            self.problem(node, f"{what} needs a 'reply'{either}")
        return None, None

    def redirect(self, node: Node, local: frozenset[str]) -> Template | None:
        """The message a rule hands back to the rules: one text, which may use {captures}.

        Cut where the rules stop reading a message (a `when:` reads it as {input} too).
        """
        text = self.string(node, "redirect")
        return None if text is None else self.template(text, node, local, patterns.MAX_MATCH_CHARS, None)

    def condition(self, node: Node) -> Condition | None:
        """A ``when:`` expression, parsed (see :mod:`bots.conditions`); bad syntax points at its column."""
        text = self.string(node, "when")
        if text is None:
            return None
        try:
            parsed = parse_condition(text)
        except ConditionError as exc:
            at = self.where(node, exc.offset)

            def place(offset: int) -> str:  # where the unclosed bracket is, counted as the file's columns
                opened = self.where(node, offset)
                line = "" if opened.line == at.line else f"line {opened.line}, "
                return f"{line}col {opened.col}"

            self.problems.append(Problem(at, f"when: {exc.describe(place)}"))
            return None
        self._conditions.append((parsed, self.where(node)))
        return parsed

    def topic_switch(self, node: Node, within: str | None) -> str | None:
        """The topic a rule switches to (checked against the topics once all are read)."""
        name = self.string(node, "topic")
        if name is None:
            return None
        name = nfc(name)  # as topics are named: one name however its accents are typed
        self.switches.append((name, within, node))
        return name

    def assignments(self, node: Node, local: frozenset[str]) -> list[tuple[str, Template]]:
        """A rule's ``set``: variable name -> template."""
        if not isinstance(node, MappingNode):
            self.problem(node, "set must be a mapping of variable: text")
            return []
        out = []
        for key, value in node.value:
            name = self.variable_name(key)
            text = self.string(value, f"the value of {name}", empty_ok=True) if name else None
            if name is None or text is None:
                continue
            parsed = self.value(text, value, local)
            if parsed is not None:
                self.define((name,), key)
                self._sets.append((name, parsed, self.where(value), local))
                out.append((name, parsed))
        return out

    def variable_name(self, node: Node) -> str | None:
        name = self.string(node, "a variable name")
        if name is None:
            return None
        if not VARIABLE_NAME.fullmatch(name):
            self.problem(
                node, f"variable name '{name}' must be letters, digits and _ (not starting with a digit)"
            )
            return None
        if name == INPUT_NAME:
            self.problem(node, "'input' is the message just received: choose another variable name")
            return None
        return name

    # -- checks that need the whole file

    def check_names(self) -> None:
        """Every {name} a template uses is captured by its rule, set somewhere, or {input}."""
        known = self._variables | {INPUT_NAME}
        for parsed, local, where in self._templates:
            for name in parsed.names:
                if name in known or name in local or local is ANY_NAME:
                    continue
                if name.isdigit():
                    message = f"{{{name}}} is not captured: the rule's pattern has fewer groups or wildcards"
                else:
                    message = (
                        f"{{{name}}} is never captured or set: capture it with (?P<{name}>...) in "
                        f"this rule's regex, or give it a value under 'vars' or a rule's 'set'"
                    )
                self.problems.append(Problem(where, message))
        for condition, where in self._conditions:
            for name in sorted(condition.names - known):
                self.problems.append(
                    Problem(
                        where,
                        f"when: '{name}' is never set: give it a value under 'vars' or a rule's 'set'",
                    )
                )


def _blank_text(node: Node) -> bool:
    """Whether *node* is a text of blanks only, written as text (``''``; null is no text)."""
    return isinstance(node, ScalarNode) and node.tag == CORE + "str" and not str(node.value).strip()
