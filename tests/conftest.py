"""Fixtures of the unit suites: small dialogue files, written for each test (coverage and recording)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.loader import load_dialogue
from bots.model import Dialogue

#: A desk with every kind of coverage item: a word list (two alternatives), a topic with its fallback,
#: a redirect to an included file's rule, a remembered reply, the dialogue's fallback.
DESK = """\
version: 1.1
include: common.yaml
lists:
  things: [printer, mouse]
rules:
  - contains: "{things} is broken"
    reply: off and on again
    topic: fixing
  - exact: a cuppa
    redirect: tea
  - regex: 'i am (?P<mood>\\w+)'
    reply: ok
    remember: "you were {mood}"
topics:
  fixing:
    rules:
      - contains: [yes, works]
        reply: good
        topic: none
    fallback: did it help?
fallback: what?
"""
COMMON = """\
version: 1.1
rules:
  - contains: tea
    reply: one tea
"""
TEST = """\
version: 1.2
script:
  - say: hello
  - name: the answer
    expect: {exact: hi}
"""


def write(folder: Path, name: str, text: str) -> Path:
    """*text* written to *folder*/*name*; its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def desk(tmp_path: Path) -> Dialogue:
    """DESK, with COMMON beside it, loaded from *tmp_path*."""
    write(tmp_path, "common.yaml", COMMON)
    return load_dialogue(write(tmp_path, "desk.yaml", DESK))


@pytest.fixture
def script_test(tmp_path: Path) -> Dialogue:
    """TEST (two steps) loaded from *tmp_path*."""
    return load_dialogue(write(tmp_path, "t.yaml", TEST))
