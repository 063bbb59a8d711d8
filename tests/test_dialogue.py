"""bots.dialogue: loading, every kind of error with its file:line:col, safety limits, examples."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

import bots
from bots.actions import Send
from bots.engine import Conversation
from bots.loader import MAX_DIALOGUE_BYTES, DialogueError, load_dialogue, parse_dialogue
from bots.loader.compose import MAX_NESTING
from bots.model import DEFAULT_TIMEOUT_S, MAX_REDIRECTS, StepKind
from chat.status import ExitStatus

BUNDLED = sorted((Path(bots.__file__).parent / "dialogues").glob("*.yaml"))


def problems(text: str) -> list[str]:
    """Every problem of a dialogue text, as `d.yaml:line:col: message`."""
    with pytest.raises(DialogueError) as caught:
        parse_dialogue(textwrap.dedent(text).lstrip("\n"), "d.yaml")
    assert caught.value.status is ExitStatus.INVALID_DIALOGUE
    return [str(p) for p in caught.value.problems]


def test_a_valid_dialogue_builds_rules_script_and_settings() -> None:
    d = parse_dialogue(
        textwrap.dedent(
            """
            version: 1
            name: demo
            delay: [0.1, 0.5]
            max_turns: 3
            vars: {who: you}
            rules:
              - regex: 'name is (?P<name>\\w+)'
                reply: "Hi {name}"
                set: {who: "{name}"}
              - contains: [hi, hello]
                reply: {from: [a, b], order: no_repeat}
            script:
              - say: Welcome {who}
              - expect: "yes"
                timeout: 2
                on_mismatch: rules
            fallback: ok
            """
        ),
        "demo.yaml",
    )
    assert d.name == "demo"
    assert d.delay == (0.1, 0.5)
    assert d.max_turns == 3
    assert [r.pattern.kind for r in d.rules] == ["regex", "contains"]
    reply = d.rules[1].reply
    assert reply is not None
    assert reply.order == "no_repeat"
    assert [(s.kind, s.timeout, s.on_mismatch) for s in d.script] == [
        ("say", DEFAULT_TIMEOUT_S, "fail"),
        ("expect", 2.0, "rules"),
    ]
    assert d.script[1].where.file_line == "demo.yaml:15"
    assert d.is_test


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_dialogue_is_valid(path: Path) -> None:
    load_dialogue(path)


def test_bundled_dialogues_include_the_four_the_readme_names() -> None:
    assert {p.name for p in BUNDLED} >= {"default.yaml", "eliza.yaml", "quiz.yaml", "quiz_test.yaml"}


def test_yaml_syntax_errors_give_the_position_and_what_was_open() -> None:
    assert problems(
        """
        version: 1
        fallback: "never closed
        """
    ) == [
        "d.yaml:3:1: YAML syntax error: found unexpected end of stream "
        "(while scanning a quoted scalar at line 2)"
    ]


def test_unknown_keys_are_reported_with_a_suggestion() -> None:
    assert problems(
        """
        version: 1
        rules:
          - contains: hi
            replay: hello
        """
    ) == [
        "d.yaml:3:5: rule 1 needs a 'reply'",
        "d.yaml:4:5: unknown key 'replay' in rule 1: did you mean 'reply'? expected one of: "
        "exact, contains, glob, regex, case_sensitive, reply, set, examples, when, after, topic, redirect, "
        "rank, remember",
    ]


def test_wrong_types_are_reported_where_they_are() -> None:
    assert problems(
        """
        version: "1"
        max_turns: many
        delay: [2, 1]
        case_sensitive: perhaps
        rules: {contains: hi}
        """
    ) == [
        "d.yaml:1:10: version must be a number: 1, 1.1 or 1.2",
        "d.yaml:2:12: max_turns must be a whole number",
        "d.yaml:3:8: delay range [2, 1] has its minimum above its maximum",
        "d.yaml:4:17: case_sensitive must be true or false",
        "d.yaml:5:8: rules must be a list of rules (- contains: ... reply: ...)",
    ]


def test_a_missing_version_and_a_wrong_version_are_reported() -> None:
    assert problems("fallback: hi\n") == [
        "d.yaml:1:1: missing 'version: 1', 'version: 1.1' or 'version: 1.2' (the dialogue format version)"
    ]
    assert problems("version: 2\n") == [
        "d.yaml:1:10: version 2 is not supported: this chat-bot reads dialogue formats 1, 1.1 and 1.2"
    ]


def test_a_regex_that_does_not_compile_points_at_the_bad_character() -> None:
    assert problems(
        """
        version: 1
        rules:
          - regex: 'my (name'
            reply: hi
        """
    ) == ["d.yaml:3:16: regex does not compile: missing ) for the ( at position 3"]


def test_the_issue_14_regex_loads_and_matches_in_linear_time() -> None:
    # Issue 14 item 1: Python's engine took seconds on this line; on RE2 the match is linear.
    dialogue = parse_dialogue("version: 1\nrules:\n  - regex: '\\s*\\s*\\s*x'\n    reply: hit\n", "d.yaml")
    # CPU time of this thread: the match's own cost, whatever else the shared cores run.
    started = time.thread_time()
    assert dialogue.match("a" + " " * 400 + "y x") is not None
    assert time.thread_time() - started < 0.05


def test_a_lookahead_is_refused_at_load_with_its_place_and_a_hint() -> None:
    assert problems(
        """
        version: 1
        rules:
          - regex: 'yes(?!terday)'
            reply: hi
        """
    ) == [
        "d.yaml:3:16: regex refused: negative lookahead (?! is not supported (patterns run on RE2, which "
        "matches in linear time): match what may follow instead, or put a rule for it first"
    ]


def test_a_backreference_is_refused_at_load_with_its_place_and_a_hint() -> None:
    assert problems(
        """
        version: 1
        rules:
          - expect: {regex: '(\\w+) \\1'}
        script:
          - expect: {regex: '(\\w+) \\1'}
        """
    )[-1] == (
        "d.yaml:5:28: regex refused: a backreference \\1 is not supported (patterns run on RE2, which "
        "matches in linear time): repeat the group's pattern instead of referring to its text"
    )


@pytest.mark.parametrize(("value", "matches"), [("ignore", True), ("keep", False)])
def test_the_punctuation_key_decides_whether_hello_there_bang_matches_exact_hello_there(
    value: str, matches: bool
) -> None:
    text = f"version: 1\npunctuation: {value}\nrules:\n  - exact: hello there\n    reply: hi\n"
    assert (parse_dialogue(text, "d.yaml").match("Hello there!") is not None) is matches


def test_a_version_1_file_keeps_punctuation_by_default() -> None:
    text = "version: 1\nrules:\n  - exact: hello there\n    reply: hi\n"
    assert parse_dialogue(text, "d.yaml").match("hello there!") is None


def test_a_version_1_1_file_ignores_punctuation_by_default_unless_it_says_keep() -> None:
    rules = "rules:\n  - exact: hello there\n    reply: hi\n"
    assert parse_dialogue("version: 1.1\n" + rules, "d.yaml").match("Hello there!") is not None
    assert parse_dialogue("version: 1.1\npunctuation: keep\n" + rules, "d.yaml").match("Hello there!") is None


def test_an_unknown_punctuation_value_is_reported() -> None:
    assert problems("version: 1\npunctuation: drop\n") == [
        "d.yaml:2:14: punctuation must be one of: keep, ignore"
    ]


def test_names_never_captured_or_set_are_reported() -> None:
    assert problems(
        """
        version: 1
        rules:
          - regex: 'I am (?P<mood>\\w+)'
            reply: "Why {mood}, {name}?"
          - glob: "* and *"
            reply: "{1} then {3}"
        fallback: "{mood}"
        """
    ) == [
        "d.yaml:4:12: {name} is never captured or set: capture it with (?P<name>...) in this rule's regex, "
        "or give it a value under 'vars' or a rule's 'set'",
        "d.yaml:6:12: {3} is not captured: the rule's pattern has fewer groups or wildcards",
        "d.yaml:7:11: {mood} is never captured or set: capture it with (?P<mood>...) in this rule's regex, "
        "or give it a value under 'vars' or a rule's 'set'",
    ]


def test_a_variable_set_by_any_rule_or_captured_by_an_expect_step_may_be_used_anywhere() -> None:
    parse_dialogue(
        textwrap.dedent(
            """
            version: 1
            rules:
              - regex: 'call me (?P<n>\\w+)'
                set: {nick: "{n}"}
                reply: ok
            script:
              - expect: {regex: 'I am (?P<who>\\w+)'}
              - say: "Hello {who}, alias {nick}"
            fallback: "{nick}? {input}"
            """
        )
    )


def test_a_bad_brace_in_a_reply_points_inside_the_text() -> None:
    assert problems(
        """
        version: 1
        fallback: Use {{ and } here
        """
    ) == ["d.yaml:2:22: '}' closes no placeholder: write }} for a literal brace"]


def test_an_example_shadowed_by_an_earlier_rule_is_reported() -> None:
    assert problems(
        """
        version: 1
        rules:
          - contains: hello
            reply: a
          - contains: hello there
            reply: b
            examples: ["hello there", "goodbye"]
        """
    ) == [
        "d.yaml:7:16: example 'hello there' is answered by the rule at line 3 ({contains: 'hello'}), "
        "not by this rule: it comes first and shadows this one: move this rule above it or narrow that one",
        "d.yaml:7:31: example 'goodbye' matches no rule, not even its own",
    ]


def test_yaml_aliases_are_refused() -> None:
    assert problems(
        """
        version: 1
        fallback: &a hi
        greeting: *a
        """
    ) == [
        "d.yaml:3:11: YAML alias *a is not allowed in a dialogue file: write the value out where it is needed"
    ]


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    bomb = "version: 1\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9)
    )
    found = problems(bomb)
    assert found == [
        "d.yaml:3:8: YAML alias *a is not allowed in a dialogue file: write the value out where it is needed"
    ]


@pytest.mark.parametrize(
    ("tag", "shown"),
    [
        ("!!python/object/apply:os.system ['true']", "!!python/object/apply:os.system"),
        ("!!binary aGk=", "!!binary"),
        ("!custom x", "!custom"),
    ],
)
def test_tags_that_build_objects_are_refused(tag: str, shown: str) -> None:
    assert problems(f"version: 1\nfallback: {tag}\n") == [
        f"d.yaml:2:11: YAML tag '{shown}' is not allowed: "
        "a dialogue file holds plain text, numbers, lists and mappings only"
    ]


def test_deep_nesting_is_refused_at_the_first_level_too_deep() -> None:
    found = problems("version: 1\nfallback: " + "[" * 500 + "]" * 500 + "\n")
    assert found == [f"d.yaml:2:{11 + MAX_NESTING - 1}: nested more than {MAX_NESTING} levels deep"]


def test_very_deep_nesting_is_refused_without_exhausting_the_stack() -> None:
    # PyYAML 6.0.4 and later stop such a document in their scanner, before our own
    # check sees it; either way it is one clear line, never a RecursionError.
    found = problems("version: 1\nfallback: " + "[" * 5000 + "]" * 5000 + "\n")
    assert len(found) == 1
    assert found[0] in {
        f"d.yaml:2:{11 + MAX_NESTING - 1}: nested more than {MAX_NESTING} levels deep",
        "d.yaml:2:1010: YAML syntax error: exceeded maximum nesting depth "
        "(while increasing flow level at line 2)",
    }


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"version: 1\n" + b"#" * MAX_DIALOGUE_BYTES)
    with pytest.raises(
        DialogueError, match=r"big\.yaml:1:1: file is over the 1024 KiB limit for dialogue files"
    ):
        load_dialogue(big)


def test_a_file_that_is_not_utf8_gives_the_position_of_the_bad_byte(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"version: 1\nfallback: caf\xe9\n")
    with pytest.raises(DialogueError, match=r"^.*latin1\.yaml:2:14: not UTF-8 text: save the file as UTF-8$"):
        load_dialogue(bad)


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DialogueError, match=r"nope\.yaml:1:1: cannot read the dialogue file: No such file"):
        load_dialogue(tmp_path / "nope.yaml")


def test_an_empty_file_says_what_a_dialogue_starts_with() -> None:
    assert problems("") == ["d.yaml:1:1: file is empty: a dialogue starts with 'version: 1'"]


def test_yes_and_no_are_text_where_text_is_expected() -> None:
    d = parse_dialogue("version: 1\nscript:\n  - expect: yes\n  - say: no\n")
    assert [p.sources for p in d.script[0].patterns] == [("yes",)]


def test_a_reply_with_a_line_break_is_refused() -> None:
    assert problems('version: 1\nfallback: "one\\ntwo"\n') == [
        "d.yaml:2:11: a chat message is one line: this text has a line break inside"
    ]


def test_the_error_message_counts_the_other_problems() -> None:
    with pytest.raises(DialogueError) as caught:
        parse_dialogue("version: 1\nmax_turns: 0\ntimeout: -1\n", "d.yaml")
    assert str(caught.value) == (
        "d.yaml:2:12: max_turns must be at least 1 (and 1 more: run chat-bot --check d.yaml)"
    )


def test_the_shipped_json_schema_accepts_every_bundled_dialogue() -> None:
    schema = json.loads((Path(bots.__file__).parent / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in BUNDLED:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
        assert errors == [], path.name
    assert list(validator.iter_errors({"version": 1, "rules": [{"contains": "x"}]}))  # no reply


def test_a_key_with_a_line_break_is_reported_on_one_line() -> None:
    # Found by the adversarial suite's property test: quoted text keeps its escapes visible.
    assert problems('version: 1\n"\\n": x\n') == [
        "d.yaml:2:1: unknown key '\\x0a' in the dialogue: expected one of: version, name, description, "
        "case_sensitive, punctuation, include, lists, subs, vars, reflect, greeting, rules, topics, "
        "clauses, fallback, script, on_mismatch, end, deadline, line_end, abort, delay, max_turns, "
        "timeout, target"
    ]


def test_examples_are_checked_even_when_another_part_of_the_file_has_a_problem() -> None:
    text = (
        "version: 1\n"
        "rules:\n"
        "  - contains: hello\n"
        '    reply: "{who}"\n'
        "  - exact: hi\n"
        "    reply: hey\n"
        "    examples: [hello there]\n"
    )
    assert problems(text) == [
        "d.yaml:4:12: {who} is never captured or set: capture it with (?P<who>...) in this rule's regex, "
        "or give it a value under 'vars' or a rule's 'set'",
        "d.yaml:7:16: example 'hello there' is answered by the rule at line 3 ({contains: 'hello'}), not by "
        "this rule: this rule's own pattern does not match it",
    ]


# -- format 1.1: topics, conditions, redirects, weights


def test_versions_1_1_and_1_2_are_read_as_numbers_and_version_1_files_load_as_before() -> None:
    assert parse_dialogue("version: 1.1\nfallback: hi\n").version == "1.1"
    assert parse_dialogue("version: 1.2\nfallback: hi\n").version == "1.2"
    assert parse_dialogue("version: 1.20\nfallback: hi\n").version == "1.2"
    assert parse_dialogue("version: 1.10\nfallback: hi\n").version == "1.1"
    assert parse_dialogue("version: 1.0\nfallback: hi\n").version == "1"
    assert problems("version: '1.1'\n") == ["d.yaml:1:10: version must be a number: 1, 1.1 or 1.2"]
    assert problems("version: 1.3\n") == [
        "d.yaml:1:10: version 1.3 is not supported: this chat-bot reads dialogue formats 1, 1.1 and 1.2"
    ]


def test_a_version_1_file_is_told_to_declare_1_1_for_each_new_key() -> None:
    assert problems(
        """
        version: 1
        rules:
          - contains: hi
            reply: hello
            topic: quiz
            when: x
        topics: {}
        greeting: {from: [{text: a, weight: 2}], order: random}
        """
    ) == [
        "d.yaml:5:5: 'topic' needs format 1.1: write 'version: 1.1' at the top of the file",
        "d.yaml:6:5: 'when' needs format 1.1: write 'version: 1.1' at the top of the file",
        "d.yaml:7:1: 'topics' needs format 1.1: write 'version: 1.1' at the top of the file",
        "d.yaml:8:19: a weighted text ({text: ..., weight: N}) needs format 1.1: "
        "write 'version: 1.1' at the top of the file",
    ]


def test_topics_build_their_rules_fallback_and_switches() -> None:
    d = parse_dialogue(
        textwrap.dedent(
            """
            version: 1.1
            rules:
              - contains: quiz
                reply: Ready?
                topic: quiz
            topics:
              quiz:
                rules:
                  - contains: stop
                    reply: bye
                    topic: none
                    examples: [stop it]
                fallback: Answer or say stop.
            """
        ),
        "d.yaml",
    )
    assert d.rules[0].topic == "quiz"
    quiz = d.topics["quiz"]
    assert [rule.topic for rule in quiz.rules] == ["none"]
    assert quiz.fallback is not None
    assert quiz.fallback.fixed == "Answer or say stop."
    assert quiz.ruleset.match("stop now") is not None
    assert d.match("stop now") is None  # a topic's rules are not top-level rules


def test_unknown_and_unreachable_topics_and_bad_conditions_are_reported_where_they_are() -> None:
    assert problems(
        """
        version: 1.1
        vars: {score: "0"}
        rules:
          - contains: quiz
            reply: Ready?
            topic: quizz
          - contains: hi
            when: score >= 3 and mood
            reply: hello
          - contains: hey
            when: score => 3
            reply: hello
        topics:
          quiz:
            rules:
              - contains: stop
                reply: bye
                topic: none
          lost:
            rules: []
        """
    ) == [
        "d.yaml:6:12: topic 'quizz' is not defined: did you mean 'quiz'? define it under 'topics'",
        "d.yaml:8:11: when: 'mood' is never set: give it a value under 'vars' or a rule's 'set'",
        "d.yaml:11:17: when: cannot read '=' here: compare with ==, !=, <, <=, > or >=",
        "d.yaml:14:3: topic 'quiz' is unreachable: no top-level rule, nor a rule of a reachable topic, "
        "switches to it (topic: quiz)",
        "d.yaml:19:3: topic 'lost' is unreachable: no top-level rule, nor a rule of a reachable topic, "
        "switches to it (topic: lost)",
    ]


def test_a_topic_reached_only_from_an_unreachable_topic_is_unreachable_too() -> None:
    assert problems(
        """
        version: 1.1
        rules: [{contains: hi, reply: hello}]
        topics:
          a: {rules: [{contains: x, reply: y, topic: b}]}
          b: {rules: [{contains: x, reply: y, topic: a}]}
        """
    ) == [
        "d.yaml:4:3: topic 'a' is unreachable: no top-level rule, nor a rule of a reachable topic, "
        "switches to it (topic: a)",
        "d.yaml:5:3: topic 'b' is unreachable: no top-level rule, nor a rule of a reachable topic, "
        "switches to it (topic: b)",
    ]


def test_bad_topic_names_and_rules_of_a_topic_are_reported() -> None:
    assert problems(
        """
        version: 1.1
        rules: [{contains: go, reply: ok, topic: t}]
        topics:
          none: {rules: []}
          t:
            rules:
              - contains: x
        """
    ) == [
        "d.yaml:4:3: 'none' cannot name a topic: 'topic: none' leaves any topic; choose another name",
        "d.yaml:7:9: rule 1 of topic t needs a 'reply' or a 'redirect'",
    ]


def test_a_condition_reads_variables_set_anywhere_and_after_is_a_pattern() -> None:
    d = parse_dialogue(
        textwrap.dedent(
            """
            version: 1.1
            rules:
              - regex: 'i am (?P<mood>\\w+)'
                reply: ok
                set: {mood: '{mood}'}
              - contains: yes
                after: {exact: Shall we play?}
                when: mood in ['happy', 'calm'] or input == 'yes please'
                reply: Let us play.
            """
        ),
        "d.yaml",
    )
    rule = d.rules[1]
    assert rule.when is not None
    assert rule.when.names == frozenset({"mood", "input"})
    assert rule.after is not None
    assert rule.after.search("shall we play?") is not None
    assert rule.conditional
    assert not d.rules[0].conditional


def test_a_redirect_loop_known_at_load_is_reported_once_and_conditions_stop_the_search() -> None:
    assert problems(
        """
        version: 1.1
        rules:
          - contains: ping
            redirect: pong
          - contains: pong
            redirect: ping
          - exact: a
            redirect: b
          - exact: b
            when: input
            redirect: a
        """
    ) == [
        "d.yaml:3:5: redirect goes round in a loop ('pong' -> 'ping' -> back to line 3)",
    ]
    assert problems("version: 1.1\nrules: [{contains: both, reply: x, redirect: y}]\n") == [
        "d.yaml:2:36: rule 1 has both 'reply' and 'redirect': keep one"
    ]


def test_a_redirect_chain_longer_than_the_limit_is_reported_once_at_its_start() -> None:
    rules = "".join(f"  - exact: s{n}\n    redirect: s{n + 1}\n" for n in range(MAX_REDIRECTS + 2))
    rules += f"  - exact: s{MAX_REDIRECTS + 2}\n    reply: end\n"
    assert problems(f"version: 1.1\nrules:\n{rules}") == [
        f"d.yaml:3:5: redirect leads through more than {MAX_REDIRECTS} redirects (MAX_REDIRECTS): "
        "the chat would stop before the end of the chain"
    ]


def test_weighted_texts_build_weights_and_their_running_totals() -> None:
    d = parse_dialogue(
        "version: 1.1\nfallback:\n  from: [{text: a, weight: 3}, b, {text: c}]\n  order: random\n"
    )
    assert d.fallback is not None
    assert (d.fallback.weights, d.fallback.totals) == ((3, 1, 1), (3, 4, 5))
    plain = parse_dialogue("version: 1.1\nfallback: {from: [a, b], order: random}\n").fallback
    assert plain is not None
    assert plain.weights is None


def test_bad_weights_are_reported_at_the_weight() -> None:
    assert problems(
        """
        version: 1.1
        fallback:
          from: [{text: a, weight: 0}, {text: b, weight: 2}, {weight: 2}, {text: d, weight: 2.5}]
          order: no_repeat
        """
    ) == [
        "d.yaml:3:28: weight must be a whole number from 1 to 1000, not 0",
        "d.yaml:3:42: weight needs 'order: random' (no_repeat uses every text in turn)",
        "d.yaml:3:54: a weighted text needs 'text': what the bot says",
        "d.yaml:3:85: weight must be a whole number",
    ]


# -- format 1.1: rank, remember, clauses


def test_rules_are_kept_in_the_order_they_are_tried_higher_rank_first() -> None:
    d = parse_dialogue(
        "version: 1.1\nrules:\n"
        "  - {contains: a, reply: A}\n  - {contains: b, reply: B, rank: 2}\n"
        "  - {contains: c, reply: C, rank: -1}\n  - {contains: d, reply: D, rank: 2}\n",
        "d.yaml",
    )
    assert [(rule.number, rule.rank) for rule in d.rules] == [(1, 2), (3, 2), (0, 0), (2, -1)]


def test_bad_ranks_remembers_and_clauses_are_reported_at_their_place() -> None:
    assert problems(
        """
        version: 1.1
        clauses: {split: [",", "a b", but, "", "x,"], by: 1}
        rules:
          - contains: a
            rank: 2.5
            reply: A
          - contains: b
            rank: 2000000
            reply: B
          - regex: 'my (?P<rest>.*)'
            reply: C
            remember: "But your {rst}"
        """
    ) == [
        "d.yaml:2:24: delimiter 'a b' must be one word (letters, digits, _) or punctuation, no blanks",
        "d.yaml:2:36: a delimiter is empty",
        "d.yaml:2:40: delimiter 'x,' must be one word (letters, digits, _) or punctuation, no blanks",
        "d.yaml:2:47: unknown key 'by' in clauses: expected one of: split",
        "d.yaml:5:11: rank must be a whole number",
        "d.yaml:8:11: rank must be a whole number from -1000000 to 1000000, not 2000000",
        "d.yaml:12:15: {rst} is never captured or set: capture it with (?P<rst>...) in this rule's regex, "
        "or give it a value under 'vars' or a rule's 'set'",
    ]


def test_a_delimiter_yaml_reads_as_a_number_must_be_written_in_quotes() -> None:
    # Found by the schema agreement test: 0.0 passed the schema (a number is no string to match).
    assert problems("version: 1.1\nclauses: {split: [0.0, '.']}\nfallback: x\n") == [
        "d.yaml:2:19: delimiter '0.0' must be text: write it in quotes"
    ]


def test_clauses_need_a_list_of_delimiters() -> None:
    assert problems("version: 1.1\nclauses: {}\n") == [
        "d.yaml:2:10: clauses needs 'split': the delimiters, e.g. split: [',', '.', but]"
    ]
    assert problems("version: 1.1\nclauses: {split: []}\n") == [
        "d.yaml:2:18: split must be a list of delimiters, e.g. [',', '.', but]"
    ]


def test_rank_remember_and_clauses_need_format_1_1() -> None:
    assert problems(
        """
        version: 1
        clauses: {split: [","]}
        rules:
          - {contains: a, rank: 2, reply: A}
          - {contains: b, remember: B, reply: B}
        """
    ) == [
        "d.yaml:2:1: 'clauses' needs format 1.1: write 'version: 1.1' at the top of the file",
        "d.yaml:4:19: 'rank' needs format 1.1: write 'version: 1.1' at the top of the file",
        "d.yaml:5:19: 'remember' needs format 1.1: write 'version: 1.1' at the top of the file",
    ]


def test_an_example_shadowed_by_a_higher_rank_says_so() -> None:
    assert problems(
        """
        version: 1.1
        rules:
          - contains: mother
            reply: Family.
            examples: [my mother]
          - contains: my
            rank: 2
            reply: Yours.
        """
    ) == [
        "d.yaml:5:16: example 'my mother' is answered by the rule at line 6 ({contains: 'my'}), "
        "not by this rule: its rank (2) is higher and it shadows this one: "
        "raise this rule's rank or narrow that one"
    ]


def test_doctor_yaml_gives_the_papers_fifteen_replies_in_process() -> None:
    folder = Path(bots.__file__).parent / "dialogues"
    doctor, test = load_dialogue(folder / "doctor.yaml"), load_dialogue(folder / "doctor_test.yaml")
    says = [s.reply.choices[0].source for s in test.script if s.kind is StepKind.SAY and s.reply is not None]
    expects = [s.patterns[0] for s in test.script if s.kind is StepKind.EXPECT]
    chat = Conversation(doctor, delays=False)
    replies = [
        next(a.text for a in chat.receive(said, float(n)) if isinstance(a, Send))
        for n, said in enumerate(says[:-1])
    ]
    assert len(replies) == len(expects) == 15
    assert [pattern.search(reply) is not None for pattern, reply in zip(expects, replies, strict=True)] == [
        True
    ] * 15
