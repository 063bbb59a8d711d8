"""bots/schema.json, generated from the format's table (:mod:`bots.loader.format`).

Each mapping of the format (:data:`~bots.loader.format.SHAPES`) becomes an object schema
with its keys, their descriptions and defaults, the keys it requires and the groups of
which exactly one is given; each kind of value (:data:`TYPES`) is written here once, as
JSON Schema says it. What a version may not use is one ``if version is ...
then ...`` per version, made from the keys' and words' versions. ``python -m
bots.loader.generate`` writes the file; a test fails when the checked-in one differs.

The schema says what the data may look like; ``chat-bot --check`` also checks what a
schema cannot (regexes, names used before they are set, examples, see
docs/dialogues.md, "The schema and --check").
"""

from __future__ import annotations

import json
from typing import Any

from bots.loader.format import (
    CLAUSES,
    DIALOGUE,
    PATTERN,
    REPLY,
    RULE,
    STEP,
    TARGET,
    TOPIC,
    VERSIONS,
    WEIGHTED,
    Key,
    Shape,
    newer,
)
from bots.model import NO_TOPIC

SCHEMA_ID = "https://chat-classic.readthedocs.io/en/latest/schema/dialogue-v1.json"
#: A name (a variable's, a list's): ASCII letters, digits and _, not starting with a digit. The end
#: is written (?![\s\S]) because $ also matches before a final line break in Python's re.
NAME = r"^[A-Za-z_][A-Za-z0-9_]*(?![\s\S])"
#: A topic's name: Python's rule for names (letters and digits of any script, and _, not starting
#: with a digit). A schema regex cannot say "a letter of any script" the same way in every
#: engine (editors run ECMAScript's), so it is exact on ASCII and lets every other character
#: through; --check alone refuses a non-ASCII character that is not a letter or digit.
TOPIC_NAME = r"^(?:[A-Za-z_]|[^\x00-\x7f])(?:[A-Za-z0-9_]|[^\x00-\x7f])*(?![\s\S])"
#: A chat message: one line, where braces form {name}, {3}, {{ or }}.
MESSAGE = r"^(?:[^{}\r\n]|\{\{|\}\}|\{(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+)\})*[\r\n]*$"
#: A clause delimiter: a word or punctuation. --check reads it in NFC, where a letter typed with a
#: combining accent is one letter: here the combining marks (the blocks of them) go with the word.
_MARKS = r"\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
DELIMITER = rf"^(?:[\w{_MARKS}]+|[^\w\s]+)(?![\s\S])"
#: A tcp target's port, 1 to 65535.
PORT = r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"

#: What the schema says of itself: what only --check sees.
CHECK_ALSO = (
    "chat-bot --check checks more than this schema can: regexes compile and are safe, every {name} is "
    "captured or set, examples reach their rule as a chat routes them, a delay range's minimum is not "
    "above its maximum, numbers are finite, when: conditions parse and read variables that are set, every "
    "topic a rule switches to exists and is reachable, redirects do not loop."
)

Json = dict[str, Any]


def _ref(name: str) -> Json:
    return {"$ref": f"#/$defs/{name}"}


def _one_or_list(item: Json) -> Json:
    return {"oneOf": [item, {"type": "array", "items": item, "minItems": 1}]}


def _number(version: str) -> float | int:
    return int(version) if version.isdigit() else float(version)


#: Each kind of value (a key's type), as JSON Schema: most are shared definitions (below).
TYPES: dict[str, Json] = {
    "text": _ref("text"),
    "optional text": _ref("optional_text"),
    "texts": _ref("texts"),
    "pattern text": _ref("texts"),
    "target text": _ref("text"),
    "message": _ref("message"),
    "reply": _ref("reply"),
    "pattern": _ref("pattern"),
    "previous pattern": _ref("previous_pattern"),
    "patterns": {"oneOf": [_ref("pattern"), {"type": "array", "items": _ref("pattern")}]},
    "pattern list": {"type": "array", "minItems": 1, "items": _ref("pattern")},
    "seconds": _ref("seconds"),
    "delay": {
        "oneOf": [
            {"type": "number", "minimum": 0},
            {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 2, "maxItems": 2},
        ]
    },
    "boolean": {"type": "boolean"},
    "condition": _ref("text"),
    "topic name": _ref("topic_name"),
    "variables": _ref("variables"),
    "assignments": _ref("assignments"),
    "rules": {"type": "array", "items": _ref("rule")},
    "steps": {"type": "array", "items": _ref("step")},
    "topics": {
        "type": "object",
        "propertyNames": {**_ref("topic_name"), "not": {"const": NO_TOPIC}},
        "additionalProperties": _ref("topic"),
    },
    "include": _one_or_list(_ref("include_path")),
    "lists": {
        "type": "object",
        "propertyNames": _ref("list_name"),
        "additionalProperties": _one_or_list(_ref("list_item")),
    },
    "subs": {
        "type": "object",
        "propertyNames": {"pattern": r"\S"},
        "additionalProperties": _ref("optional_text"),
    },
    "reflect": {
        "type": "object",
        "propertyNames": {"pattern": r"\S"},
        "additionalProperties": _ref("optional_text"),
    },
    "delimiters": {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "string",
            "pattern": DELIMITER,
            "description": "a word (letters, digits, _: cut only as a whole word) or punctuation (cut "
            "anywhere); written as text (in quotes when YAML would read it as a number)",
        },
    },
    "reply texts": {
        "oneOf": [
            _ref("messages"),
            {
                "type": "array",
                "minItems": 1,
                "items": {"anyOf": [_ref("message"), _ref("weighted_message")]},
                "contains": {"type": "object"},
            },
        ]
    },
    "target": {
        "oneOf": [
            {
                "type": "string",
                "pattern": rf"^(tcp:.+:{PORT}$|(command|image|terminal):[\s\S]*\S)",
            },
            _ref("target"),
        ]
    },
    "host and port": {"type": "string", "pattern": rf"^.+:{PORT}$"},
    "clauses": _ref("clauses"),
}


def _definitions() -> Json:
    """The shared kinds of value, and one object schema per mapping of the format."""
    text = {
        "description": "text: any scalar as written (42 and yes are the texts '42' and 'yes'), not blank, "
        "not null",
        "type": ["string", "number", "boolean"],
        "pattern": r"\S",
    }
    optional = {
        "description": "text that may be empty; null is the empty text",
        "type": ["string", "number", "boolean", "null"],
    }
    message = {
        "description": "a chat message: one line; {name} a variable or capture, {{ and }} literal braces",
        "allOf": [_ref("text"), {"pattern": MESSAGE}],
    }
    reply = _object(REPLY)
    reply["if"] = {
        "properties": {"from": {"type": "array", "contains": {"type": "object", "required": ["weight"]}}},
        "required": ["from"],
    }
    reply["then"] = {"required": ["order"], "properties": {"order": {"const": "random"}}}
    reply_1 = _object(REPLY)
    reply_1["properties"]["from"] = _ref("messages")
    previous = _object(PATTERN)
    previous["properties"]["exact"] = {
        "anyOf": [_ref("texts"), {"type": "string", "pattern": r"^\s*$"}],
        "description": PATTERN["exact"].meaning + "; blank: the bot has said nothing yet",
    }
    return {
        "text": text,
        "optional_text": optional,
        "texts": _one_or_list(_ref("text")),
        "message": message,
        "optional_message": {
            "description": "a chat message that may be empty; null is the empty text",
            "allOf": [_ref("optional_text"), {"pattern": MESSAGE}],
        },
        "messages": _one_or_list(_ref("message")),
        "reply": {"oneOf": [_ref("messages"), reply]},
        "reply_1": {
            "description": "a reply in format 1: no weighted texts",
            "oneOf": [_ref("messages"), reply_1],
        },
        "weighted_message": {"description": "a text with its weight for order: random", **_object(WEIGHTED)},
        "pattern": {"oneOf": [{**_ref("text"), "description": "shorthand for contains"}, _object(PATTERN)]},
        "previous_pattern": {
            "oneOf": [{**_ref("text"), "description": "shorthand for contains"}, previous],
        },
        "seconds": {"type": "number", "exclusiveMinimum": 0},
        "variable_name": {"type": "string", "pattern": NAME, "not": {"const": "input"}},
        "variables": {
            "type": "object",
            "propertyNames": _ref("variable_name"),
            "additionalProperties": _ref("optional_text"),
        },
        "assignments": {
            "type": "object",
            "propertyNames": _ref("variable_name"),
            "additionalProperties": _ref("optional_message"),
        },
        "rule": _object(RULE),
        "step": _object(STEP),
        "topic_name": {
            "description": "letters, digits and _ of any script, not starting with a digit",
            "type": "string",
            "pattern": TOPIC_NAME,
        },
        "topic": _object(TOPIC),
        "clauses": _object(CLAUSES),
        "target": _object(TARGET),
        "include_path": {
            "description": "a path relative to the including file's folder",
            "allOf": [_ref("text")],
            "not": {"type": "string", "pattern": "^[/~]"},
        },
        "list_name": {"type": "string", "pattern": NAME},
        "list_item": {
            "description": "a word or phrase; * ? { and } are pattern syntax, not list text",
            "allOf": [_ref("text")],
            "not": {"type": "string", "pattern": "[*?{}]"},
        },
    }


def _key(key: Key) -> Json:
    """The schema of one key's value, with its description and default."""
    if key.type == "version":
        value: Json = {"enum": [_number(v) for v in VERSIONS]}
    elif key.type == "choice":
        value = {"enum": [word for word, _since in key.words]}
    elif key.type == "whole number":
        value = {"type": "integer"}
        if key.minimum is not None:
            value["minimum"] = key.minimum
        if key.maximum is not None:
            value["maximum"] = key.maximum
    else:
        value = dict(TYPES[key.type])
        if key.type == "subs" and key.maximum is not None:
            value["maxProperties"] = key.maximum
    since = "" if key.since == "1" else f"format {key.since}: "
    value["description"] = since + key.meaning.replace("`", "")
    if key.default is not None:
        value["default"] = key.default
    return value


def _object(shape: Shape) -> Json:
    """An object schema for one mapping of the format."""
    out: Json = {"type": "object", "additionalProperties": False}
    if shape.required:
        out["required"] = list(shape.required)
    groups = [{"oneOf": [{"required": [name]} for name in group]} for group in shape.one_of]
    if shape.at_least_one:
        groups.append({"anyOf": [{"required": [name]} for name in shape.at_least_one]})
    if len(groups) == 1:
        out.update(groups[0])
    elif groups:
        out["allOf"] = groups
    out["properties"] = {key.name: _key(key) for key in shape.keys}
    dependent: Json = {
        key.name: {"anyOf": [{"required": [name]} for name in key.goes_with]}
        for key in shape.keys
        if key.goes_with
    }
    for key, needed in shape.needs:
        dependent[key] = {"required": [needed]}
    if dependent:
        out["dependentSchemas"] = dependent
    return out


def _restricted(shape: Shape, version: str) -> Json | None:
    """What a file of *version* may not use in *shape* (and the mappings inside it), or None."""
    properties: Json = {}
    for key in shape.keys:
        if newer(key.since, version):
            properties[key.name] = False
            continue
        inner: Json | None = None
        if key.type == "reply" and newer(WEIGHTED.since, version):
            inner = _ref("reply_1")
        elif key.type == "choice" and len(key.words_in(version)) < len(key.words):
            inner = {"enum": list(key.words_in(version))}
        elif key.type == "rules":
            items = _restricted(RULE, version)
            inner = None if items is None else {"items": items}
        elif key.type == "steps":
            items = _restricted(STEP, version)
            inner = None if items is None else {"items": items}
        elif key.type == "topics":
            topic = _restricted(TOPIC, version)
            inner = None if topic is None else {"additionalProperties": topic}
        if inner is not None:
            properties[key.name] = inner
    return {"properties": properties} if properties else None


def schema() -> Json:
    """The JSON Schema (2020-12) of dialogue files, made from the format's table."""
    versions = [_number(v) for v in VERSIONS]
    document: Json = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"chat-bot dialogue, format versions {', '.join(VERSIONS[:-1])} and {VERSIONS[-1]}",
        "description": CHECK_ALSO,
        **_object(DIALOGUE),
        "$defs": _definitions(),
    }
    rules = []
    for number, version in enumerate(VERSIONS[:-1]):
        then = _restricted(DIALOGUE, version)
        if then is None:
            continue
        older = versions[: number + 1]
        condition: Json = {"const": older[0]} if len(older) == 1 else {"enum": older}
        rules.append({"if": {"required": ["version"], "properties": {"version": condition}}, "then": then})
    document["allOf"] = rules
    return document


def schema_text() -> str:
    """bots/schema.json as it is checked in: the schema, indented, with a final line break."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"
