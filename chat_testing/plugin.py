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
* Dialogue tests: every file named ``test_*.chat.yaml`` is one test item (no other YAML is
  touched), run against the target of ``--chat-target`` / ``chat_target`` or of the file's own
  ``target:`` key (see :mod:`chat_testing.targets`). A failure shows the failing step as
  FILE:LINE with what was expected and received, every step, the chat, and the target's output.
  ``command:``, ``image:`` and ``terminal:`` targets are started for each test and stopped after it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from bots.model import Dialogue
    from bots.server import ServerThread
    from bots.target import Target
    from chat_testing.dialogue_tests import ChatRun
    from chat_testing.docker import DockerSession
    from chat_testing.peers import RawListener, RawPeer
    from chat_testing.processes import Daemon
    from chat_testing.programs import Programs
    from chat_testing.proxy import ChunkingProxy
    from chat_testing.terminal import Terminal

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

#: The files collected as dialogue tests (``chat-bot --connect`` takes the same from a directory).
DIALOGUE_TEST_PATTERN = "test_*.chat.yaml"
#: The reaper's image for image: targets when none is configured: any image with python3 does
#: (chat_testing.docker.Reaper runs a standard-library program in it).
DEFAULT_REAPER_IMAGE = "python:3.12-slim"
#: The Docker session of this run's image targets, made at the first one (its reaper removes every
#: container and network of the run once the run ends, even by Ctrl-C or SIGKILL).
_DOCKER_SESSIONS: list[DockerSession] = []
#: Why this run's reaper could not start, once it could not: every later image target fails with it.
_REAPER_FAILURES: list[str] = []
#: What a reaper whose image cannot be had or run is told: the option picks another.
REAPER_IMAGE_HINT = (
    "give an image with python3 that this engine has: --chat-reaper-image IMAGE (ini chat_reaper_image)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """--chat-target and its companions, each with an ini key of the same name."""
    group = parser.getgroup("chat", "chat dialogue tests (test_*.chat.yaml files)")
    options = (
        (
            "chat_target",
            "KIND:VALUE",
            "what dialogue tests talk to: tcp:HOST:PORT, command:CMDLINE, image:NAME or terminal:CMDLINE "
            "({port} is filled in); a file's own target: key wins",
        ),
        (
            "chat_ready",
            "REGEX",
            "command: targets are ready once their output matches this (default: once their port listens); "
            "its group (?P<port>...), if any, reads the port they listen on (needed without {port})",
        ),
        (
            "chat_peer",
            "DIALOGUE",
            "terminal: targets: the dialogue their peer bot serves (default: the bundled greeter)",
        ),
        (
            "chat_reaper_image",
            "IMAGE",
            f"image: targets: the image of the reaper that removes the run's containers, any image with "
            f"python3 (default: {DEFAULT_REAPER_IMAGE})",
        ),
    )
    for name, metavar, text in options:
        group.addoption(f"--{name.replace('_', '-')}", dest=name, metavar=metavar, help=text)
        parser.addini(name, text)


def _setting(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(name) or config.getini(name)
    return str(value) if value else None


def _settings_dir(config: pytest.Config) -> Path:
    """Where relative paths of the configured target start: the shell's directory for a target given on
    the command line, the ini file's directory for one written there (as pytest reads ``testpaths``)."""
    if config.getoption("chat_target") or config.inipath is None:
        return config.invocation_params.dir
    return config.inipath.parent


def pytest_configure(config: pytest.Config) -> None:
    """A bad --chat-target or --chat-ready is a usage error at once, not one failure per test."""
    text, ready = _setting(config, "chat_target"), _setting(config, "chat_ready")
    if text is None and ready is None:
        return  # a run without dialogue tests imports nothing of the harness
    from chat_testing.targets import TargetError, check_command, compile_ready, parse_target

    try:
        compile_ready(ready)
    except TargetError as exc:
        raise pytest.UsageError(f"--chat-ready: {exc}") from None
    if text is None:
        return
    try:
        target = parse_target(text)
    except TargetError as exc:  # its message names --chat-target
        raise pytest.UsageError(str(exc)) from None
    if target.kind == "command":
        try:
            check_command(target.value, ready)
        except TargetError as exc:
            raise pytest.UsageError(f"--chat-target: {exc}") from None


def _docker_session(config: pytest.Config) -> DockerSession:
    """This run's Docker session, its reaper armed at the first image target.

    A reaper that cannot start fails every image target of the run with the same line, tried once:
    a pull that hangs must not cost each test its wait.
    """
    from chat_testing.docker import DockerError, DockerSession, ReaperError, ReaperImageError

    if _REAPER_FAILURES:
        raise DockerError(_REAPER_FAILURES[0])
    if not _DOCKER_SESSIONS:
        session = DockerSession(_setting(config, "chat_reaper_image") or DEFAULT_REAPER_IMAGE)
        try:
            session.start()
        except ReaperError as exc:
            hint = f"; {REAPER_IMAGE_HINT}" if isinstance(exc, ReaperImageError) else ""
            _REAPER_FAILURES.append(f"{exc}{hint}")
            raise DockerError(_REAPER_FAILURES[0]) from None
        _DOCKER_SESSIONS.append(session)
    return _DOCKER_SESSIONS[0]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """End this run's Docker session: its reaper removes what the image targets made."""
    if _DOCKER_SESSIONS:
        from chat_testing.docker import DockerError

        try:
            _DOCKER_SESSIONS.pop().close()
        except DockerError as exc:
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"chat: {exc}")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> DialogueFile | None:
    """Collect ``test_*.chat.yaml`` files, and nothing else."""
    if fnmatch(file_path.name, DIALOGUE_TEST_PATTERN):
        return DialogueFile.from_parent(parent, path=file_path)
    return None


class DialogueFile(pytest.File):
    """A dialogue test file: one item, named after the file (``test_greet.chat.yaml::test_greet``)."""

    def collect(self) -> Iterator[DialogueItem]:
        yield DialogueItem.from_parent(self, name=self.path.name.removesuffix(".chat.yaml"))


class DialogueTestFailed(Exception):
    """A dialogue test ran and failed; its report is the failure's text."""

    def __init__(self, run: ChatRun) -> None:
        super().__init__(run.report())


class DialogueTestError(Exception):
    """A dialogue test could not run (an invalid file, no target, a target that did not start)."""


class DialogueItem(pytest.Item):
    """One dialogue file run against its target."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: What the target showed (its output, log or screen), once it stopped.
        self.target_sections: list[tuple[str, str]] = []

    def _dialogue(self) -> Dialogue:
        from bots.loader import DialogueError, parse_dialogue, read_dialogue_text

        shown = os.path.relpath(self.path, self.config.invocation_params.dir)
        try:
            return parse_dialogue(read_dialogue_text(str(self.path)), shown)
        except DialogueError as exc:
            raise DialogueTestError("\n".join(str(p) for p in exc.problems)) from None

    def _target(self, dialogue: Dialogue) -> tuple[Target, Path]:
        """The target and the directory its relative paths start from."""
        from bots.target import Target
        from chat_testing.targets import parse_target

        if dialogue.target is not None:
            return dialogue.target, self.path.parent
        text = _setting(self.config, "chat_target")
        if text is None:
            raise DialogueTestError(
                f"{dialogue.path}: no target: give --chat-target KIND:VALUE (or the ini key chat_target), "
                "or a target: key in the file"
            )
        named = parse_target(text)
        ready, peer = _setting(self.config, "chat_ready"), _setting(self.config, "chat_peer")
        return Target(named.kind, named.value, ready, peer), _settings_dir(self.config)

    def runtest(self) -> None:
        """Run the dialogue against its target; fail with the dialogue's report."""
        dialogue = self._dialogue()
        target, base = self._target(dialogue)
        with tempfile.TemporaryDirectory(prefix="chat-target-") as workdir:
            run = self._run(dialogue, target, base, Path(workdir))
        _save_transcript(
            self.nodeid, "\n".join([run.report(), *(text for _, _, text in self._report_sections)])
        )
        if not run.passed:
            raise DialogueTestFailed(run)

    def _run(self, dialogue: Dialogue, target: Target, base: Path, workdir: Path) -> ChatRun:
        """Start the target, run the dialogue against it, stop it; its output goes into the report."""
        from bots.loader import DialogueError
        from chat.errors import ConnectError
        from chat_testing import dialogue_tests, targets
        from chat_testing.docker import DockerError

        started: targets.CommandServer | targets.ImageServer | targets.TerminalClient | None = None
        try:
            if target.kind == "terminal":
                from bots.cli import bundled_dialogue_path

                peer = base / target.peer if target.peer else Path(bundled_dialogue_path())
                started = targets.TerminalClient(target.value, peer, base)
                run = dialogue_tests.run_at_terminal(dialogue, started.terminal, peer=started.peer_results)
            else:
                if target.kind == "tcp":
                    host, _, port = target.value.rpartition(":")
                    address = (host.strip("[]"), int(port))
                elif target.kind == "command":
                    started = targets.CommandServer(target.value, workdir, base, target.ready)
                    started.start()
                    address = started.address
                else:
                    docker_session = _docker_session(self.config)
                    labels = [*docker_session.labels, f"{targets.CONTAINER_LABEL}={docker_session.id}"]
                    started = targets.ImageServer(target.value, labels, target.ready)
                    started.start()
                    address = started.address
                run = dialogue_tests.run_over_tcp(dialogue, *address)
        except (targets.TargetError, ConnectError, DockerError) as exc:
            raise DialogueTestError(f"{dialogue.path}: {exc}") from None
        except DialogueError as exc:  # the peer dialogue of a terminal target
            problems = "\n".join(str(p) for p in exc.problems)
            raise DialogueTestError(f"{dialogue.path}: the peer dialogue is invalid:\n{problems}") from None
        finally:
            if started is not None:
                started.stop()
                self.target_sections = list(started.report_sections())
                for title, text in self.target_sections:
                    self.add_report_section("call", title, text)
        return run

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        """A dialogue's own report for its failures and errors; pytest's for anything else (a bug)."""
        if isinstance(excinfo.value, (DialogueTestFailed, DialogueTestError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"dialogue {self.name}"


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


def _save_transcript(nodeid: str, text: str) -> None:
    """With CHAT_TRANSCRIPT_DIR set, keep a test's transcripts there (CI uploads them)."""
    out_dir = os.environ.get("CHAT_TRANSCRIPT_DIR")
    if out_dir and text:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)
        path = Path(out_dir) / f"{name}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _save_transcripts(request: pytest.FixtureRequest, text: str) -> None:
    _save_transcript(request.node.nodeid, text)


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


@pytest.fixture
def chat_bot() -> Iterator[Callable[..., ServerThread]]:
    """``chat_bot(dialogue, text=False, delays=False)``: a serving bot in this process, started.

    *dialogue* is a file path, or YAML text with ``text=True``; the bot's ``port`` is where it
    listens. Every bot is stopped in teardown.
    """
    from chat_testing.bots import bot_in_process

    bots: list[ServerThread] = []

    def start(dialogue: str | Path, *, text: bool = False, delays: bool = False) -> ServerThread:
        bot = bot_in_process(dialogue, text=text, delays=delays)
        bot.start()
        bots.append(bot)
        return bot

    yield start
    for bot in bots:
        bot.stop()


@pytest.fixture
def chat_terminal(chat_programs: Programs) -> Callable[..., Terminal]:
    """``chat_terminal(cmdline, label=None)``: any command line under a pty, as :class:`Terminal`.

    Its transcript is shown when the test fails (through ``chat_programs``); it ends in teardown.
    """
    import shlex

    def spawn(cmdline: str, label: str | None = None) -> Terminal:
        args = shlex.split(cmdline)
        return chat_programs.spawn_command(label or cmdline, args[0], *args[1:])

    return spawn


@pytest.fixture
def chat_raw_peer(chat_raw_peers: list[RawPeer]) -> Callable[..., RawPeer]:
    """``chat_raw_peer(port, host="127.0.0.1")``: a plain TCP peer connected to a server, closed after."""
    from chat_testing.peers import RawPeer

    def connect(port: int, host: str = "127.0.0.1") -> RawPeer:
        peer = RawPeer.connect(port, host)
        chat_raw_peers.append(peer)
        return peer

    return connect
