"""Reading typed values out of YAML nodes: text, numbers, flags, mappings, every problem with its place.

The building blocks of :mod:`bots.loader.build`: each read either returns the value
or records one :class:`Problem` at the node and returns None, so one pass over a
file reports everything wrong with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bots.loader.problems import Problem
from bots.model import Where

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from typing import TypeVar

    E = TypeVar("E", bound=Enum)

# Tags of the YAML core schema (plus timestamp, which a plain date resolves to and
# which we read as text). Anything else (!!python/object, !!binary, !!set, !local)
# asks the loader to build something other than plain data, and is refused.
CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp"))
NUMBER_TAGS = (CORE + "int", CORE + "float")

#: A key's value and the key itself (problems about the key point at the key).
Fields = dict[str, tuple[Node, Node]]


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``did you mean 'x'? `` when *word* is close to one of *choices*, else nothing."""
    import difflib  # only on the error path: keeps start-up fast

    close = difflib.get_close_matches(word, choices, n=1)
    return f"did you mean '{close[0]}'? " if close else ""


class NodeReader:
    """Typed reads of one file's nodes, collecting every problem found."""

    def __init__(self, path: str, source: str = "") -> None:
        self.path = path
        #: The file's text, for places inside a scalar (bots.loader.positions); "" when unknown.
        self.source = source
        self.problems: list[Problem] = []
        # Mappings that had an unknown key: a missing pattern there is the same mistake.
        self._unknown_in: set[int] = set()

    def where(self, node: Node, offset: int | None = None) -> Where:
        """Where *node* starts, or with *offset* where that character of its value is written."""
        if offset is not None and isinstance(node, ScalarNode) and self.source:
            from bots.loader.positions import line_col, value_places  # a problem's path only: start-up

            places = value_places(self.source, node)
            if places is not None and 0 <= offset < len(places):
                line, col = line_col(self.source, places[offset])
                return Where(self.path, line, col)
        mark = node.start_mark
        return Where(self.path, int(mark.line) + 1, int(mark.column) + 1)

    def problem(self, node: Node, message: str, offset: int | None = None) -> None:
        self.problems.append(Problem(self.where(node, offset), message))

    def check_tags(self, node: Node) -> bool:
        """Refuse tags that build objects; True when the whole tree is plain data."""
        ok = True
        stack = [node]
        while stack:
            current = stack.pop()
            if current.tag not in ALLOWED_TAGS:
                self._refuse_tag(current)
                ok = False
            if isinstance(current, SequenceNode):
                stack.extend(current.value)
            elif isinstance(current, MappingNode):
                for key, value in current.value:
                    stack.extend((key, value))
        return ok

    def _refuse_tag(self, node: Node) -> None:
        if node.tag == CORE + "merge":
            self.problem(node, "YAML merge keys (<<) are not allowed in a dialogue file")
        else:
            self.problem(
                node,
                f"YAML tag {node.tag.replace(CORE, '!!')!r} is not allowed: "
                "a dialogue file holds plain text, numbers, lists and mappings only",
            )

    def mapping(self, node: Node, what: str, allowed: Sequence[str]) -> Fields | None:
        """The known keys of a mapping node; unknown and duplicate keys are problems."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping (key: value lines)")
            return None
        out: Fields = {}
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
                    f"unknown key '{name}' in {what}: {did_you_mean(name, allowed)}"
                    f"expected one of: {', '.join(allowed)}",
                )
                continue
            out[name] = (key, value)
        return out

    def string(self, node: Node, what: str, *, empty_ok: bool = False) -> str | None:
        """Text: any scalar as written (`expect: yes` means the word yes, not the boolean true).

        Where text may be empty (*empty_ok*), null is the empty text; elsewhere null is a
        problem, never the word "null".
        """
        if not isinstance(node, ScalarNode):
            self.problem(
                node, f"{what} must be text, not a {'list' if isinstance(node, SequenceNode) else 'mapping'}"
            )
            return None
        text = str(node.value)
        if node.tag == CORE + "null":
            if empty_ok:
                return ""
            if text.strip():
                self.problem(
                    node, f"{what} must be text, not null: write '{text}' in quotes to mean that text"
                )
                return None
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

    def choice(self, node: Node, what: str, kinds: type[E]) -> E | None:
        """One of an enum's words."""
        text = self.string(node, what)
        if text is None:
            return None
        for kind in kinds:
            if kind.value == text:
                return kind
        self.problem(node, f"{what} must be one of: {', '.join(str(kind.value) for kind in kinds)}")
        return None

    def number(self, node: Node, what: str, *, positive: bool) -> float | None:
        """A finite number of seconds, at least 0 (above 0 when *positive*)."""
        if not isinstance(node, ScalarNode) or node.tag not in NUMBER_TAGS:
            self.problem(node, f"{what} must be a number of seconds")
            return None
        value = _float(node)
        if value != value or value in (float("inf"), float("-inf")):
            self.problem(node, f"{what} must be a finite number of seconds")
            return None
        if value < 0 or (positive and value == 0):
            self.problem(node, f"{what} must be {'above' if positive else 'at least'} 0")
            return None
        return value

    def integer(self, node: Node, what: str) -> int | None:
        """A whole number; ``3.0`` counts, as it does for JSON Schema's integer."""
        if isinstance(node, ScalarNode) and node.tag == CORE + "float":
            value = _float(node)
            if value.is_integer():
                return int(value)
        if not isinstance(node, ScalarNode) or node.tag != CORE + "int":
            self.problem(node, f"{what} must be a whole number")
            return None
        try:
            return int(str(node.value).replace("_", ""), 0)
        except ValueError:
            self.problem(node, f"{what} must be a whole number written in decimal")
            return None

    def boolean(self, node: Node, what: str) -> bool | None:
        if not isinstance(node, ScalarNode) or node.tag != CORE + "bool":
            self.problem(node, f"{what} must be true or false")
            return None
        return str(node.value).lower() in ("true", "yes", "on", "y")


def _float(node: ScalarNode) -> float:
    """A number node's value; NaN when Python cannot read YAML's spelling (such as 1:30)."""
    try:
        return float(str(node.value).replace("_", ""))
    except ValueError:
        return float("nan")
