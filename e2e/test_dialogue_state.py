"""Format 1.1 end to end: a real chat-client chats with a real chat-bot through topics, conditions,
the last reply and redirects; --check reports a 1.1 file's problems with file:line:col."""

from __future__ import annotations

from pathlib import Path

from chat_testing import Programs, Terminal, listening_port

LIBRARY = """\
version: 1.1
vars: {books: "0"}
greeting: Welcome to the library. Say borrow to take a book.
rules:
  - contains: borrow
    reply: Which book? Say a title, or cancel.
    topic: borrowing
  - exact: yes
    after: another book
    redirect: borrow
  - contains: books
    when: books >= 1
    reply: "You have {books} book(s)."
  - contains: books
    reply: You have no books yet.
  - glob: "please *"
    redirect: "{1}"
topics:
  borrowing:
    rules:
      - contains: cancel
        reply: Cancelled.
        topic: none
      - glob: "*"
        set: {books: "1", title: "{1}"}
        reply: "Here is {title}. Do you want another book?"
        topic: none
fallback: Say borrow or books.
"""


def serve(programs: Programs, dialogue: Path) -> tuple[Terminal, int]:
    bot = programs.spawn("chat-bot", "--port", "0", "--no-delay", "--script", str(dialogue))
    return bot, listening_port(bot)


def say(client: Terminal, text: str, reply: str) -> None:
    client.expect("Client: ")
    client.send(text)
    client.expect(f"Server: {reply}\r\n")


def test_a_chat_moves_through_a_topic_a_condition_the_last_reply_and_a_redirect(
    programs: Programs, tmp_path: Path
) -> None:
    dialogue = tmp_path / "library.yaml"
    dialogue.write_text(LIBRARY, encoding="utf-8")
    _bot, port = serve(programs, dialogue)
    client = programs.client(port)
    say(client, "how many books", "You have no books yet.")
    say(client, "please borrow", "Which book? Say a title, or cancel.")  # a redirect, then a topic switch
    say(client, "Dune", "Here is Dune. Do you want another book?")  # the topic's catch-all
    say(client, "yes", "Which book? Say a title, or cancel.")  # after: the bot's previous message
    say(client, "cancel", "Cancelled.")
    say(client, "books?", "You have 1 book(s).")  # the condition now holds
    say(client, "yes", "Say borrow or books.")  # after no longer matches: the fallback
    client.expect("Client: ")
    client.send("exit")
    assert client.wait_exit() == 0


def test_check_reports_format_1_1_problems_with_their_place(programs: Programs, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "version: 1.1\n"
        "rules:\n"
        "  - contains: go\n"
        "    when: score => 3\n"
        "    reply: ok\n"
        "    topic: quizz\n"
        "topics:\n"
        "  quiz: {rules: [{contains: a, reply: b}]}\n",
        encoding="utf-8",
    )
    checker = programs.spawn("chat-bot", "--check", str(broken))
    checker.expect(f"{broken}:4:17: when: cannot read '=' here: compare with ==, !=, <, <=, > or >=\r\n")
    checker.expect(
        f"{broken}:6:12: topic 'quizz' is not defined: did you mean 'quiz'? define it under 'topics'\r\n"
    )
    checker.expect(
        f"{broken}:8:3: topic 'quiz' is unreachable: no top-level rule, nor a rule of a reachable topic, "
        "switches to it (topic: quiz)\r\n"
    )
    checker.expect("chat-bot: 3 problems in 1 of 1 dialogue file(s)\r\n")
    assert checker.wait_exit() == 5


WEIGHTED = """\
version: 1.1
fallback:
  from: [{text: one, weight: 5}, {text: two, weight: 3}, {text: three, weight: 1}]
  order: random
"""


def weighted_replies(programs: Programs, dialogue: Path, seed: str) -> list[str]:
    bot = programs.spawn("chat-bot", "--port", "0", "--no-delay", "--seed", seed, "--script", str(dialogue))
    client = programs.client(listening_port(bot))
    replies = []
    for n in range(12):
        client.expect("Client: ")
        client.send(f"message {n}")
        replies.append(client.expect_re(r"Server: (one|two|three)\r\n").group(1))
    client.expect("Client: ")
    client.send("exit")
    assert client.wait_exit() == 0
    return replies


def test_weighted_replies_repeat_run_after_run_with_the_same_seed(programs: Programs, tmp_path: Path) -> None:
    dialogue = tmp_path / "weighted.yaml"
    dialogue.write_text(WEIGHTED, encoding="utf-8")
    first = weighted_replies(programs, dialogue, "42")
    assert weighted_replies(programs, dialogue, "42") == first
    assert len(set(first)) > 1  # the weights pick among the texts, not always the heaviest


NORMALISING = """\
version: 1.1
rules:
  - exact: hello there
    reply: exact ok
  - contains: straße
    reply: casefold ok
  - contains: école
    reply: nfc ok
  - contains: 北京
    reply: cjk ok
fallback: no rule
"""


def test_matching_ignores_punctuation_and_folds_case_and_unicode_forms_in_a_real_chat(
    programs: Programs, tmp_path: Path
) -> None:
    dialogue = tmp_path / "normalising.yaml"
    dialogue.write_text(NORMALISING, encoding="utf-8")
    _bot, port = serve(programs, dialogue)
    client = programs.client(port)
    say(client, "¡Hello, there!", "exact ok")
    say(client, "WHERE IS THE STRASSE?", "casefold ok")
    say(client, "my e\u0301cole", "nfc ok")  # NFD: e + combining acute accent
    say(client, "我想去北京旅游", "cjk ok")  # no spaces around the word
    say(client, "hello where", "no rule")
