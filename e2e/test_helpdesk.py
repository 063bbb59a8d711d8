"""The bundled help desk end to end: two files, a topic and conditions, tested by its pair dialogue."""

from __future__ import annotations

from pathlib import Path

import bots
from chat_testing import Programs, listening_port

DIALOGUES = Path(bots.__file__).parent / "dialogues"
HELPDESK_TEST = str(DIALOGUES / "helpdesk_test.yaml")  # report lines name the file as it was given


def test_the_helpdesk_test_dialogue_passes_against_the_serving_helpdesk(programs: Programs) -> None:
    bot = programs.spawn("chat-bot", "--script", "helpdesk.yaml", "--port", "0", "--no-delay")
    port = listening_port(bot)
    tester = programs.spawn(
        "chat-bot", "--connect", "--port", str(port), "--no-delay", "--script", HELPDESK_TEST
    )
    # Answered by a rule of the included file, then by one written with two word lists: the message
    # "my computer isn't working" reaches it through the included file's substitutions.
    tester.expect("Server: Hello there! This is the help desk. Which device is giving you trouble?\r\n")
    tester.expect("Server: You have no ticket yet. Tell me which device is broken first.\r\n")  # `when` false
    tester.expect("Server: Sorry to hear that, Ann. Have you tried turning it off and on again?\r\n")
    tester.expect("Server: Did turning it off and on again help, Ann? (yes/no)\r\n")  # the topic's fallback
    tester.expect("Server: Your ticket is 4021: a technician will call you today.\r\n")  # `when` true now
    tester.expect(f"PASS {HELPDESK_TEST}:49 step 28 expect: expected {{exact: 'exit'}}, received 'exit'")
    tester.expect("test passed (helpdesk-test): 28 passed, 0 failed, 0 not run")
    assert tester.wait_exit() == 0
    assert bot.child.isalive()  # a serving bot outlives its chats
