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

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Search = Callable[[str], re.Match[str] | None]

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
    if text.isascii():  # the usual message: no character of _FOLD_TABLE can be in it
        return text.lower()
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


def check_regex_safety(tree: Any) -> None:
    r"""Raise :class:`UnsafeRegex` for a repeat whose body can match one text in many ways.

    Such a pattern can try exponentially many ways to split a message that
    almost matches (``(a+)+$`` on thirty a's and a ``!`` runs for minutes), and
    Python's regex engine cannot be interrupted, so they are refused at load.
    Three shapes are refused inside a repeat of more than one: another repeat
    when either is unbounded (``(a+)+``), a body that can match nothing
    (``(a?){30}``, ``(a|b?)+``), and alternatives that can start with the same
    character (``(a|a)*``, ``(a|ab)+``). Bounded repeats inside bounded repeats
    (``(\d{1,3}\.){3}``) and alternatives with distinct first characters
    (``(a|b)*``) stay cheap and are allowed; atomic groups are exempt.
    """
    state = getattr(tree, "state", None)
    _check_safety(tree, int(getattr(state, "flags", 0)))


def _check_safety(items: Any, flags: int) -> None:
    for op, av in items:
        if _is_repeat(op) and av[1] > 1:
            outer_unbounded = av[1] == _constants.MAXREPEAT
            body = av[2]
            for inner_op, inner_av in _walk(body):
                nested = _is_repeat(inner_op) and inner_av[1] > 1
                if nested and (outer_unbounded or inner_av[1] == _constants.MAXREPEAT):
                    raise UnsafeRegex(
                        "a repeat inside a repeat (like (a+)+) can take exponential time; "
                        "rewrite it without the nesting, or make the inner part atomic: (?>...)"
                    )
                if inner_op is _constants.BRANCH and _branches_overlap(inner_av[1], flags):
                    raise UnsafeRegex(
                        "alternatives that can start with the same character inside a repeat "
                        "(like (a|ab)+) can take exponential time; make them start differently, "
                        "or make the group atomic: (?>...)"
                    )
            if _nullable(body):
                raise UnsafeRegex(
                    "a repeated part that can match nothing (like (a?)+) can take exponential time; "
                    "make every repetition consume at least one character"
                )
        for child in _children(op, av):
            _check_safety(child, flags)


# First characters of a sub-pattern: (low, high) code point ranges, or None for
# "could be almost anything" (a negated class, a category such as \w, any char).


def _op_is(op: Any, *names: str) -> bool:
    return any(op is getattr(_constants, name, None) for name in names)


def _nullable(items: Any) -> bool:
    """True when *items* can match the empty string (unknown constructs count as yes)."""
    for op, av in items:
        if _op_is(op, "LITERAL", "NOT_LITERAL", "IN", "ANY"):
            return False
        if _op_is(op, "SUBPATTERN"):
            if not _nullable(av[-1]):
                return False
        elif _op_is(op, "ATOMIC_GROUP"):
            if not _nullable(av):
                return False
        elif _op_is(op, "BRANCH"):
            if not any(_nullable(branch) for branch in av[1]):
                return False
        elif (_is_repeat(op) or _op_is(op, "POSSESSIVE_REPEAT")) and av[0] > 0 and not _nullable(av[2]):
            return False
        # anchors, lookarounds, back-references and optional parts may be empty: go on
    return True


def _first(items: Any, flags: int) -> list[tuple[int, int]] | None:
    """The code points a match of *items* can start with (None: too many to tell)."""
    ranges: list[tuple[int, int]] = []
    for op, av in items:
        part: list[tuple[int, int]] | None
        if _op_is(op, "AT", "ASSERT", "ASSERT_NOT"):
            continue
        if _op_is(op, "LITERAL"):
            part = _fold_ranges([(av, av)], flags)
        elif _op_is(op, "IN"):
            part = _class_ranges(av, flags)
        elif _op_is(op, "SUBPATTERN"):
            part = _first(av[-1], flags)
        elif _op_is(op, "ATOMIC_GROUP"):
            part = _first(av, flags)
        elif _op_is(op, "BRANCH"):
            part = []
            for branch in av[1]:
                sub = _first(branch, flags)
                if sub is None:
                    return None
                part.extend(sub)
        elif _is_repeat(op) or _op_is(op, "POSSESSIVE_REPEAT"):
            part = _first(av[2], flags)
        else:
            return None
        if part is None:
            return None
        ranges.extend(part)
        if not _nullable([(op, av)]):
            return ranges
    return ranges


def _class_ranges(items: Any, flags: int) -> list[tuple[int, int]] | None:
    ranges: list[tuple[int, int]] = []
    for op, av in items:
        if _op_is(op, "LITERAL"):
            ranges.append((av, av))
        elif _op_is(op, "RANGE"):
            ranges.append((av[0], av[1]))
        else:  # NEGATE, CATEGORY: too wide to reason about
            return None
    return _fold_ranges(ranges, flags)


def _fold_ranges(ranges: list[tuple[int, int]], flags: int) -> list[tuple[int, int]]:
    if not flags & re.IGNORECASE:
        return ranges
    folded = list(ranges)
    for low, high in ranges:
        # Case-insensitive overlaps come from letters; ASCII ones are the practical case,
        # and any other letter is compared with both of its cases below.
        for start, end, shift in ((65, 90, 32), (97, 122, -32)):
            lo, hi = max(low, start), min(high, end)
            if lo <= hi:
                folded.append((lo + shift, hi + shift))
        if low == high and low > 127:
            for variant in {chr(low).lower(), chr(low).upper()}:
                if len(variant) == 1:
                    folded.append((ord(variant), ord(variant)))
    return folded


def _branches_overlap(branches: Any, flags: int) -> bool:
    # The parser factors common prefixes out, so (a|a) arrives as a + (|) and (a|aa)
    # as a + (|a): an empty alternative beside another is the same ambiguity.
    if sum(1 for branch in branches if _nullable(branch)) and len(branches) > 1:
        return True
    firsts = [_first(branch, flags) for branch in branches]
    prefixes = [_literal_prefix(branch, flags) for branch in branches]
    for i, a in enumerate(firsts):
        for j in range(i + 1, len(firsts)):
            pa, pb = prefixes[i], prefixes[j]
            if pa and pb and not (pa.startswith(pb) or pb.startswith(pa)):
                continue  # (cat|cow): the literal text tells them apart within a few characters
            b = firsts[j]
            if a is None or b is None:
                return True
            if any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b):
                return True
    return False


def _literal_prefix(items: Any, flags: int) -> str:
    chars: list[str] = []
    for op, av in items:
        if not _op_is(op, "LITERAL"):
            break
        chars.append(chr(av))
    text = "".join(chars)
    return text.lower() if flags & re.IGNORECASE else text


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


def required_literals(tree: Any) -> tuple[str, ...]:
    """Every run of text every match of the parsed regex contains, folded, each once."""
    runs: list[str] = []
    _literal_runs(tree, runs)
    return tuple(dict.fromkeys(fold(run) for run in runs))


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

    __slots__ = ("_always", "_flat", "_grams", "_index", "_rules", "_scan")

    def __init__(
        self,
        rules: Sequence[Sequence[tuple[re.Pattern[str], str | None]]],
        runs: Sequence[Sequence[tuple[str, ...]]] | None = None,
    ) -> None:
        """*runs* (optional, parallel to *rules*): per alternative, every literal it requires."""
        self._rules = [tuple((rx, lit or None) for rx, lit in alts) for alts in rules]
        self._scan = len(rules) <= LINEAR_SCAN_MAX
        self._always: list[int] = []
        self._index: dict[str, list[tuple[int, str]]] = {}
        self._grams: tuple[int, ...] = ()
        self._flat: list[tuple[str, list[tuple[int, str, Search]]]] = []
        if self._scan:
            self._flat = _scan_groups(self._rules, runs)
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
        if self._scan:
            for literal, searches in self._flat:
                if literal in folded:
                    for number, second, search in searches:
                        if second in folded:
                            found = search(subject)
                            if found is not None:
                                return number, found
            return None
        rules = self._rules
        for number in self.candidates(folded):
            for rx, required in rules[number]:
                if required is not None and required not in folded:
                    continue
                found = rx.search(subject)
                if found is not None:
                    return number, found
        return None


def _scan_groups(
    rules: Sequence[Sequence[tuple[re.Pattern[str], str | None]]],
    runs: Sequence[Sequence[tuple[str, ...]]] | None,
) -> list[tuple[str, list[tuple[int, str, Search]]]]:
    """The plain scan's order of work: every alternative in rule order, grouped by its literal.

    Consecutive alternatives with the same literal ("" when none: always contained) form
    one group, so rules written alike (five ``exact: status report ...``) are passed over
    with one substring test. Within a group each alternative also checks a second literal
    it requires, the one fewest alternatives share (``alpha`` in ``status report alpha``),
    so only the rule that can match runs its regex.
    """
    shared: dict[str, int] = {}
    if runs is not None:
        for per_rule in runs:
            for per_alternative in per_rule:
                for run in per_alternative:
                    shared[run] = shared.get(run, 0) + 1
    groups: list[tuple[str, list[tuple[int, str, Search]]]] = []
    for number, alts in enumerate(rules):
        for position, (rx, lit) in enumerate(alts):
            key = lit or ""
            others = [r for r in runs[number][position] if r != key] if runs is not None else []
            second = min(others, key=lambda r: (shared[r], -len(r))) if others else ""
            if not groups or groups[-1][0] != key:
                groups.append((key, []))
            groups[-1][1].append((number, second, rx.search))
    return groups


def _pieces(literal: str) -> set[str]:
    return {literal[i : i + GRAM] for i in range(max(1, len(literal) - GRAM + 1))}
