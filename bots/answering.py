"""The bot's answer to a message: the first rule that matches and holds, a memory, or the fallback.

The rules' side of a :class:`bots.engine.Conversation`, which is written in two modules: the
turn and the script there, how the bot answers here (:class:`Answering`, its base). A rule
answers from the current topic's rules, then the top-level ones (format 1.1), heeding its
conditions (``when``, ``after``), its ``set``, ``remember`` and topic switch, and redirects
(at most MAX_REDIRECTS in a row); with no rule, a remembered reply, then the fallback; with no
fallback, the bot has nothing left to say and ends the chat.
"""

from __future__ import annotations

import collections

from bots.actions import Action, Outcome, Send, StepResult
from bots.choices import Choices
from bots.model import INPUT_NAME, MAX_MEMORIES, MAX_REDIRECTS, NO_TOPIC, Dialogue, Reply, Rule
from bots.observer import Observer
from bots.patterns import Match, prepare
from bots.template import Template

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)


class Answering:
    """How a conversation answers a message (the base of :class:`bots.engine.Conversation`)."""

    __slots__ = (
        "_accepts",
        "_memories",
        "_message",
        "_plain_rules",
        "_previous",
        "_variables",
        "sent",
        "topic",
    )

    # What it reads of the conversation.
    dialogue: Dialogue
    _choices: Choices
    _lean: bool
    # What it shares with the conversation's script (set in Conversation.__init__).
    #: Messages the bot sent, `exit` not counted (for max_turns).
    sent: int
    _previous: str  # what the bot said last (for the rules' `after` patterns)
    _variables: dict[str, str]  # the chat's variables: the dialogue's own until a first write
    #: The topic the chat is in (format 1.1); None: only the top-level rules.
    topic: str | None
    # Replies rules asked to remember (oldest first), for turns no rule answers.
    _memories: collections.deque[str] | None  # made at the first `remember` (most chats have none)
    # The message the rules are looking at now (the peer's, or a redirect's): a `when` reads it as {input}.
    _message: str
    # Whether the rules see the message as it came (no clauses, no substitutions).
    _plain_rules: bool
    #: --coverage (bots.observer): None unless asked, so a turn pays one check at most.
    observer: Observer | None

    if TYPE_CHECKING:  # the conversation's own: how what the rules answer is sent

        def _say(
            self,
            text: str,
            now: float,
            actions: list[Action],
            said: StepResult | None = None,
            *,
            send: Send | None = None,
        ) -> None: ...

        def _send(
            self,
            text: str,
            now: float,
            actions: list[Action],
            *,
            said: StepResult | None = None,
            may_exit: bool = True,
        ) -> None: ...

        def _end_of_chat(
            self, outcome: Outcome, reason: str, received: str, now: float, actions: list[Action]
        ) -> None: ...

    def _begin_answering(self) -> None:
        """The rules' side of a new chat: no topic, nothing remembered."""
        self._accepts = self._holds  # the conditions' judge, bound once
        self.topic = None
        self._memories = None
        self._message = ""
        dialogue = self.dialogue
        self._plain_rules = dialogue.clauses is None and not dialogue.subs

    def _answer(self, text: str, prepared: tuple[str, str], now: float, actions: list[Action]) -> None:
        """Reply with the first matching rule (its `set` done), else a memory, else the fallback, else `exit`.

        With `clauses`, the first clause some rule matches is the message the rules
        answer. A rule's redirect hands its text back to the rules: at most
        MAX_REDIRECTS in a row, then the message gets the fallback, as if no rule had
        matched.
        """
        dialogue = self.dialogue
        if self._plain_rules and self.topic is None:  # what _match does, for the usual turn
            self._message = text
            found = dialogue.ruleset.first(prepared[0], prepared[1], self._accepts)
        elif self._plain_rules:
            found = self._match(text, prepared)
        else:
            clauses = dialogue.clauses
            found = None
            # The rules see each clause with the dialogue's substitutions made; {input} stays the message.
            for clause in (text,) if clauses is None else clauses.split(text):
                message = dialogue.substitute(clause)
                found = self._match(message, prepare(message))
                if found is not None:
                    break
        hops = 0  # rules answered in a row: the first, then each redirect's (at most MAX_REDIRECTS)
        while found is not None and hops <= MAX_REDIRECTS:
            hops += 1
            rule, match = found
            if self.observer is not None:  # --coverage: the rule, and which alternative matched
                self.observer.rule(rule, self._message)
            send = rule.send
            if send is not None:  # a fixed reply, never `exit`: nothing to choose, fill or set
                if self._lean:  # what _say does, without a delay or a script to time
                    actions.append(send)
                    self._previous = send.text
                    self.sent += 1
                else:
                    self._say(send.text, now, actions, send=send)
                return
            values = {INPUT_NAME: text}
            self._rule_effects(rule, match, values)
            reply = rule.reply
            if reply is not None:
                choices = reply.choices
                template = choices[0] if len(choices) == 1 else self._choices.pick(reply)
                reply_text = template.fill(values, self._variables)
                self._send(reply_text, now, actions, may_exit=template.may_exit)
                return
            assert rule.redirect is not None
            redirect = self._fill(rule.redirect, values)
            found = self._match(redirect, prepare(redirect))
            if self.observer is not None:  # --coverage
                self.observer.redirect(rule, found is not None)
        if self._memories:  # no rule answered: a remembered reply before the fallback
            if self.observer is not None:  # --coverage
                self.observer.recalled()
            self._send(self._memories.popleft(), now, actions)
            return
        topic = self.dialogue.topics.get(self.topic) if self.topic is not None else None
        fallback = topic.fallback if topic is not None and topic.fallback is not None else dialogue.fallback
        if self.observer is not None and fallback is not None:  # --coverage
            self.observer.fallback(fallback)
        if fallback is None:
            self._end_of_chat(Outcome.ENDED_BY_BOT, "nothing left to say", "", now, actions)
        elif fallback.fixed is not None:
            self._say(fallback.fixed, now, actions, send=fallback.send)
        else:
            self._send(self._render(fallback, {INPUT_NAME: text}), now, actions)

    def _match(self, message: str, prepared: tuple[str, str]) -> tuple[Rule, Match] | None:
        """The current topic's first rule for *message* (*prepared*) that holds, else the top-level one's."""
        self._message = message  # what a `when` reads as {input}
        text, folded = prepared
        if self.topic is not None:
            found = self.dialogue.topics[self.topic].ruleset.first(text, folded, self._accepts)
            if found is not None:
                return found
        return self.dialogue.ruleset.first(text, folded, self._accepts)

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
            reflect = self.dialogue.reflect
            if reflect:
                found = match.captures()
                values.update(
                    {k: " ".join(reflect.get(w.lower(), w) for w in v.split()) for k, v in found.items()}
                )
            else:
                match.captures(values)
        if rule.sets:
            self._set_variables({name: self._fill(tpl, values) for name, tpl in rule.sets})
        if rule.topic is not None:
            self.topic = None if rule.topic == NO_TOPIC else rule.topic
        if rule.remember is not None:
            if self._memories is None:
                self._memories = collections.deque(maxlen=MAX_MEMORIES)
            self._memories.append(self._render(rule.remember, values))

    def _set_variables(self, values: dict[str, str]) -> None:
        if self._variables is self.dialogue.variables:
            self._variables = dict(self._variables)
        self._variables.update(values)

    def _fill(self, template: Template, values: dict[str, str]) -> str:
        return template.fill(values, self._variables)

    def _render(self, reply: Reply, values: dict[str, str]) -> str:
        choices = reply.choices
        template = choices[0] if len(choices) == 1 else self._choices.pick(reply)
        return template.fill(values, self._variables)


__all__ = ["Answering"]
