"""Messages followed through a loaded dialogue's rules as a chat would: examples and fixed redirects.

``--check`` routes each rule's ``examples`` the way a conversation routes a message
(:meth:`bots.engine.Conversation` answers with the same parts): cut into clauses, each
clause substituted, then the current topic's rules and the top-level ones, searched
with :meth:`bots.ruleset.RuleList.first`, and redirects followed. What the loader
cannot know is the chat's state: a rule with ``when:`` or ``after:`` may answer or
decline depending on the variables and the bot's previous message. Such a rule is
passed over ("depends on state"), so an example is refused only when, whatever the
state, another rule answers it or no rule does: never a false shadow.

Fixed redirects (no ``{...}``) are followed the same way, through rules without
conditions: a loop, or a chain longer than :data:`~bots.model.MAX_REDIRECTS`, is a
problem, reported once, at the first rule of the loop or the chain.
"""

from __future__ import annotations

from bots.loader.bounds import MAX_EXAMPLE_TRIES, UNCHECKED, example_tries
from bots.loader.problems import Problem
from bots.model import INPUT_NAME, MAX_REDIRECTS, NO_TOPIC, Dialogue, Rule
from bots.patterns import Match, prepare
from bots.ruleset import RuleList


class _Answer:
    """Who answers a message: the rule that took it first, and the rule that replied after redirects."""

    __slots__ = ("first", "last")

    def __init__(self, first: Rule, last: Rule) -> None:
        self.first = first
        self.last = last


class _Spent(Exception):
    """Routing the examples passed MAX_EXAMPLE_TRIES: the rest are not checked."""


class ExampleRouter:
    """Routes the examples of one dialogue, counting the patterns tried (MAX_EXAMPLE_TRIES)."""

    def __init__(self, dialogue: Dialogue) -> None:
        self.dialogue = dialogue
        self.tries = 0
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def check_all(self) -> None:
        """Every example of every rule: its own rule answers it, in some state of the chat."""
        dialogue = self.dialogue
        lists: list[tuple[str | None, tuple[Rule, ...]]] = [(None, dialogue.rules)]
        lists += [(name, topic.rules) for name, topic in dialogue.topics.items()]
        for topic, rules in lists:
            for rule in rules:
                for text, where in rule.examples:
                    try:
                        problem = self.route(text, rule, topic)
                    except _Spent:
                        self.warnings.append(Problem(where, UNCHECKED))
                        return
                    if problem is not None:
                        self.problems.append(Problem(where, problem))

    def route(self, text: str, rule: Rule, topic: str | None) -> str | None:
        """Why *rule* cannot answer the example *text* in the chat (None: it can)."""
        dialogue = self.dialogue
        clauses = (text,) if dialogue.clauses is None else dialogue.clauses.split(text)
        own = False  # whether the rule's own pattern matches a clause
        for clause in clauses:
            message = dialogue.substitute(clause)  # as a conversation matches it
            here = rule.pattern.search(message) is not None
            own = own or here
            answer = self._answer(message, rule, topic, 0)
            if answer is None:
                continue  # no rule takes this clause, whatever the state: the chat tries the next one
            if answer.last is rule:
                return None
            if not here:  # the rule's pattern matches a later clause, or none
                own = own or any(
                    rule.pattern.search(dialogue.substitute(later)) is not None for later in clauses
                )
            return _answered_elsewhere(text, None if clause == text else clause, rule, answer, here, own)
        return f"example {text!r} matches no rule, not even its own"

    def _answer(self, message: str, rule: Rule, topic: str | None, hops: int) -> _Answer | None:
        """The rule that answers *message* whatever the state (after its redirects), or None.

        *rule* (the example's) answers wherever its pattern is reached; another rule with a
        condition is passed over, as it may decline.
        """
        found = self._first(message, rule, topic)
        if found is None:
            return None
        taker, match = found
        if taker is rule or taker.redirect is None or hops >= MAX_REDIRECTS:
            return _Answer(taker, taker)
        if taker.topic is not None:
            topic = None if taker.topic == NO_TOPIC else taker.topic
        then = self._answer(self._redirected(taker, match, message), rule, topic, hops + 1)
        return _Answer(taker, taker if then is None else then.last)

    def _first(self, message: str, rule: Rule, topic: str | None) -> tuple[Rule, Match] | None:
        """The first rule for *message*: the topic's, then the top-level ones (RuleList.first)."""

        def accepts(candidate: Rule) -> bool:  # asked only of rules with a condition
            return candidate is rule

        lists: list[RuleList] = []
        if topic is not None and topic in self.dialogue.topics:
            lists.append(self.dialogue.topics[topic].ruleset)
        lists.append(self.dialogue.ruleset)
        prepared = prepare(message)  # once, as a turn prepares it
        for ruleset in lists:
            self.tries += example_tries(ruleset, message)
            if self.tries > MAX_EXAMPLE_TRIES:
                raise _Spent
            found = ruleset.first(*prepared, accepts)
            if found is not None:
                return found
        return None

    def _redirected(self, taker: Rule, match: Match, message: str) -> str:
        """The text *taker*'s redirect hands back to the rules: its captures and `set` filled in."""
        assert taker.redirect is not None
        values = {INPUT_NAME: message, **_reflected(self.dialogue, match.captures())}
        variables = dict(self.dialogue.variables)
        for name, template in taker.sets:
            variables[name] = template.fill(values, variables)
        return taker.redirect.fill(values, variables)


def _reflected(dialogue: Dialogue, captures: dict[str, str]) -> dict[str, str]:
    """Captured text with the dialogue's reflections made (``my`` -> ``your``), as a reply sees it."""
    reflect = dialogue.reflect
    if not reflect:
        return captures
    return {k: " ".join(reflect.get(w.lower(), w) for w in v.split()) for k, v in captures.items()}


def _answered_elsewhere(
    text: str,
    clause: str | None,
    rule: Rule,
    answer: _Answer,
    here: bool,
    own: bool,
) -> str:
    """The problem of an example that another rule answers, and why.

    *here*: the rule's pattern matches the clause answered; *own*: it matches one of the clauses.
    """
    other = answer.first
    if not own:
        why = "this rule's own pattern does not match it"
    elif not here:
        why = "the chat answers the first clause a rule matches, and this rule matches a later one"
    elif other.rank > rule.rank:
        why = (
            f"its rank ({other.rank}) is higher and it shadows this one: "
            "raise this rule's rank or narrow that one"
        )
    else:  # the same list (a topic's rules come before the top-level ones), tried before this rule
        why = "it comes first and shadows this one: move this rule above it or narrow that one"
    how = "" if clause is None else f" in its clause {clause!r}"
    if answer.last is not other:
        how += f" and redirected to the rule at {_at(answer.last, rule)} ({answer.last.pattern.describe()})"
    return (
        f"example {text!r} is answered by the rule at {_at(other, rule)} ({other.pattern.describe()}){how}, "
        f"not by this rule: {why}"
    )


def _at(other: Rule, rule: Rule) -> str:
    return f"line {other.where.line}" if other.where.file == rule.where.file else other.where.file_line


# -- fixed redirects ---------------------------------------------------------------------------


def check_redirects(dialogue: Dialogue) -> list[Problem]:
    """Each loop of fixed redirects, and each chain over the limit, as one problem at its first rule."""
    lists = [(None, dialogue.rules)] + [(name, t.rules) for name, t in dialogue.topics.items()]
    loops: dict[frozenset[int], tuple[Rule, str]] = {}
    chains: list[list[Rule]] = []
    for within, rules in lists:
        for rule in rules:
            if rule.redirect is None or rule.redirect.names:
                continue
            seen, loop_start = _follow(dialogue, rule, within)
            if loop_start is not None:
                loop = seen[loop_start:]
                key = frozenset(map(id, loop))
                if key not in loops:
                    first = min(loop, key=lambda r: (r.where.file != dialogue.path, r.where.line))
                    loops[key] = (first, _loop_message(loop, first))
            elif len(seen) > MAX_REDIRECTS + 1:
                chains.append(seen)
    problems = [Problem(first.where, message) for first, message in loops.values()]
    inner = {id(r) for chain in chains for r in chain[1:]}
    problems += [
        Problem(
            chain[0].where,
            f"redirect leads through more than {MAX_REDIRECTS} redirects (MAX_REDIRECTS): "
            "the chat would stop before the end of the chain",
        )
        for chain in chains
        if id(chain[0]) not in inner  # a chain is reported at its start, not at each rule along it
    ]
    return problems


def _follow(dialogue: Dialogue, rule: Rule, within: str | None) -> tuple[list[Rule], int | None]:
    """The rules *rule*'s fixed redirects go through, and where a loop starts among them (or None).

    Only what the loader can know is followed: fixed texts, through rules without
    conditions (a condition may hold or not; the run-time bound covers the rest).
    The chain stops one past the limit.
    """
    seen = [rule]
    topic = within
    while len(seen) <= MAX_REDIRECTS + 1:
        current = seen[-1]
        if current.topic is not None:
            topic = None if current.topic == NO_TOPIC else current.topic
        redirect = current.redirect
        if redirect is None or redirect.names:
            break
        text = redirect.parts[0] if redirect.parts else ""
        found = None
        if topic is not None and topic in dialogue.topics:
            found = dialogue.topics[topic].ruleset.match(text)
        if found is None:
            found = dialogue.match(text)
        if found is None or found[0].conditional:
            break
        for position, earlier in enumerate(seen):
            if found[0] is earlier:
                return seen, position
        seen.append(found[0])
    return seen, None


def _loop_message(loop: list[Rule], first: Rule) -> str:
    """``redirect goes round in a loop ('pong' -> 'ping' -> back to line 3)``, from *first*."""
    start = loop.index(first)
    ordered = loop[start:] + loop[:start]
    path = " -> ".join(repr(r.redirect.source) for r in ordered if r.redirect is not None)
    return f"redirect goes round in a loop ({path} -> back to line {first.where.line})"
