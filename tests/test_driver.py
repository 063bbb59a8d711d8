"""bots.driver: a conversation's outbox, sans-IO: what is due now, when to be asked again, and endings."""

from __future__ import annotations

import textwrap

from bots.actions import Close, Outcome, Send, StepResult
from bots.driver import Driver
from bots.engine import Conversation
from bots.loader import parse_dialogue
from bots.model import Dialogue


def dialogue(text: str) -> Dialogue:
    return parse_dialogue(textwrap.dedent(text).lstrip("\n"), "t.yaml")


SLOW = dialogue(
    """
    version: 1.2
    delay: 0.5
    script:
      - say: one
      - say: two
      - expect: {contains: ok}
        timeout: 2
    """
)


def test_delayed_sends_wait_in_the_outbox_each_after_the_one_before() -> None:
    driver = Driver(Conversation(SLOW))
    assert driver.start(0.0) == []
    assert driver.busy
    assert driver.wakeup == 0.5
    assert [a.text for a in driver.poll(0.5) if isinstance(a, Send)] == ["one"]
    assert driver.wakeup == 1.0
    assert [a.text for a in driver.poll(1.0) if isinstance(a, Send)] == ["two"]
    assert not driver.busy
    assert driver.wakeup == 3.0  # the expect step's 2 s, from when "two" went out


def test_without_delays_every_action_is_due_at_once_and_the_list_is_handed_on() -> None:
    conv = Conversation(SLOW, delays=False)
    driver = Driver(conv)
    actions = driver.start(0.0)
    assert [a.text for a in actions if isinstance(a, Send)] == ["one", "two"]
    assert not driver.busy


def test_a_deadline_that_passes_is_ticked_by_poll() -> None:
    driver = Driver(Conversation(SLOW, delays=False))
    driver.start(0.0)
    actions = driver.poll(2.0)
    assert any(isinstance(a, Close) and a.outcome is Outcome.TIMEOUT for a in actions)
    assert driver.wakeup is None


def test_hurrying_sends_what_waits_at_once_and_no_send_waits_again() -> None:
    driver = Driver(Conversation(SLOW))
    driver.start(0.0)
    assert [a.text for a in driver.hurry_up() if isinstance(a, Send)] == ["one", "two"]
    assert not driver.busy
    ended = driver.end("the bot is stopping", 0.1)
    assert [a.text for a in ended if isinstance(a, Send)] == ["exit"]


def test_a_lost_connection_drops_the_unsent_says_pass_and_reports_the_end_once() -> None:
    driver = Driver(Conversation(SLOW))
    driver.start(0.0)
    settled = driver.lost(0.2)
    assert not any(isinstance(a, Send) for a in settled)
    assert not any(isinstance(a, StepResult) and a.verdict == "PASS" for a in settled)  # they never went out
    closes = [a for a in settled if isinstance(a, Close)]
    assert [c.outcome for c in closes] == [Outcome.PEER_LOST]
