"""Pattern matching for dialogues: each kind decided by the cheapest test that decides it; an index of rules.

One job per module:

* :mod:`~bots.patterns.subject`: the message as patterns see it, prepared once per turn (NFC,
  case-folded, capped at :data:`MAX_MATCH_CHARS`).
* :mod:`~bots.patterns.dialect`: the character classes patterns are written with, and a user
  regex translated from Python's dialect to RE2's, with the literal text every match holds.
* :mod:`~bots.patterns.refusals`: what RE2 cannot run, refused at load in one line with a hint.
* :mod:`~bots.patterns.programs`: RE2 programs and the match record (:class:`Found`).
* :mod:`~bots.patterns.kinds`: exact, contains, glob and regex, each compiled to a matcher: a
  comparison of texts, ``str.find``, or an RE2 program (:func:`compile_pattern`).
* :mod:`~bots.patterns.index`: the first rule that matches, without trying every rule.

Every matcher answers ``hit(text, folded)`` (whether it matches: no match record built) and
``search(text, folded)`` (the match, its groups read from the NFC text). Every kind matches in
time linear in the message: RE2 is, and so are a comparison and ``str.find``.
"""

from __future__ import annotations

from bots.patterns.dialect import translate_regex
from bots.patterns.index import LINEAR_SCAN_MAX, RuleIndex
from bots.patterns.kinds import (
    MAX_CAPTURE_WORK,
    MAX_GLOB_STARS,
    MAX_PROGRAM_SIZE,
    Contains,
    Exact,
    Matcher,
    compile_pattern,
)
from bots.patterns.programs import NO_CAPTURES, Found, Match, Regex
from bots.patterns.refusals import RegexRefused
from bots.patterns.subject import MAX_MATCH_BYTES, MAX_MATCH_CHARS, prepare

__all__ = [
    "LINEAR_SCAN_MAX",
    "MAX_CAPTURE_WORK",
    "MAX_GLOB_STARS",
    "MAX_MATCH_BYTES",
    "MAX_MATCH_CHARS",
    "MAX_PROGRAM_SIZE",
    "NO_CAPTURES",
    "Contains",
    "Exact",
    "Found",
    "Match",
    "Matcher",
    "Regex",
    "RegexRefused",
    "RuleIndex",
    "compile_pattern",
    "prepare",
    "translate_regex",
]
