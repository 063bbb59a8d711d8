"""bots.coverage.collect: what the chats of one process use, credited to its items, saved as its own part."""

from __future__ import annotations

import multiprocessing
import os
import re
import socket
from pathlib import Path

import pytest

from bots.coverage import data, items
from bots.coverage.collect import Collector, alternative_index
from bots.engine import Conversation
from bots.loader import load_dialogue
from bots.model import Dialogue


def chat(collector: Collector, dialogue: Dialogue, *messages: str) -> None:
    conversation = Conversation(dialogue, delays=False, observer=collector.observer(dialogue))
    conversation.start(0.0, dialling=False)
    for n, message in enumerate(messages, start=1):
        conversation.receive(message, float(n))


def used(collector: Collector, dialogue: Dialogue) -> list[tuple[str, str, int]]:
    """What was used, as (kind, file name, line), with an alternative's number after its kind."""
    keys = collector.data().dialogues[os.path.realpath(dialogue.path)].used
    found = []
    for key in keys:
        kind, place = key.split(" ", 1)
        number = f" {place.rsplit('#', 1)[1]}" if "#" in place else ""
        file, line, _col = place.split(" ")[0].rsplit(":", 2)
        found.append((kind + number, Path(file).name, int(line)))
    return sorted(found)


def test_the_alternative_credited_is_the_first_of_the_rule_that_matches_what_the_rules_saw(
    desk: Dialogue,
) -> None:
    rule = desk.rules[0]
    assert alternative_index(rule, "my mouse is broken") == 1
    assert alternative_index(rule, "the printer is broken and the mouse is broken") == 0
    assert alternative_index(rule, "nothing") is None


def test_a_chat_credits_rules_alternatives_topics_redirects_memories_and_fallbacks(
    desk: Dialogue, tmp_path: Path
) -> None:
    dialogue = desk
    collector = Collector(str(tmp_path / "coverage"))
    chat(collector, dialogue, "my mouse is broken", "hmm", "works now", "a cuppa", "i am tired", "zzz", "zzz")
    assert used(collector, dialogue) == [
        ("alternative 2", "desk.yaml", 6),  # mouse, not printer
        ("alternative 2", "desk.yaml", 17),  # works, not yes
        ("fallback", "desk.yaml", 20),  # the topic's, for "hmm"
        ("fallback", "desk.yaml", 21),  # the dialogue's, for the second "zzz"
        ("memory", "desk.yaml", 13),  # recalled for the first "zzz"
        ("redirect", "desk.yaml", 9),  # "a cuppa" handed "tea" to a rule that answered it
        ("rule", "common.yaml", 3),
        ("rule", "desk.yaml", 6),
        ("rule", "desk.yaml", 9),
        ("rule", "desk.yaml", 11),
        ("rule", "desk.yaml", 17),
        ("topic", "desk.yaml", 15),
    ]
    assert collector.data().dialogues[os.path.realpath(dialogue.path)].chats == 1


def test_a_memory_never_recalled_is_not_credited(desk: Dialogue, tmp_path: Path) -> None:
    dialogue = desk
    collector = Collector(str(tmp_path / "coverage"))
    chat(collector, dialogue, "i am tired", "a cuppa")
    assert ("memory", "desk.yaml", 13) not in used(collector, dialogue)


def test_steps_that_ran_are_credited_and_a_step_that_failed_is_not(
    script_test: Dialogue, tmp_path: Path
) -> None:
    test = script_test
    collector = Collector(str(tmp_path / "coverage"))
    conversation = Conversation(test, delays=False, observer=collector.observer(test))
    conversation.start(0.0)
    conversation.receive("bye", 1.0)  # not "hi": the expect step fails
    assert used(collector, test) == [("step", "t.yaml", 3)]


def test_a_dialogue_registered_without_chats_is_in_the_data_with_nothing_used(
    desk: Dialogue, tmp_path: Path
) -> None:
    dialogue = desk
    collector = Collector(str(tmp_path / "coverage"))
    collector.register(dialogue)
    recorded = collector.data().dialogues[os.path.realpath(dialogue.path)]
    assert (recorded.chats, recorded.used) == (0, set())
    assert sorted(Path(f).name for f in recorded.files) == ["common.yaml", "desk.yaml"]
    assert recorded.files[os.path.realpath(tmp_path / "desk.yaml")] == data.digest(
        str(tmp_path / "desk.yaml")
    )


def test_each_process_saves_its_own_part_named_for_its_host_and_pid_and_reads_back_the_same(
    desk: Dialogue, tmp_path: Path
) -> None:
    dialogue = desk
    collector = Collector(str(tmp_path / "coverage"))
    chat(collector, dialogue, "my mouse is broken")
    path = collector.save()
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())
    assert re.fullmatch(rf"coverage\.{re.escape(host)}\.{os.getpid()}\.[0-9a-f]{{6}}", Path(path).name)
    again = Collector(str(tmp_path / "coverage"))
    chat(again, dialogue, "a cuppa")
    assert again.save() != path  # another collector, another part: nothing overwritten
    back = data.read(path).dialogues[os.path.realpath(dialogue.path)]
    assert back.used == collector.data().dialogues[os.path.realpath(dialogue.path)].used
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".chat-coverage-")) == []


def test_a_data_file_in_a_folder_that_does_not_exist_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(data.CoverageDataError) as refused:
        Collector(str(tmp_path / "nowhere" / "coverage"))
    assert str(refused.value) == (
        f"--coverage {tmp_path / 'nowhere' / 'coverage'}: the folder {tmp_path / 'nowhere'} does not exist: "
        "create it first"
    )


def _one_process(folder: str, messages: list[str]) -> str:
    dialogue = load_dialogue(str(Path(folder) / "desk.yaml"))
    collector = Collector(str(Path(folder) / "coverage"))
    chat(collector, dialogue, *messages)
    return collector.save()


def test_processes_saving_at_once_each_keep_their_part_and_the_parts_combine(
    desk: Dialogue, tmp_path: Path
) -> None:
    visits = [["my mouse is broken"], ["a cuppa"], ["i am tired", "zzz"]]
    with multiprocessing.get_context("spawn").Pool(len(visits)) as pool:
        parts = pool.starmap(_one_process, [(str(tmp_path), v) for v in visits])
    assert len(set(parts)) == 3
    combined, read = data.combine([str(tmp_path / "coverage")])
    assert sorted(read) == sorted(parts)
    recorded = combined.dialogues[os.path.realpath(desk.path)]
    assert recorded.chats == 3
    remembering = desk.rules[2].remember
    assert remembering is not None
    wanted = {desk.rules[0].where, desk.rules[1].where}
    assert {items.key(items.RULE, where) for where in wanted} | {
        items.key(items.MEMORY, remembering.where)
    } <= recorded.used
