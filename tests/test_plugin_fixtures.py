"""The plugin's fixtures for Python tests, through pytester: a serving bot, a raw peer, a terminal."""

from __future__ import annotations

import sys

import pytest

# Imported before any in-process run (see tests/test_plugin.py).

pytest_plugins = ["pytester"]

USES_BOT_AND_PEER = """
from chat_testing import ECHO_DIALOGUE

def test_echo(chat_bot, chat_raw_peer):
    bot = chat_bot(ECHO_DIALOGUE, text=True)
    peer = chat_raw_peer(bot.port)
    peer.send(b"ping\\n")
    assert peer.recv_line() == b"ping"
"""

USES_TERMINAL = f"""
from chat_testing import CONNECTED_TO_SERVER

def test_classic_client(chat_bot, chat_terminal):
    bot = chat_bot("{{greeter}}")
    client = chat_terminal("{sys.executable} -m chat_testing.classic.client 127.0.0.1 " + str(bot.port))
    client.expect(CONNECTED_TO_SERVER)
    client.expect("Client: ")  # the prompt first: typed earlier, the echo can land inside the banner line
    client.send("my name is Ann")
    client.expect("Nice to meet you, Ann")
    assert False, "a failure, to show the transcript"
"""


def test_chat_bot_serves_a_dialogue_and_chat_raw_peer_talks_to_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixtures=USES_BOT_AND_PEER)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.skipif(sys.platform == "win32", reason="a pty needs POSIX")
def test_chat_terminal_spawns_a_command_line_whose_transcript_a_failure_shows(
    pytester: pytest.Pytester,
) -> None:
    from bots.cli import bundled_dialogue_path

    pytester.makepyfile(test_fixtures=USES_TERMINAL.replace("{greeter}", bundled_dialogue_path()))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- transcripts -*",
            "----- *-m chat_testing.classic.client 127.0.0.1 * -----",
            "Connected to server. Type 'exit' to quit.",
            "Client: my name is Ann",
            "Server: Nice to meet you, Ann! Ask me for help, or say bye to leave.",
        ]
    )
