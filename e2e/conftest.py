"""The end-to-end harness: the installed programs, driven under a real pty by pexpect.

* ``spawn("chat-server", "--port", "0")`` starts an installed console script
  under a pty with a fixed, plain terminal and returns a :class:`Terminal`.
* Every child's transcript (what it printed, what we typed) is kept; when a test
  fails, pytest shows them all in a "transcripts" section, and with
  ``CHAT_TRANSCRIPT_DIR`` set they are also written there (CI uploads them).
* Every child is ended in teardown, politely first, also when the test failed.
* The classic stand-ins (``e2e/classic/server.py`` and ``client.py``, the seed's
  programs with only HOST and PORT taken from argv) run under the same harness:
  ``programs.classic_server()`` and ``programs.classic_client(port)``.
* ``RawPeer`` (a plain socket client, ``raw_peers``) and ``RawListener`` (a plain
  socket server, ``raw_listener``) send what no person can type: 1 MiB, escape
  sequences, invalid UTF-8, several messages in one segment, a TCP reset.
* ``require_tool("nc")``: line tools are required, never skipped (CI installs them).
* Waits are on expected output only. The per-expect timeout is 5 s, scaled by
  ``CHAT_E2E_TIMEOUT_SCALE`` on slow machines; pytest-timeout (signal method,
  so teardown still runs) bounds each test as a whole.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import struct
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

E2E_DIR = Path(__file__).resolve().parent
CLASSIC_SERVER = E2E_DIR / "classic" / "server.py"  # the seed's server.py, HOST/PORT from argv
CLASSIC_CLIENT = E2E_DIR / "classic" / "client.py"  # the seed's client.py, HOST/PORT from argv

# The classic screens' fixed lines, as the seed prints them.
CONNECTED_TO_SERVER = "Connected to server. Type 'exit' to quit."

# Line tools the interop tests drive; the CI installs these Debian packages.
LINE_TOOL_PACKAGES = {"nc": "netcat-openbsd", "socat": "socat", "telnet": "telnet"}

EXPECT_TIMEOUT_S = 5.0 * float(os.environ.get("CHAT_E2E_TIMEOUT_SCALE", "1"))
LISTENING = re.compile(r"listening on (\S+):(\d+)\.\.\.")

# A fixed, plain terminal: no colours, no cursor queries, the same width everywhere.
CHILD_ENV_OVERRIDES = {
    "TERM": "dumb",
    "LC_ALL": "C.UTF-8",
    "LANG": "C.UTF-8",
    "PYTHONUNBUFFERED": "1",
    "PYTHONIOENCODING": "utf-8",
    "NO_COLOR": "1",
    "COLUMNS": "240",
    "LINES": "24",
}


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child: ours, minus CHAT_* defaults, plus a plain terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env.update(CHILD_ENV_OVERRIDES)
    env.update(extra)
    return env


def program(name: str) -> str:
    """Path of an installed console script; the tests exercise what users install."""
    path = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    if path is None:
        pytest.fail(f"console script {name!r} is not installed; run the tests through tox or `pip install .`")
    return path


def require_tool(name: str) -> str:
    """Path of a line tool (nc, socat, telnet); a missing one fails the test, it is never skipped."""
    path = shutil.which(name)
    if path is None:
        package = LINE_TOOL_PACKAGES.get(name, name)
        pytest.fail(f"{name} is not installed: install the Debian package {package} (CI installs it)")
    return path


class Terminal:
    """One program under a pty, with its transcript kept."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], command: str | None = None) -> None:
        self.name = name
        self.log = io.StringIO()
        self.child = pexpect.spawn(
            command or program(name),
            args,
            env=env,
            encoding="utf-8",
            codec_errors="replace",
            timeout=EXPECT_TIMEOUT_S,
            dimensions=(24, 240),
            maxread=65536,
        )
        self.child.delaybeforesend = None
        self.child.logfile_read = self.log
        self.child.str_last_chars = 500

    # -- synchronising ------------------------------------------------------

    def expect(self, text: str, timeout: float | None = None) -> None:
        """Wait for *text* literally in the output (never text we typed: the pty echoes it)."""
        self.child.expect_exact(text, timeout=timeout if timeout is not None else EXPECT_TIMEOUT_S)

    def expect_re(self, pattern: str, timeout: float | None = None) -> re.Match[str]:
        """Wait for a regular expression; return its match."""
        self.child.expect(pattern, timeout=timeout if timeout is not None else EXPECT_TIMEOUT_S)
        match = self.child.match
        assert isinstance(match, re.Match)
        return match

    def send(self, line: str) -> None:
        """Type *line* and Enter; call it only after the prompt was expected."""
        self.child.sendline(line)

    def wait_exit(self, timeout: float | None = None) -> int:
        """Wait for the program to end; return its exit status (128+N for signal N)."""
        self.child.expect(pexpect.EOF, timeout=timeout if timeout is not None else EXPECT_TIMEOUT_S)
        # The pty is at EOF, so the program has ended or is ending: reap it now.
        # close() would first sleep delayafterclose (0.1 s) "to let it exit".
        self.child.wait()
        self.child.ptyproc.delayafterclose = 0
        self.child.close()
        if self.child.signalstatus is not None:
            return 128 + int(self.child.signalstatus)
        return int(self.child.exitstatus)

    @property
    def output(self) -> str:
        """Everything the program printed so far, with pty line ends made plain."""
        return self.log.getvalue().replace("\r\n", "\n")

    @property
    def lines(self) -> list[str]:
        """The transcript as lines (what a person saw, typed text included via the echo)."""
        return self.output.splitlines()

    def end(self) -> None:
        """Teardown: end the child if it still runs (HUP, INT, then KILL)."""
        if self.child.isalive():
            self.child.close(force=True)


class Programs:
    """Spawns programs for one test and remembers them for transcripts and teardown."""

    def __init__(self) -> None:
        self.terminals: list[Terminal] = []

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> Terminal:
        """Start the installed console script *name* under a pty."""
        term = Terminal(name, list(args), env if env is not None else child_env())
        self.terminals.append(term)
        return term

    def spawn_command(
        self, label: str, command: str, *args: str, env: dict[str, str] | None = None
    ) -> Terminal:
        """Start any command (a classic stand-in, nc, socat) under a pty, with a transcript."""
        term = Terminal(label, list(args), env if env is not None else child_env(), command=command)
        self.terminals.append(term)
        return term

    def server(self, *args: str, env: dict[str, str] | None = None) -> tuple[Terminal, int]:
        """Start chat-server on a port it picks itself; return it and that port."""
        term = self.spawn("chat-server", "--port", "0", *args, env=env)
        port = listening_port(term)
        return term, port

    def client(
        self, port: int, *args: str, host: str = "127.0.0.1", env: dict[str, str] | None = None
    ) -> Terminal:
        """Start chat-client against host:port and wait until it is connected."""
        term = self.spawn("chat-client", "--host", host, "--port", str(port), *args, env=env)
        term.expect(CONNECTED_TO_SERVER)
        return term

    def chat(self, *server_args: str) -> tuple[Terminal, Terminal, int]:
        """A chat-server and a connected chat-client; return both and the client's own port."""
        server, port = self.server(*server_args)
        client = self.client(port)
        client_port = int(server.expect_re(r"Connected by \('127\.0\.0\.1', (\d+)\)").group(1))
        return server, client, client_port

    def classic_server(self, host: str = "127.0.0.1") -> tuple[Terminal, int]:
        """Start the classic server.py stand-in on a free port; return it and that port."""
        term = self.spawn_command("classic server.py", sys.executable, str(CLASSIC_SERVER), host, "0")
        return term, listening_port(term)

    def classic_client(self, port: int, host: str = "127.0.0.1") -> Terminal:
        """Start the classic client.py stand-in against host:port."""
        return self.spawn_command("classic client.py", sys.executable, str(CLASSIC_CLIENT), host, str(port))

    def transcripts(self) -> str:
        return "\n".join(f"----- {t.name} -----\n{t.output}" for t in self.terminals)

    def end_all(self) -> None:
        for term in self.terminals:
            term.end()


def listening_port(term: Terminal) -> int:
    """Read the real port from a program's `... listening on HOST:PORT...` line."""
    return int(term.expect_re(LISTENING.pattern).group(2))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    """Attach every child's transcript to a failed test's report."""
    outcome = yield
    report = outcome.get_result()
    progs = getattr(item, "funcargs", {}).get("programs")
    if report.when == "call" and report.failed and isinstance(progs, Programs) and progs.terminals:
        report.sections.append(("transcripts", progs.transcripts()))


@pytest.fixture
def programs(request: pytest.FixtureRequest) -> Iterator[Programs]:
    """Spawn programs; their transcripts are shown when the test fails; all end in teardown."""
    progs = Programs()
    try:
        yield progs
    finally:
        progs.end_all()
        out_dir = os.environ.get("CHAT_TRANSCRIPT_DIR")
        if out_dir and progs.terminals:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            path = Path(out_dir) / f"{name}.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(progs.transcripts(), encoding="utf-8")


class RawPeer:
    """A plain TCP peer for the tests: what nc would do, with bounded waits."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(EXPECT_TIMEOUT_S)
        self._buffer = b""

    @classmethod
    def connect(cls, port: int, host: str = "127.0.0.1") -> RawPeer:
        return cls(socket.create_connection((host, port), timeout=EXPECT_TIMEOUT_S))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_line(self) -> bytes:
        """The next newline-terminated message, without its newline."""
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"peer closed; unterminated data: {self._buffer[-200:]!r}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def recv_some(self) -> bytes:
        """Whatever arrives next (a classic peer's bare message comes in one piece)."""
        if self._buffer:
            data, self._buffer = self._buffer, b""
            return data
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("peer closed")
        return data

    def reset(self) -> None:
        """Vanish abruptly: close with a TCP reset (RST), as a crashed host's stack would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def recv_until_closed(self) -> bytes:
        """Everything until the peer closes."""
        data = self._buffer
        while chunk := self.sock.recv(65536):
            data += chunk
        self._buffer = b""
        return data

    def close(self) -> None:
        self.sock.close()


class RawListener:
    """A listening socket on loopback, port picked by the system: a server for chat-client."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_server((host, 0))
        self.sock.settimeout(EXPECT_TIMEOUT_S)
        self.port = int(self.sock.getsockname()[1])
        self.accepted: list[RawPeer] = []

    def accept(self) -> RawPeer:
        """Wait (bounded) for the next connection; the peer is closed with the listener."""
        conn, _addr = self.sock.accept()
        peer = RawPeer(conn)
        self.accepted.append(peer)
        return peer

    def close(self) -> None:
        for peer in self.accepted:
            peer.close()
        self.sock.close()


@pytest.fixture
def raw_listener() -> Iterator[RawListener]:
    """A RawListener; it and the peers it accepted are closed in teardown."""
    listener = RawListener()
    yield listener
    listener.close()


@pytest.fixture
def raw_peers() -> Iterator[list[RawPeer]]:
    """A list to put RawPeers in; all are closed in teardown."""
    peers: list[RawPeer] = []
    yield peers
    for peer in peers:
        peer.close()


def ipv6_loopback_available() -> bool:
    """True when this machine can listen on ::1."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True
