"""bench.history: revisions and their extra options read from the command line, and the table's rows."""

from __future__ import annotations

import argparse

import pytest

from bench import history


def test_a_revision_may_carry_options_for_its_bot_after_two_colons() -> None:
    assert history.parse_revision("HEAD::--loop asyncio") == ("HEAD", ["--loop", "asyncio"])
    assert history.parse_revision("754bb3a") == ("754bb3a", [])


def test_options_without_a_revision_are_refused_with_the_form_to_write() -> None:
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        history.parse_revision("::--loop uvloop")
    assert str(caught.value) == "'::--loop uvloop' names no revision: write REV or REV::OPTIONS"


def test_a_row_gives_the_median_cpu_per_turn_against_the_echo_and_every_round() -> None:
    runs = [{"us": 12.0, "tps": 900.0}, {"us": 10.0, "tps": 1000.0}, {"us": 11.0, "tps": 950.0}]
    assert history.row("HEAD --loop uvloop", runs, echo_us=5.5) == (
        "| HEAD --loop uvloop | 11.00 us | 2.00x | 950 turns/s | 12.00, 10.00, 11.00 |"
    )
