"""The ``when:`` expressions of a dialogue rule: parsed once at load into a tiny tree, never eval'd.

The grammar (lowest precedence first; words are lower case)::

    condition  := or_test
    or_test    := and_test ("or" and_test)*
    and_test   := not_test ("and" not_test)*
    not_test   := "not" not_test | comparison
    comparison := operand [op operand]
    op         := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in"
    operand    := NAME | TEXT | NUMBER | list | "(" condition ")"
    list       := "[" [literal ("," literal)*] "]"       literal: TEXT or NUMBER
    NAME       := a variable name ([A-Za-z_][A-Za-z0-9_]*)
    TEXT       := "double" or 'single' quoted, no escapes
    NUMBER     := digits, with an optional sign and decimals (-2, 3.5)

What it means, on the chat's variables (all text; one never set is the empty text):

- ``a == b`` / ``a != b``: as numbers when both sides read as numbers (``"3" == 3.0``),
  else as text, as patterns compare it: in Unicode NFC (``café`` typed with a combining
  accent equals ``café``), case-insensitively (casefold) unless the dialogue is case-sensitive;
- ``<  <=  >  >=``: as numbers; false when either side is not a number;
- ``a in [..]``: equal (as ``==``) to an item of the list; ``a in b`` with text on the
  right: *a* appears inside *b*;
- an operand alone is true when it is not the empty text (``when: name``).

No function calls, attributes, arithmetic or assignment: a condition reads variables
and nothing else, and costs at most a few hundred comparisons (the length is bounded).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bots.normalize import nfc
from chat.value import Value

MAX_CONDITION_CHARS = 500  # a readable condition is one line of tens of characters; the bound
# keeps a hostile file from building deep trees or long evaluations
MAX_NESTING = 20  # parentheses and `not`s deep: far beyond anything readable, well inside Python's stack

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>[-+]?\d+(?:\.\d+)?(?![\w.]))
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<text>"[^"]*"|'[^']*')
    | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    )""",
    re.VERBOSE,
)
_WORDS = frozenset(("and", "or", "not", "in"))
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")


class ConditionError(ValueError):
    """A condition does not parse; *offset* is the 0-based position of the fault in its text.

    A message about an unclosed ``(`` or ``[`` names where it was opened (*opened*, an
    offset too; the message is *message*, that place, then *rest*): as a character of the
    condition here, and as its column in the file when the loader reports it
    (:meth:`describe`), so that the two numbers a person reads count alike.
    """

    def __init__(self, message: str, offset: int, opened: int | None = None, rest: str = "") -> None:
        self.message = message
        self.offset = offset
        self.opened = opened
        self.rest = rest
        super().__init__(self.describe(lambda at: f"character {at + 1}"))

    def describe(self, place: Callable[[int], str]) -> str:
        """The message, with *place* naming where the unclosed bracket was opened."""
        if self.opened is None:
            return self.message
        return f"{self.message}{place(self.opened)}{self.rest}"


Scalar = str | float


class Node(Value):
    """A node of a parsed condition."""

    __slots__ = ()

    def value(self, variables: Mapping[str, str], fold: bool) -> Scalar | tuple[Scalar, ...]:
        raise NotImplementedError


class Literal(Node):
    __slots__ = ("item",)
    __match_args__ = ("item",)

    def __init__(self, item: Scalar) -> None:
        self.item = item

    def value(self, variables: Mapping[str, str], fold: bool) -> Scalar:
        return self.item


class Variable(Node):
    __slots__ = ("name",)
    __match_args__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def value(self, variables: Mapping[str, str], fold: bool) -> Scalar:
        return variables.get(self.name, "")


class Items(Node):
    __slots__ = ("items",)
    __match_args__ = ("items",)

    def __init__(self, items: tuple[Scalar, ...]) -> None:
        self.items = items

    def value(self, variables: Mapping[str, str], fold: bool) -> tuple[Scalar, ...]:
        return self.items


class Not(Node):
    __slots__ = ("operand",)
    __match_args__ = ("operand",)

    def __init__(self, operand: Node) -> None:
        self.operand = operand

    def value(self, variables: Mapping[str, str], fold: bool) -> str:
        return "" if truth(self.operand, variables, fold) else "true"


class Both(Node):
    """``and`` (*every* true) or ``or`` (not *every*: any true)."""

    __slots__ = ("every", "parts")
    __match_args__ = ("every", "parts")

    def __init__(self, every: bool, parts: tuple[Node, ...]) -> None:
        self.every = every
        self.parts = parts

    def value(self, variables: Mapping[str, str], fold: bool) -> str:
        if self.every:
            result = all(truth(p, variables, fold) for p in self.parts)
        else:
            result = any(truth(p, variables, fold) for p in self.parts)
        return "true" if result else ""


class Compare(Node):
    __slots__ = ("left", "op", "right")
    __match_args__ = ("op", "left", "right")

    def __init__(self, op: str, left: Node, right: Node) -> None:
        self.op = op
        self.left = left
        self.right = right

    def value(self, variables: Mapping[str, str], fold: bool) -> str:
        return "true" if self.holds(variables, fold) else ""

    def holds(self, variables: Mapping[str, str], fold: bool) -> bool:
        left = self.left.value(variables, fold)
        right = self.right.value(variables, fold)
        op = self.op
        if op in ("in", "not in"):
            inside = _member(left, right, fold)
            return inside if op == "in" else not inside
        if isinstance(left, tuple) or isinstance(right, tuple):
            return op == "!="  # a list equals no single value and has no order
        if op in ("==", "!="):
            return _equal(left, right, fold) == (op == "==")
        a, b = _number(left), _number(right)
        if a is None or b is None:
            return False
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        return a >= b


def truth(node: Node, variables: Mapping[str, str], fold: bool) -> bool:
    """Whether *node* holds: a comparison's verdict, or a value that is not empty."""
    if isinstance(node, Compare):
        return node.holds(variables, fold)
    found = node.value(variables, fold)
    return bool(found) if not isinstance(found, float) else True


def _number(value: Scalar) -> float | None:
    if isinstance(value, float):
        return value
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _text(value: Scalar, fold: bool) -> str:
    """A value as text compares, as patterns compare text: in NFC, case-folded unless case matters."""
    if isinstance(value, float):
        value = f"{value:g}"
    value = nfc(value)
    return value.casefold() if fold else value


def _equal(left: Scalar, right: Scalar, fold: bool) -> bool:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a == b
    return _text(left, fold) == _text(right, fold)


def _member(left: Scalar | tuple[Scalar, ...], right: Scalar | tuple[Scalar, ...], fold: bool) -> bool:
    if isinstance(left, tuple):
        return False
    if isinstance(right, tuple):
        return any(_equal(left, item, fold) for item in right)
    return _text(left, fold) in _text(right, fold)


class Condition(Value):
    """A parsed ``when:``: its text, its tree, and the variables it reads."""

    __slots__ = ("names", "source", "tree")
    __match_args__ = ("source", "tree", "names")

    def __init__(self, source: str, tree: Node, names: frozenset[str]) -> None:
        self.source = source
        self.tree = tree
        self.names = names

    def holds(self, variables: Mapping[str, str], *, case_sensitive: bool = False) -> bool:
        """Whether the condition is true for these variables."""
        return truth(self.tree, variables, not case_sensitive)


def parse_condition(source: str) -> Condition:
    """Parse a ``when:`` text; raise :class:`ConditionError` with the offset of the fault."""
    if len(source) > MAX_CONDITION_CHARS:
        raise ConditionError(f"condition is over {MAX_CONDITION_CHARS} characters: split the rule", 0)
    parser = _Parser(source)
    tree = parser.condition(0)
    if parser.at < len(parser.tokens):
        kind, text, offset = parser.tokens[parser.at]
        raise ConditionError(f"unexpected {_show(kind, text)}: expected and, or or the end", offset)
    return Condition(source, tree, frozenset(parser.names))


def _show(kind: str, text: str) -> str:
    if kind == "end":
        return "end of condition"
    return text if kind == "text" else f"'{text}'"


def _tokens(source: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    at = 0
    while at < len(source):
        if source[at:].strip() == "":
            break
        found = _TOKEN.match(source, at)
        if found is None or found.lastgroup is None:
            offset = at + len(source[at:]) - len(source[at:].lstrip())
            if source[offset] in "'\"":
                raise ConditionError(f"the quote {source[offset]} is never closed", offset)
            if source[offset] in "=!<>":
                raise ConditionError(
                    f"cannot read '{source[offset]}' here: compare with ==, !=, <, <=, > or >=", offset
                )
            raise ConditionError(f"cannot read '{source[offset]}' here", offset)
        kind = found.lastgroup
        text = found.group(kind)
        offset = found.start(kind)
        if kind == "name" and text in _WORDS:
            kind = "word"
        out.append((kind, text, offset))
        at = found.end()
    return out


class _Parser:
    """Recursive descent over the token list; depth bounded by :data:`MAX_NESTING`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.at = 0
        self.names: set[str] = set()

    def peek(self) -> tuple[str, str, int]:
        if self.at < len(self.tokens):
            return self.tokens[self.at]
        return ("end", "", len(self.source))

    def next_is(self, word: str) -> bool:
        """Whether the token after the current one is *word*."""
        following = self.tokens[self.at + 1 : self.at + 2]
        return bool(following) and following[0][:2] == ("word", word)

    def take(self, text: str) -> bool:
        kind, found, _ = self.peek()
        if kind in ("word", "op") and found == text:
            self.at += 1
            return True
        return False

    def condition(self, depth: int) -> Node:
        if depth > MAX_NESTING:
            raise ConditionError(f"condition is nested over {MAX_NESTING} deep", self.peek()[2])
        parts = [self.and_test(depth)]
        while self.take("or"):
            parts.append(self.and_test(depth))
        return parts[0] if len(parts) == 1 else Both(False, tuple(parts))

    def and_test(self, depth: int) -> Node:
        parts = [self.not_test(depth)]
        while self.take("and"):
            parts.append(self.not_test(depth))
        return parts[0] if len(parts) == 1 else Both(True, tuple(parts))

    def not_test(self, depth: int) -> Node:
        if self.take("not"):
            if depth + 1 > MAX_NESTING:
                raise ConditionError(f"condition is nested over {MAX_NESTING} deep", self.peek()[2])
            return Not(self.not_test(depth + 1))
        return self.comparison(depth)

    def comparison(self, depth: int) -> Node:
        left = self.operand(depth)
        kind, text, _ = self.peek()
        op = None
        if kind == "op" and text in COMPARISONS:
            op = text
        elif kind == "word" and text == "in":
            op = "in"
        elif kind == "word" and text == "not" and self.next_is("in"):
            self.at += 1
            op = "not in"
        if op is None:
            return left
        self.at += 1
        right = self.operand(depth)
        return Compare(op, left, right)

    def operand(self, depth: int) -> Node:
        kind, text, offset = self.peek()
        if kind == "name":
            self.at += 1
            self.names.add(text)
            return Variable(text)
        if kind in ("text", "number"):
            self.at += 1
            return Literal(_literal(kind, text))
        if kind == "op" and text == "(":
            self.at += 1
            inner = self.condition(depth + 1)
            if not self.take(")"):
                found_kind, found_text, found_at = self.peek()
                raise ConditionError(
                    "expected ')' to close the '(' at ",
                    found_at,
                    offset,
                    f", found {_show(found_kind, found_text)}",
                )
            return inner
        if kind == "op" and text == "[":
            self.at += 1
            return Items(self.items(offset))
        raise ConditionError(
            f"expected a variable, a quoted text, a number, a list or '(', found {_show(kind, text)}",
            offset,
        )

    def items(self, opened: int) -> tuple[Scalar, ...]:
        out: list[Scalar] = []
        if self.take("]"):
            return ()
        while True:
            kind, text, offset = self.peek()
            if kind not in ("text", "number"):
                raise ConditionError(
                    f"a list holds quoted texts and numbers, found {_show(kind, text)}", offset
                )
            self.at += 1
            out.append(_literal(kind, text))
            if self.take("]"):
                return tuple(out)
            if not self.take(","):
                kind, text, offset = self.peek()
                raise ConditionError(
                    "expected ',' or ']' to close the '[' at ", offset, opened, f", found {_show(kind, text)}"
                )


def _literal(kind: str, text: str) -> Scalar:
    return float(text) if kind == "number" else text[1:-1]
