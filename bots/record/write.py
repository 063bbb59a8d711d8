"""A recording written as a format 1.2 dialogue, sans-IO: the test that plays one side against the other.

Written for the client's side (the test of a server), each client line is a ``say`` step
and each server line an ``expect`` step of its exact text, in the order they crossed; for
the server's side (the peer dialogue that plays the server, to test a client), the other
way round. Exact means: ``case_sensitive: true`` and ``punctuation: keep``, so only blanks
around and between words are free (the format's ``exact``); an empty line is
``{regex: '^$'}``.

* **Timeouts** (:func:`timeout`): each expect step waits twice the delay seen before its
  line, plus one second, at least :data:`MIN_TIMEOUT_S`, rounded up to half a second.
  The file's ``timeout`` is that floor; a step that needs more says so.
* **The ending** as seen: the side written ends with ``exit`` (``end: exit``: its last say step,
  ``exit`` as it was written, ends the chat), or closes first (``end: close``), or the other
  side ends with ``exit`` or closes first (``end: wait``: its close is the test's end).
* **Volatile tokens** (``volatile=True``, :data:`VOLATILE`): in an expected line, numbers of
  four digits or more, hex ids, times, dates and UUIDs become named captures
  (``(?P<time1>...)``), so that a replay passes when they change; a later line the test
  says that repeats a captured token uses the variable (``PING :{hex1}``'s answer
  ``PONG :{hex1}``). Three-digit numbers stay: they are the reply codes of SMTP, FTP and
  IRC.
* **Long lines**: patterns see the first 1,024 bytes of a line; a longer one is expected by its
  first 512 bytes (``{regex: '^...'}``).
* **Text**: a file holds text: bytes that are not UTF-8 are written as U+FFFD, which a say step
  then sends instead; an empty line (or one of blanks only) that the written side sent is a
  comment: a say cannot be empty.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from bots.record.session import CLIENT, Line, Recording, other
from chat.protocol import is_exit

MIN_TIMEOUT_S = 2.0  # a step's floor: a server on a busy CI machine answers within it
TIMEOUT_FACTOR = 2.0  # the delay seen, doubled: a replay may run on a slower machine
TIMEOUT_EXTRA_S = 1.0  # plus a second, for a delay seen of a few milliseconds
TIMEOUT_STEP_S = 0.5  # rounded up to this: the file reads 2, 2.5, 9.5, not 2.3417
SEEN_BYTES = 1024  # patterns see this much of a message's UTF-8 (bots.patterns.MAX_MATCH_BYTES): a
PREFIX_BYTES = 512  # longer line is expected by a prefix of this much, well inside what is seen
DEADLINE_FROM_S = 60.0  # the harness's own bound on a test (chat_testing.TEST_DEADLINE_S): a
# recording that may replay longer names its own deadline

#: Kinds of volatile tokens, in the order they are tried, each with the pattern a capture of it uses.
VOLATILE = {
    "uuid": r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",
    "date": r"\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?",
    "day": r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? +(?:\d{1,2} +)?"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*(?: +\d{1,2}(?![0-9:]))?",
    "time": r"\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?",
    "hex": r"(?=[0-9A-Fa-f]*[A-Fa-f])(?=[0-9A-Fa-f]*\d)[0-9A-Fa-f]{6,}",
    "number": r"\d{4,}",
}
#: What a capture of each kind takes: the shape of the token, whatever its value next time.
CAPTURE = {
    "uuid": r"[0-9A-Fa-f-]{36}",
    "date": r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-][0-9:]+)?)?",
    "day": r"[A-Za-z]+,? +(?:\d{1,2} +)?[A-Za-z]+(?: +\d{1,2})?",
    "time": r"\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?",
    "hex": r"[0-9A-Fa-f]+",
    "number": r"\d+",
}
_TOKENS = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    + "|".join(f"(?P<{kind}>{rx})" for kind, rx in VOLATILE.items())
    + r")(?![0-9A-Za-z])"
)
_REGEX_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")


def timeout(delay: float) -> float:
    """An expect step's timeout for a line that came *delay* seconds after the step began."""
    seconds = max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * max(0.0, delay) + TIMEOUT_EXTRA_S)
    return math.ceil(seconds / TIMEOUT_STEP_S) * TIMEOUT_STEP_S


#: What a single-quoted YAML scalar cannot hold as it is: characters YAML refuses in a file, and those
#: YAML 1.1 reads as line breaks (NEL, LS, PS) or strips (a BOM).
_ESCAPE = re.compile("[^\t\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]")


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def scalar(text: str) -> str:
    """*text* as a YAML scalar that reads back as exactly it: single-quoted, or double-quoted with escapes."""
    if not _ESCAPE.search(text):
        return "'" + text.replace("'", "''") + "'"
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _ESCAPE.sub(lambda m: _escaped(m.group(0)), body) + '"'


def _name(name: str) -> str:
    """The dialogue's name: plain when YAML reads it back as that text, else quoted."""
    plain = re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", name) and name.lower() not in _YAML_WORDS
    return name if plain else scalar(name)


#: Plain words YAML 1.1 reads as something other than text.
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def _braces(text: str) -> str:
    """Literal braces as the format writes them (``{{`` and ``}}``): a ``{name}`` is a variable or a list."""
    return text.replace("{", "{{").replace("}", "}}")


class Volatile:
    """The captures made so far, so that a later say can use them."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        #: Captured text -> the variable that holds it (the latest capture of that text wins).
        self.names: dict[str, str] = {}

    def pattern(self, text: str, *, whole: bool = True) -> str | None:
        """A regex for *text* (*whole*: the whole line, else its start) with its volatile tokens captured,
        or None when it has none."""
        parts: list[str] = []
        position = 0
        for token in _TOKENS.finditer(text):
            kind = token.lastgroup
            assert kind is not None
            self._counts[kind] = self._counts.get(kind, 0) + 1
            name = f"{kind}{self._counts[kind]}"
            self.names[token.group(0)] = name
            parts.append(_REGEX_SPECIAL.sub(r"\\\1", text[position : token.start()]))
            parts.append(f"(?P<{name}>{CAPTURE[kind]})")
            position = token.end()
        if not parts:
            return None
        return "^" + "".join(parts) + _REGEX_SPECIAL.sub(r"\\\1", text[position:]) + ("$" if whole else "")

    def say(self, text: str) -> str:
        """*text* as a say step writes it: literal braces doubled, each captured token as its variable."""
        if not self.names:
            return _braces(text)
        tokens = sorted(self.names, key=len, reverse=True)  # the longest first: 12345 before 1234
        found = re.compile(
            r"(?<![0-9A-Za-z])(?:" + "|".join(re.escape(t) for t in tokens) + r")(?![0-9A-Za-z])"
        )
        parts, position = [], 0
        for token in found.finditer(text):
            parts.append(_braces(text[position : token.start()]))
            parts.append("{" + self.names[token.group(0)] + "}")
            position = token.end()
        return "".join(parts) + _braces(text[position:])


class NothingRecorded(ValueError):
    """The recording holds no line a step could be made of."""


def _ends_with_exit(lines: list[Line], side: str) -> bool:
    """Whether *side* ended the chat the classic way: the last line is its `exit`, its only one."""
    last = lines[-1] if lines else None
    return (
        last is not None
        and last.side == side
        and is_exit(last.text or "")
        and sum(line.side == side and is_exit(line.text or "") for line in lines) == 1
    )


def _ending(recording: Recording, me: str, lines: list[Line]) -> str:
    """How the side *me* ends: ``exit``, ``close`` or ``wait``; the two sides' endings always fit.

    A side that ended with ``exit`` says it and closes, and the other waits for that close
    (whoever's close the proxy saw first: the one that read ``exit`` may close at once).
    Otherwise the close seen first decides: the side that closed first closes, the other
    waits; a chat cut before either closed is closed by both.
    """
    if _ends_with_exit(lines, me):
        return "exit"  # its say step ends the chat, as it was written
    if _ends_with_exit(lines, other(me)) or recording.closed_first == other(me):
        return "wait"
    return "close"


def dialogue(recording: Recording, me: str, *, name: str, source: str, volatile: bool = False) -> str:
    """The YAML of the dialogue that plays side *me* (CLIENT: the test of the server) of *recording*."""
    lines = list(recording.lines)
    ending = _ending(recording, me, lines)
    line_end = "crlf" if any(line.side == me and line.crlf for line in lines) else "lf"
    start = recording.started if recording.started is not None else (lines[0].time if lines else 0.0)
    steps = list(_steps(lines, me, start, volatile))
    end_time = min(recording.closed.values()) if recording.closed else (recording.cut or start)
    previous = lines[-1].time if lines else start
    floor = max([MIN_TIMEOUT_S] + ([timeout(end_time - previous)] if ending == "wait" else []))
    playing = "client" if me == CLIENT else "server"
    head = [
        f"# Recorded by chat-bot --record from a chat with {source}: this dialogue plays the {playing}.",
        f"# The {playing}'s lines are say steps, the {other(me)}'s expect steps of their exact text, in the",
        "# order they crossed. Each expect step waits twice the delay seen plus 1 s, at least 2 s.",
        "# Edit freely; check with chat-bot --check.",
        *(
            [
                f"# The {other(me)} said nothing: with no expect step this is no test, and after its",
                "# last say it stays open, as a dialogue of says and rules does.",
            ]
            if not any(step.startswith("expect") for step, _seconds in steps)
            else []
        ),
        "version: 1.2",
        f"name: {_name(name)}",
        f"line_end: {line_end}",
        f"end: {ending}",
        "case_sensitive: true",
        "punctuation: keep",
        f"timeout: {floor:g}",
    ]
    duration = end_time - start
    bound = sum(max(seconds, floor) for _step, seconds in steps if seconds) + floor
    if bound > DEADLINE_FROM_S:
        head.append(f"deadline: {math.ceil(max(bound, duration)):d}")
    if not any(step.startswith(("say", "expect")) for step, _seconds in steps):
        raise NothingRecorded("no whole line crossed the connection: nothing to write")
    body = ["script:"]
    for step, seconds in steps:
        if step.startswith("#"):
            body.append(f"  {step}")
            continue
        body.append(f"  - {step}")
        if seconds > floor:
            body.append(f"    timeout: {seconds:g}")
    return "\n".join(head + body) + "\n"


def _steps(lines: list[Line], me: str, start: float, volatile: bool) -> Iterator[tuple[str, float]]:
    """Each line as a step (its YAML after ``- ``) with its expect timeout (0 for a say or a comment)."""
    captures = Volatile()
    previous = start
    for line in lines:
        delay, previous = line.time - previous, line.time
        text = line.text
        if text is None:
            yield f"# the {line.side} sent a line over the size limit here: it cannot be replayed", 0.0
        elif line.side == me:
            if text.strip() == "":
                what = "an empty line" if text == "" else f"a line of blanks only ({scalar(text)})"
                yield f"# the {me} sent {what} here: a say step cannot send one", 0.0
            else:
                yield f"say: {scalar(captures.say(text) if volatile else _braces(text))}", 0.0
        else:
            yield f"expect: {_expected(text, captures if volatile else None)}", timeout(delay)


def prefix(text: str, size: int = PREFIX_BYTES) -> str:
    """The longest start of *text* whose UTF-8 holds at most *size* bytes."""
    return text.encode()[:size].decode("utf-8", "ignore")


def _expected(text: str, captures: Volatile | None) -> str:
    """What an expect step of *text* matches, as YAML: exact text, or a regex when it must be one."""
    if text.strip() == "":
        return "{regex: '^\\s*$'}"
    whole = len(text.encode()) <= SEEN_BYTES
    seen = text if whole else prefix(text)
    pattern = None if captures is None else captures.pattern(seen, whole=whole)
    if pattern is None and not whole:
        pattern = "^" + _REGEX_SPECIAL.sub(r"\\\1", seen)  # the start of a line too long to be seen whole
    if pattern is not None:
        return f"{{regex: {scalar(pattern)}}}"
    return f"{{exact: {scalar(_braces(text))}}}"


__all__ = [
    "CAPTURE",
    "MIN_TIMEOUT_S",
    "VOLATILE",
    "NothingRecorded",
    "Volatile",
    "dialogue",
    "scalar",
    "timeout",
]
