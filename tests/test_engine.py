"""bots.engine: one conversation, sans-IO; time is a number the test passes in."""

from __future__ import annotations

import itertools
import textwrap

from bots.actions import Action, Close, Outcome, Send, StepResult
from bots.engine import Conversation
from bots.loader import parse_dialogue
from bots.model import MAX_MEMORIES, MAX_REDIRECTS, Dialogue
from chat.status import ExitStatus


def dialogue(text: str) -> Dialogue:
    return parse_dialogue(textwrap.dedent(text).lstrip("\n"), "t.yaml")


def sent(actions: list[Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, Send)]


def closed(actions: list[Action]) -> Close | None:
    return next((a for a in actions if isinstance(a, Close)), None)


GREETER = dialogue(
    """
    version: 1
    vars: {name: friend}
    rules:
      - regex: 'my name is (?P<name>\\w+)'
        set: {name: "{name}"}
        reply: "Hi {name}!"
      - glob: "echo *"
        reply: "{1} / {input}"
      - contains: bye
        reply: exit
    fallback: "Go on, {name}."
    """
)


def test_a_rule_reply_fills_captures_and_set_variables_persist() -> None:
    chat = Conversation(GREETER, delays=False)
    assert sent(chat.receive("my name is Ann", 0.0)) == ["Hi Ann!"]
    assert sent(chat.receive("what now", 1.0)) == ["Go on, Ann."]
    assert sent(chat.receive("echo  a b ", 2.0)) == ["a b / echo  a b "]


def test_each_conversation_has_its_own_variables() -> None:
    first, second = Conversation(GREETER, delays=False), Conversation(GREETER, delays=False)
    first.receive("my name is Ann", 0.0)
    assert sent(second.receive("hm", 0.0)) == ["Go on, friend."]
    assert GREETER.variables == {"name": "friend"}


def test_the_bots_exit_reply_ends_the_chat_the_classic_way() -> None:
    chat = Conversation(GREETER, delays=False)
    actions = chat.receive("ok bye", 0.0)
    assert sent(actions) == ["exit"]
    end = closed(actions)
    assert end is not None
    assert end.outcome is Outcome.ENDED_BY_BOT
    assert chat.done
    assert chat.receive("hello?", 1.0) == []


def test_the_peers_exit_ends_the_chat_without_a_reply() -> None:
    chat = Conversation(GREETER, delays=False)
    actions = chat.receive("  EXIT ", 0.0)
    assert sent(actions) == []
    end = closed(actions)
    assert end is not None
    assert end.outcome is Outcome.ENDED_BY_PEER
    assert end.outcome.status is ExitStatus.SUCCESS


def test_max_turns_makes_the_bot_say_exit_after_that_many_messages() -> None:
    d = dialogue("version: 1\nmax_turns: 2\nfallback: ok\n")
    chat = Conversation(d, delays=False)
    assert sent(chat.receive("a", 0)) == ["ok"]
    assert sent(chat.receive("b", 0)) == ["ok"]
    assert sent(chat.receive("c", 0)) == ["exit"]


def test_with_nothing_to_say_the_bot_ends_the_chat() -> None:
    chat = Conversation(dialogue("version: 1\nrules: [{exact: hi, reply: hello}]\n"), delays=False)
    assert sent(chat.receive("hi", 0)) == ["hello"]
    assert sent(chat.receive("what", 0)) == ["exit"]


def test_in_order_replies_cycle() -> None:
    chat = Conversation(dialogue("version: 1\nfallback: [a, b, c]\n"), delays=False)
    assert [sent(chat.receive("x", 0))[0] for _ in range(5)] == ["a", "b", "c", "a", "b"]


def test_random_replies_repeat_exactly_with_the_same_seed() -> None:
    d = dialogue("version: 1\nfallback: {from: [a, b, c, d, e], order: random}\n")

    def run(seed: str) -> list[str]:
        chat = Conversation(d, seed=seed, delays=False)
        return [sent(chat.receive("x", 0))[0] for _ in range(20)]

    assert run("7:1") == run("7:1")
    assert run("7:1") != run("8:1")
    assert set(run("7:1")) <= {"a", "b", "c", "d", "e"}


def test_no_repeat_uses_every_reply_before_any_repeats_and_never_twice_in_a_row() -> None:
    d = dialogue("version: 1\nfallback: {from: [a, b, c], order: no_repeat}\n")
    chat = Conversation(d, seed="1", delays=False)
    picks = [sent(chat.receive("x", 0))[0] for _ in range(30)]
    for start in range(0, 30, 3):
        assert sorted(picks[start : start + 3]) == ["a", "b", "c"]
    assert all(a != b for a, b in itertools.pairwise(picks))


def test_delays_are_fixed_or_drawn_from_the_range_and_off_on_request() -> None:
    fixed = Conversation(dialogue("version: 1\ndelay: 0.5\nfallback: ok\n"))
    assert [a.delay for a in fixed.receive("x", 0) if isinstance(a, Send)] == [0.5]
    ranged = Conversation(dialogue("version: 1\ndelay: [1, 2]\nfallback: ok\n"), seed="s")
    delays = [a.delay for _ in range(20) for a in ranged.receive("x", 0) if isinstance(a, Send)]
    assert all(1 <= d <= 2 for d in delays)
    assert len(set(delays)) > 1
    off = Conversation(dialogue("version: 1\ndelay: 3\nfallback: ok\n"), delays=False)
    assert [a.delay for a in off.receive("x", 0) if isinstance(a, Send)] == [0.0]


def test_reflect_swaps_pronouns_in_captures() -> None:
    d = dialogue(
        """
        version: 1
        reflect: {my: your, i: you}
        rules:
          - regex: 'i need (?P<what>.+)'
            reply: "Why do you need {what}?"
        """
    )
    assert sent(Conversation(d, delays=False).receive("I need my sleep", 0)) == [
        "Why do you need your sleep?"
    ]


TEST = dialogue(
    """
    version: 1
    timeout: 2
    abort: [BUSY]
    script:
      - say: hello
      - expect: {regex: 'welcome (?P<who>\\w+)'}
      - say: "thanks {who}"
      - expect: {exact: exit}
    """
)


def test_a_test_dialogue_passes_when_every_expect_step_matches() -> None:
    chat = Conversation(TEST, delays=False)
    assert sent(chat.start(0.0)) == ["hello"]
    assert chat.deadline == 2.0
    actions = chat.receive("Welcome Bob", 0.5)
    assert sent(actions) == ["thanks Bob"]
    results = [a for a in actions if isinstance(a, StepResult)]
    assert [(r.verdict, r.label, r.where.file_line, r.elapsed) for r in results] == [
        ("PASS", "step 2 expect", "t.yaml:6", 0.5),
        ("PASS", "step 3 say", "t.yaml:7", 0.0),
    ]
    end = closed(chat.receive("exit", 1.0))
    assert end is not None
    assert end.outcome is Outcome.ENDED_BY_PEER


def test_a_mismatch_fails_the_step_says_exit_and_ends_with_the_mismatch_status() -> None:
    chat = Conversation(TEST, delays=False)
    chat.start(0.0)
    actions = chat.receive("go away", 0.25)
    failed = [a for a in actions if isinstance(a, StepResult)]
    assert [(r.verdict, r.expected, r.received, r.elapsed) for r in failed] == [
        ("FAIL", "{regex: 'welcome (?P<who>\\w+)'}", "'go away'", 0.25)
    ]
    assert sent(actions) == ["exit"]
    end = closed(actions)
    assert end is not None
    assert end.outcome.status is ExitStatus.MISMATCH


def test_silence_past_the_step_timeout_is_a_timeout() -> None:
    chat = Conversation(TEST, delays=False)
    chat.start(10.0)
    assert chat.tick(11.9) == []
    actions = chat.tick(12.0)
    assert [(a.verdict, a.received) for a in actions if isinstance(a, StepResult)] == [
        ("FAIL", "nothing within 2 s")
    ]
    end = closed(actions)
    assert end is not None
    assert end.outcome.status is ExitStatus.TIMEOUT


def test_an_abort_pattern_stops_the_test_with_the_abort_status() -> None:
    chat = Conversation(TEST, delays=False)
    chat.start(0.0)
    end = closed(chat.receive("line BUSY", 0.1))
    assert end is not None
    assert end.outcome.status is ExitStatus.ABORT


def test_a_peer_leaving_before_the_last_expect_step_fails_the_test() -> None:
    chat = Conversation(TEST, delays=False)
    chat.start(0.0)
    chat.receive("welcome Bob", 0.1)
    actions = chat.peer_closed(0.2)
    assert [(a.verdict, a.received) for a in actions if isinstance(a, StepResult)] == [
        ("FAIL", "the peer closed the connection")
    ]
    end = closed(actions)
    assert end is not None
    assert end.outcome.status is ExitStatus.PEER_LOST


def test_on_mismatch_rules_answers_from_the_rules_and_waits_for_another_try() -> None:
    quiz = dialogue(
        """
        version: 1
        script:
          - say: "2 + 2?"
          - expect: {exact: "4"}
            on_mismatch: rules
          - say: right
        rules:
          - contains: hint
            reply: "think of 2 pairs"
        fallback: try again
        """
    )
    chat = Conversation(quiz, delays=False)
    assert sent(chat.receive("hi", 0)) == ["2 + 2?"]
    assert sent(chat.receive("5", 0)) == ["try again"]
    assert sent(chat.receive("a hint?", 0)) == ["think of 2 pairs"]
    assert sent(chat.receive("4", 0)) == ["right"]


def test_an_oversize_message_is_answered_with_a_note_or_fails_an_expect_step() -> None:
    chat = Conversation(GREETER, delays=False)
    assert sent(chat.receive_oversize(1000, 0)) == [
        "[your message was over the 1000-byte limit; I did not read it]"
    ]
    # Under a small limit the note shortens to fit it: it is the bot's own words, always sent.
    assert sent(chat.receive_oversize(40, 1)) == ["[message over 40 bytes, not read]"]
    assert sent(chat.receive_oversize(10, 2)) == ["[not read]"]
    test = Conversation(TEST, delays=False)
    test.start(0)
    end = closed(test.receive_oversize(10, 0))
    assert end is not None
    assert end.outcome is Outcome.MISMATCH


def test_end_says_exit_and_closes_once() -> None:
    chat = Conversation(GREETER, delays=False)
    actions = chat.end("stopping", 0.0)
    assert sent(actions) == ["exit"]
    assert closed(actions) == Close(Outcome.ENDED_BY_BOT, "stopping")
    assert chat.done
    assert chat.end("again", 1.0) == []


def test_end_with_a_notice_says_it_before_exit() -> None:
    chat = Conversation(GREETER, delays=False)
    assert sent(chat.end("idle", 0.0, notice="idle: closing")) == ["idle: closing", "exit"]


def test_end_before_every_expect_step_ran_fails_the_test() -> None:
    test = dialogue(
        """
        version: 1
        script:
          - say: hi
          - expect: {contains: ready}
        """
    )
    chat = Conversation(test, delays=False)
    chat.start(0.0)
    actions = chat.end("stopping", 1.0)
    end = closed(actions)
    assert end is not None
    assert end.outcome is Outcome.MISMATCH
    assert [a.verdict for a in actions if isinstance(a, StepResult)] == ["FAIL"]


def test_a_say_steps_pass_follows_its_send_so_it_is_reported_once_sent() -> None:
    test = dialogue(
        """
        version: 1
        delay: 0.5
        script:
          - say: first
          - say: exit
        """
    )
    chat = Conversation(test, delays=True)
    first = chat.start(0.0)
    assert [type(a).__name__ for a in first] == ["Send", "StepResult"]
    last = chat.receive("ok", 1.0)
    assert [type(a).__name__ for a in last] == ["Send", "StepResult", "Close"]


def test_a_connecting_bot_greets_with_the_greeting_or_hello() -> None:
    d = dialogue("version: 1\ngreeting: Good day\n")
    assert sent(Conversation(d, delays=False).start(0)) == ["Good day"]
    assert sent(Conversation(dialogue("version: 1\n"), delays=False).start(0)) == ["Hello!"]


# -- the one turn path, over a whole chat ----------------------------------------------

PLAIN = dialogue(
    """
    version: 1
    vars: {name: friend}
    reflect: {my: your}
    max_turns: 12
    rules:
      - regex: 'my name is (?P<name>\\w+)'
        set: {name: "{name}"}
        reply: "Hi {name}!"
      - glob: "echo *"
        reply: "{1} / {input}"
      - contains: pick
        reply: {from: [one, two, three], order: random}
      - contains: cycle
        reply: {from: [a, b], order: no_repeat}
      - contains: stop
        reply: exit
      - contains: fixed
        reply: always the same
      - regex: 'say (?P<what>.+)'
        reply: "{what}"
    fallback: {from: ["Go on, {name}.", "Hm?"], order: in_order}
    """
)

MESSAGES = [
    "hello",
    "my name is Ann",
    "pick one",
    "cycle",
    "echo  my b ",
    "fixed please",
    "cycle",
    "pick again",
    "what now",
    "say my thing",
    "cycle",
    "pick",
    "anything",
    "more",
]


def _chat(d: Dialogue, messages: list[str], *, seed: str = "9:1") -> list[list[Action]]:
    chat = Conversation(d, seed=seed, delays=False)
    return [chat.receive(text, float(now)) for now, text in enumerate(messages)]


def test_the_turn_path_answers_a_whole_chat_with_captures_choices_and_max_turns() -> None:
    turns = _chat(PLAIN, MESSAGES)
    assert sent(turns[1]) == ["Hi Ann!"]
    assert sent(turns[4]) == ["your b / echo  my b "]
    assert sent(turns[5]) == ["always the same"]  # a fixed reply, taken as it is
    assert [sent(t) for t in turns[8:10]] == [["Hm?"], ["your thing"]]
    assert [sent(t) for t in turns[-2:]] == [["exit"], []]  # max_turns, then the chat is over


def test_a_fixed_reply_counts_as_a_turn_and_an_exit_reply_ends_the_chat() -> None:
    chat = Conversation(PLAIN, seed="1", delays=False)
    assert chat.receive("fixed", 0.0) == [Send("always the same")]
    assert chat.sent == 1
    end = chat.receive("please stop", 1.0)
    assert sent(end) == ["exit"]
    assert closed(end) == Close(Outcome.ENDED_BY_BOT, "the bot said exit")
    assert chat.receive("hello?", 2.0) == []


def test_a_rule_replying_exit_through_a_capture_ends_the_chat() -> None:
    assert [sent(t) for t in _chat(PLAIN, ["say exit", "more"])] == [["exit"], []]


def test_nothing_left_to_say_ends_the_chat_with_exit() -> None:
    turns = _chat(dialogue("version: 1\nrules: [{exact: hi, reply: hello}]\n"), ["hi", "what"])
    assert [sent(t) for t in turns] == [["hello"], ["exit"]]
    end = closed(turns[1])
    assert end == Close(Outcome.ENDED_BY_BOT, "nothing left to say")


def test_rules_answer_a_mismatch_when_the_step_says_so_then_the_script_goes_on() -> None:
    mixed = dialogue(
        "version: 1\nscript: [{expect: ready, on_mismatch: rules}, {say: go}]\n"
        "rules: [{contains: hi, reply: hello}]\nfallback: what?\n"
    )
    turns = _chat(mixed, ["hi", "huh", "ready", "hi", "x"])
    assert [sent(t) for t in turns] == [["hello"], ["what?"], ["go"], ["hello"], ["what?"]]


def test_the_rules_match_the_message_with_its_substitutions_made_and_input_stays_as_received() -> None:
    chat = Conversation(
        dialogue(
            """
            version: 1.1
            subs: {"what's": what is, "i'm": i am, "i am": you are}
            rules:
              - glob: "what is *"
                reply: "{1}? ({input})"
              - glob: "i am *"
                reply: "Why are you {1}?"
              - glob: "you are *"
                reply: "I am {1}, you say."
            fallback: hm
            """
        ),
        delays=False,
    )
    assert sent(chat.receive("What's up", 0.0)) == ["up? (What's up)"]
    # Substituted text is never substituted again: i'm -> i am, not -> you are.
    assert sent(chat.receive("I'm tired", 1.0)) == ["Why are you tired?"]
    assert sent(chat.receive("i am tired", 2.0)) == ["I am tired, you say."]


def test_without_subs_the_rules_see_the_message_as_received() -> None:
    chat = Conversation(GREETER, delays=False)
    assert not GREETER.subs
    assert sent(chat.receive("echo what's up", 0.0)) == ["what's up / echo what's up"]


# -- format 1.1: topics, conditions, the last reply, redirects, weights

QUIZ = dialogue(
    """
    version: 1.1
    vars: {score: "0"}
    rules:
      - contains: quiz
        reply: What is 2 + 2?
        topic: quiz
      - contains: help
        reply: Say quiz to play.
      - contains: score
        when: score >= 1
        reply: "Your score: {score}."
      - contains: score
        reply: No points yet.
    topics:
      quiz:
        rules:
          - exact: "4"
            set: {score: "1"}
            reply: Right!
            topic: none
          - contains: help
            reply: Add two and two.
        fallback: Not quite; try again, or say help.
    fallback: I do not follow.
    """
)


def chat_of(d: Dialogue, *messages: str, seed: str | None = None) -> list[str]:
    chat = Conversation(d, delays=False, seed=seed)
    return [" | ".join(sent(chat.receive(message, float(n)))) for n, message in enumerate(messages)]


def test_a_rule_switches_topic_and_the_topics_rules_come_first_then_the_top_level_ones() -> None:
    assert chat_of(QUIZ, "help", "quiz", "help", "score", "5", "4", "help") == [
        "Say quiz to play.",
        "What is 2 + 2?",
        "Add two and two.",  # the topic's rule before the top-level one
        "No points yet.",  # a top-level rule still answers in a topic
        "Not quite; try again, or say help.",  # the topic's fallback, not the dialogue's
        "Right!",
        "Say quiz to play.",  # topic: none left the topic
    ]


def test_the_conversation_reports_its_topic() -> None:
    chat = Conversation(QUIZ, delays=False)
    chat.receive("quiz", 0.0)
    assert chat.topic == "quiz"
    chat.receive("4", 1.0)
    assert chat.topic is None


def test_a_when_condition_passes_over_a_rule_until_it_holds() -> None:
    assert chat_of(QUIZ, "score", "quiz", "4", "score") == [
        "No points yet.",
        "What is 2 + 2?",
        "Right!",
        "Your score: 1.",
    ]


def test_a_when_condition_reads_the_message_as_input() -> None:
    d = dialogue(
        """
        version: 1.1
        rules:
          - contains: pick
            when: input in ['pick red', 'pick blue']
            reply: Good choice.
          - contains: pick
            reply: Red or blue?
        """
    )
    assert chat_of(d, "PICK RED", "pick green") == ["Good choice.", "Red or blue?"]


def test_after_matches_the_bots_previous_message() -> None:
    d = dialogue(
        """
        version: 1.1
        greeting: Do you like tea?
        rules:
          - exact: yes
            after: like tea
            reply: Green or black?
          - exact: yes
            reply: Yes to what?
          - contains: ask
            reply: Do you like tea?
        """
    )
    chat = Conversation(d, delays=False)
    assert sent(chat.start(0.0)) == ["Do you like tea?"]
    assert sent(chat.receive("yes", 1.0)) == ["Green or black?"]
    assert sent(chat.receive("yes", 2.0)) == ["Yes to what?"]
    assert sent(chat.receive("ask me", 3.0)) == ["Do you like tea?"]
    assert sent(chat.receive("Yes", 4.0)) == ["Green or black?"]


def test_a_redirect_hands_the_rewritten_message_back_to_the_rules() -> None:
    d = dialogue(
        """
        version: 1.1
        rules:
          - glob: "hi *"
            redirect: "hello {1}"
          - regex: '^hello (?P<who>\\w+)'
            reply: "Hello, {who}! (you said: {input})"
          - contains: quiz
            redirect: hello quizmaster
            topic: quiz
        topics:
          quiz:
            rules:
              - contains: hello
                reply: Welcome to the quiz.
        """
    )
    assert chat_of(d, "hi Ann", "quiz") == ["Hello, Ann! (you said: hi Ann)", "Welcome to the quiz."]


def test_a_redirect_loop_the_loader_cannot_see_stops_at_the_limit_with_the_fallback() -> None:
    d = dialogue(
        """
        version: 1.1
        rules:
          - glob: "say *"
            redirect: "say {1}"
          - contains: once
            redirect: twice
          - contains: twice
            reply: Twice.
        fallback: Going round in circles.
        """
    )
    assert chat_of(d, "say it", "once") == ["Going round in circles.", "Twice."]


def test_a_redirect_chain_of_exactly_the_limit_still_answers() -> None:
    rules = "".join(f"  - exact: s{n}\n    redirect: s{n + 1}\n" for n in range(MAX_REDIRECTS))
    d = dialogue(
        f"version: 1.1\nrules:\n{rules}  - exact: s{MAX_REDIRECTS}\n    reply: end\nfallback: lost\n"
    )
    assert chat_of(d, "s0", f"s{MAX_REDIRECTS}") == ["end", "end"]


WEIGHTED = dialogue(
    """
    version: 1.1
    fallback:
      from: [{text: often, weight: 9}, {text: rarely, weight: 1}]
      order: random
    """
)


def test_weighted_replies_follow_their_weights() -> None:
    replies = chat_of(WEIGHTED, *["x"] * 1000, seed="weights")
    assert 850 <= replies.count("often") <= 950
    assert replies.count("often") + replies.count("rarely") == 1000


def test_weighted_replies_repeat_with_the_same_seed_and_differ_with_another() -> None:
    first = chat_of(WEIGHTED, *["x"] * 50, seed="7")
    assert chat_of(WEIGHTED, *["x"] * 50, seed="7") == first
    assert chat_of(WEIGHTED, *["x"] * 50, seed="8") != first


def test_a_version_1_dialogue_answers_as_before_with_no_topic() -> None:
    chat = Conversation(GREETER, delays=False)
    assert sent(chat.receive("my name is Ann", 0.0)) == ["Hi Ann!"]
    assert chat.topic is None


# -- format 1.1: ranks, clauses and remembered replies (ELIZA's DOCTOR needs them)

RANKED = dialogue(
    """
    version: 1.1
    rules:
      - contains: i
        reply: About you.
      - contains: mother
        rank: 2
        reply: About your family.
      - contains: computer
        rank: 50
        reply: Do computers worry you?
      - contains: me
        reply: About me.
    """
)


def test_a_higher_rank_is_tried_first_whatever_the_order_of_the_file() -> None:
    assert chat_of(RANKED, "i like my mother", "my mother and i hate the computer") == [
        "About your family.",
        "Do computers worry you?",
    ]


def test_equal_ranks_keep_the_order_of_the_file() -> None:
    assert chat_of(RANKED, "me and i") == ["About you."]


def test_ranks_order_a_topics_rules_too() -> None:
    d = dialogue(
        """
        version: 1.1
        rules:
          - contains: go
            reply: Going.
            topic: t
        topics:
          t:
            rules:
              - contains: a
                reply: A.
              - contains: b
                rank: 1
                reply: B.
        """
    )
    assert chat_of(d, "go", "a b") == ["Going.", "B."]


CLAUSES = dialogue(
    """
    version: 1.1
    clauses: {split: [",", ".", but]}
    rules:
      - regex: '^i need (.*)'
        reply: "Why do you need {1}?"
      - contains: mother
        reply: Tell me about your family.
    fallback: "Please go on ({input})."
    """
)


def test_the_rules_answer_the_first_clause_one_of_them_matches() -> None:
    assert chat_of(CLAUSES, "Well, I need help, that is certain.", "Fine but my mother hates butter") == [
        "Why do you need help?",
        "Tell me about your family.",
    ]


def test_a_delimiter_word_cuts_only_where_it_stands_alone() -> None:
    assert chat_of(CLAUSES, "i need butter but not now") == ["Why do you need butter?"]


def test_with_no_clause_matched_the_fallback_gets_the_whole_message() -> None:
    assert chat_of(CLAUSES, "Bullies. Yes, bullies.", ", .") == [
        "Please go on (Bullies. Yes, bullies.).",
        "Please go on (, .).",
    ]


MEMORY = dialogue(
    """
    version: 1.1
    reflect: {me: you}
    rules:
      - regex: '\\bmy (?P<rest>.*)'
        reply: "Your {rest}."
        remember:
          from: ["Earlier you said your {rest}.", "But your {rest}."]
          order: in_order
      - contains: remember
        redirect: "my memory"
    fallback: Please go on.
    """
)


def test_a_remembered_reply_answers_when_no_rule_does_oldest_first() -> None:
    assert chat_of(MEMORY, "my dog bit me", "my cat", "hm", "hm", "hm") == [
        "Your dog bit you.",
        "Your cat.",
        "Earlier you said your dog bit you.",
        "But your cat.",
        "Please go on.",
    ]


def test_a_redirect_rule_remembers_too_and_each_chat_has_its_own_memories() -> None:
    assert chat_of(MEMORY, "remember", "hm") == ["Your memory.", "Earlier you said your memory."]
    assert chat_of(MEMORY, "hm") == ["Please go on."]


def test_the_memory_keeps_only_the_newest_replies() -> None:
    said = [f"my n{n}" for n in range(MAX_MEMORIES + 1)]
    replies = chat_of(MEMORY, *said, *["hm"] * (MAX_MEMORIES + 1))
    recalled = replies[MAX_MEMORIES + 1 :]
    assert recalled[0].endswith("your n1.")  # n0 made room for the newest
    assert recalled[-2].endswith(f"your n{MAX_MEMORIES}.")
    assert recalled[-1] == "Please go on."
