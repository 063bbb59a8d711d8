"""bots.loader.format: one table of the format, from which the loader's checks, bots/schema.json and the
docs' reference tables come (issue 20, item 3); the checked-in files are what the table makes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import bots
from bots.loader import DialogueError, generate, parse_dialogue
from bots.loader.format import DIALOGUE, RULE, SHAPES, STEP, TYPE_NAMES, VERSIONS, WEIGHTED, Key, newer
from bots.loader.reference import MARKED, fill, tables
from bots.loader.schema import TYPES, schema, schema_text
from bots.loader.sections import SECTIONS

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = Path(bots.__file__).parent / "schema.json"
DOCS_FILE = REPO / "docs" / "dialogues.md"
VALIDATOR = jsonschema.Draft202012Validator(schema())
REGENERATE = "out of date: run python -m bots.loader.generate and commit the result"


def test_the_checked_in_schema_is_the_one_the_format_table_makes() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), REGENERATE


def test_the_docs_reference_tables_are_the_ones_the_format_table_makes() -> None:
    page = DOCS_FILE.read_text(encoding="utf-8")
    assert page == fill(page), REGENERATE


def test_every_mapping_of_the_format_has_its_table_in_the_docs_once() -> None:
    marked = [found.group(2) for found in MARKED.finditer(DOCS_FILE.read_text(encoding="utf-8"))]
    assert sorted(marked) == sorted(shape.name for shape in SHAPES)


def test_the_generator_writes_what_is_stale_and_its_check_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    schema_copy, docs_copy = tmp_path / "schema.json", tmp_path / "dialogues.md"
    schema_copy.write_text("{}\n", encoding="utf-8")
    page = DOCS_FILE.read_text(encoding="utf-8")
    stale = MARKED.sub(lambda found: found.group(1) + "| old |\n" + found.group(4), page)
    docs_copy.write_text(stale, encoding="utf-8")
    monkeypatch.setattr(generate, "SCHEMA_FILE", schema_copy)
    monkeypatch.setattr(generate, "DOCS_FILE", docs_copy)
    assert generate.main(["--check"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{schema_copy}: out of date: run python -m bots.loader.generate",
        f"{docs_copy}: out of date: run python -m bots.loader.generate",
    ]
    assert generate.main([]) == 0
    assert schema_copy.read_text(encoding="utf-8") == schema_text()
    assert docs_copy.read_text(encoding="utf-8") == page
    assert generate.main(["--check"]) == 0


def test_every_kind_of_value_in_the_table_has_its_schema_and_its_words_for_people() -> None:
    kinds = {key.type for shape in SHAPES for key in shape.keys}
    made_from_the_key = {"version", "choice", "whole number"}  # their schema comes from the key's fields
    assert kinds <= set(TYPE_NAMES)
    assert kinds - made_from_the_key <= set(TYPES)


def test_the_loader_reads_each_top_level_key_of_the_table_in_its_order() -> None:
    assert tuple(SECTIONS) == DIALOGUE.names
    with pytest.raises(DialogueError) as caught:
        parse_dialogue("version: 1\nrule: []\n", "d.yaml")
    assert str(caught.value.problems[0]) == (
        "d.yaml:2:1: unknown key 'rule' in the dialogue: did you mean 'rules'? expected one of: "
        + ", ".join(DIALOGUE.names)
    )


def test_the_dialogues_defaults_are_the_tables() -> None:
    dialogue = parse_dialogue("version: 1.2\n", "d.yaml")
    assert dialogue.timeout == DIALOGUE["timeout"].default
    assert dialogue.case_sensitive is DIALOGUE["case_sensitive"].default
    assert dialogue.ending == DIALOGUE["end"].default
    assert dialogue.line_end == DIALOGUE["line_end"].default
    assert dialogue.delay == (DIALOGUE["delay"].default, DIALOGUE["delay"].default)
    assert dialogue.description == DIALOGUE["description"].default


#: A right value for each key a version adds, to use it in an older file.
SAMPLES: dict[str, Any] = {
    "include": "other.yaml",
    "lists": {"colors": ["red"]},
    "subs": {"what's": "what is"},
    "topics": {"quiz": {"fallback": "no"}},
    "clauses": {"split": [","]},
    "on_mismatch": "rules",
    "end": "close",
    "deadline": 3,
    "line_end": "crlf",
    "when": "input",
    "after": "tea",
    "topic": "none",
    "redirect": "hi",
    "rank": 2,
    "remember": "later",
    "expect_lines": ["a", "b"],
    "expect_until": "done",
    "any_order": True,
}


def _document(key: Key, version: str) -> dict[str, Any]:
    """A document of *version* that uses *key* (of a newer format) and nothing else that is wrong."""
    number: Any = int(version) if version.isdigit() else float(version)
    value = SAMPLES[key.name]
    if key in DIALOGUE.keys:
        return {"version": number, key.name: value}
    if key in RULE.keys:
        rule = {"contains": "hi"} if key.name == "redirect" else {"contains": "hi", "reply": "x"}
        rule[key.name] = value
        return {"version": number, "rules": [rule]}
    step = {key.name: value} if key.name != "any_order" else {"expect_lines": ["a"], "any_order": value}
    return {"version": number, "script": [step]}


NEWER_KEYS = [
    (key, version)
    for shape in (DIALOGUE, RULE, STEP)
    for key in shape.keys
    for version in VERSIONS
    if newer(key.since, version)
]


@pytest.mark.parametrize(("key", "version"), NEWER_KEYS, ids=lambda v: v if isinstance(v, str) else v.name)
def test_a_key_of_a_newer_format_is_refused_by_the_schema_and_by_check_with_the_version_it_needs(
    key: Key, version: str
) -> None:
    document = _document(key, version)
    assert not VALIDATOR.is_valid(document)
    with pytest.raises(DialogueError) as caught:
        parse_dialogue(yaml.safe_dump(document, sort_keys=False), "d.yaml")
    needs = f"{key.called} needs format {key.since}: write 'version: {key.since}' at the top of the file"
    assert needs in [p.message for p in caught.value.problems]


def test_a_weighted_text_needs_the_version_the_table_gives_it() -> None:
    text = "version: 1\nfallback: {from: [{text: a, weight: 2}, b], order: random}\n"
    assert not VALIDATOR.is_valid(yaml.safe_load(text))
    with pytest.raises(DialogueError) as caught:
        parse_dialogue(text, "d.yaml")
    assert [p.message for p in caught.value.problems] == [
        f"a weighted text ({{text: ..., weight: N}}) needs format {WEIGHTED.since}: "
        f"write 'version: {WEIGHTED.since}' at the top of the file"
    ]


RANK_LOW, RANK_HIGH = RULE["rank"].minimum, RULE["rank"].maximum
assert RANK_LOW is not None
assert RANK_HIGH is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f"version: 1.1\nrules: [{{contains: a, reply: b, rank: {RANK_HIGH + 1}}}]\n",
            f"rank must be a whole number from {RANK_LOW} to {RANK_HIGH}, not {RANK_HIGH + 1}",
        ),
        (
            "version: 1.1\nfallback: {from: [{text: a, weight: 0}], order: random}\n",
            f"weight must be a whole number from 1 to {WEIGHTED['weight'].maximum}, not 0",
        ),
        ("version: 1\nmax_turns: 0\n", f"max_turns must be at least {DIALOGUE['max_turns'].minimum}"),
    ],
    ids=["rank", "weight", "max_turns"],
)
def test_the_bounds_of_numbers_are_the_tables_for_the_schema_and_check(text: str, message: str) -> None:
    assert not VALIDATOR.is_valid(yaml.safe_load(text))
    with pytest.raises(DialogueError) as caught:
        parse_dialogue(text, "d.yaml")
    assert [p.message for p in caught.value.problems] == [message]


def test_the_schema_is_a_valid_json_schema_that_names_every_key_with_its_description() -> None:
    made = schema()
    jsonschema.Draft202012Validator.check_schema(made)
    assert list(made["properties"]) == list(DIALOGUE.names)
    assert all(made["properties"][key.name]["description"] for key in DIALOGUE.keys)
    assert made["properties"]["timeout"]["default"] == DIALOGUE["timeout"].default


def test_each_reference_table_lists_its_mappings_keys_in_order() -> None:
    for shape in SHAPES:
        rows = [line for line in tables()[shape.name].splitlines() if line.startswith("| `")]
        assert [row.split("`")[1] for row in rows] == list(shape.names)


def test_print_schema_prints_the_checked_in_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from bots import cli

    assert cli.main(["--print-schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema()
