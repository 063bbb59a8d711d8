"""Dialogue files the benchmark generates, and the messages (with the replies they must get) sent to them.

The YAML written here follows the bot's dialogue format, version 1 (README, "Dialogue
format"); :func:`rule` is the one place that knows how a rule is spelt.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import yaml

FALLBACK_REPLY = "fallback ok"  # what every message that matches no rule gets back
# Matches none of the generated rules (no rule's required word is in it): the fallback path.
UNMATCHED_MESSAGE = "the quick brown fox jumps over the lazy dog"
# Words that keep each of the 20 rules of scenario 1 apart: a message hits its own rule only.
WORDS = ("alpha", "bravo", "charlie", "delta", "foxtrot")

#: A script is a list of (message, expected reply) pairs; None accepts any reply.
Script = list[tuple[str, str | None]]


def rule(kind: str, pattern: str, reply: str) -> dict[str, object]:
    """One rule of the dialogue format: a pattern of *kind* (exact, contains, glob, regex) -> reply."""
    return {kind: pattern, "reply": reply}


def dialogue(rules: Sequence[dict[str, object]], fallback: str = FALLBACK_REPLY) -> str:
    """The YAML text of a version-1 dialogue with *rules* and a *fallback* reply."""
    return yaml.safe_dump(
        {"version": 1, "rules": list(rules), "fallback": fallback},
        sort_keys=False,
        allow_unicode=True,
        width=1 << 16,  # one rule, one line: the dialogue stays readable when a run keeps it
    )


def twenty_rules() -> tuple[str, Script]:
    """Scenario 1: a 20-rule dialogue (5 of each pattern kind, captures in replies) and its script.

    The script sends one message per rule, in rule order, plus one that only the fallback
    takes, with the mixed case a person types; each message carries the reply it must get.
    """
    rules: list[dict[str, object]] = []
    script: Script = []
    for word in WORDS:
        rules.append(rule("exact", f"status report {word}", f"exact {word} ok"))
        script.append((f"Status Report {word.upper()}", f"exact {word} ok"))
    for word in WORDS:
        rules.append(rule("contains", f"weather in {word}", f"contains {word} ok"))
        script.append((f"What is the weather in {word.title()} today?", f"contains {word} ok"))
    for word in WORDS:
        rules.append(rule("glob", f"book * for {word}", f"glob {word} ok"))
        script.append((f"book a table for {word}", f"glob {word} ok"))
    for number, word in enumerate(WORDS, start=1):
        rules.append(
            rule(
                "regex", rf"^order (?P<count>\d+) (?P<item>\w+) for {word}$", f"{{count}} {{item}} for {word}"
            )
        )
        script.append((f"order {number * 7} teas for {word}", f"{number * 7} teas for {word}"))
    script.append((UNMATCHED_MESSAGE, FALLBACK_REPLY))
    return dialogue(rules), script


def regex_rules(count: int) -> str:
    """Scenario 2: a dialogue of *count* distinct regex rules, none of which UNMATCHED_MESSAGE matches.

    Four shapes take turns (anchored, word-bounded, leading capture, alternation), each with a
    word of its own, so no two rules are alike and a matcher cannot fold them into one.
    """
    shapes = (
        r"^order (?P<count>\d+) item{i}$",
        r"\bkeyword{i}\b",
        r"(?P<who>\w+) likes thing{i}",
        r"^(?:what|who) is x{i}\??$",
    )
    rules = [rule("regex", shapes[i % len(shapes)].format(i=i), f"rule {i}") for i in range(count)]
    return dialogue(rules)


def write(path: Path, text: str) -> Path:
    """Write *text* to *path* and return the path."""
    path.write_text(text, encoding="utf-8")
    return path


def write_script(path: Path, script: Script) -> Path:
    """Write a script as the JSON the load generator reads: [[message, expected-or-null], ...]."""
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def echo_script(script: Script) -> Script:
    """The same messages for the echo baseline, whose reply is the message itself."""
    return [(message, message) for message, _expected in script]


def test_dialogue(script: Script, name: str) -> str:
    """The YAML of a test dialogue (for ``chat-bot --connect`` or Locust) that says each message and
    expects exactly its reply."""
    steps: list[dict[str, object]] = []
    for message, expected in script:
        steps.append({"say": message})
        if expected is not None:
            steps.append({"expect": {"exact": expected}})
    return yaml.safe_dump(
        {"version": 1, "name": name, "timeout": 10, "script": steps},
        sort_keys=False,
        allow_unicode=True,
        width=1 << 16,
    )
