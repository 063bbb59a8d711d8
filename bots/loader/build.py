"""Building the model's parts from nodes: replies, patterns, rules, steps, and the checks across them.

The sections of a file (:mod:`bots.loader.sections`) are made of these parts. Every
read records its problems and goes on, so one pass reports everything; the checks
that need the whole file (names used but never set, examples that another rule
answers) run once every section is read.
"""

from __future__ import annotations

import os
import re

from yaml.nodes import MappingNode, Node, ScalarNode

from bots import matcher
from bots.loader.nodes import Fields, NodeReader
from bots.loader.problems import Problem
from bots.model import (
    DEFAULT_TIMEOUT_S,
    INPUT_NAME,
    Dialogue,
    OnMismatch,
    Order,
    Pattern,
    PatternKind,
    Reply,
    Rule,
    Step,
    StepKind,
    Target,
    Where,
)
from bots.template import Template, TemplateError, parse_template

PATTERN_KINDS = PatternKind.words()
RULE_KEYS = (*PATTERN_KINDS, "case_sensitive", "reply", "set", "examples")
STEP_KEYS = (*StepKind.words(), "timeout", "on_mismatch", "name")
EXPECT_ONLY_KEYS = ("timeout", "on_mismatch")
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
        self.greeting: Reply | None = None
        self.rules: tuple[Rule, ...] = ()
        self.fallback: Reply | None = None
        self.script: tuple[Step, ...] = ()
        self.abort: tuple[Pattern, ...] = ()
        self.delay = (0.0, 0.0)
        self.max_turns: int | None = None
        self.timeout = DEFAULT_TIMEOUT_S
        self.target: Target | None = None

    def dialogue(self, path: str) -> Dialogue:
        """The finished record, with the rule index built from the rules."""
        index = matcher.RuleIndex(
            [list(zip(r.pattern.regexes, r.pattern.literals, strict=True)) for r in self.rules],
            [r.pattern.runs for r in self.rules],
        )
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
            target=self.target,
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
        # Whether the rules section was read without a problem: examples can then be routed.
        self.rules_sound = True

    @property
    def case_sensitive(self) -> bool:
        """The dialogue's default for its patterns (a pattern may say otherwise)."""
        return self.draft.case_sensitive

    # -- parts of the format

    def template(self, text: str, node: Node, local: frozenset[str]) -> Template | None:
        text = text.rstrip("\r\n")  # a block scalar (| or >) ends with a line break
        if "\n" in text or "\r" in text:
            self.problem(node, "a chat message is one line: this text has a line break inside")
            return None
        try:
            parsed = parse_template(text)
        except TemplateError as exc:
            self.problem(node, str(exc), exc.offset)
            return None
        self._templates.append((parsed, local, self.where(node)))
        return parsed

    def reply(self, node: Node, what: str, local: frozenset[str]) -> Reply | None:
        """Text, a list of texts, or ``{from: [...], order: ...}``."""
        source, order = node, Order.IN_ORDER
        if isinstance(node, MappingNode):
            found = self.reply_mapping(node, what)
            if found is None:
                return None
            source, order = found
        choices = [
            parsed
            for text, item in self.strings(source, what)
            if (parsed := self.template(text, item, local)) is not None
        ]
        if not choices:
            return None
        self._reply_keys += 1
        return Reply(tuple(choices), order, self._reply_keys, self.where(node))

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
        regexes: list[matcher.Regex] = []
        literals: list[str | None] = []
        runs: list[tuple[str, ...]] = []
        captures: set[str] = set()
        sources: list[str] = []
        for text, item in self.strings(node, kind):
            try:
                compiled, literal, required = matcher.compile_pattern(
                    kind,
                    text,
                    case_sensitive=case_sensitive,
                    ignore_punctuation=self.draft.ignore_punctuation,
                )
            except matcher.RegexRefused as exc:
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

    def rule(self, number: int, node: Node) -> Rule | None:
        what = f"rule {number + 1}"
        fields = self.mapping(node, what, RULE_KEYS)
        if fields is None:
            return None
        pattern = self.pattern_in(fields, node, what)
        local = ANY_NAME if pattern is None else pattern.captures
        reply = None
        if "reply" not in fields:
            self.problem(node, f"{what} needs a 'reply'")
        else:
            reply = self.reply(fields["reply"][1], "reply", local)
        sets = self.assignments(fields["set"][1], local) if "set" in fields else []
        examples = []
        if "examples" in fields:
            examples = [
                (text, self.where(item)) for text, item in self.strings(fields["examples"][1], "examples")
            ]
        if pattern is None or reply is None:
            return None
        return Rule(number, pattern, reply, tuple(sets), tuple(examples), self.where(node))

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
            parsed = self.template(text, value, local)
            if parsed is not None:
                self._variables.add(name)
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

    def step(self, number: int, node: Node) -> Step | None:
        what = f"script step {number}"
        fields = self.mapping(node, what, STEP_KEYS)
        kind = None if fields is None else self.step_kind(fields, node, what)
        if fields is None or kind is None:
            return None
        name = self.string(fields["name"][1], "name") if "name" in fields else None
        on_mismatch = OnMismatch.FAIL
        if "on_mismatch" in fields:
            on_mismatch = self.choice(fields["on_mismatch"][1], "on_mismatch", OnMismatch) or on_mismatch
        timeout = self.draft.timeout
        if "timeout" in fields:
            timeout = self.number(fields["timeout"][1], "timeout", positive=True) or timeout
        reply = pattern = None
        if kind is StepKind.SAY:
            for key in EXPECT_ONLY_KEYS:
                if key in fields:
                    self.problem(fields[key][0], f"'{key}' belongs to expect steps, not to say steps")
            reply = self.reply(fields["say"][1], "say", frozenset())
        else:
            pattern = self.pattern_spec(fields["expect"][1], "expect")
            if pattern is not None:
                # An expect step's named captures become variables for later steps and replies.
                self._variables.update(n for n in pattern.captures if not n.isdigit())
        if reply is None and pattern is None:
            return None
        return Step(number, kind, reply, pattern, timeout, on_mismatch, name, self.where(node))

    def step_kind(self, fields: Fields, node: Node, what: str) -> StepKind | None:
        """Say or expect: exactly one of them."""
        kinds = [kind for kind in StepKind if kind.value in fields]
        if len(kinds) == 1:
            return kinds[0]
        if kinds:
            self.problem(fields["expect"][0], f"{what} has both 'say' and 'expect': split it in two steps")
        else:
            self.problem(node, f"{what} needs 'say' or 'expect'")
        return None

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

    def check_examples(self, dialogue: Dialogue) -> None:
        """Every example of a rule is answered by that rule."""
        for rule in dialogue.rules:
            for text, where in rule.examples:
                found = dialogue.match(text)
                if found is None:
                    self.problems.append(
                        Problem(where, f"example {text!r} matches no rule, not even its own")
                    )
                elif found[0] is not rule:
                    self.problems.append(Problem(where, _answered_elsewhere(text, rule, found[0])))


def _answered_elsewhere(text: str, rule: Rule, other: Rule) -> str:
    if other.number < rule.number:
        why = "it comes first and shadows this one: move this rule above it or narrow that one"
    else:
        why = "this rule's own pattern does not match it"
    return (
        f"example {text!r} is answered by the rule at line {other.where.line} "
        f"({other.pattern.describe()}), not by this rule: {why}"
    )
