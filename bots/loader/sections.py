"""The top level of a dialogue file: one reader per section, driven by the format's table.

Like h11's readers, :data:`SECTIONS` maps each top-level key of the format's table
(:data:`bots.loader.format.DIALOGUE`, in its order) to the method that reads it into the
draft, ``read_KEY``; a key of a newer format than the file's is refused before its
reader runs. The sections share the readers of the format's parts (:mod:`bots.loader.build`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bots.clauses import Clauses
from bots.limits import MAX_VALUE_CHARS
from bots.loader import lists, routes, script, topics
from bots.loader.bounds import growing_sets
from bots.loader.build import VARIABLE_NAME, Builder
from bots.loader.format import CLAUSES, CONTRIBUTED, DIALOGUE, INCLUDED_KEYS, TARGET, VERSIONS
from bots.loader.includes import Includes
from bots.loader.nodes import CORE, NUMBER_TAGS, Fields
from bots.loader.problems import Problem
from bots.model import (
    Dialogue,
    Ending,
    LineEnd,
    OnMismatch,
    Rule,
    Where,
    by_rank,
)
from bots.normalize import fold, nfc
from bots.subs import MAX_KEY_CHARS, MAX_SUBSTITUTIONS
from bots.target import TARGET_KINDS, Target, split_target

FORMAT_VERSION = 1
#: The versions this chat-bot reads, as YAML numbers: 1.1 adds topics, conditions,
#: redirects and weights; 1.2 runs scripts as sequences (blocks of lines, endings, deadlines).
#: Each reads every file of the versions before it the same way.
FORMAT_VERSIONS = {float(version): version for version in VERSIONS}
PUNCTUATION = DIALOGUE["punctuation"].words_in(VERSIONS[-1])  # keep or ignore: see bots.patterns.kinds
#: A clause delimiter: a word (cut only where it stands alone) or punctuation (cut anywhere).
DELIMITER = re.compile(r"\w+|[^\w\s]+")


class DialogueBuilder(Builder):
    """Walks the node tree once, section by section, collecting problems and building the dialogue."""

    def __init__(
        self, path: str, includes: Includes | None = None, *, included: bool = False, source: str = ""
    ) -> None:
        super().__init__(path, source)
        #: The key node of each top-level section (problems about a whole section point at it).
        self.section_keys: dict[str, Node] = {}
        #: What this load has included so far (shared with the builders of included files).
        self.includes = includes or Includes(path)
        self.budget = self.includes.budget  # one count of alternatives for the file and its includes
        #: Whether this file is read as another file's include (it then contributes parts only).
        self.included = included
        #: The rules of included files, in include order: they follow this file's own.
        self.included_rules: list[Rule] = []
        # Whether every included file's rules were read without a problem (examples need them all).
        self.included_sound = True

    def build(self, root: Node | None) -> Dialogue | None:
        """The dialogue, or None when the file is not a mapping of plain data."""
        fields = self.top_level(root)
        if fields is None:
            return None
        if self.included:
            self.check_included_keys(fields)
        for key in READING_ORDER:
            if key not in fields:
                continue
            if self.needs(DIALOGUE[key].since, fields[key][0], DIALOGUE[key].called):
                SECTIONS[key](self, fields[key][1])
            elif key == "topics":
                self.rules_sound = False  # rules may switch to topics that are not read: no examples
        # Higher ranks first; equal ranks in file order, the included files' rules after the file's own.
        self.draft.rules = by_rank((*self.draft.rules, *self.included_rules))
        self.rules_sound = self.rules_sound and self.included_sound
        self.check_names()
        topics.check_topics(self)
        if not self.included:  # the whole dialogue's sets: a loop may pass through an included file
            growing = growing_sets(self._sets, self._variables)
            self.warnings += [Problem(where, message) for where, message in growing]
        dialogue = self.draft.dialogue(self.path)
        if self.rules_sound:
            router = routes.ExampleRouter(dialogue)
            router.check_all()
            self.problems += router.problems
            self.warnings += router.warnings
            self.problems += routes.check_redirects(dialogue)
        return dialogue

    def top_level(self, root: Node | None) -> Fields | None:
        if root is None:
            self.problems.append(
                Problem(Where(self.path, 1, 1), "file is empty: a dialogue starts with 'version: 1'")
            )
            return None
        if not self.check_tags(root):
            return None
        fields = self.mapping(root, "the dialogue", tuple(SECTIONS))
        if fields is not None:
            self.section_keys = {name: key for name, (key, _value) in fields.items()}
        if fields is not None and "version" not in fields:
            self.problem(
                root, "missing 'version: 1', 'version: 1.1' or 'version: 1.2' (the dialogue format version)"
            )
        return fields

    def check_included_keys(self, fields: Fields) -> None:
        """An included file holds only what it contributes, and what describes or reads it."""
        for key, (key_node, _value) in fields.items():
            if key not in INCLUDED_KEYS:
                self.problem(
                    key_node,
                    f"'{key}' is not used in an included file (only {', '.join(CONTRIBUTED)} are): "
                    "move it to the including file",
                )

    # -- the sections: one reader per top-level key (see SECTIONS)

    def read_version(self, node: Node) -> None:
        """A number, 1, 1.1 or 1.2 (``1.0`` and ``1.10`` are the same numbers; the text "1.1" is not one)."""
        if not isinstance(node, ScalarNode) or node.tag not in NUMBER_TAGS:
            self.problem(node, "version must be a number: 1, 1.1 or 1.2")
            return
        try:
            value = float(str(node.value).replace("_", ""))
        except ValueError:
            value = float("nan")
        version = FORMAT_VERSIONS.get(value)
        if version is None:
            self.problem(
                node,
                f"version {node.value} is not supported: this chat-bot reads dialogue formats 1, 1.1 and 1.2",
            )
            return
        self.draft.version = version
        # Format 1.1 ignores the punctuation around words by default (`hello there!` matches `exact:
        # hello there`); format 1 keeps it, as every format 1 file meant. `punctuation:` says otherwise.
        self.draft.ignore_punctuation = version != "1"

    def read_include(self, node: Node) -> None:
        """Each included file, in order: its rules follow this file's own; its lists, subs, vars first."""
        items = node.value if isinstance(node, SequenceNode) else [node]
        if isinstance(node, SequenceNode) and not items:
            self.problem(node, "include is an empty list")
        for item in items:
            written = self.string(item, "an included file's path")
            if written is None:
                continue
            self.includes.reply_keys = self._reply_keys
            child, problems = self.includes.include(written, self.path, self.where(item), _read_included)
            self.problems.extend(problems)
            self._reply_keys = self.includes.reply_keys  # reply keys stay unique across the files
            if child is None:
                continue
            self.draft.lists.update(child.draft.lists)
            self.draft.subs.update(child.draft.subs)
            self.draft.variables.update(child.draft.variables)
            self.draft.reflect.update(child.draft.reflect)
            self.define(child._variables, item)
            self._sets.extend(child._sets)
            self.included_rules.extend(child.draft.rules)
            self.included_sound = self.included_sound and child.rules_sound

    def read_lists(self, node: Node) -> None:
        if not isinstance(node, MappingNode):
            self.problem(node, "lists must be a mapping of name: [words or phrases]")
            return
        for key, value in node.value:
            name = self.list_name(key)
            items = self.strings(value, f"list {name}") if name else []
            words = []
            for text, item in items:
                bad = next((c for c in text if c in lists.RESERVED), None)
                if bad is not None:
                    self.problem(item, f"a list item cannot hold '{bad}' (patterns read it as syntax)")
                    continue
                words.append(text.strip())
            if name is not None and words:
                self.draft.lists[name] = tuple(words)

    def read_subs(self, node: Node) -> None:
        if not isinstance(node, MappingNode):
            self.problem(node, "subs must be a mapping of words: replacement")
            return
        if len(node.value) > MAX_SUBSTITUTIONS:
            self.problem(node, f"more than {MAX_SUBSTITUTIONS} substitutions: keep the ones matching needs")
            return
        for key, value in node.value:
            words = self.string(key, "a substituted word")
            into = self.string(value, "a substitution", empty_ok=True)
            if words is None or into is None:
                continue
            written = " ".join(nfc(words).split())
            if len(written) > MAX_KEY_CHARS:
                self.problem(
                    key,
                    f"a substituted word or phrase is over {MAX_KEY_CHARS} characters ({len(written)}): "
                    "substitute a shorter phrase, or match the long one with a pattern",
                )
                continue
            # As patterns compare text: NFC and case-folded (café typed either way, Straße as strasse).
            self.draft.subs[fold(written)] = " ".join(into.split())

    def list_name(self, node: Node) -> str | None:
        name = self.string(node, "a list name")
        if name is not None and not VARIABLE_NAME.fullmatch(name):
            self.problem(
                node, f"list name '{name}' must be letters, digits and _ (not starting with a digit)"
            )
            return None
        return name

    def read_name(self, node: Node) -> None:
        self.draft.name = self.string(node, "name") or self.draft.name

    def read_description(self, node: Node) -> None:
        self.draft.description = self.string(node, "description", empty_ok=True) or ""

    def read_case_sensitive(self, node: Node) -> None:
        self.draft.case_sensitive = bool(self.boolean(node, "case_sensitive"))

    def read_punctuation(self, node: Node) -> None:
        value = self.string(node, "punctuation")
        if value is not None and value not in PUNCTUATION:
            self.problem(node, f"punctuation must be one of: {', '.join(PUNCTUATION)}")
        self.draft.ignore_punctuation = value == "ignore"

    def read_timeout(self, node: Node) -> None:
        self.draft.timeout = self.number(node, "timeout", positive=True) or self.draft.timeout

    def read_vars(self, node: Node) -> None:
        if not isinstance(node, MappingNode):
            self.problem(node, "vars must be a mapping of variable: text")
            return
        for key, value in node.value:
            name = self.variable_name(key)
            text = self.string(value, f"the value of {name}", empty_ok=True) if name else None
            if name is None or text is None:
                continue
            if len(text) > MAX_VALUE_CHARS:
                self.problem(
                    value, f"the value of {name} is over the {MAX_VALUE_CHARS:,} characters a value holds"
                )
                continue
            self.draft.variables[name] = text
            self.define((name,), key)

    def read_reflect(self, node: Node) -> None:
        if not isinstance(node, MappingNode):
            self.problem(node, "reflect must be a mapping of word: replacement")
            return
        for key, value in node.value:
            word = self.string(key, "a reflected word")
            into = self.string(value, "a reflection", empty_ok=True)
            if word is not None and into is not None:
                self.draft.reflect[word.lower()] = into

    def read_greeting(self, node: Node) -> None:
        self.draft.greeting = self.reply(node, "greeting", frozenset())

    def read_rules(self, node: Node) -> None:
        if not isinstance(node, SequenceNode):
            self.problem(node, "rules must be a list of rules (- contains: ... reply: ...)")
            self.rules_sound = False
            return
        before = len(self.problems)
        rules = [self.rule(position, item) for position, item in enumerate(node.value)]
        self.draft.rules = tuple(rule for rule in rules if rule is not None)
        self.rules_sound = len(self.problems) == before

    def read_topics(self, node: Node) -> None:
        """``topics:`` name -> {rules: [...], fallback: ...} (format 1.1; bots.loader.topics)."""
        topics.read_topics(self, node)

    def read_clauses(self, node: Node) -> None:
        """``clauses: {split: [",", ".", but]}`` (format 1.1): the rules see one clause at a time."""
        fields = self.mapping(node, "clauses", CLAUSES.names)
        if fields is None:
            return
        if "split" not in fields:
            self.problem(node, "clauses needs 'split': the delimiters, e.g. split: [',', '.', but]")
            return
        split = fields["split"][1]
        if not isinstance(split, SequenceNode) or not split.value:
            self.problem(split, "split must be a list of delimiters, e.g. [',', '.', but]")
            return
        delimiters = []
        for item in split.value:
            text = self.string(item, "a delimiter")
            if text is None:
                continue
            if isinstance(item, ScalarNode) and item.tag != CORE + "str":
                # 0.5, 1e3 or true would be read as their text; a delimiter is written as text.
                self.problem(item, f"delimiter {text!r} must be text: write it in quotes")
                continue
            text = nfc(text)  # a word typed with combining accents is a word, as patterns see it
            if not DELIMITER.fullmatch(text):
                self.problem(
                    item,
                    f"delimiter {text!r} must be one word (letters, digits, _) or punctuation, no blanks",
                )
                continue
            delimiters.append(text)
        if len(delimiters) == len(split.value):
            self.draft.clauses = Clauses(tuple(delimiters), self.where(node))

    def read_fallback(self, node: Node) -> None:
        self.draft.fallback = self.reply(node, "fallback", frozenset())

    def read_script(self, node: Node) -> None:
        self.draft.script = script.read_script(self, node)

    def read_on_mismatch(self, node: Node) -> None:
        """What every expect step does with a line it does not match, unless the step says (format 1.2)."""
        self.draft.on_mismatch = self.choice(node, "on_mismatch", OnMismatch) or self.draft.on_mismatch

    def read_end(self, node: Node) -> None:
        """How the bot ends chats (format 1.2): `exit` (the classic way), `close`, `wait` for the peer's."""
        self.draft.ending = self.choice(node, "end", Ending) or self.draft.ending

    def read_line_end(self, node: Node) -> None:
        """What ends each line the bot sends: lf, or crlf for SMTP, IRC and the like (format 1.2)."""
        self.draft.line_end = self.choice(node, "line_end", LineEnd) or self.draft.line_end

    def read_deadline(self, node: Node) -> None:
        """Seconds the whole chat may last (format 1.2)."""
        self.draft.deadline = self.number(node, "deadline", positive=True)

    def read_abort(self, node: Node) -> None:
        items = node.value if isinstance(node, SequenceNode) else [node]
        patterns = [self.pattern_spec(item, "abort") for item in items]
        self.draft.abort = tuple(pattern for pattern in patterns if pattern is not None)

    def read_delay(self, node: Node) -> None:
        if not isinstance(node, SequenceNode):
            value = self.number(node, "delay", positive=False)
            if value is not None:
                self.draft.delay = (value, value)
            return
        if len(node.value) != 2:
            self.problem(node, "delay must be a number of seconds or a range [min, max]")
            return
        low = self.number(node.value[0], "delay minimum", positive=False)
        high = self.number(node.value[1], "delay maximum", positive=False)
        if low is None or high is None:
            return
        if low > high:
            self.problem(node, f"delay range [{low:g}, {high:g}] has its minimum above its maximum")
            return
        self.draft.delay = (low, high)

    def read_max_turns(self, node: Node) -> None:
        self.draft.max_turns = self.bounded(node, DIALOGUE["max_turns"])

    def read_target(self, node: Node) -> None:
        """``target: KIND:VALUE``, or ``{KIND: VALUE, ready: REGEX}``, or ``{terminal: ..., peer: FILE}``."""
        fields: Fields = {}
        if isinstance(node, ScalarNode):
            text = self.string(node, "target")
        else:
            found = self.mapping(node, "target", TARGET.names)
            if found is None:
                return
            fields = found
            kinds = [kind for kind in TARGET_KINDS if kind in fields]
            if len(kinds) != 1:
                self.problem(node, f"target names one of {', '.join(TARGET_KINDS)}, not {len(kinds)}")
                return
            value = self.string(fields[kinds[0]][1], f"the {kinds[0]} target")
            text = None if value is None else f"{kinds[0]}:{value}"
        if text is None:
            return
        try:
            kind, value = split_target(text)
        except ValueError as exc:
            self.problem(node, str(exc))
            return
        options: dict[str, str | None] = {option: None for option, _kind in TARGET.needs}
        for option, goes_with in TARGET.needs:
            if option not in fields:
                continue
            if kind != goes_with:
                self.problem(fields[option][0], f"'{option}' goes with a {goes_with} target, not {kind}")
                continue
            options[option] = self.string(fields[option][1], f"target {option}")
        ready = options["ready"]
        if ready is not None:
            try:
                re.compile(ready)
            except re.error as exc:
                self.problem(fields["ready"][1], f"target ready: regex does not compile: {exc}")
        self.draft.target = Target(kind, value, ready, options["peer"], self.where(node))


#: One reader per top-level key, in the order the format's table lists them (and the
#: "expected one of" message names them): `read_KEY`.
SECTIONS: dict[str, Callable[[DialogueBuilder, Node], None]] = {
    key: getattr(DialogueBuilder, f"read_{key}") for key in DIALOGUE.names
}
#: Read before the others: the defaults that the patterns and steps of other sections take.
#: Included files come before the file's own lists, subs, vars and reflect, which then win.
READ_FIRST = (
    "version",
    "case_sensitive",
    "punctuation",
    "timeout",
    "on_mismatch",
    "end",
    "include",
    "lists",
    "subs",
)
READING_ORDER = tuple(dict.fromkeys((*READ_FIRST, *SECTIONS)))


def _read_included(text: str, path: str, includes: Includes) -> tuple[Builder | None, list[Problem]]:
    """Build an included file with the load's shared bounds: its builder and its problems."""
    from bots.loader.compose import compose
    from bots.loader.problems import DialogueError

    try:
        root = compose(text, path)
    except DialogueError as exc:
        return None, exc.problems
    builder = DialogueBuilder(path, includes, included=True, source=text)
    builder._reply_keys = includes.reply_keys
    dialogue = builder.build(root)
    includes.reply_keys = builder._reply_keys
    return (builder if dialogue is not None else None), builder.problems
