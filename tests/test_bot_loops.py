"""bots.loops: the bot's event loop, standard asyncio or uvloop."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from bots import loops
from chat.errors import UsageError

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None


async def loop_class_name() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_the_asyncio_loop_runs_a_coroutine_on_the_standard_loop() -> None:
    assert loops.run(loop_class_name(), loops.ASYNCIO).startswith("asyncio")


def test_the_default_is_uvloop_where_it_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loops, "uvloop_installed", lambda: True)
    assert loops.default_loop() == loops.UVLOOP


def test_the_default_is_the_standard_loop_where_uvloop_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loops, "uvloop_installed", lambda: False)
    assert loops.default_loop() == loops.ASYNCIO


def test_asking_for_uvloop_where_it_is_missing_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loops, "uvloop_installed", lambda: False)
    with pytest.raises(UsageError) as caught:
        loops.check(loops.UVLOOP)

    assert str(caught.value) == (
        "--loop uvloop: uvloop is not installed; install it with `pip install chat-classic[fast]` "
        "(there is no uvloop for Windows), or use --loop asyncio"
    )


@pytest.mark.skipif(not HAS_UVLOOP, reason="the fast extra (uvloop) is not installed in this env")
def test_the_uvloop_loop_runs_a_coroutine_on_uvloop() -> None:
    assert loops.run(loop_class_name(), loops.UVLOOP).startswith("uvloop")
    assert loops.describe(loops.UVLOOP).startswith("uvloop ")
