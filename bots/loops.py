"""Which asyncio event loop the bot runs on: uvloop whenever it is installed, else the standard one.

uvloop is a drop-in event loop on libuv, and a dependency of the package wherever it exists
(CPython outside Windows), so a plain ``pip install`` gets it; the serving bot's per-turn cost
is mostly the loop and its socket calls, so it is the default where it can be imported;
``--loop asyncio`` chooses the standard loop. Both keep a flooding client
from delaying the others (bots.adapter counts a peer's messages across reads, as libuv
delivers up to 32 reads of one socket per loop turn). The classic programs use blocking
sockets and no event loop at all.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from chat.errors import UsageError

T = TypeVar("T")

ASYNCIO = "asyncio"
UVLOOP = "uvloop"
LOOPS = (ASYNCIO, UVLOOP)


def uvloop_installed() -> bool:
    """True when uvloop can be imported (it has no Windows build)."""
    return importlib.util.find_spec("uvloop") is not None


def default_loop() -> str:
    """uvloop when it is installed (the ``fast`` extra), else the standard asyncio loop."""
    return UVLOOP if uvloop_installed() else ASYNCIO


def describe(loop: str) -> str:
    """``uvloop 0.21.0`` or ``asyncio (Python 3.12.1)``, for --version."""
    if loop == UVLOOP:
        from importlib.metadata import version

        return f"uvloop {version('uvloop')}"
    return f"asyncio (Python {sys.version.split()[0]})"


def check(loop: str) -> str:
    """*loop* if it can run here; a UsageError saying how to get it otherwise."""
    if loop == UVLOOP and not uvloop_installed():
        raise UsageError(
            "--loop uvloop: uvloop is not installed; install it with `pip install uvloop` "
            "(there is none for Windows or PyPy), or use --loop asyncio"
        )
    return loop


def run(main: Coroutine[Any, Any, T], loop: str) -> T:
    """Run *main* to completion on a new event loop of the kind named (as asyncio.run does)."""
    import asyncio  # here, not at the top: chat-bot --check and --version never start a loop

    if check(loop) == ASYNCIO:
        return asyncio.run(main)
    import uvloop

    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main)
    return uvloop.run(main)  # pragma: no cover - Python 3.10: uvloop's own runner


__all__ = ["ASYNCIO", "LOOPS", "UVLOOP", "check", "default_loop", "describe", "run", "uvloop_installed"]
