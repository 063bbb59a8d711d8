"""The reference tables of docs/dialogues.md, generated from the format's table (:mod:`bots.loader.format`).

One Markdown table per mapping of the format: each key, its value, its default, the
version that reads it first, and what it does. ``python -m bots.loader.generate``
writes them between the markers ``<!-- format-table: NAME -->`` and
``<!-- /format-table -->``; a test fails when the page differs from what the table makes.
"""

from __future__ import annotations

import json
import re

from bots.loader.format import SHAPES, TYPE_NAMES, Key, Shape, newer

#: A generated table in the page: its marker names the mapping (a Shape's name).
MARKED = re.compile(r"(<!-- format-table: (\w+) -->\n)(.*?)(<!-- /format-table -->)", re.DOTALL)
_INCLUDED = {"adds": "adds its contents", "reads": "reads it for itself", "": "no"}


def _value(key: Key) -> str:
    """What the key takes, as people read it: its kind of value, with its words or bounds."""
    if key.type == "choice":
        words = ", ".join(
            f"`{word}`" + (f" ({since})" if newer(since, key.since) else "") for word, since in key.words
        )
        return f"one of {words}"
    if key.type == "whole number":
        if key.minimum is not None and key.maximum is not None:
            return f"a whole number from {key.minimum:,} to {key.maximum:,}"
        return f"a whole number, at least {key.minimum}"
    return TYPE_NAMES[key.type]


def _default(key: Key, shape: Shape) -> str:
    """The value when the key is left out."""
    if key.name in shape.required:
        return "required"
    if key.shown:
        return key.shown
    if any(key.name in group for group in shape.one_of):
        return ""
    if key.default is None:
        return "none"
    if key.default == "":
        return "empty"
    if isinstance(key.default, str):
        return f"`{key.default}`"
    if isinstance(key.default, float):
        return f"`{key.default:g}`"
    return f"`{json.dumps(key.default)}`"


def _meaning(key: Key) -> str:
    meaning = key.meaning
    if len(key.goes_with) == 1:
        meaning += f" (`{key.goes_with[0]}` steps only)"
    elif key.goes_with:
        meaning += " (expect steps only: " + ", ".join(f"`{name}`" for name in key.goes_with) + ")"
    return meaning


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(shape: Shape) -> str:
    """The Markdown table of one mapping of the format."""
    top = shape.name == "dialogue"
    head = ["key", "value", "default", "since", "what it does"] + (["in an included file"] if top else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in shape.keys:
        since = shape.since if newer(shape.since, key.since) else key.since  # a 1.1 mapping's keys are 1.1
        cells = [f"`{key.name}`", _value(key), _default(key, shape), since, _meaning(key)]
        if top:
            cells.append(_INCLUDED[key.included])
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    notes = []
    if shape.required:
        notes.append("Required: " + ", ".join(f"`{name}`" for name in shape.required) + ".")
    for group in shape.one_of:
        notes.append("Exactly one of " + ", ".join(f"`{name}`" for name in group) + ".")
    if shape.at_least_one:
        notes.append("At least one of " + ", ".join(f"`{name}`" for name in shape.at_least_one) + ".")
    for name, needed in shape.needs:
        notes.append(f"`{name}` goes with `{needed}`.")
    if shape.since != "1":
        notes.append(f"Format {shape.since} and later.")
    return "\n".join(lines) + ("\n\n" + " ".join(notes) if notes else "") + "\n"


def tables() -> dict[str, str]:
    """Every mapping's table, by the name its marker uses."""
    return {shape.name: table(shape) for shape in SHAPES}


def fill(page: str) -> str:
    """*page* with every marked table replaced by the one the format's table makes."""
    made = tables()

    def replace(found: re.Match[str]) -> str:
        return found.group(1) + "\n" + made[found.group(2)] + "\n" + found.group(4)

    return MARKED.sub(replace, page)
