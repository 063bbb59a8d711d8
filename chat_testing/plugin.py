"""The pytest plugin of the chat harness, registered through the ``pytest11`` entry point.

Installed with the package, it loads in every pytest run and costs nothing until used:
this module imports only pytest, and each fixture imports its part of the harness when
a test asks for it (so it loads harmlessly where the test extras, pexpect among them,
are missing).

* Fixtures: ``chat_programs`` (programs under a pty, :class:`chat_testing.Programs`),
  ``chat_raw_peers`` and ``chat_raw_listener`` (plain TCP peers), ``chat_daemons``
  (programs as plain subprocesses), ``chat_proxies`` (re-chunking proxies).
* One report hook: when a test fails, every fixture value with a ``report_sections()``
  method adds its sections (transcripts, program output, container logs) to the report.
  With ``CHAT_TRANSCRIPT_DIR`` set, every test's transcripts are also written there.
* :func:`require_tool`: a test that needs a line tool (nc, socat, telnet...) skips when it is
  missing, and the run ends with one line naming the packages to install; with
  ``CHAT_REQUIRE_LINE_TOOLS=1`` (CI) a missing tool fails the test instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from chat_testing.peers import RawListener, RawPeer
    from chat_testing.processes import Daemon
    from chat_testing.programs import Programs
    from chat_testing.proxy import ChunkingProxy

ProgramsT = TypeVar("ProgramsT", bound="Programs")

#: A skip for a missing line tool says this; the summary finds those skips by it. The summary reads the
#: skip reports, not a record kept by require_tool: under pytest-xdist the tests skip in worker processes
#: and only their reports reach the process that writes the summary.
TOOL_MISSING_REASON = "{tool} is not installed: install the Debian package {package}"
_TOOL_MISSING = re.compile(
    "^(?:Skipped: )?"
    + re.escape(TOOL_MISSING_REASON)
    .replace(r"\{tool\}", r"(?P<tool>\S+)")
    .replace(r"\{package\}", r"(?P<package>\S+)")
    + "$"
)


def require_tool(name: str) -> str:
    """Path of a line tool; skip the test when it is missing (fail under CHAT_REQUIRE_LINE_TOOLS=1)."""
    from chat_testing.env import LINE_TOOL_PACKAGES, ToolMissing, find_tool

    try:
        return find_tool(name)
    except ToolMissing:
        reason = TOOL_MISSING_REASON.format(tool=name, package=LINE_TOOL_PACKAGES.get(name, name))
    if os.environ.get("CHAT_REQUIRE_LINE_TOOLS") == "1":
        pytest.fail(f"{reason} (CHAT_REQUIRE_LINE_TOOLS=1: failing instead of skipping)", pytrace=False)
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line naming the packages whose tools were missing, when any test skipped for that."""
    missing: dict[str, str] = {}
    for report in terminalreporter.stats.get("skipped", []):
        # A skip's longrepr is (path, line, "Skipped: reason"); a list once it has crossed from a worker.
        longrepr = getattr(report, "longrepr", None)
        if isinstance(longrepr, tuple | list) and len(longrepr) == 3:
            match = _TOOL_MISSING.match(str(longrepr[2]))
            if match:
                missing[match["tool"]] = match["package"]
    if missing:
        terminalreporter.write_line(
            f"chat: tests skipped for missing line tools ({', '.join(sorted(missing))}); "
            f"install them with: apt-get install {' '.join(sorted(set(missing.values())))}"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Attach what every harness fixture of a failed test has to show (transcripts, output, logs)."""
    report = yield
    if report.when == "call" and report.failed:
        # A fixture that returns another's value (an alias) must not show it twice.
        values = {id(value): value for value in getattr(item, "funcargs", {}).values()}
        for value in values.values():
            sections = getattr(value, "report_sections", None)
            if callable(sections):
                report.sections.extend(sections())
    return report


def _save_transcripts(request: pytest.FixtureRequest, text: str) -> None:
    out_dir = os.environ.get("CHAT_TRANSCRIPT_DIR")
    if out_dir and text:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        path = Path(out_dir) / f"{name}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@contextmanager
def programs_for(request: pytest.FixtureRequest, programs: ProgramsT) -> Iterator[ProgramsT]:
    """Run *programs* for one test: end them all afterwards and keep their transcripts."""
    try:
        yield programs
    finally:
        programs.end_all()
        if programs.terminals:
            _save_transcripts(request, programs.transcripts())


@pytest.fixture
def chat_programs(request: pytest.FixtureRequest) -> Iterator[Programs]:
    """Spawn programs under a pty; their transcripts are shown when the test fails; all end in teardown."""
    from chat_testing.programs import Programs

    with programs_for(request, Programs()) as programs:
        yield programs


@pytest.fixture
def chat_raw_peers() -> Iterator[list[RawPeer]]:
    """A list to put RawPeers in; all are closed in teardown."""
    peers: list[RawPeer] = []
    yield peers
    for peer in peers:
        peer.close()


@pytest.fixture
def chat_raw_listener() -> Iterator[RawListener]:
    """A RawListener on loopback; it and the peers it accepted are closed in teardown."""
    from chat_testing.peers import RawListener

    listener = RawListener()
    yield listener
    listener.close()


class _Daemons:
    """``chat_daemons(name, *args)``: start an installed program as a :class:`Daemon`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[Daemon] = []

    def __call__(self, name: str, *args: str) -> Daemon:
        from chat_testing.env import program
        from chat_testing.processes import Daemon

        daemon = Daemon([program(name), *args], self.workdir, f"{name}-{len(self.started)}")
        self.started.append(daemon)
        return daemon

    def report_sections(self) -> list[tuple[str, str]]:
        return [section for daemon in self.started for section in daemon.report_sections()]

    def kill_all(self) -> None:
        for daemon in self.started:
            daemon.kill()


@pytest.fixture
def chat_daemons(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """``chat_daemons(name, *args)`` starts an installed program as a subprocess; all end in teardown."""
    daemons = _Daemons(tmp_path)
    yield daemons
    daemons.kill_all()


@pytest.fixture
def chat_proxies() -> Iterator[list[ChunkingProxy]]:
    """A list to put ChunkingProxies in; all are closed in teardown."""
    proxies: list[ChunkingProxy] = []
    yield proxies
    for proxy in proxies:
        proxy.close()
