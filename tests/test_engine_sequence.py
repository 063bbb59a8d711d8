"""bots.engine, format 1.2: a script is a sequence of says and expects, with blocks, endings and deadlines."""

from __future__ import annotations

import textwrap

import pytest

from bots.actions import Action, Close, Outcome, Send, StepResult
from bots.engine import Conversation
from bots.loader import parse_dialogue
from bots.model import Dialogue


def dialogue(text: str) -> Dialogue:
    return parse_dialogue(textwrap.dedent(text).lstrip("\n"), "t.yaml")


def sent(actions: list[Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, Send)]


def results(actions: list[Action]) -> list[tuple[str, str, str | None]]:
    return [(r.verdict, r.label, r.received) for r in actions if isinstance(r, StepResult)]


def closed(actions: list[Action]) -> tuple[Outcome, str] | None:
    return next(((a.outcome, a.reason) for a in actions if isinstance(a, Close)), None)


IRC = dialogue(
    """
    version: 1.2
    end: close
    script:
      - say: NICK ann
      - say: USER ann 0 * :Ann
      - expect: {regex: '^PING :(?P<token>\\S+)$'}
      - say: "PONG :{token}"
      - expect: {regex: '^:\\S+ 001 ann '}
    """
)


def test_consecutive_says_go_out_at_once_in_order_and_the_expect_after_them_is_armed() -> None:
    chat = Conversation(IRC, delays=False)
    actions = chat.start(100.0)
    assert sent(actions) == ["NICK ann", "USER ann 0 * :Ann"]
    assert results(actions) == [
        ("PASS", "step 1 say", "'NICK ann'"),
        ("PASS", "step 2 say", "'USER ann 0 * :Ann'"),
    ]
    assert chat.deadline == 110.0  # the expect step's 10 s, from the moment it became current


def test_a_capture_of_an_expect_step_fills_a_later_say() -> None:
    chat = Conversation(IRC, delays=False)
    chat.start(0.0)
    assert sent(chat.receive("PING :x7Fq2", 1.0)) == ["PONG :x7Fq2"]
    actions = chat.receive(":irc.local 001 ann :Welcome", 2.0)
    assert results(actions) == [("PASS", "step 5 expect", "':irc.local 001 ann :Welcome'")]
    assert closed(actions) == (Outcome.ENDED_BY_BOT, "the script ran to its end")
    assert sent(actions) == []  # end: close sends no exit


GREETING_OF_TWO = dialogue(
    """
    version: 1.2
    script:
      - expect: {contains: welcome}
      - expect: {contains: "type help"}
      - say: help
      - expect: {exact: "commands: a, b"}
    fallback: I do not follow.
    """
)


def test_consecutive_expects_each_take_their_own_line_and_the_bot_stays_silent_between() -> None:
    chat = Conversation(GREETING_OF_TWO, delays=False)
    assert chat.start(0.0, dialling=True) == []  # the script starts with an expect: the server speaks first
    first = chat.receive("Welcome to the box", 0.5)
    assert sent(first) == []
    assert closed(first) is None
    second = chat.receive("Type HELP for commands", 0.7)
    assert sent(second) == ["help"]
    assert results(second) == [
        ("PASS", "step 2 expect", "'Type HELP for commands'"),
        ("PASS", "step 3 say", "'help'"),
    ]


def test_when_the_script_of_a_test_is_done_the_chat_ends_though_a_fallback_could_answer() -> None:
    chat = Conversation(GREETING_OF_TWO, delays=False)
    chat.start(0.0)
    chat.receive("welcome", 0.1)
    chat.receive("type help", 0.2)
    actions = chat.receive("commands: a, b", 0.3)
    assert sent(actions) == ["exit"]  # the default ending: exit, the classic way
    assert closed(actions) == (Outcome.ENDED_BY_BOT, "the script ran to its end")
    assert chat.receive("anything else", 0.4) == []


def test_a_step_deadline_counts_from_when_the_step_became_current_not_from_the_last_message() -> None:
    d = dialogue(
        """
        version: 1.2
        on_mismatch: rules
        case_sensitive: true
        script:
          - say: hello
          - expect: {exact: HELLO}
            timeout: 5
        fallback: ok
        """
    )
    chat = Conversation(d, delays=False)
    chat.start(0.0)
    assert sent(chat.receive("hello", 1.0)) == ["ok"]  # an echo: the fallback answers
    assert sent(chat.receive("ok", 2.0)) == ["ok"]  # and the echo answers the fallback...
    assert chat.deadline == 5.0  # ...but the step's 5 s run from 0, whatever they say
    actions = chat.tick(5.0)
    assert closed(actions) == (Outcome.TIMEOUT, "no message within 5 s")
    assert results(actions) == [
        ("FAIL", "step 2 expect", "2 line(s) matching nothing: 'hello', 'ok'; then nothing within 5 s")
    ]


SMTP = dialogue(
    """
    version: 1.2
    end: wait
    script:
      - expect: {regex: '^220 '}
      - say: EHLO me.example
      - expect_until: {regex: '^250 '}
      - say: QUIT
      - expect: {regex: '^221 '}
    """
)


def test_an_expect_until_block_takes_every_line_up_to_the_one_that_matches() -> None:
    chat = Conversation(SMTP, delays=False)
    chat.start(0.0)
    assert sent(chat.receive("220 mx ESMTP", 0.1)) == ["EHLO me.example"]
    assert chat.receive("250-mx.local", 0.2) == []
    assert chat.receive("250-SIZE 33554432", 0.3) == []
    actions = chat.receive("250 HELP", 0.4)
    assert results(actions) == [
        ("PASS", "step 3 expect_until", "'250 HELP' (the last of 3 lines)"),
        ("PASS", "step 4 say", "'QUIT'"),
    ]


def test_end_wait_passes_when_the_peer_closes_after_the_script() -> None:
    chat = Conversation(SMTP, delays=False)
    chat.start(0.0)
    for line in ("220 mx", "250 ok", "221 Bye"):
        chat.receive(line, 0.1)
    assert not chat.done
    assert chat.deadline == pytest.approx(10.1)
    assert chat.receive("a line before the close", 0.2) == []
    assert closed(chat.peer_closed(0.3)) == (Outcome.ENDED_BY_PEER, "the peer closed the connection")


def test_end_wait_fails_when_the_peer_never_closes() -> None:
    chat = Conversation(SMTP, delays=False)
    chat.start(0.0)
    for line in ("220 mx", "250 ok", "221 Bye"):
        chat.receive(line, 1.0)
    actions = chat.tick(11.0)
    assert closed(actions) == (
        Outcome.TIMEOUT,
        "the peer did not close the connection within 10 s of the script's end",
    )
    assert sent(actions) == []


def test_a_failure_ends_the_dialogues_way_without_exit_where_the_ending_is_close() -> None:
    chat = Conversation(IRC, delays=False)
    chat.start(0.0)
    actions = chat.receive("ERROR :Closing link", 1.0)
    assert sent(actions) == []
    assert closed(actions) == (Outcome.MISMATCH, "step 3 did not match")


def test_where_the_ending_is_not_exit_the_peers_exit_is_a_line_like_any_other() -> None:
    d = dialogue(
        """
        version: 1.2
        end: close
        fallback: "you said {input}"
        """
    )
    chat = Conversation(d, delays=False)
    assert sent(chat.receive("exit", 0.0)) == ["you said exit"]
    assert closed(chat.peer_closed(1.0)) == (Outcome.ENDED_BY_PEER, "the peer closed the connection")


def test_expect_lines_takes_its_lines_in_order_and_fails_on_a_line_out_of_order() -> None:
    d = dialogue(
        """
        version: 1.2
        script:
          - expect_lines: [one, two, three]
        """
    )
    chat = Conversation(d, delays=False)
    chat.start(0.0)
    assert chat.receive("one", 0.1) == []
    actions = chat.receive("three", 0.2)
    assert closed(actions) == (Outcome.MISMATCH, "step 1 did not match")
    assert results(actions) == [("FAIL", "step 1 expect_lines", "'three'")]


def test_expect_lines_in_any_order_takes_them_as_they_come() -> None:
    d = dialogue(
        """
        version: 1.2
        script:
          - expect_lines: [{regex: '^<user(?P<a>\\d+)> hi$'}, {contains: "joined"}]
            any_order: true
          - say: "bye {a}"
        """
    )
    chat = Conversation(d, delays=False)
    chat.start(0.0)
    assert chat.receive("<user2> joined", 0.1) == []
    actions = chat.receive("<user5> hi", 0.2)
    assert sent(actions) == ["bye 5", "exit"]
    assert results(actions)[0] == ("PASS", "step 1 expect_lines", "'<user5> hi' (the last of 2 lines)")


def test_skipped_lines_are_passed_over_and_a_timeout_after_lines_is_a_mismatch() -> None:
    d = dialogue(
        """
        version: 1.2
        on_mismatch: skip
        script:
          - expect: {contains: ready}
            timeout: 2
        """
    )
    chat = Conversation(d, delays=False)
    chat.start(0.0)
    assert chat.receive("banner line", 0.5) == []
    assert chat.receive("ready now", 1.0)[0] == StepResult(
        "PASS", d.script[0].where, "step 1 expect", "{contains: 'ready'}", "'ready now'", 1.0, d.script[0]
    )
    chat = Conversation(d, delays=False)
    chat.start(0.0)
    chat.receive("banner line", 0.5)
    assert closed(chat.tick(2.0)) == (Outcome.MISMATCH, "no line matched step 1 within 2 s")


def test_the_chats_deadline_fails_the_awaited_step() -> None:
    d = dialogue(
        """
        version: 1.2
        deadline: 3
        on_mismatch: rules
        script:
          - say: hi
          - expect: {exact: done}
            timeout: 60
        fallback: more?
        """
    )
    chat = Conversation(d, delays=False)
    chat.start(10.0)
    assert chat.deadline == 13.0
    actions = chat.tick(13.0)
    assert closed(actions) == (Outcome.TIMEOUT, "the chat's deadline of 3 s passed")
    assert results(actions) == [
        ("FAIL", "step 2 expect", "nothing before the chat's deadline of 3 s passed"),
    ]


def test_a_deadline_given_to_the_conversation_overrides_the_files() -> None:
    chat = Conversation(SMTP, delays=False, deadline=1.5)
    chat.start(0.0)
    assert chat.deadline == 1.5


def test_a_serving_bot_sends_a_leading_say_at_once_and_no_greeting() -> None:
    d = dialogue(
        """
        version: 1.2
        greeting: never sent when serving
        script:
          - say: "220 bot.local ready"
          - expect: {contains: HELO}
        """
    )
    chat = Conversation(d, delays=False)
    assert sent(chat.start(0.0, dialling=False)) == ["220 bot.local ready"]


def test_a_dialling_bot_sends_its_greeting_before_the_script_when_the_file_names_one() -> None:
    d = dialogue(
        """
        version: 1.2
        greeting: hi
        script:
          - expect: {contains: hello}
        """
    )
    chat = Conversation(d, delays=False)
    assert sent(chat.start(0.0)) == ["hi"]


def test_delayed_says_in_a_row_start_the_next_step_when_the_last_one_goes_out() -> None:
    d = dialogue(
        """
        version: 1.2
        delay: 0.5
        script:
          - say: one
          - say: two
          - expect: {contains: ok}
            timeout: 1
        """
    )
    chat = Conversation(d)
    actions = chat.start(0.0)
    assert [(a.text, a.delay) for a in actions if isinstance(a, Send)] == [("one", 0.5), ("two", 0.5)]
    assert chat.deadline == 2.0  # sent at 0.5 and 1.0; then the step's 1 s


@pytest.mark.parametrize("version", ["1", "1.1"])
def test_a_first_expect_step_of_a_serving_bot_times_out_from_the_connection_in_every_version(
    version: str,
) -> None:
    d = dialogue(
        f"""
        version: {version}
        script:
          - expect: {{contains: hello}}
            timeout: 5
        """
    )
    chat = Conversation(d, delays=False)
    assert chat.start(1000.0, dialling=False) == []
    assert chat.deadline == 1005.0
    actions = chat.tick(1005.0)
    assert closed(actions) == (Outcome.TIMEOUT, "no message within 5 s")
    failed = [a for a in actions if isinstance(a, StepResult)]
    assert [(r.received, r.elapsed) for r in failed] == [("nothing within 5 s", 5.0)]


def test_a_1_1_script_still_takes_turns() -> None:
    d = dialogue(
        """
        version: 1.1
        script:
          - say: one
          - say: two
          - expect: {contains: ok}
        fallback: hm
        """
    )
    chat = Conversation(d, delays=False)
    assert sent(chat.start(0.0)) == ["one"]  # turns: one say per message
    assert sent(chat.receive("what?", 1.0)) == ["two"]
    assert sent(chat.receive("ok", 2.0)) == ["hm"]  # the rules answer after the last step, as before


def test_on_a_screen_a_line_reading_exit_is_shown_text_not_the_end_of_the_chat() -> None:
    d = dialogue(
        """
        version: 1.1
        script:
          - say: bye
          - expect: {contains: "Connection closed"}
        """
    )
    chat = Conversation(d, delays=False, screen=True)
    chat.start(0.0, dialling=False)
    assert chat.receive("exit", 0.1) == []  # what the server sent, shown by a telnet
    assert closed(chat.receive("Connection closed by foreign host.", 0.2)) == (
        Outcome.ENDED_BY_BOT,
        "the script ran to its end",
    )
