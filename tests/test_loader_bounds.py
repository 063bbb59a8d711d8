"""bots.loader.bounds: what a chat can keep, what a load can build (issue 19 items 2, 7, 8), with places."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bots import cli
from bots.limits import MAX_VALUE_CHARS, MAX_VARIABLES
from bots.loader import DialogueError, bounds, check_dialogue_files, parse_dialogue
from bots.loader.bounds import MAX_EXAMPLE_TRIES, MAX_TOTAL_ALTERNATIVES, MAX_TOTAL_PATTERN_CHARS
from bots.model import Dialogue
from chat.program import run


def load(text: str) -> Dialogue:
    return parse_dialogue(textwrap.dedent(text).lstrip("\n"), "d.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(DialogueError) as caught:
        load(text)
    return [str(p) for p in caught.value.problems]


def warnings(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "d.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    [(_path, found)] = check_dialogue_files([str(path)])
    return [str(p).replace(str(path), "d.yaml") for p in found]


# -- a chat's state: the number of variables, the length of their values ------------------------


def test_a_dialogue_past_the_limit_of_variable_names_is_refused_where_it_passes_it() -> None:
    names = ", ".join(f"v{n}: x" for n in range(MAX_VARIABLES))
    assert problems(
        f"""
        version: 1
        vars: {{{names}}}
        rules:
          - contains: x
            set: {{one_more: y}}
            reply: ok
        """
    ) == [
        f"d.yaml:5:11: the dialogue's variables pass the limit of {MAX_VARIABLES} names (included "
        "files counted): every chat keeps each one, so reuse names or split the dialogue"
    ]


def test_a_value_written_longer_than_a_value_holds_is_refused() -> None:
    long = "x" * (MAX_VALUE_CHARS + 1)
    text = (
        f"version: 1\nvars: {{a: {long}}}\nrules:\n  - contains: x\n    set: {{b: {long}}}\n    reply: ok\n"
    )
    assert problems(text) == [
        f"d.yaml:2:11: the value of a is over the {MAX_VALUE_CHARS:,} characters a value holds",
        f"d.yaml:5:14: this text is over the {MAX_VALUE_CHARS:,} characters a value holds: shorten it",
    ]


def test_check_warns_where_a_set_can_grow_without_bound_and_the_file_stays_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = """
        version: 1.1
        vars: {v: ab, w: "", a: "", b: ""}
        rules:
          - contains: grow
            set: {v: "{v}{v}", w: "{w}", a: "{b}!", b: "{a}"}
            reply: ok
          - contains: tally
            set: {n: "{n}1"}
            reply: ok
        """
    grows = "and more, so each message lengthens it until it is cut at 4,096 characters"
    grows += " (the most a value holds)"
    old = "its new value holds its old one"
    assert warnings(tmp_path, text) == [
        f"d.yaml:5:14: warning: set: v can grow without bound: {old} {grows}",
        f"d.yaml:5:37: warning: set: a can grow without bound: {old} (through {{b}}) {grows}",
        f"d.yaml:8:14: warning: set: n can grow without bound: {old} {grows}",
    ]
    path = tmp_path / "d.yaml"
    assert run("chat-bot", cli.main, ["--check", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{path}: ok"


def test_a_copy_or_a_value_from_captures_alone_is_not_a_growing_set(tmp_path: Path) -> None:
    assert (
        warnings(
            tmp_path,
            """
        version: 1.1
        vars: {a: "", b: ""}
        rules:
          - regex: "my name is (?P<name>.+)"
            set: {a: "{b}", b: "{a}", name: "{name}!"}
            reply: ok
        """,
        )
        == []
    )


# -- what a load builds: the alternatives and characters of patterns, word lists expanded -------


def test_word_lists_that_pass_the_alternatives_of_a_dialogue_are_refused_at_the_rule_that_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert MAX_TOTAL_ALTERNATIVES == 20_000  # the adversarial suite loads that many; 1,000 here is quicker
    monkeypatch.setattr(bounds, "MAX_TOTAL_ALTERNATIVES", 1000)
    items = ", ".join(f"a{n}" for n in range(16))
    rules = "".join(f'  - exact: "{{a}} {{a}} r{n}"\n    reply: ok\n' for n in range(10))
    assert problems(f"version: 1.1\nlists:\n  a: [{items}]\nrules:\n{rules}") == [
        # the fourth rule: each stands for 256 texts
        "d.yaml:11:12: this pattern passes the limit of 1,000 pattern alternatives in a dialogue (word "
        "lists expanded, included files counted): split the dialogue, or use fewer or shorter word lists"
    ]
    written = ", ".join(f"w{n}" for n in range(1200))
    column = 13 + len(", ".join(f"w{n}" for n in range(1000))) + 2  # w1000, the 1,001st
    assert problems(f"version: 1\nrules:\n  - exact: [{written}]\n    reply: ok\n")[0].startswith(
        f"d.yaml:3:{column}: this pattern passes the limit"
    )


def test_pattern_text_past_a_megabyte_after_expansion_is_refused() -> None:
    word = "w" * 1000
    items = ", ".join(f"{word}{n}" for n in range(16))
    rules = "".join(f'  - contains: "{{a}} {{a}} {n}"\n    reply: ok\n' for n in range(5))
    [found] = problems(f"version: 1.1\nlists:\n  a: [{items}]\nrules:\n{rules}")
    assert found.startswith(  # the third rule: each holds 256 texts of about 2,000 characters
        f"d.yaml:9:15: this pattern passes the limit of {MAX_TOTAL_PATTERN_CHARS:,} characters of patterns"
    )


def test_routing_examples_stops_with_a_warning_past_its_budget(tmp_path: Path) -> None:
    # Rules whose pattern has no plain word are tried for every message: each example tries
    # them all, so 2,000 such rules with an example each would try 2,000,000 patterns.
    count = 2100
    rules = "".join(
        f"  - regex: '^[{n // 1000}][{n // 100 % 10}][{n // 10 % 10}][{n % 10}]$'\n"
        f"    reply: r\n    examples: ['{n:04d}']\n"
        for n in range(count)
    )
    found = warnings(tmp_path, f"version: 1\nrules:\n{rules}")
    assert len(found) == 1
    assert found[0].endswith(
        f": warning: this example and the ones after it were not checked: routing them would try over "
        f"{MAX_EXAMPLE_TRIES:,} patterns (rules whose pattern has no plain word are tried for every "
        "message); give those rules a word to look for, or fewer examples"
    )
