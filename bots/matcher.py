"""Pattern matching for dialogues: one compiled regex per pattern, and an index over the rules.

Every pattern kind (exact, contains, glob, regex) is compiled to a Python regex,
so one engine decides what matches. The :class:`RuleIndex` makes the cost of a
turn nearly independent of the number of rules: each pattern has a *required
literal* (text every matching message must contain, read off the regex parse
tree), the literals are indexed by a short piece of text, and a message only
runs the regexes of the rules whose piece it contains, in rule order. Rules
whose patterns have no literal (``regex: '.*'``) are always tried.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

# The regex parser is private and moved in 3.11 (sre_parse warns since then).
try:  # pragma: no cover - which branch runs depends on the Python version
    _parser: Any = importlib.import_module("re._parser")
    _constants: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - Python 3.10
    _parser = importlib.import_module("sre_parse")
    _constants = importlib.import_module("sre_constants")

MAX_MATCH_CHARS = 4096  # patterns see at most this much of a message: a chat line is far
# shorter, and it caps the cost of a merely polynomial regex on a 1 MiB paste
GRAM = 3  # literals are indexed by one 3-character piece: selective, and few per message
LINEAR_SCAN_MAX = 48  # below this many rules a plain scan is faster than building grams

# Characters that Python's case-insensitive matching equates with an ASCII letter
# although str.lower() does not map them to it (found by checking every code point).
_FOLD_TABLE = str.maketrans({"\u0131": "i", "\u017f": "s"})


def fold(text: str) -> str:
    """Lower-case *text* for the index, so case-insensitive matches are never missed."""
    return text.lower().translate(_FOLD_TABLE)


class UnsafeRegex(ValueError):
    """A regex whose matching time can explode (nested repeats)."""


def _is_repeat(op: Any) -> bool:
    return op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT)


def _children(op: Any, av: Any) -> Iterable[Any]:
    """The sub-pattern lists below one parse-tree node."""
    if _is_repeat(op) or op is getattr(_constants, "POSSESSIVE_REPEAT", None):
        yield av[2]
    elif op is _constants.SUBPATTERN:
        yield av[-1]
    elif op is _constants.BRANCH:
        yield from av[1]
    elif op in (_constants.ASSERT, _constants.ASSERT_NOT):
        yield av[1]
    elif op is getattr(_constants, "ATOMIC_GROUP", None):
        yield av
    elif op is _constants.GROUPREF_EXISTS:
        yield av[1]
        if av[2] is not None:
            yield av[2]


def check_regex_safety(items: Any) -> None:
    """Raise :class:`UnsafeRegex` for a repeat nested in a repeat, such as ``(a+)+``.

    Such a pattern can try exponentially many ways to split a message that
    almost matches (``(a+)+$`` on thirty a's and a ``!`` runs for minutes), and
    Python's regex engine cannot be interrupted. Bounded repeats inside bounded
    repeats (``(\\d{1,3}\\.){3}``) stay cheap and are allowed.
    """
    for op, av in items:
        if _is_repeat(op) and av[1] > 1:
            outer_unbounded = av[1] == _constants.MAXREPEAT
            for inner_op, inner_av in _walk(av[2]):
                nested = _is_repeat(inner_op) and inner_av[1] > 1
                if nested and (outer_unbounded or inner_av[1] == _constants.MAXREPEAT):
                    raise UnsafeRegex(
                        "a repeat inside a repeat (like (a+)+) can take exponential time; "
                        "rewrite it without the nesting, or make the inner part atomic: (?>...)"
                    )
        for child in _children(op, av):
            check_regex_safety(child)


def _walk(items: Any) -> Iterable[tuple[Any, Any]]:
    """Every node below *items*, skipping atomic groups and possessive repeats."""
    for op, av in items:
        if op is getattr(_constants, "ATOMIC_GROUP", None) or op is getattr(
            _constants, "POSSESSIVE_REPEAT", None
        ):
            continue
        yield op, av
        for child in _children(op, av):
            yield from _walk(child)


def _literal_runs(items: Any, runs: list[str]) -> None:
    """Collect runs of consecutive literal characters every match must contain."""
    run: list[str] = []

    def close() -> None:
        if run:
            runs.append("".join(run))
            run.clear()

    for op, av in items:
        if op is _constants.LITERAL:
            char = chr(av)
            if char.isascii():
                run.append(char)
                continue
            close()  # only ASCII literals are indexed: see fold()
        elif op is _constants.SUBPATTERN:
            close()
            _literal_runs(av[-1], runs)
        elif op is getattr(_constants, "ATOMIC_GROUP", None):
            close()
            _literal_runs(av, runs)
        elif (_is_repeat(op) or op is getattr(_constants, "POSSESSIVE_REPEAT", None)) and av[0] >= 1:
            close()
            _literal_runs(av[2], runs)  # present at least once
        else:
            close()
    close()


def parse_regex(source: str, flags: int) -> Any:
    """The parse tree of *source* (raises re.error on a bad pattern)."""
    return _parser.parse(source, flags)


def required_literal(tree: Any) -> str | None:
    """The longest text every match of the parsed regex contains, folded; None when there is none."""
    runs: list[str] = []
    _literal_runs(tree, runs)
    if not runs:
        return None
    return fold(max(runs, key=len))


def _words(text: str) -> list[str]:
    return text.split()


def exact_regex(text: str) -> str:
    """Regex for an exact pattern: the whole message, blanks around and between words ignored."""
    return r"\A\s*" + r"\s+".join(re.escape(w) for w in _words(text)) + r"\s*\Z"


def contains_regex(text: str) -> str:
    """Regex for a contains pattern: the words appear in the message as whole words, in order."""
    body = r"\s+".join(re.escape(w) for w in _words(text))
    # A word boundary only where the pattern itself starts or ends with a word character,
    # so "hi" does not match "this" but "?" still matches "why?".
    start = r"(?<!\w)" if text.strip()[:1].isalnum() or text.strip()[:1] == "_" else ""
    end = r"(?!\w)" if text.strip()[-1:].isalnum() or text.strip()[-1:] == "_" else ""
    return start + body + end


def glob_regex(text: str) -> str:
    """Regex for a glob pattern: ``*`` any text (captured as {1}, {2}...), ``?`` one character."""
    out = [r"\A\s*"]
    for char in text.strip():
        if char == "*":
            out.append("(.*?)")
        elif char == "?":
            out.append(".")
        elif char.isspace():
            out.append(r"\s+")
        else:
            out.append(re.escape(char))
    out.append(r"\s*\Z")
    return "".join(out)


class RuleIndex:
    """Find the first rule whose patterns match a message, without trying every rule.

    *rules* holds, per rule in order, its compiled alternatives and for each the
    required literal (or None). A regex runs only when the folded message
    contains its literal: a substring test in C, far cheaper than a failed search.
    """

    __slots__ = ("_always", "_grams", "_index", "_rules", "_scan")

    def __init__(self, rules: Sequence[Sequence[tuple[re.Pattern[str], str | None]]]) -> None:
        self._rules = [tuple((rx, lit or None) for rx, lit in alts) for alts in rules]
        self._scan = len(rules) <= LINEAR_SCAN_MAX
        self._always: list[int] = []
        self._index: dict[str, list[tuple[int, str]]] = {}
        self._grams: tuple[int, ...] = ()
        if self._scan:
            return
        keyed: list[tuple[int, str]] = []
        for number, alts in enumerate(self._rules):
            literals = [lit for _rx, lit in alts]
            if any(lit is None for lit in literals):
                self._always.append(number)
                continue
            keyed.extend((number, lit) for lit in literals if lit is not None)
        # Key each literal by its rarest piece, so rules sharing a prefix
        # ("rule0001", "rule0002") do not all land in one bucket.
        counts: dict[str, int] = {}
        for _number, lit in keyed:
            for piece in _pieces(lit):
                counts[piece] = counts.get(piece, 0) + 1
        lengths: set[int] = set()
        for number, lit in keyed:
            key = min(sorted(_pieces(lit)), key=lambda p: counts[p])
            lengths.add(len(key))
            self._index.setdefault(key, []).append((number, lit))
        self._grams = tuple(sorted(lengths))

    def candidates(self, folded: str) -> list[int]:
        """Rule numbers that may match the folded message, in rule order."""
        if self._scan:
            return list(range(len(self._rules)))
        found = set(self._always)
        index = self._index
        for size in self._grams:
            pieces = {folded[i : i + size] for i in range(len(folded) - size + 1)}
            for piece in pieces & index.keys():
                for number, lit in index[piece]:
                    if lit in folded:
                        found.add(number)
        return sorted(found)

    def match(self, text: str) -> tuple[int, re.Match[str]] | None:
        """The first rule (by number) that matches *text*, with its match; None when none does."""
        subject = text[:MAX_MATCH_CHARS]
        folded = fold(subject)
        rules = self._rules
        for number in range(len(rules)) if self._scan else self.candidates(folded):
            for rx, lit in rules[number]:
                if lit is not None and lit not in folded:
                    continue
                found = rx.search(subject)
                if found is not None:
                    return number, found
        return None


def _pieces(literal: str) -> set[str]:
    return {literal[i : i + GRAM] for i in range(max(1, len(literal) - GRAM + 1))}
