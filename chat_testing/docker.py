"""Docker for tests: the ``docker`` command, image builds on either builder, sessions and their reaper.

* :func:`docker` runs one CLI command and raises :class:`DockerError` with docker's own words;
  :func:`engine_problem` says why no engine can be used, or None.
* :func:`choose_builder` picks BuildKit or the legacy builder; :func:`build_plan` turns a build into
  the command for that builder, base override included; :func:`build_image` runs it.
* :class:`DockerSession`: one test session's objects on an engine, labelled with its id, and the
  :class:`Reaper` container (:mod:`chat_testing.reaper`) that removes them once the session is gone,
  even after SIGKILL. :func:`sweep_orphans` removes what no live reaper guards (a reaper that was
  itself killed, an engine restart).
* :class:`Containers`: ``docker run -it`` containers of one test under pexpect, on the session's network,
  their ``docker logs`` in a failed test's report.

Only the standard library is imported here; the pexpect terminal loads with :class:`Containers`.
"""

from __future__ import annotations

import os
import re
import secrets
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from chat_testing import reaper
from chat_testing.env import START_TIMEOUT_S
from chat_testing.reaper import IMAGE_REPOSITORY, LABEL_REAPER, LABEL_SESSION, session_of_tag

if TYPE_CHECKING:
    from chat_testing.programs import Programs
    from chat_testing.terminal import Terminal

__all__ = [
    "LABEL_REAPER",
    "LABEL_SESSION",
    "BuildPlan",
    "Builder",
    "Container",
    "Containers",
    "DockerError",
    "DockerSession",
    "Reaper",
    "ReaperError",
    "ReaperImageError",
    "build_image",
    "build_plan",
    "choose_builder",
    "default_base",
    "detect_builder",
    "docker",
    "engine_problem",
    "engine_socket",
    "new_session_id",
    "pip_build_args",
    "sweep_orphans",
]

#: Plain docker commands (inspect, rm, network create) answer within a second or two.
DOCKER_CMD_TIMEOUT_S = 60.0
#: A cold build from the public image pulls it and runs apt and pip; a warm one takes seconds.
BUILD_TIMEOUT_S = float(os.environ.get("CHAT_DOCKER_BUILD_TIMEOUT", "900"))
#: Starting the reaper may pull the base image first (the public python image: about 50 MB).
REAPER_START_TIMEOUT_S = 300.0
#: The reaper removes a handful of objects: seconds, on a busy engine.
REAPER_CLOSE_TIMEOUT_S = 120.0
#: The engine's socket on the engine's host, unless DOCKER_HOST or CHAT_DOCKER_SOCKET says otherwise.
DEFAULT_SOCKET = "/var/run/docker.sock"
#: A session id: 12 hexadecimal digits, no dash (image tags are ``chat-e2e:<id>-<variant>``).
SESSION_ID = re.compile(r"[0-9a-f]{12}")
#: The Dockerfile's default base: its stage named ``base`` (a literal FROM that Dependabot reads).
BASE_STAGE = re.compile(r"^FROM[ \t]+(\S+)[ \t]+AS[ \t]+base[ \t]*$", re.MULTILINE | re.IGNORECASE)

Builder = Literal["buildkit", "legacy"]


class DockerError(Exception):
    """A docker command failed; the message has the command and docker's own words."""


class ReaperError(DockerError):
    """The reaper did not arm: it said something else, or it ended first (its engine socket, say)."""


class ReaperImageError(ReaperError):
    """The reaper's image cannot be had or run (no such image and no registry, no python3 in it), or its
    pull did not end in time: another image is the way out."""


#: `docker run`'s own exit statuses (rather than its program's): the daemon refused (no such image, no
#: registry to pull it from), the command cannot be run, or it is not in the image (no python3).
DOCKER_RUN_FAILED = (125, 126, 127)


def _shown(args: Sequence[str]) -> str:
    """A command as the error message shows it: long arguments (the reaper's source) cut short."""
    return " ".join(arg if len(arg) <= 80 else arg[:40] + "..." for arg in args)


def docker(
    *args: str,
    timeout: float = DOCKER_CMD_TIMEOUT_S,
    check: bool = True,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run one docker CLI command and return its stdout; *env* is added to this process's environment."""
    try:
        done = subprocess.run(
            ["docker", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=input,
            env={**os.environ, **env} if env else None,
        )
    except subprocess.TimeoutExpired:
        raise DockerError(f"`docker {_shown(args)}` did not answer within {timeout:.0f}s") from None
    except FileNotFoundError:
        raise DockerError("no `docker` command on PATH") from None
    if check and done.returncode != 0:
        raise DockerError(f"`docker {_shown(args)}` failed ({done.returncode}): {done.stderr.strip()}")
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


# -- builds --------------------------------------------------------------------------------------------


def choose_builder(buildx_version: str | None, docker_buildkit: str | None) -> Builder:
    """BuildKit or the legacy builder, the way the docker CLI itself decides.

    *buildx_version* is the output of ``docker buildx version`` (None when that failed: no buildx
    plugin); *docker_buildkit* the value of ``DOCKER_BUILDKIT``, which overrides the choice either way.
    """
    if docker_buildkit is not None and docker_buildkit.strip():
        return "legacy" if docker_buildkit.strip().lower() in {"0", "false"} else "buildkit"
    return "buildkit" if buildx_version is not None and buildx_version.strip() else "legacy"


def detect_builder() -> Builder:
    """:func:`choose_builder` for this machine's docker CLI and environment."""
    try:
        version: str | None = docker("buildx", "version", timeout=20)
    except DockerError:
        version = None
    return choose_builder(version, os.environ.get("DOCKER_BUILDKIT"))


def default_base(dockerfile: str) -> str | None:
    """The image of the Dockerfile's ``base`` stage (the public image a plain build starts from)."""
    match = BASE_STAGE.search(dockerfile)
    return match.group(1) if match else None


@dataclass(frozen=True)
class BuildPlan:
    """One ``docker`` build command: its arguments, the Dockerfile on stdin if any, its environment."""

    args: list[str]
    stdin: str | None = None
    env: dict[str, str] = field(default_factory=dict)


def build_plan(
    builder: Builder,
    *,
    context: Path,
    dockerfile: str,
    tag: str,
    target: str,
    base: str | None = None,
    extra: Sequence[str] = (),
) -> BuildPlan:
    """The build of *target* as *tag*, from *base* when given (else the Dockerfile's own base).

    BuildKit builds only the stages *target* needs, so ``--build-arg BASE=`` leaves the ``base`` stage
    and its public image alone. The legacy builder runs every stage before *target* and would pull
    that image, so it gets the Dockerfile on stdin with the ``base`` stage's FROM naming *base*.
    """
    common = ["--tag", tag, "--target", target, *extra]
    if builder == "buildkit":
        override = ["--build-arg", f"BASE={base}"] if base else []
        return BuildPlan(["buildx", "build", "--load", *common, *override, str(context)])
    env = {"DOCKER_BUILDKIT": "0"}
    if not base:
        return BuildPlan(["build", *common, str(context)], env=env)
    if default_base(dockerfile) is None:
        raise DockerError("the Dockerfile has no `FROM IMAGE AS base` line to put the base image in")
    text = BASE_STAGE.sub(f"FROM {base} AS base", dockerfile, count=1)
    return BuildPlan(["build", "--file", "-", *common, str(context)], stdin=text, env=env)


def build_image(plan: BuildPlan, timeout: float = BUILD_TIMEOUT_S) -> float:
    """Run a build; return the seconds it took."""
    started = time.monotonic()
    docker(*plan.args, timeout=timeout, input=plan.stdin, env=plan.env)
    return time.monotonic() - started


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


# -- sessions and the reaper ---------------------------------------------------------------------------


def engine_socket(environ: Mapping[str, str] = os.environ) -> str:
    """The engine's unix socket as the engine's host sees it (the reaper mounts it).

    ``CHAT_DOCKER_SOCKET`` names it where the tests run in a container that reaches the engine through
    a socket mounted elsewhere; else ``DOCKER_HOST`` (unix://PATH), else the default path.
    """
    if environ.get("CHAT_DOCKER_SOCKET"):
        return environ["CHAT_DOCKER_SOCKET"]
    host = environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    if host.startswith("unix://"):
        return host.removeprefix("unix://")
    raise DockerError(
        f"the reaper needs the engine's unix socket, and DOCKER_HOST is {host!r}: "
        "set CHAT_DOCKER_SOCKET to the socket's path on the engine's host"
    )


def _read_line(stream: IO[bytes], timeout: float) -> tuple[bytes, bool]:
    """The first line of a pipe, or what came before end of file or *timeout*; and whether it ended."""
    data = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return data, False
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                return data, True
            data += chunk
    return data, False


def _docker_said(errors: str) -> str:
    """The line of `docker run`'s stderr that says why (its error line, else the last one)."""
    lines = [line.strip() for line in errors.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Run 'docker")]  # the CLI's usage pointer
    reasons = [line for line in lines if line.startswith("docker:")]
    return (reasons or lines or ["no output"])[-1]


class Reaper:
    """The reaper container of one session, attached to this process by a pipe (see chat_testing.reaper).

    The pipe's end in this process is the session's life line: when this process ends in any way the
    reaper removes the session's objects. :meth:`close` does the same on purpose and waits for it.
    """

    def __init__(self, session: str, image: str, socket_path: str) -> None:
        self.session = session
        self.image = image
        self.socket_path = socket_path
        self.name = f"chat-e2e-{session}-reaper"
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    def command(self) -> list[str]:
        source = Path(reaper.__file__).read_text(encoding="utf-8")
        return [
            "docker",
            "run",
            "--interactive",  # stdin attached and closed when this client goes (StdinOnce)
            "--rm",
            f"--name={self.name}",
            f"--label={LABEL_REAPER}={self.session}",
            "--network=none",  # it talks to the engine through the socket only
            f"--volume={self.socket_path}:{reaper.SOCKET}",
            self.image,
            *("python3", "-I", "-c", source, self.session),
        ]

    def start(self, timeout: float = REAPER_START_TIMEOUT_S) -> None:
        """Start the reaper (pulling its image if missing) and wait until it is armed."""
        # A file, not a pipe, that a pull's progress cannot fill; open for the reaper's whole life.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr
            )
        except FileNotFoundError:
            raise DockerError("no `docker` command on PATH") from None
        assert self.process.stdout is not None
        data, ended = _read_line(self.process.stdout, timeout)
        line = data.decode(errors="replace").strip()
        if line == reaper.ARMED:
            return
        process, self.process = self.process, None
        if ended:  # `docker run` ends at once when the image cannot be had or run: say so now
            try:
                status = process.wait(DOCKER_CMD_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                status = process.wait()
        else:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        errors = self._errors()
        self._close_stderr()
        said = _docker_said(errors)
        if line:
            raise ReaperError(f"the reaper ({self.image}) said {line!r} instead of {reaper.ARMED!r}")
        if not ended:
            raise ReaperImageError(f"the reaper ({self.image}) did not arm within {timeout:.0f}s: {said}")
        if status in DOCKER_RUN_FAILED:
            raise ReaperImageError(
                f"the reaper's image {self.image} cannot be run "
                f"(`docker run` exited with status {status}: {said})"
            )
        raise ReaperError(f"the reaper ({self.image}) exited with status {status} before it armed: {said}")

    def _errors(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()

    def close(self, timeout: float = REAPER_CLOSE_TIMEOUT_S) -> str:
        """End the session: the reaper removes its objects and exits; return what it says it removed."""
        if self.process is None:
            return ""
        process, self.process = self.process, None
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.close()
        try:
            said = process.stdout.read().decode(errors="replace").strip()
            status = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise DockerError(f"the reaper did not finish within {timeout:.0f}s") from None
        finally:
            process.stdout.close()
        errors = self._errors()
        self._close_stderr()
        if status != 0:
            raise DockerError(f"the reaper failed ({status}): {errors}")
        return said

    def _close_stderr(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def new_session_id() -> str:
    """A fresh session id (see SESSION_ID): random, so nothing of the process that made it."""
    return secrets.token_hex(6)


def _live_sessions() -> set[str]:
    """Ids of the sessions whose reaper is running: their objects are guarded, whoever made them."""
    out = docker("ps", "--filter", f"label={LABEL_REAPER}", "--format", f'{{{{.Label "{LABEL_REAPER}"}}}}')
    return set(out.split())


def sweep_orphans() -> list[str]:
    """Remove containers, networks and test images of sessions that have no running reaper.

    The reaper is started before a session makes anything, so objects without one are leftovers
    whatever PID namespace or machine made them. Objects whose session id is not of this design's
    form (an older harness's) are left to that harness.
    """
    live = _live_sessions()
    removed: list[str] = []
    for listing, remove in ((["ps", "-a"], ["rm", "-f", "-v"]), (["network", "ls"], ["network", "rm"])):
        out = docker(
            *listing,
            "--filter",
            f"label={LABEL_SESSION}",
            "--format",
            f'{{{{.ID}}}} {{{{.Label "{LABEL_SESSION}"}}}}',
        )
        stale = [
            ident
            for ident, _, session in (line.partition(" ") for line in out.splitlines())
            if SESSION_ID.fullmatch(session) and session not in live
        ]
        if stale:
            docker(*remove, *stale, check=False)
            removed += stale
    tags = docker("image", "ls", IMAGE_REPOSITORY, "--format", "{{.Repository}}:{{.Tag}}").split()
    stale_tags = [
        tag for tag in tags if (s := session_of_tag(tag)) and SESSION_ID.fullmatch(s) and s not in live
    ]
    if stale_tags:
        docker("rmi", "--no-prune", *stale_tags, check=False)
        removed += stale_tags
    return removed


class DockerSession:
    """One test session on an engine: the id its objects are labelled or tagged with, and its reaper.

    ``start()`` arms the reaper (from *reaper_image*, any image with python3) and sweeps orphans;
    from then on everything made with :attr:`labels` or :meth:`image_tag` is removed when the
    session closes or its process dies.
    """

    def __init__(self, reaper_image: str, socket_path: str | None = None) -> None:
        self.id = new_session_id()
        self.reaper = Reaper(self.id, reaper_image, socket_path or engine_socket())
        self.swept: list[str] = []

    @property
    def labels(self) -> list[str]:
        return [f"{LABEL_SESSION}={self.id}"]

    def label_options(self) -> list[str]:
        return [f"--label={label}" for label in self.labels]

    def name(self, role: str) -> str:
        """A container or network name of this session."""
        return f"chat-e2e-{self.id}-{role}"

    def image_tag(self, variant: str = "") -> str:
        """The tag of a test image of this session (the reaper removes it)."""
        return f"{IMAGE_REPOSITORY}:{self.id}" + (f"-{variant}" if variant else "")

    def start(self) -> None:
        self.reaper.start()
        self.swept = sweep_orphans()

    def network(self, role: str = "net") -> str:
        """A user-defined internal network: its containers reach each other by name, and nothing outside."""
        name = self.name(role)
        docker("network", "create", "--internal", *self.label_options(), name)
        return name

    def close(self) -> str:
        """Remove everything of this session (through its reaper); return what the reaper says."""
        return self.reaper.close()


# -- containers under pexpect --------------------------------------------------------------------------


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

    def __init__(self, session: DockerSession, image: str, network: str, programs: Programs) -> None:
        self.session = session
        self.image = image
        self.network = network
        self.programs = programs
        self.names: list[str] = []
        self.stop_seconds: list[float] = []

    def run(
        self, role: str, *command: str, mounts: dict[Path, str] | None = None, ready: str | None = None
    ) -> Container:
        """``docker run -it`` the image with *command*; wait for *ready* in its output when given."""
        name = self.session.name(f"{role}-{len(self.names) + 1}")
        volumes = [f"--volume={host}:{inside}:ro" for host, inside in (mounts or {}).items()]
        args = ["run", "-it", f"--name={name}", f"--network={self.network}"]
        args += [*self.session.label_options(), *volumes, self.image, *command]
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
        self.stop_seconds.append(took)
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
