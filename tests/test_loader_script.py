"""bots.loader.script: script steps, format 1.2's blocks, endings and deadlines; scripts that cannot run."""

from __future__ import annotations

import textwrap

import pytest

from bots.loader import DialogueError, parse_dialogue
from bots.model import Block, Dialogue, Ending, OnMismatch
from chat.status import ExitStatus


def load(text: str) -> Dialogue:
    return parse_dialogue(textwrap.dedent(text).lstrip("\n"), "d.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(DialogueError) as caught:
        load(text)
    assert caught.value.status is ExitStatus.INVALID_DIALOGUE
    return [str(p) for p in caught.value.problems]


def test_format_1_2_reads_blocks_endings_deadlines_and_a_default_for_mismatches() -> None:
    d = load(
        """
        version: 1.2
        end: wait
        deadline: 30
        line_end: crlf
        on_mismatch: skip
        script:
          - expect_lines: [a, {regex: '^b (?P<x>\\w+)'}]
            any_order: true
          - expect_until: {contains: end}
            on_mismatch: fail
          - say: "got {x}"
        """
    )
    assert (d.version, d.ending, d.deadline, d.sequence) == ("1.2", Ending.WAIT, 30.0, True)
    assert d.line_end.bytes == b"\r\n"
    lines, until, say = d.script
    assert (lines.block, lines.any_order, lines.on_mismatch, len(lines.patterns)) == (
        Block.LINES,
        True,
        OnMismatch.SKIP,
        2,
    )
    assert (until.block, until.on_mismatch, until.describe()) == (
        Block.UNTIL,
        OnMismatch.FAIL,
        "{contains: 'end'}",
    )
    assert lines.describe() == "[{contains: 'a'}, {regex: '^b (?P<x>\\w+)'}]"
    assert say.reply is not None
    assert say.reply.choices[0].names == ("x",)


def test_the_format_1_2_keys_are_refused_in_older_files_with_the_version_to_declare() -> None:
    assert problems(
        """
        version: 1.1
        end: close
        deadline: 5
        on_mismatch: skip
        script:
          - expect_lines: [a]
          - expect: b
            on_mismatch: skip
        """
    ) == [
        "d.yaml:2:1: 'end' needs format 1.2: write 'version: 1.2' at the top of the file",
        "d.yaml:3:1: 'deadline' needs format 1.2: write 'version: 1.2' at the top of the file",
        "d.yaml:4:1: a top-level 'on_mismatch' needs format 1.2: write 'version: 1.2' at the top of the file",
        "d.yaml:6:5: 'expect_lines' needs format 1.2: write 'version: 1.2' at the top of the file",
        "d.yaml:8:18: on_mismatch: skip needs format 1.2: write 'version: 1.2' at the top of the file",
    ]


def test_scripts_that_cannot_run_are_refused_where_they_are() -> None:
    assert problems(
        """
        version: 1.2
        script:
          - expect_lines: []
          - expect_until: [a, b]
          - expect: a
            any_order: true
          - say: exit
          - expect: never
        """
    ) == [
        "d.yaml:3:19: expect_lines is an empty list: give one pattern per line the step expects",
        "d.yaml:4:19: expect_until must be a mapping (key: value lines)",
        "d.yaml:6:5: 'any_order' belongs to expect_lines steps, not to expect steps",
        "d.yaml:8:5: script step 5 can never run: step 4 says exit, which ends the chat",
    ]


def test_a_say_exit_ends_nothing_where_the_dialogue_ends_chats_another_way() -> None:
    d = load(
        """
        version: 1.2
        end: close
        script:
          - say: exit
          - expect: bye
        """
    )
    assert len(d.script) == 2


def test_a_step_with_two_kinds_says_which_and_a_step_with_none_names_them_all() -> None:
    assert problems(
        """
        version: 1.2
        script:
          - say: a
            expect_until: b
          - name: nothing
        """
    ) == [
        "d.yaml:4:5: script step 1 has both 'say' and 'expect_until': split it in two steps",
        "d.yaml:5:5: script step 2 needs 'say' or 'expect' (or, format 1.2, 'expect_lines', 'expect_until')",
    ]


def test_end_on_mismatch_and_line_end_take_their_words_only() -> None:
    assert problems("version: 1.2\nend: quit\non_mismatch: ignore\ndeadline: 0\nline_end: cr\n") == [
        "d.yaml:2:6: end must be one of: exit, close, wait",
        "d.yaml:3:14: on_mismatch must be one of: fail, rules, skip",
        "d.yaml:4:11: deadline must be above 0",
        "d.yaml:5:11: line_end must be one of: lf, crlf",
    ]


def test_a_serving_bot_starts_at_the_connection_when_its_script_or_deadline_needs_it() -> None:
    assert not load("version: 1.1\nfallback: hi\n").starts_at_connection
    assert not load(
        "version: 1.1\nscript: [{say: hi}]\n"
    ).starts_at_connection  # the reply to the first message
    assert load(
        "version: 1.1\nscript: [{expect: hi}]\n"
    ).starts_at_connection  # its timeout runs from the start
    assert load("version: 1.2\nscript: [{say: hi}]\n").starts_at_connection  # it speaks first
    assert load("version: 1.2\ndeadline: 5\nfallback: hi\n").starts_at_connection
