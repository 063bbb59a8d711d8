"""bots.notices: the bot's own words fit any size limit, longest form first (issue 14 item 5)."""

from __future__ import annotations

import pytest

from bots import notices

ALL = [notices.BUSY, notices.STOPPING, notices.IDLE, notices.OVERSIZE_IN, notices.OVERSIZE_OUT]
VALUES = {"limit": 40, "seconds": 300}


@pytest.mark.parametrize("forms", ALL)
@pytest.mark.parametrize("limit", [1, 4, 10, 20, 40, 80, 1 << 20])
def test_every_notice_fits_any_limit(forms: tuple[str, ...], limit: int) -> None:
    text = notices.fit(forms, limit, **VALUES)

    assert 0 < len(text.encode()) <= limit


@pytest.mark.parametrize(
    ("forms", "notice"),
    [
        (notices.BUSY, "busy: too many clients; try again later"),
        (notices.IDLE, "idle: no message for 300 s"),
        (notices.OVERSIZE_IN, "[message over 40 bytes, not read]"),
        (notices.OVERSIZE_OUT, "[reply over the 40-byte limit, not sent]"),
        (notices.STOPPING, "busy: stopping"),
    ],
)
def test_under_a_40_byte_limit_each_notice_keeps_its_meaning(forms: tuple[str, ...], notice: str) -> None:
    assert notices.fit(forms, 40, **VALUES) == notice


def test_the_longest_form_goes_when_it_fits() -> None:
    assert notices.fit(notices.BUSY, 1 << 20, limit=3) == (
        "busy: this bot serves at most 3 clients at once; try again later"
    )


def test_under_a_limit_below_every_form_the_shortest_is_cut_to_fit() -> None:
    assert notices.fit(notices.OVERSIZE_OUT, 9, limit=9) == "[not sent"
