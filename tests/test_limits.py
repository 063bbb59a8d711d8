"""bots.limits: the serving bot is bounded by default; --max-clients 0 lifts the bound (issue 14 item 6)."""

from __future__ import annotations

import argparse

import pytest

from bots.limits import DEFAULT_MAX_CLIENTS, bound, max_clients


def test_without_max_clients_the_bound_is_the_default_of_10_000() -> None:
    assert DEFAULT_MAX_CLIENTS == 10_000
    assert bound(None) == 10_000


def test_max_clients_0_means_no_bound() -> None:
    assert bound(max_clients("0")) is None


def test_max_clients_n_bounds_at_n() -> None:
    assert bound(max_clients("3")) == 3


@pytest.mark.parametrize("text", ["-1", "many", "1.5", ""])
def test_max_clients_refuses_anything_but_a_whole_number_from_0(text: str) -> None:
    with pytest.raises(
        argparse.ArgumentTypeError, match=r"expected a whole number >= 0 \(0: no bound\), not"
    ):
        max_clients(text)
