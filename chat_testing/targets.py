"""Targets: the thing a dialogue test talks to, started and stopped by the harness.

A target is written ``KIND:VALUE`` (``--chat-target``, the ini key ``chat_target``, or a
dialogue file's ``target:`` key):

* ``tcp:HOST:PORT``: a server that is already running; the harness only connects.
* ``command:CMDLINE``: a server started for each test (``{port}`` becomes a free port), ready
  once its port listens or its output matches the ``ready`` pattern (whose group ``port``, if any,
  says where it listens: a command line without ``{port}`` needs one). It runs in a session of its
  own, and its whole process group is stopped with SIGTERM, then killed, so a server behind a
  wrapper (``sh -c``, a script, make, npm) goes with it; its output goes into the failure report.
* ``image:NAME``: a server in a container (``docker run -d`` with the harness's label, the image's
  one exposed port published on loopback), ready once its log matches ``ready`` (default: the
  chat programs' ``listening on`` line); removed after the test.
* ``terminal:CMDLINE``: a client program driven at its pty; its peer is a serving bot on the
  dialogue ``peer`` names (default: the bundled greeter) and ``{port}`` is that bot's port.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shlex
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bots.target import Target, split_target
from chat_testing.env import START_TIMEOUT_S, child_env
from chat_testing.listening import port_listening
from chat_testing.processes import Daemon, stop_process_group

if TYPE_CHECKING:
    from bots.actions import StepResult
    from bots.server import ServerThread
    from chat_testing.terminal import Terminal

#: After SIGTERM a server gets this long to end by itself before it is killed
#: (the chat programs end within 2 s; docker stop's own default is 10 s).
STOP_GRACE_S = 5.0
#: How often readiness is polled (a port or an output file): cheap, and well under a start-up time.
POLL_INTERVAL_S = 0.02
#: A readiness check that took long (/proc/net/tcp on a host with many sockets, where sock_diag is
#: refused; a large output searched for the ready pattern) waits this many times as long before the next
#: one, so that waiting for a server never takes more than a twentieth of a core.
POLL_BACKOFF = 19.0
#: The group of a ready pattern that reads the port the server listens on from its output.
PORT_GROUP = "port"
#: What the chat programs print once they serve; an image target's default readiness pattern.
LISTENING_LINE = r"listening on \S+:\d+"
#: The label every container of the harness carries, so a sweep can find leftovers.
CONTAINER_LABEL = "chat.testing.target"
#: Docker CLI commands (run, inspect, rm) answer in seconds; a pull is not done here.
DOCKER_TIMEOUT_S = 60.0
#: What a command target without {port} is told (after what is wrong), in every case.
_NO_PORT_HINT = (
    "put {port} where it takes its port, or give a ready pattern (--chat-ready, ini chat_ready, or ready: "
    f"in the file's target) whose group (?P<{PORT_GROUP}>...) reads the port from its output"
)


class TargetError(Exception):
    """A target could not be parsed or started; the message says what and what to do."""


def parse_target(text: str) -> Target:
    """``KIND:VALUE`` from the command line or the ini file -> a :class:`~bots.model.Target`."""
    try:
        kind, value = split_target(text)
    except ValueError as exc:
        raise TargetError(f"--chat-target: {exc}") from None
    return Target(kind, value)


def free_port() -> int:
    """A TCP port no one listens on right now (the OS picks it; the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def compile_ready(ready: str | None) -> re.Pattern[str] | None:
    """A ready pattern, compiled (a TargetError naming it when it does not compile)."""
    if ready is None:
        return None
    try:
        return re.compile(ready)
    except re.error as exc:
        raise TargetError(f"{ready!r} does not compile: {exc}") from None


def check_command(cmdline: str, ready: str | None) -> None:
    """Refuse at once a ``command:`` target the harness could not find: no ``{port}`` in the command line
    and no port group in the ready pattern (it would wait for a port that nothing is told to listen on)."""
    pattern = compile_ready(ready)
    if "{port}" in cmdline or (pattern is not None and PORT_GROUP in pattern.groupindex):
        return
    lacks = "" if ready is None else f" and its ready pattern {ready!r} has no group (?P<{PORT_GROUP}>...)"
    raise TargetError(
        f"the target command {cmdline!r} has no {{port}}{lacks}, so the harness cannot know where it "
        f"listens: {_NO_PORT_HINT}"
    )


def split_command(cmdline: str, port: int) -> list[str]:
    """A target's command line as arguments, ``{port}`` filled in (shell quoting rules, no shell)."""
    args = shlex.split(cmdline.replace("{port}", str(port)))
    if not args:
        raise TargetError(f"the command line {cmdline!r} is empty")
    return args


class CommandServer:
    """``command:CMDLINE``: a server started for one test, its output kept for the report.

    ``CommandServer(...)`` only prepares; :meth:`start` starts it and waits until it is ready,
    and :meth:`stop` and :meth:`report_sections` work whatever happened in between.
    """

    def __init__(self, cmdline: str, workdir: Path, cwd: Path, ready: str | None = None) -> None:
        self.cmdline = cmdline
        self.workdir = workdir
        self.cwd = cwd
        self.ready = ready
        self.port = free_port()
        self.daemon: Daemon | None = None

    def start(self) -> None:
        """Start the command; return once it serves (a TargetError if it exits first or takes too long)."""
        check_command(self.cmdline, self.ready)
        pattern = compile_ready(self.ready)
        args = split_command(self.cmdline, self.port)
        try:
            # A session of its own: stop() signals the whole group, wrappers and what they started.
            self.daemon = Daemon(
                args, self.workdir, f"target-{Path(args[0]).name}", cwd=self.cwd, new_session=True
            )
        except FileNotFoundError:
            raise TargetError(f"command target: {args[0]!r} not found; check the command line") from None
        daemon, ready = self.daemon, self.ready
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            began = time.monotonic()
            if daemon.proc.poll() is not None:
                raise TargetError(
                    f"the target command {self.cmdline!r} exited with status {daemon.proc.returncode} "
                    "before it was ready (its output is in the report)"
                )
            if pattern is not None:
                match = pattern.search(daemon.stdout) or pattern.search(daemon.stderr)
                if match is not None:
                    self._read_port(match)
                    return
            elif port_listening(self.port):
                return
            if time.monotonic() > deadline:
                what = (
                    f"printed nothing matching {ready!r}" if ready else f"does not listen on port {self.port}"
                )
                raise TargetError(f"the target command {self.cmdline!r} {what} after {START_TIMEOUT_S:.0f} s")
            time.sleep(max(POLL_INTERVAL_S, (time.monotonic() - began) * POLL_BACKOFF))

    def _read_port(self, ready: re.Match[str]) -> None:
        """Take the port the ready line names, when its pattern has a port group."""
        if PORT_GROUP not in ready.re.groupindex:
            return
        text = ready.group(PORT_GROUP)
        if text is None or not text.isdigit() or not 0 < int(text) < 65536:
            raise TargetError(
                f"the target command {self.cmdline!r} printed {ready.group(0)!r}, whose "
                f"(?P<{PORT_GROUP}>...) group holds {text!r}, not a port number"
            )
        self.port = int(text)

    @property
    def address(self) -> tuple[str, int]:
        """Where the dialogue connects."""
        return "127.0.0.1", self.port

    def stop(self) -> None:
        """SIGTERM to its whole process group, a grace period, then SIGKILL to what is left of it."""
        if self.daemon is None:
            return
        stop_process_group(self.daemon.proc, STOP_GRACE_S)

    def report_sections(self) -> list[tuple[str, str]]:
        """The server's output, for the failure report."""
        if self.daemon is None:
            return []
        return [
            (
                f"output of command:{self.cmdline}",
                f"stdout:\n{self.daemon.stdout[-5000:]}\nstderr:\n{self.daemon.stderr[-5000:]}",
            )
        ]


def docker(*args: str) -> str:
    """One docker CLI command; its stdout, or a TargetError with docker's own words."""
    try:
        done = subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=DOCKER_TIMEOUT_S, check=False
        )
    except FileNotFoundError:
        raise TargetError("image target: no `docker` command on PATH; install Docker") from None
    except subprocess.TimeoutExpired:
        raise TargetError(f"`docker {args[0]}` did not answer within {DOCKER_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        raise TargetError(f"`docker {' '.join(args)}` failed: {done.stderr.strip()}")
    return done.stdout


def exposed_port(image: str) -> int:
    """The one TCP port the image exposes (its ``EXPOSE``)."""
    ports = docker(
        "image", "inspect", "--format", "{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}", image
    )
    tcp = [int(p.split("/")[0]) for p in ports.split() if p.endswith("/tcp")]
    if len(tcp) != 1:
        raise TargetError(
            f"image target: {image} exposes {len(tcp)} TCP ports ({ports.strip() or 'none'}); "
            "it must EXPOSE exactly the chat server's port"
        )
    return tcp[0]


class ImageServer:
    """``image:NAME``: a server in a container for one test, on a network of its own.

    ``ImageServer(...)`` only prepares; :meth:`start` makes the network and the container
    (both labelled, so a sweep finds them after a crash) and waits until the server is ready;
    :meth:`stop` removes whatever was made.
    """

    def __init__(self, image: str, labels: Sequence[str], ready: str | None = None) -> None:
        self.image = image
        #: The network's and the container's labels: the Docker session's, so its reaper removes them.
        self.labels = [option for label in labels for option in ("--label", label)]
        self.ready = ready or LISTENING_LINE
        self.network: str | None = None
        self.container: str | None = None
        self.port = 0
        self._last_log = ""

    def start(self) -> None:
        """``docker network create``, ``docker run -d -p 127.0.0.1::PORT``; wait for the ready pattern."""
        port = exposed_port(self.image)
        name = f"chat-testing-{secrets.token_hex(4)}"
        self.network = docker("network", "create", *self.labels, name).strip()
        self.container = docker(
            "run",
            "-d",
            *self.labels,
            "--network",
            self.network,
            "-p",
            f"127.0.0.1::{port}",
            self.image,
        ).strip()
        published = docker("port", self.container, f"{port}/tcp").split()[0]
        self.port = int(published.rpartition(":")[2])
        pattern = re.compile(self.ready)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not pattern.search(self.logs()):
            state = docker("inspect", "--format", "{{.State.Status}}", self.container).strip()
            if state != "running":
                raise TargetError(
                    f"the container of {self.image} is {state} before it was ready (its log is in the report)"
                )
            if time.monotonic() > deadline:
                raise TargetError(
                    f"the container of {self.image} printed nothing matching {pattern.pattern!r}"
                )
            time.sleep(POLL_INTERVAL_S * 10)  # each poll is a docker command

    @property
    def address(self) -> tuple[str, int]:
        """Where the dialogue connects."""
        return "127.0.0.1", self.port

    def logs(self) -> str:
        """The container's output so far (the last seen, once it is removed)."""
        if self.container is None:
            return self._last_log
        with contextlib.suppress(subprocess.TimeoutExpired):
            done = subprocess.run(
                ["docker", "logs", self.container], capture_output=True, text=True, timeout=DOCKER_TIMEOUT_S
            )
            if done.returncode == 0:
                self._last_log = done.stdout + done.stderr
        return self._last_log

    def stop(self) -> None:
        """Stop (SIGTERM, then SIGKILL after the grace period) and remove the container."""
        self.logs()  # kept for the report
        steps: list[tuple[list[str], float]] = []
        if self.container is not None:
            steps.append(
                (["stop", "-t", f"{STOP_GRACE_S:.0f}", self.container], DOCKER_TIMEOUT_S + STOP_GRACE_S)
            )
            steps.append((["rm", "-f", "-v", self.container], DOCKER_TIMEOUT_S))
        if self.network is not None:
            steps.append((["network", "rm", self.network], DOCKER_TIMEOUT_S))
        for args, timeout in steps:
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(["docker", *args], capture_output=True, timeout=timeout, check=False)

    def report_sections(self) -> list[tuple[str, str]]:
        """The container's log, for the failure report."""
        return [(f"log of image:{self.image}", self._last_log[-5000:])]


class TerminalClient:
    """``terminal:CMDLINE``: a client program under a pty, its peer a serving bot in this process."""

    def __init__(self, cmdline: str, peer: Path, cwd: Path) -> None:
        from bots.loader import load_dialogue
        from bots.report import relative
        from bots.server import ServeOptions, ServerThread
        from chat_testing.terminal import Terminal

        self.cmdline = cmdline
        #: The results of the peer bot's chats (its expect steps count: a failed one fails the test).
        self.peer_results: list[StepResult] = []
        self.bot: ServerThread = ServerThread(
            load_dialogue(relative(str(peer))),  # reports name it as the test's file is named
            ServeOptions(delays=False),
            host="127.0.0.1",
            port=0,
            on_result=lambda _chat, result: self.peer_results.append(result),
        )
        port = self.bot.start()
        args = split_command(cmdline, port)
        try:
            self.terminal: Terminal = Terminal(
                Path(args[0]).name, args[1:], child_env(), command=args[0], cwd=str(cwd)
            )
        except Exception as exc:  # pexpect raises its own ExceptionPexpect for a missing command
            self.bot.stop()
            raise TargetError(f"terminal target: cannot start {args[0]!r}: {exc}") from None

    def stop(self) -> None:
        """End the client, then its peer."""
        self.terminal.end()
        self.bot.stop()

    def report_sections(self) -> list[tuple[str, str]]:
        """What the client showed, for the failure report."""
        return [(f"screen of terminal:{self.cmdline}", self.terminal.output[-8000:])]


__all__ = [
    "CONTAINER_LABEL",
    "PORT_GROUP",
    "START_TIMEOUT_S",
    "STOP_GRACE_S",
    "CommandServer",
    "ImageServer",
    "TargetError",
    "TerminalClient",
    "check_command",
    "compile_ready",
    "free_port",
    "parse_target",
    "port_listening",
]
