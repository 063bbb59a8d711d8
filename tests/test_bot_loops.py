"""bots.loops: the bot's event loop, standard asyncio or uvloop."""

from __future__ import annotations

import asyncio
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

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
        "--loop uvloop: uvloop is not installed; install it with `pip install uvloop` "
        "(there is none for Windows or PyPy), or use --loop asyncio"
    )


@pytest.mark.skipif(not HAS_UVLOOP, reason="no uvloop here (Windows, PyPy)")
def test_the_uvloop_loop_runs_a_coroutine_on_uvloop() -> None:
    assert loops.run(loop_class_name(), loops.UVLOOP).startswith("uvloop")
    assert loops.describe(loops.UVLOOP).startswith("uvloop ")


# -- a plain install gets uvloop where it exists ---------------------------------------------------

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _uvloop_requirement(group: str | None = None) -> Requirement:
    """The uvloop requirement of the dependencies (or of the extra *group*), read from pyproject.toml."""
    text = PYPROJECT.read_text(encoding="utf-8")  # no tomllib on Python 3.10: the list's own lines
    key = "dependencies" if group is None else group
    listed = re.search(rf"^{key} = \[(.*?)\]$", text, re.MULTILINE | re.DOTALL)
    assert listed is not None, f"no {key} list in pyproject.toml"
    found = [
        Requirement(item) for item in re.findall(r'"([^"]+)"', listed.group(1)) if item.startswith("uvloop")
    ]
    assert len(found) == 1, listed.group(1)
    return found[0]


@pytest.mark.parametrize(
    ("platform", "implementation", "installed"),
    [
        ("linux", "CPython", True),
        ("darwin", "CPython", True),
        ("win32", "CPython", False),  # uvloop has no Windows build
        ("linux", "PyPy", False),  # nor a PyPy one: it is a C extension
    ],
)
def test_a_plain_install_gets_uvloop_wherever_it_exists(
    platform: str, implementation: str, installed: bool
) -> None:
    requirement = _uvloop_requirement()
    environment = {"sys_platform": platform, "platform_python_implementation": implementation}

    assert requirement.marker is not None
    assert requirement.marker.evaluate(environment) is installed
    assert _uvloop_requirement("fast") == requirement  # the former extra asks for the same


@pytest.mark.skipif(sys.platform == "win32" or sys.implementation.name != "cpython", reason="no uvloop here")
def test_where_uvloop_exists_this_install_has_it_and_the_bot_defaults_to_it() -> None:
    assert loops.uvloop_installed()
    assert loops.default_loop() == loops.UVLOOP
