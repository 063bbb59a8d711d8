"""bots/schema.json against --check: the cases the issue named, decided one by one; editors find the schema.

adversarial/test_dialogue_schema_agreement.py runs the same comparison on generated documents.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml

import bots
from bots.loader import DialogueError, parse_dialogue

SCHEMA_PATH = Path(bots.__file__).parent / "schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
BUNDLED = sorted((Path(bots.__file__).parent / "dialogues").glob("*.yaml"))
EDITOR_LINE = "# yaml-language-server: $schema=../schema.json"


def judge(text: str) -> tuple[bool, list[str]]:
    """Whether the schema accepts the document, and --check's problems (`line:col: message`)."""
    text = textwrap.dedent(text).lstrip("\n")
    schema_ok = VALIDATOR.is_valid(yaml.safe_load(text))
    try:
        parse_dialogue(text, "d.yaml")
    except DialogueError as exc:
        return schema_ok, [str(problem).removeprefix("d.yaml:") for problem in exc.problems]
    return schema_ok, []


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\nrules: [{exact: '6 * 7', reply: 42}]\n",
        "version: 1\nvars: {n: 1, flag: true}\nfallback: '{n}'\n",
        "version: 1\nname: 42\n",
        "version: 1\nscript: [{expect: 42}]\n",
        "version: 1\ndescription:\nvars: {empty: null}\n",
        "version: 1\nmax_turns: 3.0\n",
    ],
    ids=["reply-number", "vars-number", "name-number", "expect-number", "null-empty-text", "whole-float"],
)
def test_any_scalar_is_text_for_both(text: str) -> None:
    assert judge(text) == (True, [])


def test_null_is_the_empty_text_where_text_may_be_empty_and_a_whole_float_is_whole() -> None:
    dialogue = parse_dialogue("version: 1\ndescription:\nvars: {empty: null}\nmax_turns: 3.0\n")
    assert (dialogue.description, dialogue.variables, dialogue.max_turns) == ("", {"empty": ""}, 3)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version: 1\nrules: [{glob: '', reply: hi}]\n", "2:16: glob is empty"),
        (
            "version: 1\nrules: [{exact: null, reply: hi}]\n",
            "2:17: exact must be text, not null: write 'null' in quotes to mean that text",
        ),
        (
            "version: 1\nfallback: ~\n",
            "2:11: fallback must be text, not null: write '~' in quotes to mean that text",
        ),
        (
            "version: 1\nfallback: '{'\n",
            "2:12: '{' starts no placeholder: write {name} for a value, or {{ for a literal brace",
        ),
        (
            'version: 1\nfallback: "a\\nb"\n',
            "2:11: a chat message is one line: this text has a line break inside",
        ),
        (
            "version: 1\nvars: {input: x}\n",
            "2:8: 'input' is the message just received: choose another variable name",
        ),
        ("version: 1\nmax_turns: 2.5\n", "2:12: max_turns must be a whole number"),
    ],
    ids=["glob-empty", "exact-null", "tilde-null", "brace", "line-break", "input", "half"],
)
def test_both_refuse(text: str, problem: str) -> None:
    assert judge(text) == (False, [problem])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("version: 1\ndelay: [1, 0.5]\n", "2:8: delay range [1, 0.5] has its minimum above its maximum"),
        ("version: 1\ntimeout: .inf\n", "2:10: timeout must be a finite number of seconds"),
        (
            "version: 1\nrules: [{regex: '(', reply: hi}]\n",
            "2:18: regex does not compile: missing ) for the ( at position 0",
        ),
        (
            "version: 1\nfallback: '{who}'\n",
            "2:11: {who} is never captured or set: capture it with (?P<who>...) in this rule's regex, "
            "or give it a value under 'vars' or a rule's 'set'",
        ),
    ],
    ids=["delay-range", "infinity", "regex", "name-never-set"],
)
def test_only_check_refuses_what_a_json_schema_cannot_express(text: str, problem: str) -> None:
    assert judge(text) == (True, [problem])


def test_the_schema_has_an_absolute_id_and_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    identifier = urlparse(SCHEMA["$id"])
    assert (identifier.scheme, identifier.netloc) == ("https", "chat-classic.readthedocs.io")


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_dialogue_names_the_schema_for_editors(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == EDITOR_LINE
    assert (path.parent / first.partition("$schema=")[2]).resolve() == SCHEMA_PATH.resolve()
