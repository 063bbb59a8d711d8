"""What a dialogue holds that a chat can use, each with a stable key, its place and a label.

The collector (:mod:`bots.coverage.collect`) records keys as chats use the model's
objects; the report loads the dialogue again and lists the same items, so a key must
name an item the same way in both: by its kind and its place in the file (the real
path, so that ``./d.yaml`` and ``d.yaml`` are one file). Which items count:

* every **rule** (top-level and each topic's);
* every **alternative** of a rule that has several (``contains: [a, b]``, a word list):
  a rule of one pattern has nothing more to show, as coverage.py counts branches only
  where a line has two ways to go;
* every **topic** (used when the chat enters it), **redirect** (used when the text it
  hands back is answered by a rule), **fallback** (the dialogue's and each topic's),
  **remembered reply** (used when recalled) and **script step** (a say sent, an expect
  step that took its line).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from bots.model import NO_TOPIC, Dialogue, Reply, Rule, Step, Topic, Where
from chat.display import quoted
from chat.value import Value

RULE = "rule"
ALTERNATIVE = "alternative"
TOPIC = "topic"
REDIRECT = "redirect"
FALLBACK = "fallback"
MEMORY = "memory"
STEP = "step"
#: The kinds in the order reports list them, each with its plural for the table.
KINDS = {
    RULE: "rules",
    ALTERNATIVE: "alternatives",
    TOPIC: "topics",
    REDIRECT: "redirects",
    FALLBACK: "fallbacks",
    MEMORY: "memories",
    STEP: "steps",
}


class Item(Value):
    """One thing a chat can use: a rule, one alternative of a rule's pattern, a topic..."""

    __slots__ = ("col", "file", "key", "kind", "label", "line", "parent")
    __match_args__ = ("kind", "key", "file", "line", "col", "label", "parent")

    def __init__(
        self, kind: str, key: str, file: str, line: int, col: int, label: str, parent: str | None = None
    ) -> None:
        self.kind = kind
        #: Names the item in data files: its kind and place (``rule /abs/d.yaml:22:5``).
        self.key = key
        #: The real path of the file the item is written in (an included file's own).
        self.file = file
        self.line = line
        self.col = col
        #: How the report names it: ``rule 3 {contains: 'ticket'}``.
        self.label = label
        #: The key of the rule an alternative, redirect or memory belongs to.
        self.parent = parent


def real_file(where: Where) -> str:
    """The real path of the file *where* is in: the same however the dialogue was named."""
    return os.path.realpath(where.file)


def key(kind: str, where: Where, suffix: str = "") -> str:
    """The key of an item of *kind* at *where* (*suffix*: an alternative's number)."""
    return f"{kind} {real_file(where)}:{where.line}:{where.col}{suffix}"


def alternative_key(rule: Rule, index: int) -> str:
    """The key of alternative *index* (0-based) of *rule*'s pattern."""
    return key(ALTERNATIVE, rule.pattern.where, f" #{index + 1}")


def _item(kind: str, where: Where, label: str, *, suffix: str = "", parent: str | None = None) -> Item:
    return Item(kind, key(kind, where, suffix), real_file(where), where.line, where.col, label, parent)


def _rule_items(rule: Rule, topic: str | None) -> Iterator[Item]:
    name = f"rule {rule.number + 1}" + ("" if topic is None else f" of topic {topic}")
    rule_key = key(RULE, rule.where)
    yield _item(RULE, rule.where, f"{name} {rule.pattern.describe()}")
    sources = rule.pattern.sources
    if len(sources) > 1:
        for index, source in enumerate(sources):
            yield _item(
                ALTERNATIVE,
                rule.pattern.where,
                f"{name}, alternative {index + 1} of {len(sources)}: {quoted(source)}",
                suffix=f" #{index + 1}",
                parent=rule_key,
            )
    if rule.redirect is not None:
        yield _item(REDIRECT, rule.where, f"{name}: its redirect", parent=rule_key)
    if rule.remember is not None:
        yield _item(MEMORY, rule.remember.where, f"{name}: its remembered reply", parent=rule_key)


def _topic_items(topic: Topic) -> Iterator[Item]:
    yield _item(TOPIC, topic.where, f"topic {topic.name}")
    for rule in topic.rules:
        yield from _rule_items(rule, topic.name)
    if topic.fallback is not None:
        yield _fallback_item(topic.fallback, f"the fallback of topic {topic.name}")


def _fallback_item(reply: Reply, label: str) -> Item:
    return _item(FALLBACK, reply.where, label)


def _step_item(step: Step) -> Item:
    label = f"{step.label}" + (f" ({step.name})" if step.name else "")
    if step.reply is None:
        label += f": {step.describe()}"
    elif len(step.reply.choices) == 1:
        label += f": {quoted(step.reply.choices[0].source)}"
    return _item(STEP, step.where, label)


def inventory(dialogue: Dialogue) -> list[Item]:
    """Every item of *dialogue*, in the order of the file (an included file's after)."""
    items = [item for rule in dialogue.rules for item in _rule_items(rule, None)]
    for topic in dialogue.topics.values():
        if topic.name != NO_TOPIC:
            items.extend(_topic_items(topic))
    if dialogue.fallback is not None:
        items.append(_fallback_item(dialogue.fallback, "the fallback"))
    items.extend(_step_item(step) for step in dialogue.script)
    own = real_file_of(dialogue)
    # Stable: a rule's alternatives, redirect and memory stay after it, in their order.
    items.sort(key=lambda item: (item.file != own, item.file, item.line, item.col))
    return items


def real_file_of(dialogue: Dialogue) -> str:
    """The real path of the dialogue's own file."""
    return os.path.realpath(dialogue.path)


__all__ = [
    "ALTERNATIVE",
    "FALLBACK",
    "KINDS",
    "MEMORY",
    "REDIRECT",
    "RULE",
    "STEP",
    "TOPIC",
    "Item",
    "alternative_key",
    "inventory",
    "key",
    "real_file",
    "real_file_of",
]
