"""The load's bounds across a whole dialogue (issue 19): what a chat can keep, and what a load can build.

Three kinds of check live here, each linear in the dialogue:

- :func:`growing_sets`: `set:` values that can grow without bound from message to message
  (``set: {v: "{v}{v}"}``, or ``a`` taking ``b`` and more while ``b`` takes ``a``): a
  warning from ``--check``, as such a value is cut at :data:`~bots.limits.MAX_VALUE_CHARS`
  in a chat, which is rarely what the author meant.
- :class:`Budget`: the alternatives a load compiles, counted across the file and its
  included files after word lists are expanded. Each is one compiled RE2 program (~3 KB,
  ~50 us to build), and lists multiply them: 1,000 rules of ``exact: "{a} {b} rN"`` with
  two 16-item lists made 256,000 of them from 38 KiB, 12 s and 1.1 GiB to load.
- :func:`example_tries`: what routing the examples costs, bounded by MAX_EXAMPLE_TRIES.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bots import patterns
from bots.limits import MAX_VALUE_CHARS
from bots.model import Where
from bots.ruleset import RuleList
from bots.template import Template

#: What compiling one alternative gives: its regex, its literal (None: always tried), its runs.
Compiled = tuple[patterns.Matcher, str | None, tuple[str, ...]]

MAX_TOTAL_ALTERNATIVES = 20_000  # pattern alternatives in a whole dialogue, after word lists are
# expanded: each is an RE2 program, ~4 KB and ~50 us to build, so any load stays near 100 MB and
# 2 s (adversarial/test_dialogue_bounds.py). The benchmark's 10,000 regex rules fit twice; a 1 MiB
# file can hold 120,000 one-word alternatives, and is refused at the 20,001st with its place.
MAX_TOTAL_PATTERN_CHARS = 1 << 20  # characters of pattern text in a whole dialogue after expansion:
# the same 1 MiB as a file, so a word list never makes a dialogue bigger than one written out


class Budget:
    """What a load has compiled so far, shared by the file and its included files."""

    __slots__ = ("_compiled", "alternatives", "chars", "spent")

    def __init__(self) -> None:
        self.alternatives = 0
        self.chars = 0
        #: Whether a bound was passed: then nothing more is compiled (its problem is reported once).
        self.spent = False
        # Each alternative compiled once per load: rules written alike share their program (a
        # compiled alternative is ~5 KB; 18,000 conditional rules on 50 words took 218 MiB).
        self._compiled: dict[tuple[str, str, bool, bool], Compiled] = {}

    def compile(self, kind: str, text: str, case_sensitive: bool, ignore_punctuation: bool) -> Compiled:
        """:func:`bots.patterns.compile_pattern`, once per load for the same arguments."""
        key = (kind, text, case_sensitive, ignore_punctuation)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = patterns.compile_pattern(
                kind, text, case_sensitive=case_sensitive, ignore_punctuation=ignore_punctuation
            )
        return found

    def take(self, texts: Sequence[str]) -> str | None:
        """Count one pattern's *texts*; why they pass a bound (once, then the empty text), or None."""
        if self.spent:
            return ""
        self.alternatives += len(texts)
        self.chars += sum(map(len, texts))
        if self.alternatives > MAX_TOTAL_ALTERNATIVES:
            self.spent = True
            return (
                f"this pattern passes the limit of {MAX_TOTAL_ALTERNATIVES:,} pattern alternatives in a "
                f"dialogue (word lists expanded, included files counted): split the dialogue, "
                "or use fewer or shorter word lists"
            )
        if self.chars > MAX_TOTAL_PATTERN_CHARS:
            self.spent = True
            return (
                f"this pattern passes the limit of {MAX_TOTAL_PATTERN_CHARS:,} characters of patterns in a "
                f"dialogue (word lists expanded, included files counted): use fewer or shorter word lists"
            )
        return None


MAX_EXAMPLE_TRIES = 2_000_000  # pattern alternatives a load may try while routing examples (~1 us
# each): an example tries every rule without a literal before its own, so 9,000 such rules with
# an example each took 45 s to check; the bound keeps any check to seconds (the rest is skipped)
UNCHECKED = (
    f"this example and the ones after it were not checked: routing them would try over "
    f"{MAX_EXAMPLE_TRIES:,} patterns (rules whose pattern has no plain word are tried for every "
    "message); give those rules a word to look for, or fewer examples"
)


def example_tries(ruleset: RuleList, text: str) -> int:
    """The pattern alternatives routing *text* through *ruleset* may try (the index's candidates)."""
    _subject, folded = patterns.prepare(text)
    rules = ruleset.rules
    return 1 + sum(len(rules[number].pattern.regexes) for number in ruleset.index.candidates(folded))


#: One `set:` of a variable: its name, its template, where it is written, and the names its rule
#: captures (in the template those are the captures, not variables).
Assignment = tuple[str, Template, Where, frozenset[str]]


def growing_sets(assignments: Iterable[Assignment], variables: Iterable[str]) -> list[tuple[Where, str]]:
    """Each `set:` whose value can grow without bound, with why: (where, message).

    A value takes the variables its template names. It grows when the variable it sets
    is, through such takings, among what it takes, and the template adds something on
    the way (any text or a second placeholder; ``{v}`` alone only copies). The variables
    that take each other are the strongly connected components of that graph (Tarjan's
    algorithm, iterative: linear, and no recursion limit).
    """
    known = set(variables)
    sets = list(assignments)
    takes: dict[str, list[str]] = {}
    for name, template, _where, captured in sets:
        takes.setdefault(name, [])
        for used in template.names:
            if used in known and used not in captured:
                takes[name].append(used)
                takes.setdefault(used, [])
    component = _components(takes)
    found = []
    for name, template, where, captured in sets:
        copies = len(template.parts) == 3 and template.parts[0] == template.parts[2] == ""
        if copies:
            continue
        loop = sorted(
            {
                used
                for used in template.names
                if used in known and used not in captured and component[used] == component[name]
            }
        )
        if not loop:
            continue
        through = "" if loop == [name] else f" (through {', '.join('{' + v + '}' for v in loop)})"
        found.append(
            (
                where,
                f"set: {name} can grow without bound: its new value holds its old one{through} "
                f"and more, so each message lengthens it until it is cut at {MAX_VALUE_CHARS:,} "
                "characters (the most a value holds)",
            )
        )
    return found


def _components(takes: dict[str, list[str]]) -> dict[str, int]:
    """Tarjan's strongly connected components of the graph *takes*: the component of each node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in takes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, at = work.pop()
            if at == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = takes[node]
            if at < len(edges):
                work.append((node, at + 1))
                nxt = edges[at]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = index[node]
                    if member == node:
                        break
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return component
