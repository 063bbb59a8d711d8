"""Clauses: where a message is cut for the rules (`clauses: {split: [...]}`, ELIZA's delimiters).

The rules are asked about each clause in turn; the first clause a rule matches is the
message they answer (bots.engine). Pure: no state, no I/O.
"""

from __future__ import annotations

from bots import patterns
from bots.normalize import nfc
from bots.subs import Phrases
from chat.value import Value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from bots.model import Where

MAX_CLAUSES = 16  # clauses of one message the rules are asked about: ELIZA's sentences have a
# few. Each clause is substituted and matched on its own, so a message of delimiters (`x,x,x,...`,
# 512 clauses in the 1,024 characters patterns see) cost doctor.yaml 45 ms; 16 cost ~1.5 ms


class Clauses(Value):
    """Where a message is cut into clauses (`clauses: {split: [...]}`, ELIZA's delimiters).

    A delimiter made of word characters (letters, digits, _) is a whole word (`but` cuts "I see but no", not
    "butter"); any other is cut wherever it appears (`,` `.`). Blanks around clauses are
    dropped, and so are empty clauses. Delimiters are found as substitution keys are
    (:class:`bots.subs.Phrases`: NFC, case-folded, in one linear pass), in the first
    MAX_MATCH_CHARS characters of the message, what patterns see; the rules see at most
    MAX_CLAUSES clauses.
    """

    __slots__ = ("_cut", "delimiters", "where")
    __match_args__ = ("delimiters", "where")

    def __init__(self, delimiters: tuple[str, ...], where: Where) -> None:
        self.delimiters = delimiters
        self.where = where
        self._cut = Phrases((delimiter, "") for delimiter in delimiters)

    def split(self, text: str) -> tuple[str, ...]:
        """The clauses of *text* (of its first MAX_MATCH_CHARS characters), at most MAX_CLAUSES, in order.

        None when it is only delimiters and blanks. Bounded whatever the message (issue 19):
        the former cut ran Python's re over the whole message, and a 1 MB message of
        delimiters made 500,000 clauses, each substituted and matched (0.5 s of CPU).
        """
        subject = nfc(text[: patterns.MAX_MATCH_CHARS])
        clauses: list[str] = []
        done = 0
        for start, stop, _value in (*self._cut.find(subject), (len(subject), len(subject), "")):
            clause = subject[done:start].strip()
            done = stop
            if clause:
                clauses.append(clause)
                if len(clauses) == MAX_CLAUSES:
                    break
        return tuple(clauses)
