"""A pytest plugin that makes the POSIX-only modules unimportable: the unit suite as Windows runs it.

    PYTHONPATH=.ci python -m pytest -p no_posix_modules -o timeout_method=thread tests

(`tox -e nonposix`, a stage of .ci/run). Windows has none of these modules; a test module that imports
one at the top stops collection there, which is what the windows-unit job of tests.yml would meet on
GitHub. ``sys.modules[name] = None`` makes every later ``import name`` raise ImportError, as on Windows.
Loaded with ``-p``, the plugin runs before the entry-point plugins, the conftest files and the tests, so
none of the project's modules has been imported yet (checked below, so that the proof cannot go stale).
"""

from __future__ import annotations

import sys

import pytest

#: The standard modules that exist on POSIX systems only (issue 13's list).
POSIX_ONLY = ("resource", "pty", "fcntl", "termios", "tty", "readline", "pwd", "grp")
#: The project's own packages: none may be imported before the block is in place.
PROJECT_PACKAGES = ("chat", "bots", "chat_testing", "bench")

already = sorted(name for name in sys.modules if name.split(".", 1)[0] in PROJECT_PACKAGES)
if already:
    raise RuntimeError(f"no_posix_modules loaded too late: {', '.join(already)} imported before it")
for name in POSIX_ONLY:
    sys.modules[name] = None  # type: ignore[assignment]  # None in sys.modules: `import name` fails


def pytest_report_header() -> str:
    return f"no_posix_modules: {', '.join(POSIX_ONLY)} are unimportable (as on Windows)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the tests that run pytest in a child process (the pytester fixture: the plugin's tests).

    The child imports the modules blocked here, so those tests try nothing of Windows in this stage; they
    were a third of its CPU time, and every other test run (the README's container, the nightly matrix)
    has them. Reported as deselected.
    """
    children = [item for item in items if "pytester" in getattr(item, "fixturenames", ())]
    if children:
        config.hook.pytest_deselected(items=children)
        items[:] = [item for item in items if item not in children]
