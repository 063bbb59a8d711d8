"""The rule index: the first rule whose pattern matches a message, without trying every rule.

Each pattern alternative has a *required literal*, folded text every message it matches
contains (None: it has none, as ``regex: '.*'``); a regex runs only where the message holds
its literal. A few rules (at most :data:`LINEAR_SCAN_MAX`) are scanned in order, rules
written alike passed over together with one substring test. Past that, the index's cost
does not grow with the number of rules: exact patterns are looked up in a table of their
words, and one RE2 Set (RE2's multi-pattern matcher, one pass over the message) names the
literals the message holds, so only the rules with one of them, and the rules with none,
are tried.
"""

from __future__ import annotations

from collections.abc import Sequence

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information
from re2 import _re2

from bots.patterns.kinds import Exact, Matcher
from bots.patterns.programs import Found
from bots.patterns.subject import prepare

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from collections.abc import Callable

    #: A matcher's search or hit: the prepared message in, a match (or None) out.
    Find = Callable[[str, str], Found | None]

LINEAR_SCAN_MAX = 48  # up to this many rules a plain scan beats the Set's call: a substring test
# is ~0.05 us, one RE2 Set pass over a short message ~0.5 us (bench.inprocess, scenario 2's rows)
SET_BASE_MEMORY = 8 << 20  # RE2's default budget for one program and its DFA
SET_MEMORY_PER_BYTE = 64  # RE2 allows a program max_mem / 64 instructions, one a literal's byte:
# the Set of a large dialogue's literals gets room for all of them (and its DFA for as much again)


class RuleIndex:
    """Find the first rule whose patterns match a message, without trying every rule.

    *rules* holds, per rule in order, its compiled alternatives and for each the required
    literal (or None). *runs* (optional, parallel): per alternative, every literal it
    requires. *captures* (optional, parallel): per rule, whether its match record is read;
    a rule that reads none is only asked whether it matches (``hit``), and its match is
    :data:`~bots.patterns.programs.NO_CAPTURES`.
    """

    __slots__ = ("_always", "_exact", "_exact_cased", "_flat", "_literals", "_rules", "_scan", "_set")

    def __init__(
        self,
        rules: Sequence[Sequence[tuple[Matcher, str | None]]],
        runs: Sequence[Sequence[tuple[str, ...]]] | None = None,
        captures: Sequence[bool] | None = None,
    ) -> None:
        self._rules = [tuple((rx, lit or None) for rx, lit in alts) for alts in rules]
        reads = [True] * len(rules) if captures is None else list(captures)
        self._scan = len(rules) <= LINEAR_SCAN_MAX
        self._flat: list[tuple[str, list[tuple[int, str, Find]]]] = []
        self._exact: dict[str, tuple[int, Find]] = {}
        self._exact_cased: dict[str, tuple[int, Find]] = {}
        self._always: list[tuple[int, int, Find]] = []
        self._literals: list[list[tuple[int, int, Find]]] = []
        self._set: Callable[[bytes], list[int]] | None = None
        if self._scan:
            self._flat = _scan_groups(self._rules, runs, reads)
            return
        literals: dict[str, list[tuple[int, int, Find]]] = {}
        for number, alts in enumerate(self._rules):
            for position, (rx, literal) in enumerate(alts):
                find = rx.search if reads[number] else rx.hit
                if type(rx) is Exact:
                    table = self._exact if rx.folded else self._exact_cased
                    table.setdefault(rx.key, (number, find))
                elif literal is None:
                    self._always.append((number, position, find))
                else:
                    literals.setdefault(literal, []).append((number, position, find))
        if literals:
            self._literals = list(literals.values())
            self._set = _literal_set(list(literals))

    def candidates(self, folded: str) -> list[int]:
        """Rule numbers that may match the folded message, in rule order."""
        if self._scan:
            return list(range(len(self._rules)))
        found = {number for number, _position, _find in self._tried(folded)}
        hit = self._exact.get(" ".join(folded.split()))
        if hit is not None:
            found.add(hit[0])
        return sorted(found)

    def _tried(self, folded: str) -> list[tuple[int, int, Find]]:
        """The alternatives (not exact) a message may match, in rule order: those whose literal it holds."""
        tried = list(self._always)
        if self._set is not None:
            literals = self._literals
            for at in self._set(folded.encode()):
                tried += literals[at]
            tried.sort(key=_rule_order)
        return tried

    def match(self, message: str) -> tuple[int, Found] | None:
        """The first rule (by number) that matches *message*, with its match; None when none does."""
        return self.search(*prepare(message))

    def search(self, text: str, folded: str) -> tuple[int, Found] | None:
        """As :meth:`match`, for a prepared message (*text* its NFC form, *folded* that case-folded)."""
        if self._scan:
            for literal, finds in self._flat:
                if literal in folded:
                    for number, second, find in finds:
                        if second in folded:
                            found = find(text, folded)
                            if found is not None:
                                return number, found
            return None
        exact = None
        if self._exact:
            exact = _look_up(self._exact, folded)
        if self._exact_cased:
            cased = _look_up(self._exact_cased, text)
            if cased is not None and (exact is None or cased[0] < exact[0]):
                exact = cased
        for number, _position, find in self._tried(folded):
            if exact is not None and number >= exact[0]:
                break
            found = find(text, folded)
            if found is not None:
                return number, found
        if exact is None:
            return None
        found = exact[1](text, folded)  # the record, when the rule reads it
        assert found is not None
        return exact[0], found


def _rule_order(tried: tuple[int, int, Find]) -> tuple[int, int]:
    return tried[0], tried[1]


def _look_up(table: dict[str, tuple[int, Find]], subject: str) -> tuple[int, Find] | None:
    """The first exact rule whose words *subject* is (blanks aside)."""
    found = table.get(subject)
    if found is None:
        joined = " ".join(subject.split())
        if joined != subject:
            found = table.get(joined)
    return found


def _literal_set(literals: list[str]) -> Callable[[bytes], list[int]]:
    """One RE2 Set of the literals: its match names, in one pass, the literals a (folded) text holds."""
    options = re2.Options()
    options.literal = True  # the literals as they are: nothing to escape
    options.case_sensitive = True  # they are folded, as the text they are looked for in
    options.log_errors = False
    options.max_mem = SET_BASE_MEMORY + SET_MEMORY_PER_BYTE * sum(len(lit.encode()) + 1 for lit in literals)
    found = _re2.Set(_re2.RE2.Anchor.UNANCHORED, options)
    for literal in literals:
        found.Add(literal.encode())
    if not found.Compile():  # pragma: no cover - the budget above fits the largest dialogue a load allows
        raise MemoryError(f"the rule index could not hold {len(literals):,} literals")
    return found.Match  # type: ignore[no-any-return]


def _scan_groups(
    rules: Sequence[Sequence[tuple[Matcher, str | None]]],
    runs: Sequence[Sequence[tuple[str, ...]]] | None,
    reads: Sequence[bool],
) -> list[tuple[str, list[tuple[int, str, Find]]]]:
    """The plain scan's order of work: every alternative in rule order, grouped by a literal they share.

    Each alternative requires some literal runs (without *runs*, its one literal): every
    match contains each of them. A group is keyed by the run that the most alternatives
    from its first one on share in a row (ties: the longest), so rules written alike (five
    ``exact: status report ...``, five ``regex: ^order ... for ...``) are passed over with
    one substring test: twenty rules written five by five make four groups, and a message
    for the last rule makes four group tests, not one per rule. Within a group each
    alternative also checks a second run it requires, the one fewest alternatives share
    (``alpha`` in ``status report alpha``), so only the rule that can match runs its regex.
    An alternative with no run forms a group keyed "" (always contained). Each alternative
    is asked for its match record only when its rule reads it (*reads*).

    Linear in the runs of all alternatives (issue 19, item 8): a group's key is found by
    walking only the alternatives the group then holds.
    """
    flat = [
        (number, rx, runs[number][position] if runs is not None else (lit,) if lit else ())
        for number, alts in enumerate(rules)
        for position, (rx, lit) in enumerate(alts)
    ]
    sets = [frozenset(required) for _number, _rx, required in flat]
    shared: dict[str, int] = {}
    for _number, _rx, required in flat:
        for run in required:
            shared[run] = shared.get(run, 0) + 1
    groups: list[tuple[str, list[tuple[int, str, Find]]]] = []
    for at, (number, rx, required) in enumerate(flat):
        joins = bool(groups) and (groups[-1][0] in sets[at] if required else groups[-1][0] == "")
        if not joins:
            groups.append((_group_key(sets, required, at), []))
        key = groups[-1][0]
        others = [run for run in required if run != key]
        second = min(others, key=lambda run: (shared[run], -len(run))) if others else ""
        groups[-1][1].append((number, second, rx.search if reads[number] else rx.hit))
    return groups


def _group_key(sets: Sequence[frozenset[str]], required: tuple[str, ...], at: int) -> str:
    """The run of alternative *at* (*required*, in order) that the most alternatives from it on
    require in a row.

    Each run's count stops at the first alternative without it, and the group then holds as
    many alternatives as the largest count: so the counts cost at most the runs of the group's
    alternatives. (Slicing the rest of the list for each run, as this once did, made the scan
    quadratic: one rule of 120,000 alternatives took 50 s to load.)
    """

    def reach(run: str) -> int:
        end = at
        while end < len(sets) and run in sets[end]:
            end += 1
        return end - at

    return max(required, key=lambda run: (reach(run), len(run))) if required else ""


__all__ = ["LINEAR_SCAN_MAX", "RuleIndex"]
