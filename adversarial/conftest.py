"""The adversarial suite's harness: hypothesis profiles, process probes, a re-chunking proxy.

Run it with ``tox -e adversarial`` (``pytest adversarial -m adversarial``). Every
server it starts listens on loopback with ``--port 0``; every test is bounded by
pytest-timeout, and the load tests by their own counts and deadlines.

The e2e harness (``e2e/conftest.py``: :class:`Terminal`, the ``programs`` and
``raw_peers`` fixtures) is reused, not copied, so both suites drive the
installed programs the same way.
"""

from __future__ import annotations

import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # makes the sibling e2e/ harness importable as a package

from e2e.conftest import (  # noqa: E402
    EXPECT_TIMEOUT_S,
    LISTENING,
    Programs,
    RawPeer,
    Terminal,
    child_env,
    listening_port,
    program,
    programs,
    raw_peers,
)

__all__ = [
    "CRASH_SIGNS",
    "EXPECT_TIMEOUT_S",
    "ChunkingProxy",
    "Daemon",
    "LineClient",
    "Programs",
    "RawPeer",
    "Terminal",
    "child_env",
    "count_fds",
    "listening_port",
    "program",
    "programs",
    "raise_fd_limit",
    "random_text",
    "raw_peers",
    "rss_kib",
    "wait_until",
]

# The issue asks for at least 10,000 examples per property in this env; a quick
# profile (CHAT_HYPOTHESIS_PROFILE=quick) is there for editing the tests, never for CI.
PROPERTY_EXAMPLES = 10_000
settings.register_profile(
    "adversarial",
    max_examples=PROPERTY_EXAMPLES,
    deadline=None,  # 2 shared cores: wall-clock noise must not fail a property
    database=None,  # nothing written into the work tree; failures print their reproduction blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("quick", parent=settings.get_profile("adversarial"), max_examples=200)
settings.load_profile(os.environ.get("CHAT_HYPOTHESIS_PROFILE", "adversarial"))


def pytest_configure(config: pytest.Config) -> None:
    """Keep hypothesis's failure report readable under the project's ``filterwarnings = error``."""
    # On a failure hypothesis imports libcst (where installed) to suggest a patch; some libcst
    # versions warn on import, which "error" would turn into an INTERNALERROR hiding the failure.
    config.addinivalue_line(
        "filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Attach every child's transcript to a failed test's report (as the e2e suite does)."""
    outcome = yield
    report = outcome.get_result()
    progs = getattr(item, "funcargs", {}).get("programs")
    if report.when == "call" and report.failed and isinstance(progs, Programs) and progs.terminals:
        report.sections.append(("transcripts", progs.transcripts()))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test of this folder that forgot the ``adversarial`` marker (it would never run)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if (
            here in Path(str(item.fspath)).resolve().parents
            and item.get_closest_marker("adversarial") is None
        ):
            raise pytest.UsageError(f"{item.nodeid}: every adversarial test needs pytest.mark.adversarial")


# -- figures for the report -----------------------------------------------------

_FIGURES: list[tuple[str, str, str]] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Any:
    """``figures(what, value)`` records one measured figure; all are printed after the run."""

    def record(what: str, value: str) -> None:
        _FIGURES.append((request.node.name, what, value))

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print every figure the tests measured: the numbers behind the README's reliability table."""
    if not _FIGURES:
        return
    terminalreporter.section("adversarial figures")
    for test, what, value in _FIGURES:
        terminalreporter.write_line(f"{test}: {what}: {value}")


# -- probes on a running process ------------------------------------------------


def count_fds(pid: int) -> int:
    """Open file descriptors of *pid*, from /proc (Linux)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid: int) -> int:
    """Resident set size of *pid* in KiB, from /proc/PID/status (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS line for pid {pid}")


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll *predicate* until true; fail naming *what* after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(interval)


# -- programs under test as plain subprocesses ----------------------------------------

# What a program under attack must never print: Python's traceback header, and the
# package's line for an unexpected exception (chat.cli.run catches those, bots alike).
CRASH_SIGNS = ("Traceback (most recent call last)", "internal error")
ECHO_DIALOGUE = """\
# Echoes every message: the adversarial suite's peer compares what comes back byte for byte.
version: 1
name: echo
fallback: "{input}"
"""


class Daemon:
    """A program run as a plain subprocess, its output in files (a full pipe would block it).

    For the serving bot and other long-running servers under load, where a pty adds nothing.
    """

    def __init__(self, args: list[str], workdir: Path, name: str) -> None:
        self.name = name
        self.stdout_path = workdir / f"{name}.out"
        self.stderr_path = workdir / f"{name}.err"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=child_env()
            )
        self.pid = self.proc.pid

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_bytes().decode("utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_bytes().decode("utf-8", errors="replace")

    def listening(self, timeout: float = EXPECT_TIMEOUT_S) -> tuple[str, int]:
        """Wait for the ``... listening on HOST:PORT...`` line; return host and port."""
        found: list[re.Match[str]] = []

        def seen() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.proc.returncode}: {self.stderr[-2000:]}")
            match = LISTENING.search(self.stdout)
            if match:
                found.append(match)
            return bool(match)

        wait_until(seen, timeout, f"{self.name}'s listening line")
        return found[0].group(1), int(found[0].group(2))

    def assert_no_crash(self) -> None:
        """Nothing on stdout or stderr looks like a traceback or an internal error."""
        for stream, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            for sign in CRASH_SIGNS:
                assert sign not in text, f"{self.name} {stream} shows {sign!r}:\n{text[-3000:]}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int:
        """Send *sig*, wait for the exit; return its status (128+N when killed by signal N)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.name} did not exit within {timeout} s of signal {sig}") from None
        code = self.proc.returncode
        return 128 - code if code < 0 else code


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Any]:
    """``daemons(name, *args)`` starts an installed program as a :class:`Daemon`; all end in teardown."""
    started: list[Daemon] = []

    def start(name: str, *args: str) -> Daemon:
        daemon = Daemon([program(name), *args], tmp_path, f"{name}-{len(started)}")
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()


@pytest.fixture
def echo_dialogue(tmp_path: Path) -> Path:
    """A dialogue file whose only reply is the message received."""
    path = tmp_path / "echo.yaml"
    path.write_text(ECHO_DIALOGUE, encoding="utf-8")
    return path


@pytest.fixture
def echo_bot(daemons: Any, echo_dialogue: Path) -> Any:
    """``echo_bot(*extra_args)`` starts a serving echo bot; returns it and its port."""

    def start(*extra: str) -> tuple[Daemon, int]:
        if (
            shutil.which(
                "chat-bot", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
            )
            is None
        ):
            pytest.fail("chat-bot is not installed: run `pip install -e .` once bots/cli.py exists")
        bot = daemons("chat-bot", "--script", str(echo_dialogue), "--port", "0", "--no-delay", *extra)
        host, port = bot.listening()
        assert host == "127.0.0.1"
        return bot, port

    return start


def raise_fd_limit(needed: int) -> None:
    """Raise our soft limit on open files (children inherit it); fail clearly if the hard one is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.fail(f"this test needs {needed} open files; the hard limit is {hard} (ulimit -Hn)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


_OPEN_CLIENTS: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_line_clients() -> Iterator[None]:
    """Every LineClient a test opened is closed after it, also when the test failed."""
    yield
    while _OPEN_CLIENTS:
        _OPEN_CLIENTS.pop().close()


class LineClient:
    """A blocking line-protocol client with a receive buffer."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        _OPEN_CLIENTS.append(self.sock)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()

    def line(self) -> bytes:
        while (end := self.buffer.find(b"\n")) < 0:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError(f"closed; unterminated: {bytes(self.buffer[-100:])!r}")
            self.buffer += chunk
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 1]
        return line

    def round_trip(self, text: str) -> float:
        start = time.perf_counter()
        self.sock.sendall(text.encode() + b"\n")
        got = self.line()
        elapsed = time.perf_counter() - start
        assert got == text.encode(), (got, text)
        return elapsed


# -- random chat text --------------------------------------------------------------

# Scripts a chat really carries, by code point ranges: ASCII, accents, Greek, Cyrillic, Hebrew and
# Arabic (right to left), Devanagari, CJK, Hangul, emoji, and the whole of the supplementary planes.
_SCRIPTS = [
    (0x20, 0x7E),
    (0xA0, 0x24F),
    (0x370, 0x3FF),
    (0x400, 0x4FF),
    (0x590, 0x5FF),
    (0x600, 0x6FF),
    (0x900, 0x97F),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0x1F300, 0x1FAFF),
    (0x10000, 0x10FFFF),
]
_ZWJ = "\u200d"  # joins emoji into one glyph: a format character, not a control
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LONG_MESSAGE_CHANCE = 0.01  # one message in a hundred is long: thousands of characters
LONG_MESSAGE_CHARS = 8_000


def random_text(rng: random.Random) -> str:
    """One chat line of random length and content: any Unicode but controls, bidi overrides, surrogates.

    Such text is shown on screen exactly as sent (``chat.terminal.visible`` leaves it alone), so a
    receiver's screen can be compared with what was sent, character for character. Controls are
    the bad-input tests' business. Never the word ``exit``, which would end the chat.
    """
    size = rng.randint(0, LONG_MESSAGE_CHARS) if rng.random() < LONG_MESSAGE_CHANCE else rng.randint(0, 120)
    chars: list[str] = []
    while len(chars) < size:
        low, high = rng.choice(_SCRIPTS) if rng.random() < 0.5 else _SCRIPTS[0]
        char = chr(rng.randint(low, high))
        if char in _BIDI or 0xD800 <= ord(char) <= 0xDFFF or unicodedata.category(char) == "Cc":
            continue
        chars.append(_ZWJ if rng.random() < 0.01 else char)
    text = "".join(chars)
    return text + "!" if text.strip().lower() == "exit" else text


# -- the re-chunking proxy --------------------------------------------------------

PIECE_BITS = 11  # piece sizes are log-uniform in 1..2**11 bytes: as many 1-9 byte pieces as
# 100-999 byte ones, so short and long messages are both cut, at any byte, many times over
PAUSE_PROBABILITY = 0.002  # now and then a piece is held back so the reader surely sees a partial
PAUSE_S = 0.002  # far below the codec's 0.25 s classic-silence window, so framing never changes


@dataclass
class ProxyStats:
    """What the proxy did to the byte stream, for the report."""

    bytes: int = 0
    reads: int = 0
    pieces: int = 0
    pauses: int = 0
    connections: int = 0
    errors: list[str] = field(default_factory=list)


class ChunkingProxy:
    """A loopback TCP proxy that re-cuts every byte stream into random pieces.

    Each chunk read from one side is cut at random places into pieces of 1 to
    2 ** :data:`PIECE_BITS` bytes, each sent with its own ``send()`` and
    TCP_NODELAY, so the other side reads them as separate segments; a piece is
    sometimes held back for :data:`PAUSE_S`. Bytes are never changed, dropped or
    reordered: whatever the peers see differently is the programs' doing.
    """

    def __init__(self, target_port: int, seed: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.rng = random.Random(seed)
        self.stats = ProxyStats()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = [self.listener]
        self._acceptor = threading.Thread(target=self._accept_loop, name="proxy-accept", daemon=True)
        self._acceptor.start()

    def _accept_loop(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                down, _addr = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            up = socket.create_connection(self.target)
            for sock in (down, up):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._sockets.append(sock)
            self.stats.connections += 1
            for src, dst in ((down, up), (up, down)):
                thread = threading.Thread(target=self._pump, args=(src, dst), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        rng = random.Random(self.rng.random())
        try:
            while chunk := src.recv(65536):
                self.stats.reads += 1
                self.stats.bytes += len(chunk)
                view = memoryview(chunk)
                while view:
                    size = int(2 ** rng.uniform(0, PIECE_BITS))
                    dst.sendall(view[:size])
                    view = view[size:]
                    self.stats.pieces += 1
                    if rng.random() < PAUSE_PROBABILITY:
                        self.stats.pauses += 1
                        time.sleep(PAUSE_S)
            dst.shutdown(socket.SHUT_WR)  # pass the end of file on, as TCP would
        except OSError as exc:
            if not self._stop.is_set():
                self.stats.errors.append(f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Stop accepting and close every socket the proxy holds."""
        self._stop.set()
        for sock in self._sockets:
            sock.close()
        self._acceptor.join(timeout=2)


@pytest.fixture
def chunking_proxy() -> Iterator[list[ChunkingProxy]]:
    """A list to put proxies in; all are closed in teardown."""
    proxies: list[ChunkingProxy] = []
    yield proxies
    for proxy in proxies:
        proxy.close()
