"""One conversation with one peer, sans-IO: messages and the time go in, actions come out.

No socket, no clock, no sleep: the transport passes ``now`` (seconds, any monotonic origin)
into every call, carries out the :class:`Send` and :class:`Close` actions (a Send may ask to
wait ``delay`` seconds first: :mod:`bots.driver`), and calls :meth:`Conversation.tick` when
:attr:`Conversation.deadline` passes. The same engine drives the serving and connecting bots,
a client at its terminal, the Locust user, :mod:`chat_testing.memory` and the unit tests.

A turn: the ``abort`` patterns, the awaited ``expect`` step, the peer's ``exit``, then the
bot's answer (a ``say`` step in turns, a rule, a memory, the fallback). Formats 1 and 1.1 take
turns; format 1.2 runs its script as a sequence. The rules are in docs/dialogues.md ("Script:
how a conversation runs"); a test passes only when every ``expect`` step passed.
"""

from __future__ import annotations

from bots import notices
from bots.actions import Action, Close, Outcome, Send, StepResult
from bots.answering import Answering
from bots.awaiting import Awaiting
from bots.choices import Choices
from bots.model import (
    DEFAULT_GREETING,
    INPUT_NAME,
    Dialogue,
    Ending,
    OnMismatch,
    Step,
    StepKind,
)
from bots.observer import Observer
from bots.patterns import prepare
from chat.display import quoted
from chat.protocol import EXIT_WORD, is_exit

#: Why a test ends when its script is done (format 1.2), in the report.
SCRIPT_DONE = "the script ran to its end"


class Conversation(Answering):
    """The state of one chat with one peer; create one per connection.

    How it answers a message is its base's (:class:`bots.answering.Answering`).
    """

    __slots__ = (
        "_awaiting",
        "_chat_deadline",
        "_checks",
        "_choices",
        "_classic",
        "_close_deadline",
        "_deadline_s",
        "_input",
        "_instant",
        "_lean",
        "_screen",
        "_sends_until",
        "_sequence",
        "_step_deadline",
        "_timed",
        "deadline",
        "delays",
        "dialogue",
        "done",
        "observer",
        "outcome",
        "position",
        "started",
        "waiting_since",
    )

    def __init__(
        self,
        dialogue: Dialogue,
        *,
        seed: str | None = None,
        delays: bool = True,
        deadline: float | None = None,
        screen: bool = False,
        observer: Observer | None = None,
    ) -> None:
        """A chat on *dialogue*.

        *deadline*: seconds the whole chat may last (default: the dialogue's ``deadline``).
        *screen*: the peer is a screen (a client at its terminal), which shows prompts and
        banners besides messages: the script runs as a sequence whatever the format, lines that
        match nothing are passed over, and the rules never answer.
        *observer*: told which rules, redirects, memories, fallbacks and steps the chat used.
        """
        self.dialogue = dialogue
        self.delays = delays
        self._choices = Choices(seed)
        # Copy on first write: until a rule sets something, every chat shares the defaults.
        self._variables: dict[str, str] = dialogue.variables
        self._screen = screen
        #: --coverage (bots.observer): None unless asked, so a turn pays one check at most.
        self.observer = observer
        self._sequence = dialogue.sequence or screen
        # `exit` ends the chat, both ways (the classic programs' rule), unless the dialogue
        # ends chats another way (format 1.2's `end: close | wait`): then it is a line like any.
        self._classic = dialogue.ending is Ending.EXIT
        self._deadline_s = dialogue.deadline if deadline is None else deadline
        # What this dialogue's turns need, decided once, not at every turn: whether a send may wait
        # (a reply delay), whether anything comes before the rules (abort patterns, a script, a
        # screen), whether the rules see the message as it came (no clauses, no substitutions),
        # whether a deadline can ever be armed, and whether a send is only that (no delay, no script).
        self._instant = not delays or dialogue.delay == (0.0, 0.0)
        self._checks = bool(dialogue.abort or dialogue.script) or screen
        self._timed = bool(dialogue.script) or self._deadline_s is not None
        self._lean = self._instant and not self._checks
        #: Index of the current script step (len(script) when the script is done).
        self.position = 0
        #: Messages the bot sent, `exit` not counted (for max_turns).
        self.sent = 0
        #: When tick() must next be called: the earliest of the step's, the chat's and the
        #: close's deadlines; None when nothing is awaited.
        self.deadline: float | None = None
        self._step_deadline: float | None = None
        self._chat_deadline: float | None = None
        self._close_deadline: float | None = None  # `end: wait`: the peer's close, after the script
        #: When the current step began (for the elapsed time of expect steps).
        self.waiting_since = 0.0
        # When the last send the bot has made goes out, its delay included (a sequence's next
        # expect step starts then).
        self._sends_until = 0.0
        # The expect step being awaited, and how far it got.
        self._awaiting: Awaiting | None = None
        self.started = False
        self.done = False
        self.outcome: Outcome | None = None
        # What the bot said last (for the rules' `after` patterns).
        self._previous = ""
        # The peer's last message ({input} of a say step).
        self._input = ""
        self._begin_answering()

    # -- inputs ------------------------------------------------------------

    def start(self, now: float, *, dialling: bool = True) -> list[Action]:
        """The chat begins: the connection is made.

        *dialling* (the connecting role): the bot speaks first, with its script's say steps
        or its greeting ("Hello!" when it names none; in format 1.2, a script that begins
        with an expect step lets the peer speak first). Serving, the bot waits for the peer,
        except that a format 1.2 script's leading say steps go out at once; either way the
        first expect step's timeout and the chat's deadline start now.
        """
        actions: list[Action] = []
        self._begin(now)
        script = self.dialogue.script
        if self._sequence:
            greeting = self.dialogue.greeting
            if dialling and (greeting is not None or not script):
                text = DEFAULT_GREETING if greeting is None else self._render(greeting, {INPUT_NAME: ""})
                self._send(text, now, actions)
            self._advance(now, actions)
        elif dialling:
            step = self._step()
            if step is not None and step.kind is StepKind.SAY:
                self._say_step(step, {INPUT_NAME: ""}, now, actions)
            else:
                greeting = self.dialogue.greeting
                text = DEFAULT_GREETING if greeting is None else self._render(greeting, {INPUT_NAME: ""})
                self._send(text, now, actions)
        elif script and script[0].kind is StepKind.EXPECT:
            self._start_step(script[0], now)  # the peer's first message is awaited from the connection on
        self._arm()
        return actions

    def receive(self, text: str, now: float) -> list[Action]:
        """A whole message from the peer: the one turn path."""
        if self.done:
            return []
        actions: list[Action] = []
        if not self.started:
            self._begin(now)
        prepared = prepare(text)  # once: the abort patterns, the awaited step and the rules see it
        if self._checks and self._before_rules(text, prepared, now, actions):
            return actions
        if self._screen:
            return actions  # a screen's lines are not messages: none is answered, none ends the chat
        if self._classic and is_exit(text):
            self._end_of_chat(
                Outcome.ENDED_BY_PEER, "the peer said exit", "the peer ended the chat", now, actions
            )
            return actions
        # The bot's turn: past max_turns it ends the chat; else a say step (turns), a rule, the fallback.
        max_turns = self.dialogue.max_turns
        if max_turns is not None and self.sent >= max_turns:
            self._end_of_chat(Outcome.ENDED_BY_BOT, f"max_turns ({max_turns}) reached", "", now, actions)
        elif self._checks and not self._sequence and (step := self._step()) and step.kind is StepKind.SAY:
            self._say_step(step, {INPUT_NAME: text}, now, actions)
        else:
            self._answer(text, prepared, now, actions)
        if self._timed:
            self._arm()
        return actions

    def _before_rules(self, text: str, prepared: tuple[str, str], now: float, actions: list[Action]) -> bool:
        """What a turn checks before the bot answers, in a dialogue with abort patterns, a script or a
        screen: an abort pattern, the awaited expect step. True when that ends the turn."""
        if not self._sequence:
            self._step_deadline = None  # turns: the bot's next message re-arms it
        self._input = text
        for pattern in self.dialogue.abort:
            if pattern.find(*prepared) is not None:
                actions.append(
                    StepResult(
                        "FAIL",
                        pattern.where,
                        f"abort {pattern.describe()}",
                        "no abort pattern",
                        quoted(text),
                        max(0.0, now - self.waiting_since),
                    )
                )
                self._fail(Outcome.ABORT, f"abort pattern {pattern.describe()} seen", actions)
                return True
        if self._close_deadline is not None:
            return True  # `end: wait`: the script is done; lines before the peer's close are passed over
        step = self._step()
        if step is not None and step.kind is StepKind.EXPECT:
            taken = self._take(step, text, prepared, now, actions)
            if taken is not None:
                if self._sequence:
                    if taken:  # the step is done: what follows it runs
                        self._advance(now, actions)
                    self._arm()
                    return True
                # turns: the bot's turn follows
            elif self._screen or step.on_mismatch is OnMismatch.SKIP:
                self._passed_over(text)
                return True
            elif step.on_mismatch is OnMismatch.RULES:
                self._passed_over(text)  # the rules answer; the step waits for the next message
            else:
                actions.append(self._result("FAIL", step, quoted(text), now))
                self._fail(Outcome.MISMATCH, f"step {step.number} did not match", actions)
                return True
        return False

    def receive_oversize(self, limit: int, now: float) -> list[Action]:
        """The peer sent a message over the size limit: it was discarded unread."""
        if self.done:
            return []
        actions: list[Action] = []
        if not self._sequence:
            self._step_deadline = None
        received = f"a message over the {limit}-byte limit"
        step = self._step()
        if step is not None and step.kind is StepKind.EXPECT and self._close_deadline is None:
            if self._screen or step.on_mismatch is OnMismatch.SKIP:
                self._passed_over(received)
                return actions
            if step.on_mismatch is OnMismatch.FAIL:
                actions.append(self._result("FAIL", step, received, now))
                self._fail(Outcome.MISMATCH, f"step {step.number} did not match", actions)
                return actions
        self._send(notices.fit(notices.OVERSIZE_IN, limit, limit=limit), now, actions)
        self._arm()
        return actions

    def peer_closed(self, now: float) -> list[Action]:
        """The connection closed without an `exit` from the peer."""
        if self.done:
            return []
        actions: list[Action] = []
        pending = any(s.kind is StepKind.EXPECT for s in self.dialogue.script[self.position :])
        if self._close_deadline is not None or (not self._classic and not pending):
            # The close the dialogue waits for (`end: wait`), or the way its chats end (`end: close`).
            self._close(Outcome.ENDED_BY_PEER, "the peer closed the connection", actions)
            return actions
        self._end_of_chat(
            Outcome.PEER_LOST,
            "the peer closed the connection without saying exit",
            "the peer closed the connection",
            now,
            actions,
        )
        return actions

    def tick(self, now: float) -> list[Action]:
        """Time passed: fail the awaited step, or the chat, whose deadline is over."""
        if self.done or self.deadline is None or now < self.deadline:
            return []
        actions: list[Action] = []
        step = self._step()
        if self._close_deadline is not None and now >= self._close_deadline:
            waited = self._close_deadline - self.waiting_since
            self._close(
                Outcome.TIMEOUT,
                f"the peer did not close the connection within {waited:g} s of the script's end",
                actions,
            )
        elif self._step_deadline is not None and now >= self._step_deadline and step is not None:
            actions.append(self._result("FAIL", step, self._missing(f"within {step.timeout:g} s"), now))
            # Lines came but none matched a step that passes over mismatches: the peer said the wrong thing.
            skipped = self._screen or step.on_mismatch is OnMismatch.SKIP
            if skipped and self._awaiting is not None and self._awaiting.seen:
                self._fail(
                    Outcome.MISMATCH, f"no line matched step {step.number} within {step.timeout:g} s", actions
                )
            else:
                self._fail(Outcome.TIMEOUT, f"no message within {step.timeout:g} s", actions)
        else:
            reason = f"the chat's deadline of {self._deadline_s:g} s passed"
            if step is not None and step.kind is StepKind.EXPECT:
                actions.append(self._result("FAIL", step, self._missing(f"before {reason}"), now))
            self._fail(Outcome.TIMEOUT, reason, actions)
        return actions

    def end(self, reason: str, now: float, *, notice: str | None = None) -> list[Action]:
        """End the chat from outside the dialogue (a signal, the idle timeout): *notice*, then `exit`.

        The one way the transport ends a chat itself; a finished conversation returns no
        actions. A test whose expect steps have not all run fails, as at any other end.
        A dialogue that ends chats without `exit` (format 1.2) sends no notice either: its
        peer speaks another protocol.
        """
        if self.done:
            return []
        actions: list[Action] = []
        if notice is not None and self._classic:
            actions.append(Send(notice))
        self._end_of_chat(Outcome.ENDED_BY_BOT, reason, "", now, actions)
        return actions

    def awaits(self, text: str) -> bool:
        """Whether the expect step awaited now would take *text* as one of its lines (a peek).

        A screen offers a line that is not finished yet (a prompt) only when it would.
        """
        step = self._step()
        if self.done or step is None or step.kind is not StepKind.EXPECT or self._close_deadline is not None:
            return False
        awaiting = self._awaiting
        if awaiting is None or awaiting.step is not step:
            awaiting = Awaiting(step)
        return awaiting.would_take(text)

    # -- the script ---------------------------------------------------------

    def _begin(self, now: float) -> None:
        self.started = True
        self.waiting_since = self._sends_until = now
        if self._deadline_s is not None:
            self._chat_deadline = now + self._deadline_s

    def _advance(self, now: float, actions: list[Action]) -> None:
        """A sequence: send the say steps from here on, arm the next expect step, or end a done test."""
        script = self.dialogue.script
        while self.position < len(script) and not self.done:
            step = script[self.position]
            if step.kind is StepKind.EXPECT:
                self._start_step(step, max(now, self._sends_until))
                return
            self._say_step(step, {INPUT_NAME: self._input}, now, actions)
        if not self.done and self.dialogue.is_test:
            self._step_deadline = None
            if self.dialogue.ending is Ending.WAIT and not self._screen:
                self.waiting_since = max(now, self._sends_until)
                self._close_deadline = self.waiting_since + self.dialogue.timeout
            else:
                self._end_of_chat(Outcome.ENDED_BY_BOT, SCRIPT_DONE, "", now, actions)

    def _start_step(self, step: Step, at: float) -> None:
        """*step* (an expect step) is current from *at* on: its lines are awaited, its timeout runs."""
        self.waiting_since = at
        self._step_deadline = at + step.timeout
        self._awaiting = Awaiting(step)

    def _take(
        self, step: Step, text: str, prepared: tuple[str, str], now: float, actions: list[Action]
    ) -> bool | None:
        """Offer *text* to the expect step: None when it does not take it; True when the step is done."""
        awaiting = self._awaiting
        if awaiting is None or awaiting.step is not step:  # turns: the step became current by a say
            awaiting = self._awaiting = Awaiting(step)
        offered = awaiting.offer(*prepared)
        if offered is None:
            return None
        found, done = offered
        if found is not None:
            named = {k: (v or "").strip() for k, v in found.groupdict().items()}
            if named:
                self._set_variables(named)
        if done:
            if self.observer is not None:  # --coverage
                self.observer.step(step)
            actions.append(self._result("PASS", step, awaiting.took(text), now))
            self.position += 1
            self._step_deadline = None
            self._awaiting = None
        return done

    def _passed_over(self, text: str) -> None:
        """A line the awaited step declined, kept for the report should the step time out."""
        if self._awaiting is not None:
            self._awaiting.seen.append(text)

    def _missing(self, when: str) -> str:
        return f"nothing {when}" if self._awaiting is None else self._awaiting.missing(when)

    def _arm(self) -> None:
        """The earliest deadline that is set, for the transport's timer."""
        soonest = None
        for when in (self._step_deadline, self._chat_deadline, self._close_deadline):
            if when is not None and (soonest is None or when < soonest):
                soonest = when
        self.deadline = None if self.done else soonest

    def _say_step(self, step: Step, values: dict[str, str], now: float, actions: list[Action]) -> None:
        assert step.reply is not None
        text = self._render(step.reply, values)
        self.position += 1
        if self.observer is not None:  # --coverage
            self.observer.step(step)
        said = StepResult("PASS", step.where, step.label, None, quoted(text), 0.0, step)
        self._send(text, now, actions, said=said)

    def _send(
        self,
        text: str,
        now: float,
        actions: list[Action],
        *,
        said: StepResult | None = None,
        may_exit: bool = True,
    ) -> None:
        # *may_exit*: whether *text* may be `exit` (see Template.may_exit): it then ends the chat.
        if may_exit and self._classic and is_exit(text):
            self._end_of_chat(
                Outcome.ENDED_BY_BOT, "the bot said exit", "", now, actions, exit_text=text, said=said
            )
        else:
            self._say(text, now, actions, said)

    def _say(
        self,
        text: str,
        now: float,
        actions: list[Action],
        said: StepResult | None = None,
        *,
        send: Send | None = None,
    ) -> None:
        # Send *text*, known not to end the chat (*send*: its Send made at load, when the text is fixed).
        # A say step's PASS follows its Send: the transport reports it once the text is written.
        if self._instant:
            delay = 0.0
            actions.append(Send(text) if send is None else send)
        else:
            delay = self._choices.delay(*self.dialogue.delay)
            actions.append(Send(text, delay, fixed=send is not None))
        self._previous = text
        if said is not None:
            actions.append(said)
        self.sent += 1
        if not self._checks:
            return  # no script: nothing times a step from this message
        # Sends with delays go out one after the other (bots.driver), each after its own delay.
        self._sends_until = max(now, self._sends_until) + delay
        if not self._sequence:  # turns: the awaited step's timeout counts from this message
            self.waiting_since = now + delay
            script = self.dialogue.script
            if self.position < len(script) and script[self.position].kind is StepKind.EXPECT:
                self._step_deadline = self.waiting_since + script[self.position].timeout

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
            outcome, reason = Outcome.MISMATCH, f"the chat ended before {step.label}"
        elif pending:
            actions.append(self._result("FAIL", pending[0], received, now))
        if bot_ends:
            if self._classic:
                actions.append(Send(exit_text))
            if said is not None:
                actions.append(said)
        self._close(outcome, reason, actions)

    def _fail(self, outcome: Outcome, reason: str, actions: list[Action]) -> None:
        """The test failed: the dialogue's ending (`exit`, or just the close), then the close."""
        if self._classic:
            actions.append(Send(EXIT_WORD))
        self._close(outcome, reason, actions)

    def _close(self, outcome: Outcome, reason: str, actions: list[Action]) -> None:
        self.done = True
        self.outcome = outcome
        self.deadline = self._step_deadline = self._chat_deadline = self._close_deadline = None
        actions.append(Close(outcome, reason))

    # -- helpers -----------------------------------------------------------

    def _step(self) -> Step | None:
        script = self.dialogue.script
        return script[self.position] if self.position < len(script) else None

    def _result(self, verdict: str, step: Step, received: str, now: float) -> StepResult:
        return StepResult(
            verdict,
            step.where,
            step.label,
            step.describe(),
            received,
            max(0.0, now - self.waiting_since),
            step,
        )

    @property
    def variables(self) -> dict[str, str]:
        """The chat's variables now (read-only view for tests and reports)."""
        return dict(self._variables)
