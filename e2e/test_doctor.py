"""ELIZA's DOCTOR end to end: the bundled doctor.yaml, served by a real chat-bot, gives the 15 replies of
the sample conversation in Weizenbaum's paper (CACM 9(1), 1966), as doctor_test.yaml checks them."""

from __future__ import annotations

from pathlib import Path

import bots
from chat_testing import Programs, listening_port

DIALOGUES = Path(bots.__file__).parent / "dialogues"
DOCTOR_TEST = str(DIALOGUES / "doctor_test.yaml")  # report lines name the file as it was given
#: The replies the paper prints: one expect step each.
PAPER_REPLIES = 15


def test_the_papers_conversation_gets_the_papers_fifteen_replies_from_doctor_yaml(programs: Programs) -> None:
    doctor = programs.spawn(
        "chat-bot", "--port", "0", "--no-delay", "--script", str(DIALOGUES / "doctor.yaml")
    )
    port = listening_port(doctor)
    tester = programs.spawn(
        "chat-bot", "--connect", "--port", str(port), "--no-delay", "--script", DOCTOR_TEST
    )  # fmt: skip
    passed = [
        tester.expect_re(rf"(PASS|FAIL) {DOCTOR_TEST}:\d+ step (\d+) expect: ").group(1)
        for _ in range(PAPER_REPLIES)
    ]
    assert passed == ["PASS"] * PAPER_REPLIES
    tester.expect("test passed (doctor-test): 31 passed, 0 failed, 0 not run")
    assert tester.wait_exit() == 0
    assert doctor.child.isalive()  # a serving bot outlives its chats


def test_a_person_at_chat_client_hears_a_remembered_reply_when_nothing_else_fits(programs: Programs) -> None:
    doctor = programs.spawn(
        "chat-bot", "--port", "0", "--no-delay", "--script", str(DIALOGUES / "doctor.yaml")
    )
    client = programs.client(listening_port(doctor))
    for said, reply in [
        ("Well, my boyfriend made me come here.", "Your boyfriend made you come here"),
        ("Bullies.", "Does that have anything to do with the fact that your boyfriend made you come here"),
        ("Bullies.", "I am not sure I understand you fully"),
    ]:
        client.expect("Client: ")
        client.send(said)
        client.expect(f"Server: {reply}\r\n")
    client.expect("Client: ")
    client.send("exit")
    assert client.wait_exit() == 0
