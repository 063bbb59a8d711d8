"""Building the model's parts from nodes: replies, patterns, rules, steps, and the checks across them.

The sections of a file (:mod:`bots.loader.sections`) are made of these parts. Every
read records its problems and goes on, so one pass reports everything; the checks
that need the whole file (names used but never set, examples that another rule
answers) run once every section is read.
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
from bots.loader.bounds import MAX_EXAMPLE_TRIES, UNCHECKED, Assignment, Budget, example_tries
from bots.loader.lists import ListError, expand
from bots.loader.nodes import Fields, NodeReader, did_you_mean
from bots.loader.problems import Problem
from bots.model import (
    DEFAULT_TIMEOUT_S,
    INPUT_NAME,
    MAX_REDIRECTS,
    NO_TOPIC,
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
from bots.ruleset import rule_index
from bots.subs import Substitutions
from bots.target import Target
from bots.template import Template, TemplateError, parse_template

PATTERN_KINDS = PatternKind.words()
RULE_KEYS = (
    *PATTERN_KINDS,
    "case_sensitive",
    "reply",
    "set",
    "examples",
    "when",
    "after",
    "topic",
    "redirect",
    "rank",
    "remember",
)
#: The keys format 1.1 adds to a rule (a version 1 file that uses one is told to declare 1.1).
RULE_KEYS_1_1 = ("when", "after", "topic", "redirect", "rank", "remember")
MAX_RANK = 1_000_000  # ranks only order rules: a bound keeps them plain numbers (ELIZA's go to 50)
CLAUSE_KEYS = ("split",)
TOPIC_KEYS = ("rules", "fallback")
WEIGHTED_KEYS = ("text", "weight")
MAX_WEIGHT = 1000  # one text a thousand times likelier than another is already "never" in a chat;
# the bound keeps the running totals small
_PATTERN_KEYS = (*PATTERN_KINDS, "case_sensitive")
REPLY_KEYS = ("from", "order")
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

    def __init__(self, path: str) -> None:
        super().__init__(path)
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
        self._switches: list[tuple[str, str | None, Node]] = []

    def needs_1_1(self, node: Node, what: str) -> bool:
        """False, with a problem, when the file declares version 1 and uses *what* of format 1.1."""
        if self.draft.version == "1":
            self.problem(node, f"{what} needs format 1.1: write 'version: 1.1' at the top of the file")
            return False
        return True

    def needs_1_2(self, node: Node, what: str) -> bool:
        """False, with a problem, when the file declares version 1 or 1.1 and uses *what* of format 1.2."""
        if self.draft.version in ("1", "1.1"):
            self.problem(node, f"{what} needs format 1.2: write 'version: 1.2' at the top of the file")
            return False
        return True

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
            fields = self.mapping(item, f"a weighted text of {what}", WEIGHTED_KEYS)
            if fields is None or not self.needs_1_1(item, "a weighted text ({text: ..., weight: N})"):
                continue
            if "text" not in fields:
                self.problem(item, "a weighted text needs 'text': what the bot says")
                continue
            text = self.string(fields["text"][1], f"each item of {what}")
            weight = None
            if "weight" in fields:
                key, value = fields["weight"]
                weight = self.integer(value, "weight")
                if weight is None:
                    continue
                if not 1 <= weight <= MAX_WEIGHT:
                    self.problem(value, f"weight must be a whole number from 1 to {MAX_WEIGHT}")
                    continue
                if order is not Order.RANDOM:
                    self.problem(key, f"weight needs 'order: random' ({order} uses every text in turn)")
                    continue
            if text is not None:
                out.append((text, fields["text"][1], weight))
        return out

    def reply_mapping(self, node: Node, what: str) -> tuple[Node, Order] | None:
        """The texts and the order of ``{from: [...], order: ...}`` (an unknown order reads as in_order)."""
        fields = self.mapping(node, what, REPLY_KEYS)
        if fields is None:
            return None
        if "from" not in fields:
            self.problem(node, f"{what} needs 'from': the list of texts to choose from")
            return None
        order = Order.IN_ORDER
        if "order" in fields:
            order = self.choice(fields["order"][1], "order", Order) or order
        return fields["from"][1], order

    def pattern(self, kind: str, node: Node, case_sensitive: bool) -> Pattern | None:
        regexes: list[patterns.Matcher] = []
        literals: list[str | None] = []
        runs: list[tuple[str, ...]] = []
        captures: set[str] = set()
        sources: list[str] = []
        for text, item in self.pattern_texts(node, kind):
            try:
                compiled, literal, required = self.budget.compile(
                    kind, text, case_sensitive, self.draft.ignore_punctuation
                )
            except patterns.RegexRefused as exc:
                self.problem(item, exc.message, exc.position if kind == "regex" else 0)
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

    def pattern_spec(self, node: Node, what: str) -> Pattern | None:
        """`text` (contains) or a mapping with one pattern kind and case_sensitive."""
        if isinstance(node, ScalarNode):
            return self.pattern("contains", node, self.case_sensitive)
        fields = self.mapping(node, what, _PATTERN_KEYS)
        if fields is None:
            return None
        return self.pattern_in(fields, node, what)

    def pattern_in(self, fields: dict[str, tuple[Node, Node]], node: Node, what: str) -> Pattern | None:
        kinds = [k for k in PATTERN_KINDS if k in fields]
        if len(kinds) != 1:
            if kinds:
                self.problem(fields[kinds[1]][0], f"{what} has more than one pattern: {', '.join(kinds)}")
            elif id(node) not in self._unknown_in:
                self.problem(node, f"{what} needs a pattern: one of {', '.join(PATTERN_KINDS)}")
            return None
        case_sensitive = self.case_sensitive
        if "case_sensitive" in fields:
            flag = self.boolean(fields["case_sensitive"][1], "case_sensitive")
            case_sensitive = case_sensitive if flag is None else flag
        return self.pattern(kinds[0], fields[kinds[0]][1], case_sensitive)

    def rule(self, number: int, node: Node, topic: str | None = None) -> Rule | None:
        what = f"rule {number + 1}" if topic is None else f"rule {number + 1} of topic {topic}"
        fields = self.mapping(node, what, RULE_KEYS)
        if fields is None:
            return None
        newer = [key for key in RULE_KEYS_1_1 if key in fields and self.needs_1_1(fields[key][0], f"'{key}'")]
        refused = len(newer) != sum(key in fields for key in RULE_KEYS_1_1)  # 1.1 keys in a version 1 file
        pattern = self.pattern_in(fields, node, what)
        local = ANY_NAME if pattern is None else pattern.captures
        reply, redirect = self.rule_answer(fields, "redirect" in newer, local, node, what)
        sets = self.assignments(fields["set"][1], local) if "set" in fields else []
        examples = []
        if "examples" in fields:
            examples = [
                (text, self.where(item)) for text, item in self.strings(fields["examples"][1], "examples")
            ]
        when = self.condition(fields["when"][1]) if "when" in newer else None
        after = self.pattern_spec(fields["after"][1], "after") if "after" in newer else None
        switch = self.topic_switch(fields["topic"][1], topic) if "topic" in newer else None
        rank = self.rank(fields["rank"][1]) if "rank" in newer else 0
        remember = None
        if "remember" in newer:
            remember = self.reply(fields["remember"][1], "remember", local, kept=True)
        read = [("when", when), ("after", after), ("topic", switch), ("rank", rank), ("remember", remember)]
        if pattern is None or refused or (reply is None and redirect is None):
            return None
        if any(key in fields and value is None for key, value in read):
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

    def rank(self, node: Node) -> int | None:
        """A rule's ``rank``: a whole number, higher tried first."""
        rank = self.integer(node, "rank")
        if rank is not None and abs(rank) > MAX_RANK:
            self.problem(node, f"rank must be from -{MAX_RANK} to {MAX_RANK}, not {rank}")
            return None
        return rank

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
            self.problem(node, f"when: {exc}", exc.offset)
            return None
        self._conditions.append((parsed, self.where(node)))
        return parsed

    def topic_switch(self, node: Node, within: str | None) -> str | None:
        """The topic a rule switches to (checked against the topics once all are read)."""
        name = self.string(node, "topic")
        if name is None:
            return None
        self._switches.append((name, within, node))
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

    def check_topics(self) -> None:
        """Every switch names a topic, and every topic is reached from the top-level rules."""
        topics = self.draft.topics
        graph: dict[str | None, set[str]] = {}
        for name, within, node in self._switches:
            if name == NO_TOPIC:
                continue
            if name not in topics:
                hint = did_you_mean(name, sorted(topics))
                self.problem(node, f"topic '{name}' is not defined: {hint}define it under 'topics'")
                continue
            graph.setdefault(within, set()).add(name)
        reached: set[str] = set()
        todo = list(graph.get(None, ()))
        while todo:
            name = todo.pop()
            if name not in reached:
                reached.add(name)
                todo.extend(graph.get(name, ()))
        for name, topic in topics.items():
            if name not in reached:
                self.problems.append(
                    Problem(
                        topic.where,
                        f"topic '{name}' is unreachable: no top-level rule, nor a rule of a reachable "
                        f"topic, switches to it (topic: {name})",
                    )
                )

    def check_redirects(self, dialogue: Dialogue) -> None:
        """Follow each fixed redirect as the chat would: a loop or a chain over the limit is a problem."""
        lists = [(None, dialogue.rules)] + [(name, t.rules) for name, t in dialogue.topics.items()]
        for within, rules in lists:
            for rule in rules:
                if rule.redirect is not None and not rule.redirect.names:
                    problem = _redirect_chain(dialogue, rule, within)
                    if problem is not None:
                        self.problems.append(Problem(rule.where, problem))

    def check_examples(self, dialogue: Dialogue) -> None:
        """Every example of a rule is answered by that rule (a topic's rule: within its topic)."""
        lists = [(dialogue.rules, dialogue.ruleset)] + [
            (t.rules, t.ruleset) for t in dialogue.topics.values()
        ]
        tries = 0
        for rules, ruleset in lists:
            # By place in the list, not by number: included rules come after the file's own.
            place = {id(rule): position for position, rule in enumerate(rules)}
            for rule in rules:
                for text, where in rule.examples:
                    routed = dialogue.substitute(text)  # as a conversation matches it
                    tries += example_tries(ruleset, routed)
                    if tries > MAX_EXAMPLE_TRIES:
                        self.warnings.append(Problem(where, UNCHECKED))
                        return
                    found = ruleset.match(routed)
                    if found is None:
                        self.problems.append(
                            Problem(where, f"example {text!r} matches no rule, not even its own")
                        )
                    elif found[0] is not rule:
                        earlier = place.get(id(found[0]), len(rules)) < place[id(rule)]
                        self.problems.append(
                            Problem(where, _answered_elsewhere(text, rule, found[0], earlier))
                        )


def _redirect_chain(dialogue: Dialogue, rule: Rule, within: str | None) -> str | None:
    """Why following *rule*'s fixed redirect would stop the chat at the limit, or None.

    Only what the loader can know is followed: fixed texts, through rules without
    conditions (a condition may hold or not; the run-time bound covers the rest).
    """
    seen = [rule]
    topic = within
    while True:
        current = seen[-1]
        if current.topic is not None:
            topic = None if current.topic == NO_TOPIC else current.topic
        redirect = current.redirect
        if redirect is None or redirect.names:
            return None
        if len(seen) > MAX_REDIRECTS:
            return (
                f"redirect leads through more than {MAX_REDIRECTS} redirects (MAX_REDIRECTS): "
                "the chat would stop before the end of the chain"
            )
        text = redirect.parts[0] if redirect.parts else ""
        found = None
        if topic is not None and topic in dialogue.topics:
            found = dialogue.topics[topic].ruleset.match(text)
        if found is None:
            found = dialogue.match(text)
        if found is None or found[0].conditional:
            return None
        if any(found[0] is earlier for earlier in seen):
            path = " -> ".join(repr(r.redirect.source) for r in seen if r.redirect is not None)
            return f"redirect goes round in a loop ({path} -> back to line {found[0].where.line})"
        seen.append(found[0])


def _answered_elsewhere(text: str, rule: Rule, other: Rule, earlier: bool) -> str:
    if other.rank > rule.rank:
        why = (
            f"its rank ({other.rank}) is higher and it shadows this one: "
            "raise this rule's rank or narrow that one"
        )
    elif earlier:
        why = "it comes first and shadows this one: move this rule above it or narrow that one"
    else:
        why = "this rule's own pattern does not match it"
    at = f"line {other.where.line}" if other.where.file == rule.where.file else other.where.file_line
    return (
        f"example {text!r} is answered by the rule at {at} "
        f"({other.pattern.describe()}), not by this rule: {why}"
    )
