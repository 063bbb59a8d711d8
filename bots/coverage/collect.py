"""Recording what the chats of one process use (``--coverage DATAFILE``), and saving it as its own part.

A :class:`Collector` serves a whole program run (the serving bot's many chats, a suite's
many files); each conversation gets a :class:`ChatObserver` (:class:`bots.observer.Observer`),
which adds the keys of what it uses to its dialogue's set. The keys of a dialogue's
objects are worked out once, when the collector first sees it, so that a turn costs a
dict look-up and a set insertion per thing used, and the search for which alternative
matched runs only for rules that have several.
"""

from __future__ import annotations

import collections

from bots import patterns
from bots.coverage import data, items
from bots.model import MAX_MEMORIES, NO_TOPIC, Dialogue, Reply, Rule, Step


def alternative_index(rule: Rule, message: str) -> int | None:
    """The first of *rule*'s alternatives that matches *message* (the text the rules saw), or None.

    The rule index answers with the rule, not with which of its alternatives matched; so
    the alternatives are tried again, in order, only for a rule that has several, and only
    when coverage is on. The first that matches is the one credited.
    """
    subject, folded = patterns.prepare(message)
    for index, regex in enumerate(rule.pattern.regexes):
        if regex.search(subject, folded) is not None:
            return index
    return None


class DialogueUse:
    """One dialogue's items by the model objects that stand for them, and the keys used so far."""

    __slots__ = (
        "alternatives",
        "chats",
        "fallbacks",
        "files",
        "memories",
        "path",
        "redirects",
        "rules",
        "steps",
        "topics",
        "used",
    )

    def __init__(self, dialogue: Dialogue) -> None:
        self.path = items.real_file_of(dialogue)
        inventory = items.inventory(dialogue)
        self.files = {file: data.digest(file) for file in sorted({self.path, *(i.file for i in inventory)})}
        self.chats = 0
        self.used: set[str] = set()
        self.rules: dict[int, str] = {}
        self.alternatives: dict[int, tuple[str, ...]] = {}
        self.redirects: dict[int, str] = {}
        self.memories: dict[int, str] = {}
        every_rule = [*dialogue.rules, *(rule for topic in dialogue.topics.values() for rule in topic.rules)]
        for rule in every_rule:
            self.rules[id(rule)] = items.key(items.RULE, rule.where)
            count = len(rule.pattern.sources)
            if count > 1:
                self.alternatives[id(rule)] = tuple(items.alternative_key(rule, i) for i in range(count))
            if rule.redirect is not None:
                self.redirects[id(rule)] = items.key(items.REDIRECT, rule.where)
            if rule.remember is not None:
                self.memories[id(rule)] = items.key(items.MEMORY, rule.remember.where)
        self.topics = {name: items.key(items.TOPIC, topic.where) for name, topic in dialogue.topics.items()}
        fallbacks: list[Reply] = [t.fallback for t in dialogue.topics.values() if t.fallback is not None]
        if dialogue.fallback is not None:
            fallbacks.append(dialogue.fallback)
        self.fallbacks = {id(reply): items.key(items.FALLBACK, reply.where) for reply in fallbacks}
        self.steps = {id(step): items.key(items.STEP, step.where) for step in dialogue.script}

    def record(self) -> data.DialogueData:
        return data.DialogueData(dict(self.files), self.chats, self.used)


class ChatObserver:
    """What one conversation uses, added to its dialogue's set as it goes."""

    __slots__ = ("_memories", "_use")

    def __init__(self, use: DialogueUse) -> None:
        self._use = use
        # The rules whose replies the chat remembers, oldest first, as the conversation's own
        # queue holds the replies: a recall is credited to the rule that stored it.
        self._memories: collections.deque[int] = collections.deque(maxlen=MAX_MEMORIES)

    def rule(self, rule: Rule, message: str) -> None:
        use = self._use
        use.used.add(use.rules[id(rule)])
        alternatives = use.alternatives.get(id(rule))
        if alternatives is not None:
            index = alternative_index(rule, message)
            if index is not None:
                use.used.add(alternatives[index])
        if rule.topic is not None and rule.topic != NO_TOPIC:
            use.used.add(use.topics[rule.topic])
        if rule.remember is not None:
            self._memories.append(id(rule))

    def redirect(self, rule: Rule, found: bool) -> None:
        if found:
            self._use.used.add(self._use.redirects[id(rule)])

    def recalled(self) -> None:
        if self._memories:
            self._use.used.add(self._use.memories[self._memories.popleft()])

    def fallback(self, reply: Reply) -> None:
        self._use.used.add(self._use.fallbacks[id(reply)])

    def step(self, step: Step) -> None:
        self._use.used.add(self._use.steps[id(step)])


class Collector:
    """Every dialogue this process runs chats on, and what they used; :meth:`save` writes it once."""

    def __init__(self, datafile: str) -> None:
        data.check_writable(datafile)
        self.datafile = datafile
        # By the dialogue object: a file loaded twice (a suite naming it twice) is two models.
        self._uses: dict[int, tuple[Dialogue, DialogueUse]] = {}
        #: Where save() wrote, once it has.
        self.written: str | None = None

    def register(self, dialogue: Dialogue) -> DialogueUse:
        """Count *dialogue* in the data even if no chat ever runs on it (all of it then unused)."""
        entry = self._uses.get(id(dialogue))
        if entry is None:
            entry = self._uses[id(dialogue)] = (dialogue, DialogueUse(dialogue))
        return entry[1]

    def observer(self, dialogue: Dialogue) -> ChatObserver:
        use = self.register(dialogue)
        use.chats += 1
        return ChatObserver(use)

    def data(self) -> data.CoverageData:
        combined = data.CoverageData()
        for _dialogue, use in self._uses.values():
            combined.merge(use.path, use.record())
        return combined

    def save(self) -> str:
        """Write this process's part beside the data file (``DATAFILE.<host>.<pid>.<random>``); its path."""
        path = self.written or data.part_name(self.datafile)
        data.write(path, self.data())
        self.written = path
        return path


__all__ = ["ChatObserver", "Collector", "DialogueUse", "alternative_index"]
