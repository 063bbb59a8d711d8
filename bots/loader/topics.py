"""``topics:`` (format 1.1): named groups of rules, their names, and the switches between them.

A topic's name follows Python's rule for names (``str.isidentifier``): letters and
digits of any script and ``_``, not starting with a digit (``quiz``, ``été``, ``クイズ``),
in Unicode NFC, so a name typed with a combining accent is the same name. ``none`` is
taken (``topic: none`` leaves any topic). A switch (``topic: NAME`` on a rule) must name
a topic that is defined, and every topic must be reached by a switch from the
top-level rules, directly or through reachable topics.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, SequenceNode

from bots.loader.format import TOPIC
from bots.loader.nodes import did_you_mean
from bots.loader.problems import Problem
from bots.model import NO_TOPIC, Rule, Topic, by_rank
from bots.normalize import nfc

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from bots.loader.build import Builder


def name_problem(name: str) -> str | None:
    """Why *name* (in NFC) cannot name a topic, or None."""
    if name == NO_TOPIC:
        return f"'{NO_TOPIC}' cannot name a topic: 'topic: {NO_TOPIC}' leaves any topic; choose another name"
    if not name.isidentifier():
        return (
            f"topic name '{name}' must be one word: letters, digits and _ (of any script), "
            "not starting with a digit"
        )
    return None


def read_topics(builder: Builder, node: Node) -> None:
    """``topics:`` name -> {rules: [...], fallback: ...}: each topic into the builder's draft."""
    if not isinstance(node, MappingNode):
        builder.problem(node, "topics must be a mapping of topic name: {rules: [...], fallback: ...}")
        builder.rules_sound = False
        return
    before = len(builder.problems)
    topics = builder.draft.topics
    for name_node, value in node.value:
        written = builder.string(name_node, "a topic name")
        if written is None:
            continue
        name = nfc(written)
        problem = name_problem(name)
        if problem is not None:
            builder.problem(name_node, problem)
            continue
        if name in topics:
            builder.problem(name_node, f"duplicate topic '{name}' (first at line {topics[name].where.line})")
            continue
        fields = builder.mapping(value, f"topic {name}", TOPIC.names)
        if fields is not None and not fields.keys() & set(TOPIC.at_least_one):
            builder.problem(
                value,
                f"topic {name} needs 'rules' (tried first while in it), a 'fallback' (said when no rule "
                "matches there), or both",
            )
            fields = None
        if fields is None:
            builder.refused_topics.add(name)
            continue
        rules: list[Rule | None] = []
        if "rules" in fields:
            found = fields["rules"][1]
            if isinstance(found, SequenceNode):
                rules = [builder.rule(n, item, name) for n, item in enumerate(found.value)]
            else:
                builder.problem(found, "rules must be a list of rules (- contains: ... reply: ...)")
        fallback = (
            builder.reply(fields["fallback"][1], "fallback", frozenset()) if "fallback" in fields else None
        )
        topics[name] = Topic(
            name, by_rank([rule for rule in rules if rule is not None]), fallback, builder.where(name_node)
        )
    if len(builder.problems) != before:
        builder.rules_sound = False


def check_topics(builder: Builder) -> None:
    """Every switch names a topic, and every topic is reached from the top-level rules."""
    topics = builder.draft.topics
    graph: dict[str | None, set[str]] = {}
    for name, within, node in builder.switches:
        if name == NO_TOPIC:
            continue
        if name in builder.refused_topics:
            continue  # its definition has its problem
        if name not in topics:
            problem = name_problem(name)  # a name no topic can have: say why, not "not defined"
            if problem is None:
                hint = did_you_mean(name, sorted(topics))
                problem = f"topic '{name}' is not defined: {hint}define it under 'topics'"
            builder.problem(node, problem)
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
            builder.problems.append(
                Problem(
                    topic.where,
                    f"topic '{name}' is unreachable: no top-level rule, nor a rule of a reachable "
                    f"topic, switches to it (topic: {name})",
                )
            )
