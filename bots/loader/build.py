"""Validation and building: one walk over the node tree, collecting problems and building the model."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bots import matcher
from bots.loader.problems import Problem
from bots.model import (
    DEFAULT_TIMEOUT_S,
    INPUT_NAME,
    ON_MISMATCH,
    ORDERS,
    PATTERN_KINDS,
    TARGET_KINDS,
    Dialogue,
    Pattern,
    Reply,
    Rule,
    Step,
    Target,
    Where,
    split_target,
)
from bots.template import Template, TemplateError, parse_template

FORMAT_VERSION = 1


# Tags of the YAML core schema (plus timestamp, which a plain date resolves to and
# which we read as text). Anything else (!!python/object, !!binary, !!set, !local)
# asks the loader to build something other than plain data, and is refused.
_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(
    _CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
)

_TOP_KEYS = (
    "version",
    "name",
    "description",
    "case_sensitive",
    "vars",
    "reflect",
    "greeting",
    "rules",
    "fallback",
    "script",
    "abort",
    "delay",
    "max_turns",
    "timeout",
    "target",
)
_RULE_KEYS = (*PATTERN_KINDS, "case_sensitive", "reply", "set", "examples")
_STEP_KEYS = ("say", "expect", "timeout", "on_mismatch", "name")
_PATTERN_KEYS = (*PATTERN_KINDS, "case_sensitive")
_REPLY_KEYS = ("from", "order")


# The model's records are plain classes (bots.value.Value), not dataclasses: chat-bot --check
# would spend about a third of its start-up importing dataclasses and building the classes.


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    import difflib  # only on the error path: keeps start-up fast

    close = difflib.get_close_matches(word, choices, n=1)
    return f"did you mean '{close[0]}'? " if close else ""


class Builder:
    """Walks the node tree once, collecting problems and building the model."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self._reply_keys = 0
        # Templates to check once every variable name in the file is known:
        # (template, names the context adds, where).
        self._templates: list[tuple[Template, frozenset[str], Where]] = []
        self._variables: set[str] = set()
        self.case_sensitive = False
        # Mappings that had an unknown key: a missing pattern there is the same mistake.
        self._unknown_in: set[int] = set()

    # -- small helpers

    def where(self, node: Node, offset: int = 0) -> Where:
        mark = node.start_mark
        col = int(mark.column) + 1
        # Point inside a one-line scalar when we can count its characters exactly.
        if offset and isinstance(node, ScalarNode) and node.style in (None, "", "'"):
            raw = node.value
            if "\n" not in raw and "'" not in raw:
                col += offset + (1 if node.style == "'" else 0)
        return Where(self.path, int(mark.line) + 1, col)

    def problem(self, node: Node, message: str, offset: int = 0) -> None:
        self.problems.append(Problem(self.where(node, offset), message))

    def check_tags(self, node: Node) -> bool:
        """Refuse tags that build objects; True when the whole tree is plain data."""
        ok = True
        stack = [node]
        while stack:
            current = stack.pop()
            if current.tag not in _ALLOWED_TAGS:
                if current.tag == _CORE + "merge":
                    self.problem(current, "YAML merge keys (<<) are not allowed in a dialogue file")
                else:
                    self.problem(
                        current,
                        f"YAML tag {current.tag.replace(_CORE, '!!')!r} is not allowed: "
                        "a dialogue file holds plain text, numbers, lists and mappings only",
                    )
                ok = False
            if isinstance(current, SequenceNode):
                stack.extend(current.value)
            elif isinstance(current, MappingNode):
                for key, value in current.value:
                    stack.extend((key, value))
        return ok

    def mapping(self, node: Node, what: str, allowed: Sequence[str]) -> dict[str, tuple[Node, Node]] | None:
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping (key: value lines)")
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.problem(key, f"a key in {what} must be plain text")
                continue
            name = str(key.value)
            if name in out:
                first = self.where(out[name][0])
                self.problem(key, f"duplicate key '{name}' in {what} (first at line {first.line})")
                continue
            if name not in allowed:
                self._unknown_in.add(id(node))
                self.problem(
                    key,
                    f"unknown key '{name}' in {what}: {_did_you_mean(name, allowed)}"
                    f"expected one of: {', '.join(allowed)}",
                )
                continue
            out[name] = (key, value)
        return out

    def string(self, node: Node, what: str, *, empty_ok: bool = False) -> str | None:
        # Any plain scalar is text where text is expected: `expect: yes` means the
        # word yes, not the YAML 1.1 boolean true.
        if not isinstance(node, ScalarNode):
            self.problem(
                node, f"{what} must be text, not a {'list' if isinstance(node, SequenceNode) else 'mapping'}"
            )
            return None
        text = str(node.value)
        if not text.strip() and not empty_ok:
            self.problem(node, f"{what} is empty")
            return None
        return text

    def strings(self, node: Node, what: str) -> list[tuple[str, Node]]:
        """Text or a non-empty list of texts."""
        if isinstance(node, SequenceNode):
            if not node.value:
                self.problem(node, f"{what} is an empty list")
                return []
            out = []
            for item in node.value:
                text = self.string(item, f"each item of {what}")
                if text is not None:
                    out.append((text, item))
            return out
        text = self.string(node, what)
        return [] if text is None else [(text, node)]

    def number(self, node: Node, what: str, *, positive: bool) -> float | None:
        if not isinstance(node, ScalarNode) or node.tag not in (_CORE + "int", _CORE + "float"):
            self.problem(node, f"{what} must be a number of seconds")
            return None
        try:
            value = float(str(node.value).replace("_", ""))
        except ValueError:
            value = float("nan")
        if value != value or value in (float("inf"), float("-inf")):
            self.problem(node, f"{what} must be a finite number of seconds")
            return None
        if value < 0 or (positive and value == 0):
            self.problem(node, f"{what} must be {'above' if positive else 'at least'} 0")
            return None
        return value

    def integer(self, node: Node, what: str) -> int | None:
        if not isinstance(node, ScalarNode) or node.tag != _CORE + "int":
            self.problem(node, f"{what} must be a whole number")
            return None
        try:
            value = int(str(node.value).replace("_", ""), 0)
        except ValueError:
            self.problem(node, f"{what} must be a whole number written in decimal")
            return None
        return value

    def boolean(self, node: Node, what: str) -> bool | None:
        if not isinstance(node, ScalarNode) or node.tag != _CORE + "bool":
            self.problem(node, f"{what} must be true or false")
            return None
        return str(node.value).lower() in ("true", "yes", "on", "y")

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
        order = "in_order"
        source = node
        if isinstance(node, MappingNode):
            fields = self.mapping(node, what, _REPLY_KEYS)
            if fields is None:
                return None
            if "from" not in fields:
                self.problem(node, f"{what} needs 'from': the list of texts to choose from")
                return None
            source = fields["from"][1]
            if "order" in fields:
                chosen = self.string(fields["order"][1], "order")
                if chosen is not None and chosen not in ORDERS:
                    self.problem(fields["order"][1], f"order must be one of: {', '.join(ORDERS)}")
                elif chosen is not None:
                    order = chosen
        choices = []
        for text, item in self.strings(source, what):
            parsed = self.template(text, item, local)
            if parsed is not None:
                choices.append(parsed)
        if not choices:
            return None
        self._reply_keys += 1
        return Reply(tuple(choices), order, self._reply_keys, self.where(node))

    def pattern(self, kind: str, node: Node, case_sensitive: bool) -> Pattern | None:
        flags = 0 if case_sensitive else re.IGNORECASE
        regexes: list[re.Pattern[str]] = []
        literals: list[str | None] = []
        runs: list[tuple[str, ...]] = []
        captures: set[str] = set()
        sources: list[str] = []
        for text, item in self.strings(node, kind):
            if kind == "regex":
                source = text
            elif kind == "exact":
                source = matcher.exact_regex(text)
            elif kind == "contains":
                source = matcher.contains_regex(text)
            else:
                source = matcher.glob_regex(text)
            try:
                compiled = re.compile(source, flags)
                tree = matcher.parse_regex(source, flags)
                matcher.check_regex_safety(tree)
            except re.error as exc:
                pos = exc.pos if kind == "regex" and exc.pos is not None else 0
                self.problem(item, f"regex does not compile: {exc.msg} at position {pos}", pos)
                continue
            except matcher.UnsafeRegex as exc:
                self.problem(item, f"regex refused: {exc}")
                continue
            except RecursionError:
                self.problem(item, "regex refused: nested too deeply")
                continue
            regexes.append(compiled)
            literals.append(matcher.required_literal(tree))
            runs.append(matcher.required_literals(tree))
            captures.update(compiled.groupindex)
            captures.update(str(n) for n in range(1, compiled.groups + 1))
            sources.append(text)
        if not regexes:
            return None
        return Pattern(
            kind,
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
        fields = self.mapping(node, f"rule {number + 1}", _RULE_KEYS)
        if fields is None:
            return None
        pattern = self.pattern_in(fields, node, f"rule {number + 1}")
        # "*": the pattern is broken, so which names it captures is unknown: check none.
        local = frozenset("*") if pattern is None else pattern.captures
        reply = None
        if "reply" not in fields:
            self.problem(node, f"rule {number + 1} needs a 'reply'")
        else:
            reply = self.reply(fields["reply"][1], "reply", local)
        sets: list[tuple[str, Template]] = []
        if "set" in fields:
            sets = self.assignments(fields["set"][1], local)
        examples: list[tuple[str, Where]] = []
        if "examples" in fields:
            examples = [
                (text, self.where(item)) for text, item in self.strings(fields["examples"][1], "examples")
            ]
        if pattern is None or reply is None:
            return None
        return Rule(number, pattern, reply, tuple(sets), tuple(examples), self.where(node))

    def assignments(self, node: Node, local: frozenset[str]) -> list[tuple[str, Template]]:
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
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            self.problem(
                node, f"variable name '{name}' must be letters, digits and _ (not starting with a digit)"
            )
            return None
        if name == INPUT_NAME:
            self.problem(node, "'input' is the message just received: choose another variable name")
            return None
        return name

    def step(self, number: int, node: Node, timeout: float) -> Step | None:
        what = f"script step {number}"
        fields = self.mapping(node, what, _STEP_KEYS)
        if fields is None:
            return None
        kinds = [k for k in ("say", "expect") if k in fields]
        if len(kinds) != 1:
            if kinds:
                self.problem(
                    fields["expect"][0], f"{what} has both 'say' and 'expect': split it in two steps"
                )
            else:
                self.problem(node, f"{what} needs 'say' or 'expect'")
            return None
        name = self.string(fields["name"][1], "name") if "name" in fields else None
        on_mismatch = "fail"
        if "on_mismatch" in fields:
            value = self.string(fields["on_mismatch"][1], "on_mismatch")
            if value is not None and value not in ON_MISMATCH:
                self.problem(
                    fields["on_mismatch"][1], f"on_mismatch must be one of: {', '.join(ON_MISMATCH)}"
                )
            elif value is not None:
                on_mismatch = value
        step_timeout = timeout
        if "timeout" in fields:
            step_timeout = self.number(fields["timeout"][1], "timeout", positive=True) or timeout
        if kinds[0] == "say":
            for key in ("timeout", "on_mismatch"):
                if key in fields:
                    self.problem(fields[key][0], f"'{key}' belongs to expect steps, not to say steps")
            reply = self.reply(fields["say"][1], "say", frozenset())
            if reply is None:
                return None
            return Step(number, "say", reply, None, step_timeout, on_mismatch, name, self.where(node))
        pattern = self.pattern_spec(fields["expect"][1], "expect")
        if pattern is None:
            return None
        # An expect step's named captures become variables for later steps and replies.
        self._variables.update(n for n in pattern.captures if not n.isdigit())
        return Step(number, "expect", None, pattern, step_timeout, on_mismatch, name, self.where(node))

    def delay(self, node: Node) -> tuple[float, float]:
        if isinstance(node, SequenceNode):
            if len(node.value) != 2:
                self.problem(node, "delay must be a number of seconds or a range [min, max]")
                return (0.0, 0.0)
            low = self.number(node.value[0], "delay minimum", positive=False)
            high = self.number(node.value[1], "delay maximum", positive=False)
            if low is None or high is None:
                return (0.0, 0.0)
            if low > high:
                self.problem(node, f"delay range [{low:g}, {high:g}] has its minimum above its maximum")
                return (0.0, 0.0)
            return (low, high)
        value = self.number(node, "delay", positive=False)
        return (0.0, 0.0) if value is None else (value, value)

    def target(self, node: Node) -> Target | None:
        """``target: KIND:VALUE``, or ``{KIND: VALUE, ready: REGEX}``, or ``{terminal: ..., peer: FILE}``."""
        where = self.where(node)
        if isinstance(node, ScalarNode):
            text = self.string(node, "target")
            fields: dict[str, tuple[Node, Node]] = {}
        else:
            found = self.mapping(node, "target", (*TARGET_KINDS, "ready", "peer"))
            if found is None:
                return None
            fields = found
            kinds = [k for k in TARGET_KINDS if k in fields]
            if len(kinds) != 1:
                self.problem(node, f"target names one of {', '.join(TARGET_KINDS)}, not {len(kinds)}")
                return None
            value = self.string(fields[kinds[0]][1], f"the {kinds[0]} target")
            text = None if value is None else f"{kinds[0]}:{value}"
        if text is None:
            return None
        try:
            kind, value = split_target(text)
        except ValueError as exc:
            self.problem(node, str(exc))
            return None
        options: dict[str, str | None] = {"ready": None, "peer": None}
        for option, goes_with in (("ready", "command"), ("peer", "terminal")):
            if option not in fields:
                continue
            if kind != goes_with:
                self.problem(fields[option][0], f"'{option}' goes with a {goes_with} target, not {kind}")
                continue
            options[option] = self.string(fields[option][1], f"target {option}")
        if options["ready"] is not None:
            try:
                re.compile(options["ready"])
            except re.error as exc:
                self.problem(fields["ready"][1], f"target ready is not a valid regular expression: {exc}")
        return Target(kind, value, options["ready"], options["peer"], where)

    def build(self, root: Node | None) -> Dialogue | None:
        if root is None:
            self.problems.append(
                Problem(Where(self.path, 1, 1), "file is empty: a dialogue starts with 'version: 1'")
            )
            return None
        if not self.check_tags(root):
            return None
        fields = self.mapping(root, "the dialogue", _TOP_KEYS)
        if fields is None:
            return None
        if "version" not in fields:
            self.problem(root, f"missing 'version: {FORMAT_VERSION}' (the dialogue format version)")
        else:
            version = self.integer(fields["version"][1], "version")
            if version is not None and version != FORMAT_VERSION:
                self.problem(
                    fields["version"][1],
                    f"version {version} is not supported: "
                    f"this chat-bot reads dialogue format {FORMAT_VERSION}",
                )
        name = os.path.splitext(os.path.basename(self.path))[0]
        if "name" in fields:
            name = self.string(fields["name"][1], "name") or name
        description = ""
        if "description" in fields:
            description = self.string(fields["description"][1], "description", empty_ok=True) or ""
        if "case_sensitive" in fields:
            self.case_sensitive = bool(self.boolean(fields["case_sensitive"][1], "case_sensitive"))
        timeout = DEFAULT_TIMEOUT_S
        if "timeout" in fields:
            timeout = self.number(fields["timeout"][1], "timeout", positive=True) or timeout
        variables: dict[str, str] = {}
        if "vars" in fields:
            node = fields["vars"][1]
            if isinstance(node, MappingNode):
                for key, value in node.value:
                    var = self.variable_name(key)
                    text = self.string(value, f"the value of {var}", empty_ok=True) if var else None
                    if var is not None and text is not None:
                        variables[var] = text
                        self._variables.add(var)
            else:
                self.problem(node, "vars must be a mapping of variable: text")
        reflect: dict[str, str] = {}
        if "reflect" in fields:
            node = fields["reflect"][1]
            if isinstance(node, MappingNode):
                for key, value in node.value:
                    word = self.string(key, "a reflected word")
                    into = self.string(value, "a reflection", empty_ok=True)
                    if word is not None and into is not None:
                        reflect[word.lower()] = into
            else:
                self.problem(node, "reflect must be a mapping of word: replacement")
        script: list[Step] = []
        if "script" in fields:
            node = fields["script"][1]
            if isinstance(node, SequenceNode):
                for number, item in enumerate(node.value, start=1):
                    step = self.step(number, item, timeout)
                    if step is not None:
                        script.append(step)
            else:
                self.problem(node, "script must be a list of steps (- say: ... / - expect: ...)")
        rules: list[Rule] = []
        problems_before_rules = len(self.problems)
        if "rules" in fields:
            node = fields["rules"][1]
            if isinstance(node, SequenceNode):
                for position, item in enumerate(node.value):
                    rule = self.rule(position, item)
                    if rule is not None:
                        rules.append(rule)
            else:
                self.problem(node, "rules must be a list of rules (- contains: ... reply: ...)")
        # Examples can be routed whenever every rule was built, whatever else is wrong in the file.
        rules_sound = len(self.problems) == problems_before_rules
        greeting = (
            self.reply(fields["greeting"][1], "greeting", frozenset()) if "greeting" in fields else None
        )
        fallback = (
            self.reply(fields["fallback"][1], "fallback", frozenset()) if "fallback" in fields else None
        )
        abort: list[Pattern] = []
        if "abort" in fields:
            node = fields["abort"][1]
            for item in node.value if isinstance(node, SequenceNode) else [node]:
                found = self.pattern_spec(item, "abort")
                if found is not None:
                    abort.append(found)
        delay = self.delay(fields["delay"][1]) if "delay" in fields else (0.0, 0.0)
        max_turns = None
        if "max_turns" in fields:
            max_turns = self.integer(fields["max_turns"][1], "max_turns")
            if max_turns is not None and max_turns < 1:
                self.problem(fields["max_turns"][1], "max_turns must be at least 1")
                max_turns = None
        self.check_names()
        index = matcher.RuleIndex(
            [list(zip(r.pattern.regexes, r.pattern.literals, strict=True)) for r in rules],
            [r.pattern.runs for r in rules],
        )
        dialogue = Dialogue(
            path=self.path,
            name=name,
            description=description,
            case_sensitive=self.case_sensitive,
            variables=variables,
            reflect=reflect,
            greeting=greeting,
            rules=tuple(rules),
            fallback=fallback,
            script=tuple(script),
            abort=tuple(abort),
            delay=delay,
            max_turns=max_turns,
            timeout=timeout,
            index=index,
            target=self.target(fields["target"][1]) if "target" in fields else None,
        )
        if rules_sound:
            self.check_examples(dialogue)
        return dialogue

    def check_names(self) -> None:
        known = self._variables | {INPUT_NAME}
        for parsed, local, where in self._templates:
            for name in parsed.names:
                if name in known or name in local or "*" in local:
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
        for rule in dialogue.rules:
            for text, where in rule.examples:
                found = dialogue.match(text)
                if found is None:
                    self.problems.append(
                        Problem(where, f"example {text!r} matches no rule, not even its own")
                    )
                elif found[0] is not rule:
                    other = found[0]
                    if other.number < rule.number:
                        why = (
                            "it comes first and shadows this one: move this rule above it or narrow that one"
                        )
                    else:
                        why = "this rule's own pattern does not match it"
                    self.problems.append(
                        Problem(
                            where,
                            f"example {text!r} is answered by the rule at line {other.where.line} "
                            f"({other.pattern.describe()}), not by this rule: {why}",
                        )
                    )
