"""bots.coverage.items: what a dialogue holds that a chat can use, each with its key, place and label."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bots.coverage import items
from bots.loader import load_dialogue
from bots.model import Dialogue


def test_every_rule_alternative_topic_redirect_memory_and_fallback_is_listed_in_file_order(
    desk: Dialogue,
) -> None:
    found = [(i.kind, Path(i.file).name, i.line, i.label) for i in items.inventory(desk)]
    assert found == [
        ("rule", "desk.yaml", 6, "rule 1 {contains: ['printer is broken', 'mouse is broken']}"),
        ("alternative", "desk.yaml", 6, "rule 1, alternative 1 of 2: 'printer is broken'"),
        ("alternative", "desk.yaml", 6, "rule 1, alternative 2 of 2: 'mouse is broken'"),
        ("rule", "desk.yaml", 9, "rule 2 {exact: 'a cuppa'}"),
        ("redirect", "desk.yaml", 9, "rule 2: its redirect"),
        ("rule", "desk.yaml", 11, "rule 3 {regex: 'i am (?P<mood>\\w+)'}"),
        ("memory", "desk.yaml", 13, "rule 3: its remembered reply"),
        ("topic", "desk.yaml", 15, "topic fixing"),
        ("rule", "desk.yaml", 17, "rule 1 of topic fixing {contains: ['yes', 'works']}"),
        ("alternative", "desk.yaml", 17, "rule 1 of topic fixing, alternative 1 of 2: 'yes'"),
        ("alternative", "desk.yaml", 17, "rule 1 of topic fixing, alternative 2 of 2: 'works'"),
        ("fallback", "desk.yaml", 20, "the fallback of topic fixing"),
        ("fallback", "desk.yaml", 21, "the fallback"),
        ("rule", "common.yaml", 3, "rule 1 {contains: 'tea'}"),
    ]


def test_script_steps_are_items_named_with_what_they_say_or_expect(script_test: Dialogue) -> None:
    assert [(i.kind, i.line, i.label) for i in items.inventory(script_test)] == [
        ("step", 3, "step 1 say: 'hello'"),
        ("step", 4, "step 2 expect (the answer): {exact: 'hi'}"),
    ]


def test_a_key_names_the_real_file_so_two_spellings_of_one_path_give_one_key(
    script_test: Dialogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = Path(script_test.path)
    monkeypatch.chdir(path.parent)
    by_relative = items.inventory(load_dialogue("./t.yaml"))
    by_absolute = items.inventory(load_dialogue(str(path)))
    assert [i.key for i in by_relative] == [i.key for i in by_absolute]
    assert by_absolute[0].key == f"step {os.path.realpath(path)}:3:5"
