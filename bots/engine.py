"""One conversation with one peer, sans-IO: messages and the time go in, actions come out.

No socket, no clock, no sleep: the adapter passes ``now`` (seconds, any
monotonic origin) into every call, carries out the :class:`Send` and
:class:`Close` actions (a Send may ask to wait ``delay`` seconds first), and
calls :meth:`Conversation.tick` when :attr:`Conversation.deadline` passes. The
same engine therefore drives the serving bot, the connecting bot and the unit
tests, where time is just a number.

Turn rules (docs/dialogues.md, "Script: how a conversation runs"):

1. A message from the peer is checked against the ``abort`` patterns, then
   against the current ``expect`` step. A match passes the step (its named
   captures become variables); a mismatch fails the test, unless the step
   says ``on_mismatch: rules``, in which case the rules answer and the step
   waits for the next message.
2. The peer's ``exit`` ends the chat.
3. Then it is the bot's turn: a ``say`` step if the script is at one, else the
   first matching rule (the current topic's, then the top-level ones; a rule
   whose ``when`` or ``after`` does not hold is passed over; a ``redirect``
   asks the rules again with its text, at most MAX_REDIRECTS times), else the
   topic's ``fallback``, else the dialogue's; with nothing to say the bot ends
   the chat with ``exit``. With ``clauses`` the rules see each clause of the
   message in turn and the first clause a rule matches is answered; when no
   rule matches, the oldest reply a rule asked to ``remember`` comes before
   the fallback. Past ``max_turns`` messages it says ``exit``.
4. A test passes only when every ``expect`` step passed.
"""

from __future__ import annotations

import bisect
import collections
import enum
import random

from bots import notices
from bots.matcher import Match
from bots.model import (
    DEFAULT_GREETING,
    INPUT_NAME,
    MAX_MEMORIES,
    MAX_REDIRECTS,
    NO_TOPIC,
    Dialogue,
    OnMismatch,
    Order,
    Reply,
    Rule,
    Step,
    StepKind,
    Where,
)
from bots.template import Template
from chat.protocol import EXIT_WORD, is_exit
from chat.status import ExitStatus
from chat.value import Value


class Outcome(enum.Enum):
    """How a conversation ended."""

    #: The peer said `exit` and every expect step passed.
    ENDED_BY_PEER = "ended by peer"
    #: The bot said `exit` (a reply, max_turns, or nothing left to say) and every expect step passed.
    ENDED_BY_BOT = "ended by bot"
    #: An expect step did not match, or the chat ended before every expect step ran.
    MISMATCH = "mismatch"
    #: The peer stayed silent past an expect step's timeout.
    TIMEOUT = "timeout"
    #: A message matched an abort pattern.
    ABORT = "abort"
    #: The peer closed the connection without saying `exit`.
    PEER_LOST = "peer lost"

    @property
    def status(self) -> ExitStatus:
        """The exit status a program ending with this outcome returns."""
        return _STATUS[self]


_STATUS = {
    Outcome.ENDED_BY_PEER: ExitStatus.SUCCESS,
    Outcome.ENDED_BY_BOT: ExitStatus.SUCCESS,
    Outcome.MISMATCH: ExitStatus.MISMATCH,
    Outcome.TIMEOUT: ExitStatus.TIMEOUT,
    Outcome.ABORT: ExitStatus.ABORT,
    Outcome.PEER_LOST: ExitStatus.PEER_LOST,
}


class Send(Value):
    """Send *text* to the peer, after waiting *delay* seconds."""

    __slots__ = ("delay", "text")
    __match_args__ = ("text", "delay")

    def __init__(self, text: str, delay: float = 0.0) -> None:
        self.text = text
        self.delay = delay


class Close(Value):
    """The conversation is over: close the connection once everything sent is flushed."""

    __slots__ = ("outcome", "reason")
    __match_args__ = ("outcome", "reason")

    def __init__(self, outcome: Outcome, reason: str) -> None:
        self.outcome = outcome
        self.reason = reason


class StepResult(Value):
    """One line of the test report."""

    __slots__ = ("elapsed", "expected", "label", "received", "step", "verdict", "where")
    __match_args__ = ("verdict", "where", "label", "expected", "received", "elapsed", "step")

    def __init__(
        self,
        verdict: str,
        where: Where,
        label: str,
        expected: str | None,
        received: str | None,
        elapsed: float,
        step: Step | None = None,
    ) -> None:
        #: "PASS", "FAIL" or "NOT RUN".
        self.verdict = verdict
        self.where = where
        #: ``step 2 expect contains 'ready'``, ``abort contains 'BUSY'``.
        self.label = label
        self.expected = expected
        self.received = received
        self.elapsed = elapsed
        self.step = step


Action = Send | Close | StepResult


class Conversation:
    """The state of one chat with one peer; create one per connection."""

    __slots__ = (
        "_bags",
        "_cursors",
        "_last",
        "_memories",
        "_message",
        "_previous",
        "_rng",
        "_seed",
        "_variables",
        "deadline",
        "delays",
        "dialogue",
        "done",
        "outcome",
        "position",
        "sent",
        "topic",
        "waiting_since",
    )

    def __init__(self, dialogue: Dialogue, *, seed: str | None = None, delays: bool = True) -> None:
        self.dialogue = dialogue
        self.delays = delays
        self._seed = seed
        self._rng: random.Random | None = None  # made on first use: most chats never draw
        # Copy on first write: until a rule sets something, every chat shares the defaults.
        self._variables: dict[str, str] = dialogue.variables
        self._cursors: dict[int, int] | None = None
        self._bags: dict[int, list[int]] | None = None
        self._last: dict[int, int] | None = None
        #: Index of the current script step (len(script) when the script is done).
        self.position = 0
        #: Messages the bot sent, `exit` not counted (for max_turns).
        self.sent = 0
        #: When the current expect step's timeout fires; None when nothing is awaited.
        self.deadline: float | None = None
        #: When the peer's turn began (for the elapsed time of expect steps).
        self.waiting_since = 0.0
        self.done = False
        self.outcome: Outcome | None = None
        #: The topic the chat is in (format 1.1); None: only the top-level rules.
        self.topic: str | None = None
        # What the bot said last (for the rules' `after` patterns).
        self._previous = ""
        # The message the rules are looking at now (the peer's, or a redirect's).
        self._message = ""
        # Replies rules asked to remember (oldest first), for turns no rule answers.
        self._memories: collections.deque[str] = collections.deque(maxlen=MAX_MEMORIES)

    # -- inputs ------------------------------------------------------------

    def start(self, now: float) -> list[Action]:
        """The bot speaks first (the connecting role): a say step, the greeting, or "Hello!"."""
        actions: list[Action] = []
        step = self._step()
        if step is not None and step.kind is StepKind.SAY:
            self._say_step(step, {INPUT_NAME: ""}, now, actions)
        else:
            greeting = self.dialogue.greeting
            text = DEFAULT_GREETING if greeting is None else self._render(greeting, {INPUT_NAME: ""})
            self._send(text, now, actions)
        return actions

    def receive(self, text: str, now: float) -> list[Action]:
        """A whole message from the peer: the one turn path."""
        if self.done:
            return []
        actions: list[Action] = []
        self.deadline = None
        dialogue = self.dialogue
        for pattern in dialogue.abort:
            if pattern.search(text) is not None:
                actions.append(
                    StepResult(
                        "FAIL",
                        pattern.where,
                        f"abort {pattern.describe()}",
                        "no abort pattern",
                        repr(text),
                        max(0.0, now - self.waiting_since),
                    )
                )
                self._finish(
                    Outcome.ABORT, f"abort pattern {pattern.describe()} seen", actions, say_exit=True
                )
                return actions
        script = dialogue.script
        step = script[self.position] if self.position < len(script) else None
        if step is not None and step.kind is StepKind.EXPECT:
            assert step.pattern is not None
            found = step.pattern.search(text)
            if found is not None:
                actions.append(self._result("PASS", step, repr(text), now))
                named = {k: (v or "").strip() for k, v in found.groupdict().items()}
                if named:
                    self._set_variables(named)
                self.position += 1
            elif step.on_mismatch is OnMismatch.RULES:
                pass  # the rules answer below; the step waits for the next message
            else:
                actions.append(self._result("FAIL", step, repr(text), now))
                self._finish(Outcome.MISMATCH, f"step {step.number} did not match", actions, say_exit=True)
                return actions
        if is_exit(text):
            self._end_of_chat(
                Outcome.ENDED_BY_PEER, "the peer said exit", "the peer ended the chat", now, actions
            )
            return actions
        # The bot's turn: past max_turns it says exit; else a say step, a rule, the fallback.
        max_turns = dialogue.max_turns
        if max_turns is not None and self.sent >= max_turns:
            self._end_of_chat(Outcome.ENDED_BY_BOT, f"max_turns ({max_turns}) reached", "", now, actions)
        elif self.position < len(script) and script[self.position].kind is StepKind.SAY:
            self._say_step(script[self.position], {INPUT_NAME: text}, now, actions)
        else:
            self._answer(text, now, actions)
        return actions

    def receive_oversize(self, limit: int, now: float) -> list[Action]:
        """The peer sent a message over the size limit: it was discarded unread."""
        if self.done:
            return []
        actions: list[Action] = []
        self.deadline = None
        received = f"a message over the {limit}-byte limit"
        step = self._step()
        if step is not None and step.kind is StepKind.EXPECT and step.on_mismatch is OnMismatch.FAIL:
            actions.append(self._result("FAIL", step, received, now))
            self._finish(Outcome.MISMATCH, f"step {step.number} did not match", actions, say_exit=True)
            return actions
        self._send(notices.fit(notices.OVERSIZE_IN, limit, limit=limit), now, actions)
        return actions

    def peer_closed(self, now: float) -> list[Action]:
        """The connection closed without an `exit` from the peer."""
        if self.done:
            return []
        actions: list[Action] = []
        self._end_of_chat(
            Outcome.PEER_LOST,
            "the peer closed the connection without saying exit",
            "the peer closed the connection",
            now,
            actions,
        )
        return actions

    def tick(self, now: float) -> list[Action]:
        """Time passed: fail the awaited expect step when its timeout is over."""
        if self.done or self.deadline is None or now < self.deadline:
            return []
        actions: list[Action] = []
        step = self._step()
        assert step is not None
        actions.append(self._result("FAIL", step, f"nothing within {step.timeout:g} s", now))
        self._finish(Outcome.TIMEOUT, f"no message within {step.timeout:g} s", actions, say_exit=True)
        return actions

    def end(self, reason: str, now: float, *, notice: str | None = None) -> list[Action]:
        """End the chat from outside the dialogue (a signal, the idle timeout): *notice*, then `exit`.

        The one way the adapter ends a chat itself; a finished conversation returns no
        actions. A test whose expect steps have not all run fails, as at any other end.
        """
        if self.done:
            return []
        actions: list[Action] = []
        if notice is not None:
            actions.append(Send(notice))
        self._end_of_chat(Outcome.ENDED_BY_BOT, reason, "", now, actions)
        return actions

    # -- the bot's turn ----------------------------------------------------

    def _answer(self, text: str, now: float, actions: list[Action]) -> None:
        """Reply with the first matching rule (its `set` done), else a memory, else the fallback, else `exit`.

        With `clauses`, the first clause some rule matches is the message the rules
        answer. A rule's redirect hands its text back to the rules: at most
        MAX_REDIRECTS in a row, then the message gets the fallback, as if no rule had
        matched.
        """
        dialogue = self.dialogue
        clauses = dialogue.clauses
        found = None
        # The rules see each clause with the dialogue's substitutions made; {input} stays the message.
        for clause in (text,) if clauses is None else clauses.split(text):
            found = self._match(dialogue.substitute(clause))
            if found is not None:
                break
        for _hop in range(MAX_REDIRECTS + 1):
            if found is None:
                break
            rule, match = found
            if rule.fixed is not None:  # always the same and never `exit`: nothing to choose, fill or set
                self._say(rule.fixed, now, actions)
                return
            values = {INPUT_NAME: text}
            self._rule_effects(rule, match, values)
            if rule.redirect is None:
                assert rule.reply is not None
                self._send(self._render(rule.reply, values), now, actions)
                return
            found = self._match(self._fill(rule.redirect, values))
        if self._memories:  # no rule answered: a remembered reply before the fallback
            self._send(self._memories.popleft(), now, actions)
            return
        topic = self.dialogue.topics.get(self.topic) if self.topic is not None else None
        fallback = topic.fallback if topic is not None and topic.fallback is not None else dialogue.fallback
        if fallback is None:
            self._end_of_chat(Outcome.ENDED_BY_BOT, "nothing left to say", "", now, actions)
        elif fallback.fixed is not None:
            self._say(fallback.fixed, now, actions)
        else:
            self._send(self._render(fallback, {INPUT_NAME: text}), now, actions)

    def _match(self, message: str) -> tuple[Rule, Match] | None:
        """The current topic's first rule for *message* that holds, else the top-level one's."""
        self._message = message  # what a `when` reads as {input}
        if self.topic is not None:
            found = self.dialogue.topics[self.topic].ruleset.first(message, self._holds)
            if found is not None:
                return found
        return self.dialogue.ruleset.first(message, self._holds)

    def _holds(self, rule: Rule) -> bool:
        """Whether a rule's `when` and `after` hold now (asked only of rules that have one)."""
        if rule.after is not None and rule.after.search(self._previous) is None:
            return False
        when = rule.when
        if when is not None:
            variables = self._variables
            if INPUT_NAME in when.names:
                variables = {**variables, INPUT_NAME: self._message}
            return when.holds(variables, case_sensitive=self.dialogue.case_sensitive)
        return True

    def _rule_effects(self, rule: Rule, match: Match, values: dict[str, str]) -> None:
        """What a rule does besides its reply: captures into *values*, its `set`, its topic switch."""
        if rule.uses_captures:
            values.update(self._captures(match))
        if rule.sets:
            self._set_variables({name: self._fill(tpl, values) for name, tpl in rule.sets})
        if rule.topic is not None:
            self.topic = None if rule.topic == NO_TOPIC else rule.topic
        if rule.remember is not None:
            self._memories.append(self._render(rule.remember, values))

    def _say_step(self, step: Step, values: dict[str, str], now: float, actions: list[Action]) -> None:
        assert step.reply is not None
        text = self._render(step.reply, values)
        self.position += 1
        said = StepResult("PASS", step.where, f"step {step.number} say", None, repr(text), 0.0, step)
        self._send(text, now, actions, said=said)

    def _send(self, text: str, now: float, actions: list[Action], *, said: StepResult | None = None) -> None:
        if is_exit(text):
            self._end_of_chat(
                Outcome.ENDED_BY_BOT, "the bot said exit", "", now, actions, exit_text=text, said=said
            )
        else:
            self._say(text, now, actions, said)

    def _say(self, text: str, now: float, actions: list[Action], said: StepResult | None = None) -> None:
        # Send *text*, known not to be `exit`. A say step's PASS follows its Send: the
        # adapter reports it once the text is written.
        delay = self._delay() if self.delays else 0.0
        actions.append(Send(text, delay))
        self._previous = text
        if said is not None:
            actions.append(said)
        self.sent += 1
        self.waiting_since = now + delay
        script = self.dialogue.script
        if self.position < len(script) and script[self.position].kind is StepKind.EXPECT:
            self.deadline = self.waiting_since + script[self.position].timeout

    def _end_of_chat(
        self,
        outcome: Outcome,
        reason: str,
        received: str,
        now: float,
        actions: list[Action],
        *,
        exit_text: str = EXIT_WORD,
        said: StepResult | None = None,
    ) -> None:
        """The chat ends normally; a test still fails if an expect step never ran."""
        bot_ends = outcome is Outcome.ENDED_BY_BOT
        pending = [s for s in self.dialogue.script[self.position :] if s.kind is StepKind.EXPECT]
        if pending and outcome is not Outcome.PEER_LOST:
            step = pending[0]
            actions.append(self._result("FAIL", step, received or "the bot ended the chat first", now))
            outcome, reason = Outcome.MISMATCH, f"the chat ended before step {step.number}"
        elif pending:
            actions.append(self._result("FAIL", pending[0], received, now))
        if bot_ends:
            actions.append(Send(exit_text))
            if said is not None:
                actions.append(said)
        self.done = True
        self.outcome = outcome
        self.deadline = None
        actions.append(Close(outcome, reason))

    def _finish(self, outcome: Outcome, reason: str, actions: list[Action], *, say_exit: bool) -> None:
        if say_exit:
            actions.append(Send(EXIT_WORD))
        self.done = True
        self.outcome = outcome
        self.deadline = None
        actions.append(Close(outcome, reason))

    # -- helpers -----------------------------------------------------------

    def _step(self) -> Step | None:
        script = self.dialogue.script
        return script[self.position] if self.position < len(script) else None

    def _result(self, verdict: str, step: Step, received: str, now: float) -> StepResult:
        assert step.pattern is not None
        return StepResult(
            verdict,
            step.where,
            f"step {step.number} expect",
            step.pattern.describe(),
            received,
            max(0.0, now - self.waiting_since),
            step,
        )

    def _captures(self, match: Match) -> dict[str, str]:
        found = match.captures()
        reflect = self.dialogue.reflect
        if reflect:
            found = {k: " ".join(reflect.get(w.lower(), w) for w in v.split()) for k, v in found.items()}
        return found

    def _set_variables(self, values: dict[str, str]) -> None:
        if self._variables is self.dialogue.variables:
            self._variables = dict(self._variables)
        self._variables.update(values)

    def _fill(self, template: Template, values: dict[str, str]) -> str:
        return template.fill(values, self._variables)

    def _render(self, reply: Reply, values: dict[str, str]) -> str:
        choices = reply.choices
        template = choices[0] if len(choices) == 1 else self._choose(reply)
        return template.fill(values, self._variables)

    @property
    def rng(self) -> random.Random:
        """This chat's random source: seeded from --seed when given, so runs repeat exactly."""
        if self._rng is None:
            self._rng = random.Random(self._seed) if self._seed is not None else random.Random()
        return self._rng

    def _choose(self, reply: Reply) -> Template:
        choices = reply.choices
        count = len(choices)
        if count == 1:
            return choices[0]
        if reply.order is Order.IN_ORDER:
            if self._cursors is None:
                self._cursors = {}
            at = self._cursors.get(reply.key, 0)
            self._cursors[reply.key] = (at + 1) % count
            return choices[at]
        if reply.order is Order.RANDOM:
            totals = reply.totals
            if totals is None:
                return choices[self.rng.randrange(count)]
            # Weighted (format 1.1): a point on the line of running totals names its text.
            return choices[bisect.bisect_right(totals, self.rng.randrange(totals[-1]))]
        # no_repeat: draw from a shuffled bag; refill when empty, never repeating
        # the last choice across the refill.
        if self._bags is None:
            self._bags, self._last = {}, {}
        assert self._last is not None
        bag = self._bags.get(reply.key)
        if not bag:
            bag = list(range(count))
            self.rng.shuffle(bag)
            if bag[-1] == self._last.get(reply.key):
                bag[0], bag[-1] = bag[-1], bag[0]
            self._bags[reply.key] = bag
        chosen = bag.pop()
        self._last[reply.key] = chosen
        return choices[chosen]

    def _delay(self) -> float:
        low, high = self.dialogue.delay
        if low == high:
            return low
        return self.rng.uniform(low, high)

    @property
    def variables(self) -> dict[str, str]:
        """The chat's variables now (read-only view for tests and reports)."""
        return dict(self._variables)
