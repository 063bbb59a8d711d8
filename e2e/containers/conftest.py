"""The Docker harness: one image per session, one internal network, real containers under pexpect.

* The image is built once, before the first test runs (so its build time is not charged to
  one test's timeout), from the repository's Dockerfile. ``CHAT_DOCKER_BASE`` picks the base
  (e.g. ``chat-base:local`` made by ``.ci/docker-setup.sh``); pip's index settings are read from
  this machine's ``pip config list`` and passed on as build arguments.
* The containers of a test join a user-defined ``docker network create --internal`` network:
  they reach each other by container name and nothing outside.
* Interactive containers are ``docker run -it`` under the e2e harness's pexpect :class:`Terminal`,
  so their transcripts are kept like any other program's. When a test fails, the report also shows
  each container's ``docker logs`` and final state.
* Containers, the network and the test image are removed after every test / the session, also
  when a test fails; leftovers of an earlier session that was killed are swept at the start.
* Where no Docker engine answers, the tests skip with the reason; ``CHAT_REQUIRE_DOCKER=1`` makes
  that a failure instead (CI sets it).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from chat_testing import Programs, Terminal

REPO = Path(__file__).resolve().parents[2]
SCALE = float(os.environ.get("CHAT_E2E_TIMEOUT_SCALE", "1"))
# A container's first line: `docker run` creates, starts and attaches, and the interpreter starts.
START_TIMEOUT_S = 30.0 * SCALE
# A cold build from the public image pulls it and runs apt and pip; a warm one takes seconds.
BUILD_TIMEOUT_S = float(os.environ.get("CHAT_DOCKER_BUILD_TIMEOUT", "900"))
# Plain docker commands (inspect, rm, network create) answer within a second or two.
DOCKER_CMD_TIMEOUT_S = 60.0
CHAT_PORT = 65432  # the image's default port (EXPOSE 65432)

# Every object this session makes carries these labels, so cleanup can find it even after a crash.
SESSION = f"chat-e2e-{os.getpid()}-{secrets.token_hex(3)}"
LABEL_SESSION = "chat.e2e.session"
LABEL_PID = "chat.e2e.pid"
LABELS = [f"{LABEL_SESSION}={SESSION}", f"{LABEL_PID}={os.getpid()}"]
IMAGE_TAG = f"chat-e2e:{SESSION.removeprefix('chat-e2e-')}"


class DockerError(Exception):
    """A docker command failed; the message has the command and docker's own words."""


def docker(*args: str, timeout: float = DOCKER_CMD_TIMEOUT_S, check: bool = True) -> str:
    """Run one docker CLI command and return its stdout."""
    try:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise DockerError(f"`docker {' '.join(args)}` did not answer within {timeout:.0f}s") from None
    except FileNotFoundError:
        raise DockerError("no `docker` command on PATH") from None
    if check and done.returncode != 0:
        raise DockerError(f"`docker {' '.join(args)}` failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def engine_problem() -> str | None:
    """Why no Docker engine can be used here, or None when one answers."""
    if shutil.which("docker") is None:
        return "no `docker` command on PATH"
    try:
        docker("info", "--format", "{{.ServerVersion}}", timeout=20)
    except DockerError as exc:
        last = str(exc).strip().splitlines()[-1]
        return f"no Docker engine answers ({last})"
    return None


def pip_build_args() -> list[str]:
    """pip's index settings from this machine's `pip config list`, as --build-arg options.

    Only http(s) indexes are passed: file:// indexes and find-links of the host do not exist
    inside the build. Nothing is passed when pip uses its default index.
    """
    try:
        listing = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    # Lines are `section.key='value'`, sorted by name; for `pip install` the environment (`:env:`)
    # overrides an [install] section, which overrides [global].
    rank = {"global": 0, "install": 1, ":env:": 2}
    found: dict[str, tuple[int, list[str]]] = {}
    for line in listing.splitlines():
        match = re.fullmatch(r"([^.]*)\.(index-url|extra-index-url)='(.*)'", line.strip())
        if match and match.group(1) in rank and rank[match.group(1)] > found.get(match.group(2), (-1, []))[0]:
            urls = [u for u in match.group(3).split() if u.startswith(("http://", "https://"))]
            found[match.group(2)] = (rank[match.group(1)], urls)
    args = []
    for key, arg in (("index-url", "PIP_INDEX_URL"), ("extra-index-url", "PIP_EXTRA_INDEX_URL")):
        urls = found.get(key, (0, []))[1]
        if urls:
            args += ["--build-arg", f"{arg}={' '.join(urls[:1] if key == 'index-url' else urls)}"]
    return args


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> None:
    """Remove containers, networks and test images left by an earlier session whose pytest is gone."""
    for kind, listing in (("container", ["ps", "-a"]), ("network", ["network", "ls"])):
        out = docker(
            *listing,
            "--filter",
            f"label={LABEL_PID}",
            "--format",
            f'{{{{.ID}}}} {{{{.Label "{LABEL_PID}"}}}}',
        )
        stale = [
            ident
            for ident, _, pid in (line.partition(" ") for line in out.splitlines())
            if pid.isdigit() and not _pid_alive(int(pid))
        ]
        if stale:
            docker(*([kind, "rm", "-f"] if kind == "container" else ["network", "rm"]), *stale, check=False)
    # Test images are tagged chat-e2e:<pid>-<random>.
    tags = docker("image", "ls", "chat-e2e", "--format", "{{.Repository}}:{{.Tag}}")
    stale_tags = [
        tag
        for tag in tags.split()
        if (pid := tag.partition(":")[2].partition("-")[0]).isdigit() and not _pid_alive(int(pid))
    ]
    if stale_tags:
        docker("rmi", "--no-prune", *stale_tags, check=False)


@dataclass
class Session:
    """What the session prepared: the image, or the reason there is none."""

    problem: str | None = None  # no engine: the tests skip (or fail with CHAT_REQUIRE_DOCKER=1)
    build_error: str | None = None  # an engine, but the image does not build: the tests fail
    image: str | None = None
    base: str | None = None
    build_seconds: float | None = None
    size: int = 0
    base_size: int = 0
    stop_seconds: list[float] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)


STATE = Session()


def image_size(name: str) -> int:
    """An image's size in bytes, as `docker image inspect` gives it."""
    return int(docker("image", "inspect", "--format", "{{.Size}}", name).strip())


def _build_image() -> None:
    base = os.environ.get("CHAT_DOCKER_BASE") or None
    # No --label here: the legacy builder would put it on every layer and miss its cache each session.
    args = ["build", "--tag", IMAGE_TAG]
    if base:
        args += ["--build-arg", f"BASE={base}"]
    args += [*pip_build_args(), str(REPO)]
    started = time.monotonic()
    try:
        docker(*args, timeout=BUILD_TIMEOUT_S)
    except DockerError as exc:
        hint = "" if base else " (no registry? make a base: .ci/docker-setup.sh, then set CHAT_DOCKER_BASE)"
        STATE.build_error = f"the image did not build{hint}: {str(exc)[-2000:]}"
        return
    STATE.build_seconds = time.monotonic() - started
    STATE.image = IMAGE_TAG
    STATE.base = base or default_base()
    STATE.size = image_size(IMAGE_TAG)
    if STATE.base:
        STATE.base_size = image_size(STATE.base)


def default_base() -> str | None:
    """The Dockerfile's default BASE (pulled by the build when CHAT_DOCKER_BASE is not set)."""
    match = re.search(r"^ARG BASE=(\S+)", (REPO / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1) if match else None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Build the image once, before the first Docker test, when any was selected."""
    if not any(item.get_closest_marker("docker") for item in session.items):
        return
    STATE.problem = engine_problem()
    if STATE.problem is not None:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        base = os.environ.get("CHAT_DOCKER_BASE") or default_base()
        reporter.write_line(f"docker e2e: building {IMAGE_TAG} from {base}")
    sweep_stale()
    _build_image()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Report the figures the README quotes: build time, image size and increment, docker stop times."""
    if STATE.image is None or STATE.build_seconds is None:
        return
    base = (
        f"its base {STATE.base} ({STATE.base_size / 1e6:.1f} MB)" if STATE.base_size else "its base (unknown)"
    )
    terminalreporter.write_line(
        f"docker e2e: image built in {STATE.build_seconds:.1f}s; size {STATE.size / 1e6:.1f} MB, "
        f"{(STATE.size - STATE.base_size) / 1e6:.1f} MB over {base}"
    )
    if STATE.stop_seconds:
        times = ", ".join(f"{t:.2f}" for t in STATE.stop_seconds)
        terminalreporter.write_line(f"docker e2e: docker stop took {times} s")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove what this session made, whatever happened to the tests."""
    if STATE.image is None and not STATE.networks:
        return  # nothing was made: no engine, or no Docker test selected
    try:
        ids = docker("ps", "-aq", "--filter", f"label={LABEL_SESSION}={SESSION}").split()
        if ids:
            docker("rm", "-f", "-v", *ids, check=False)
        for network in STATE.networks:
            docker("network", "rm", network, check=False)
        if STATE.image is not None:
            # --no-prune keeps the untagged parent layers: they are the build cache of the next run.
            docker("rmi", "--no-prune", STATE.image, check=False)
    except DockerError:
        pass


# -- fixtures -------------------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    message = f"Docker e2e tests need a Docker engine and the image: {reason}"
    if os.environ.get("CHAT_REQUIRE_DOCKER") == "1":
        pytest.fail(f"{message} (CHAT_REQUIRE_DOCKER=1: failing instead of skipping)", pytrace=False)
    pytest.skip(f"{message}; run `bash .ci/docker-setup.sh` to get one")


@pytest.fixture(scope="session")
def chat_image() -> str:
    """The image under test, built once per session."""
    if STATE.problem is not None:
        _unavailable(STATE.problem)
    if STATE.build_error is not None:
        pytest.fail(STATE.build_error, pytrace=False)
    if STATE.image is None:
        _unavailable("the session did not build it (were the docker tests deselected at collection?)")
    assert STATE.image is not None
    return STATE.image


@pytest.fixture(scope="session")
def docker_cli() -> Callable[..., str]:
    """The `docker` command as a function: ``docker_cli("image", "inspect", name)`` returns stdout."""
    return docker


@pytest.fixture(scope="session")
def chat_base(chat_image: str) -> str | None:
    """The base image the image under test was built from (None if it cannot be told)."""
    return STATE.base


@pytest.fixture(scope="session")
def chat_network(chat_image: str) -> Iterator[str]:
    """A user-defined internal network: containers reach each other by name, and nothing outside."""
    name = f"{SESSION}-net"
    docker("network", "create", "--internal", *(f"--label={label}" for label in LABELS), name)
    STATE.networks.append(name)
    yield name
    docker("network", "rm", name, check=False)
    STATE.networks.remove(name)


class Container:
    """A running ``docker run -it`` container: its pexpect terminal and its name on the network."""

    def __init__(self, name: str, terminal: Terminal) -> None:
        self.name = name
        self.terminal = terminal

    def expect(self, text: str, timeout: float | None = None) -> None:
        self.terminal.expect(text, timeout)

    def send(self, line: str) -> None:
        self.terminal.send(line)

    def wait_exit(self, timeout: float | None = None) -> int:
        """Wait for the container to end; `docker run` returns the program's exit status."""
        return self.terminal.wait_exit(timeout)


class Containers:
    """Starts containers for one test on the session's network; logs them on failure, removes them after."""

    def __init__(self, image: str, network: str, programs: Programs) -> None:
        self.image = image
        self.network = network
        self.programs = programs
        self.names: list[str] = []

    def run(
        self, role: str, *command: str, mounts: dict[Path, str] | None = None, ready: str | None = None
    ) -> Container:
        """``docker run -it`` the image with *command*; wait for *ready* in its output when given."""
        name = f"{SESSION}-{role}-{len(self.names) + 1}"
        volumes = [f"--volume={host}:{inside}:ro" for host, inside in (mounts or {}).items()]
        args = ["run", "-it", f"--name={name}", f"--network={self.network}"]
        args += [*(f"--label={label}" for label in LABELS), *volumes, self.image, *command]
        self.names.append(name)
        container = Container(name, self.programs.spawn_command(f"{role} [{name}]", "docker", *args))
        if ready is not None:
            container.expect(ready, timeout=START_TIMEOUT_S)
        return container

    def stop(self, container: Container, grace_s: int = 10) -> float:
        """``docker stop`` (SIGTERM, then SIGKILL after *grace_s*); return the seconds it took."""
        started = time.monotonic()
        docker("stop", f"--time={grace_s}", container.name, timeout=grace_s + DOCKER_CMD_TIMEOUT_S)
        took = time.monotonic() - started
        STATE.stop_seconds.append(took)
        return took

    def exit_code(self, container: Container) -> int:
        """The ended container's exit code as the engine recorded it."""
        return int(docker("inspect", "--format", "{{.State.ExitCode}}", container.name).strip())

    def report_sections(self) -> list[tuple[str, str]]:
        """What a failed test's report shows: every container's state and logs (see chat_testing.plugin)."""
        return [("docker logs", self.logs())] if self.names else []

    def logs(self) -> str:
        """Every container's state and `docker logs`, for a failure report."""
        parts = []
        for name in self.names:
            state = docker(
                "inspect",
                "--format",
                "{{.State.Status}} exit={{.State.ExitCode}} {{.State.Error}}",
                name,
                check=False,
            ).strip()
            logs = docker("logs", "--timestamps", name, check=False)
            parts.append(f"----- {name}: {state or 'gone'} -----\n{logs.replace(chr(13), '')}")
        return "\n".join(parts)

    def remove_all(self) -> None:
        if self.names:
            docker("rm", "-f", "-v", *self.names, check=False)


@pytest.fixture
def containers(chat_image: str, chat_network: str, programs: Programs) -> Iterator[Containers]:
    """Start containers of the image under test; all are removed in teardown."""
    started = Containers(chat_image, chat_network, programs)
    try:
        yield started
    finally:
        started.remove_all()
