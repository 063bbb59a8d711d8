"""bots.loader.includes: included files, what they add, their bounds, and problems reported at both places."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from bots.loader import DialogueError, load_dialogue
from bots.loader.includes import MAX_INCLUDE_DEPTH, MAX_INCLUDED_BYTES, MAX_INCLUDED_FILES


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(DialogueError) as caught:
        load_dialogue(path)
    return [str(p) for p in caught.value.problems]


def test_included_rules_follow_the_files_own_and_lists_and_vars_come_along(tmp_path: Path) -> None:
    write(
        tmp_path,
        "parts/common.yaml",
        """
        version: 1.1
        lists: {fruit: [apple, pear]}
        vars: {who: friend, mood: calm}
        rules:
          - contains: hello
            reply: Hi {who}, I am {mood}.
          - contains: "{fruit}"
            reply: A fruit.
        """,
    )
    main = write(
        tmp_path,
        "main.yaml",
        """
        version: 1.1
        include: parts/common.yaml
        vars: {mood: cheerful}
        rules:
          - contains: hello there
            reply: General Kenobi.
          - exact: "{fruit} please"
            reply: Here you are.
        """,
    )
    dialogue = load_dialogue(main)
    assert [r.pattern.sources for r in dialogue.rules] == [
        ("hello there",),
        ("apple please", "pear please"),
        ("hello",),
        ("apple", "pear"),
    ]
    assert dialogue.variables == {"who": "friend", "mood": "cheerful"}  # the including file's own win
    assert len({r.reply.key for r in dialogue.rules if r.reply is not None}) == 4  # unique across files
    assert [str(r.where) for r in dialogue.rules][2:] == [
        f"{tmp_path}/parts/common.yaml:5:5",
        f"{tmp_path}/parts/common.yaml:7:5",
    ]


def test_a_file_included_twice_adds_its_rules_once(tmp_path: Path) -> None:
    write(tmp_path, "lists.yaml", "version: 1.1\nrules: [{contains: hi, reply: hello}]\n")
    write(tmp_path, "a.yaml", "version: 1.1\ninclude: lists.yaml\n")
    main = write(tmp_path, "main.yaml", "version: 1.1\ninclude: [a.yaml, lists.yaml]\n")
    assert len(load_dialogue(main).rules) == 1


def test_problems_of_an_included_file_are_reported_at_the_include_line_and_at_their_own_place(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "common.yaml",
        """
        version: 1.1
        rules:
          - contains: hello
            replly: hi
        greeting: hi
        """,
    )
    main = write(tmp_path, "main.yaml", "version: 1.1\ninclude:\n  - common.yaml\n")
    common = tmp_path / "common.yaml"
    assert problems(main) == [
        f"{main}:3:5: in included file 'common.yaml' (line 3, col 5): rule 1 needs a 'reply' or a 'redirect'",
        f"{main}:3:5: in included file 'common.yaml' (line 4, col 5): unknown key 'replly' in rule 1: "
        "did you mean 'reply'? expected one of: exact, contains, glob, regex, case_sensitive, reply, set, "
        "examples, when, after, topic, redirect, rank, remember",
        f"{main}:3:5: in included file 'common.yaml' (line 5, col 1): 'greeting' is not used in an included "
        "file (only include, lists, subs, vars, reflect, rules are): move it to the including file",
        f"{common}:3:5: rule 1 needs a 'reply' or a 'redirect'",
        f"{common}:4:5: unknown key 'replly' in rule 1: did you mean 'reply'? expected one of: exact, "
        "contains, glob, regex, case_sensitive, reply, set, examples, when, after, topic, redirect, rank, "
        "remember",
        f"{common}:5:1: 'greeting' is not used in an included file (only include, lists, subs, vars, "
        "reflect, rules are): move it to the including file",
    ]


def test_a_problem_two_files_down_is_reported_at_every_include_line(tmp_path: Path) -> None:
    write(tmp_path, "c.yaml", "version: 1.1\nrules: {contains: x}\n")
    write(tmp_path, "b.yaml", "version: 1.1\ninclude: c.yaml\n")
    main = write(tmp_path, "main.yaml", "version: 1.1\ninclude: b.yaml\n")
    assert problems(main) == [
        f"{main}:2:10: in included file 'b.yaml' (line 2, col 10): in included file 'c.yaml' "
        "(line 2, col 8): rules must be a list of rules (- contains: ... reply: ...)",
        f"{tmp_path}/b.yaml:2:10: in included file 'c.yaml' (line 2, col 8): "
        "rules must be a list of rules (- contains: ... reply: ...)",
        f"{tmp_path}/c.yaml:2:8: rules must be a list of rules (- contains: ... reply: ...)",
    ]


def test_an_include_cycle_is_refused_at_the_line_that_closes_it(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", "version: 1.1\ninclude: main.yaml\n")
    main = write(tmp_path, "main.yaml", "version: 1.1\ninclude: b.yaml\n")
    assert problems(main) == [
        f"{main}:2:10: in included file 'b.yaml' (line 2, col 10): include cycle: main.yaml -> b.yaml -> "
        "main.yaml; a file cannot include itself, even through others",
        f"{tmp_path}/b.yaml:2:10: include cycle: main.yaml -> b.yaml -> main.yaml; a file cannot include "
        "itself, even through others",
    ]


def test_a_file_including_itself_is_a_cycle(tmp_path: Path) -> None:
    main = write(tmp_path, "main.yaml", "version: 1.1\ninclude: ./main.yaml\n")
    assert problems(main) == [
        f"{main}:2:10: include cycle: main.yaml -> main.yaml; "
        "a file cannot include itself, even through others"
    ]


def test_includes_nested_too_deep_are_refused(tmp_path: Path) -> None:
    for level in range(MAX_INCLUDE_DEPTH + 1):
        write(tmp_path, f"f{level}.yaml", f"version: 1.1\ninclude: f{level + 1}.yaml\n")
    write(tmp_path, f"f{MAX_INCLUDE_DEPTH + 1}.yaml", "version: 1.1\n")
    found = problems(tmp_path / "f0.yaml")
    assert found[-1] == (
        f"{tmp_path}/f{MAX_INCLUDE_DEPTH}.yaml:2:10: includes nest more than {MAX_INCLUDE_DEPTH} files deep: "
        f"include 'f{MAX_INCLUDE_DEPTH + 1}.yaml' from a file nearer the top"
    )
    assert found[0].startswith(f"{tmp_path}/f0.yaml:2:10: in included file 'f1.yaml'")


def test_too_many_included_files_are_refused(tmp_path: Path) -> None:
    names = [f"p{n}.yaml" for n in range(MAX_INCLUDED_FILES + 1)]
    for name in names:
        write(tmp_path, name, "version: 1.1\n")
    main = write(tmp_path, "main.yaml", f"version: 1.1\ninclude: [{', '.join(names)}]\n")
    column = 11 + sum(len(name) + 2 for name in names[:-1])  # the last name, in the flow list
    assert problems(main) == [
        f"{main}:2:{column}: more than {MAX_INCLUDED_FILES} included files: merge some of them"
    ]


def test_included_files_over_the_size_bound_together_are_refused(tmp_path: Path) -> None:
    filler = "# " + "x" * 1000 + "\n"
    body = "version: 1.1\n" + filler * (MAX_INCLUDED_BYTES // len(filler) // 2 + 1)
    write(tmp_path, "a.yaml", body)
    write(tmp_path, "b.yaml", body)
    main = write(tmp_path, "main.yaml", "version: 1.1\ninclude: [a.yaml, b.yaml]\n")
    assert problems(main) == [
        f"{main}:2:19: included files are over {MAX_INCLUDED_BYTES // 1024} KiB together: trim or merge them"
    ]


def test_an_absolute_or_missing_include_path_is_one_problem_at_the_include(tmp_path: Path) -> None:
    main = write(tmp_path, "main.yaml", "version: 1.1\ninclude: [/etc/passwd, nowhere.yaml]\n")
    assert problems(main) == [
        f"{main}:2:11: include path '/etc/passwd' must be relative to this file's folder",
        f"{main}:2:24: cannot read the included file 'nowhere.yaml': no such file in {tmp_path}",
    ]


def test_include_and_lists_need_format_1_1(tmp_path: Path) -> None:
    main = write(tmp_path, "main.yaml", "version: 1\ninclude: []\nlists: {a: [b]}\n")
    assert problems(main) == [
        f"{main}:2:1: 'include' needs format 1.1: write 'version: 1.1' at the top of the file",
        f"{main}:3:1: 'lists' needs format 1.1: write 'version: 1.1' at the top of the file",
    ]


def test_an_including_rule_that_shadows_an_included_example_names_its_file_and_line(tmp_path: Path) -> None:
    common = write(
        tmp_path, "common.yaml", "version: 1.1\nrules:\n  - contains: hi\n    reply: x\n    examples: [hi]\n"
    )
    main = write(
        tmp_path, "main.yaml", "version: 1.1\ninclude: common.yaml\nrules: [{contains: hi, reply: y}]\n"
    )
    assert problems(main) == [
        f"{common}:5:16: example 'hi' is answered by the rule at {main}:3 ({{contains: 'hi'}}), "
        "not by this rule: it comes first and shadows this one: move this rule above it or narrow that one"
    ]


def test_an_include_leading_outside_the_dialogues_folder_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "outside.yaml", "version: 1.1\n")
    write(tmp_path, "desk/parts/lists.yaml", "version: 1.1\ninclude: ../../outside.yaml\n")
    main = write(tmp_path, "desk/main.yaml", "version: 1.1\ninclude: [parts/lists.yaml, ../outside.yaml]\n")
    outside = (
        "include path '{}' leads outside the folder of the file loaded ("
        + str(main)
        + "): included files are in that folder or below it; a file that includes one above its own "
        "folder is checked through the file that includes it"
    )
    assert problems(main) == [
        f"{main}:2:11: in included file 'parts/lists.yaml' (line 2, col 10): "
        + outside.format("../../outside.yaml"),
        f"{main}:2:29: " + outside.format("../outside.yaml"),
        f"{tmp_path}/desk/parts/lists.yaml:2:10: " + outside.format("../../outside.yaml"),
    ]


def test_a_syntax_error_in_an_included_file_is_reported_at_both_places(tmp_path: Path) -> None:
    write(tmp_path, "common.yaml", "version: 1.1\nrules: [\n")
    main = write(tmp_path, "main.yaml", "version: 1.1\ninclude: common.yaml\n")
    found = problems(main)
    assert len(found) == 2
    assert found[0].startswith(
        f"{main}:2:10: in included file 'common.yaml' (line 3, col 1): YAML syntax error: "
    )
    assert found[1].startswith(f"{tmp_path}/common.yaml:3:1: YAML syntax error: ")


def test_an_include_of_a_folder_or_a_pipe_is_refused_without_opening_it(tmp_path: Path) -> None:
    (tmp_path / "folder.yaml").mkdir()
    os.mkfifo(tmp_path / "pipe.yaml")  # opening it would block until a writer came
    main = write(tmp_path, "main.yaml", "version: 1.1\ninclude: [folder.yaml, pipe.yaml]\n")
    assert problems(main) == [
        f"{main}:2:11: cannot read the included file 'folder.yaml': it is not a regular file",
        f"{main}:2:24: cannot read the included file 'pipe.yaml': it is not a regular file",
    ]


def test_an_included_files_punctuation_setting_applies_to_its_own_patterns(tmp_path: Path) -> None:
    write(
        tmp_path, "loose.yaml", "version: 1.1\npunctuation: ignore\nrules: [{exact: hello there, reply: a}]\n"
    )
    main = write(
        tmp_path,
        "main.yaml",
        "version: 1.1\npunctuation: keep\ninclude: loose.yaml\nrules: [{exact: bye now, reply: b}]\n",
    )
    dialogue = load_dialogue(main)
    assert dialogue.match("hello, there!") is not None
    assert dialogue.match("bye, now!") is None


def test_a_part_that_includes_a_file_above_its_folder_loads_through_its_includer_and_alone_says_why(
    tmp_path: Path,
) -> None:
    write(tmp_path, "desk/ok.yaml", "version: 1.1\nvars: {who: friend}\n")
    part = write(tmp_path, "desk/sub/part.yaml", "version: 1.1\ninclude: ../ok.yaml\n")
    main = write(tmp_path, "desk/main.yaml", "version: 1.1\ninclude: sub/part.yaml\nfallback: hi {who}\n")
    assert load_dialogue(main).variables == {"who": "friend"}  # inside the loaded file's folder
    assert problems(part) == [  # alone, the bound is its own folder: the message says so and what to do
        f"{part}:2:10: include path '../ok.yaml' leads outside the folder of the file loaded ({part}): "
        "included files are in that folder or below it; a file that includes one above its own folder is "
        "checked through the file that includes it"
    ]
